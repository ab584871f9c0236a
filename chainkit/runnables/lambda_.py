"""`RunnableLambda`: a plain function, coroutine function or generator as a chain step.

Everything about the function is read once, at construction: whether it is async, a
generator, and whether it accepts ``config``. A call is then a direct function call. On the
async path a *sync* user function runs in a worker thread (it may block); an async function is
awaited; on the sync path an async-only function runs via `run_coroutine_sync`, which also
works inside Jupyter's running loop.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, get_type_hints

from chainkit.runnables._sync import add_chunks, run_coroutine_sync
from chainkit.runnables.base import Input, Output, Runnable
from chainkit.runnables.config import DEFAULT_RECURSION_LIMIT, RunnableConfig


class RunnableLambda(Runnable[Input, Output]):
    """Wrap a callable. Generator functions stream: they receive the input stream and yield.

    Example:
        >>> RunnableLambda(lambda x: x + 1).invoke(1)
        2
        >>> def upper(chunks):
        ...     for c in chunks:
        ...         yield c.upper()
        >>> list(RunnableLambda(upper).stream("ab"))
        ['AB']
    """

    run_type = "chain"

    def __init__(
        self,
        func: Callable[..., Any],
        afunc: Callable[..., Any] | None = None,
        name: str | None = None,
    ) -> None:
        if not callable(func):
            raise TypeError(f"RunnableLambda needs a callable, got {type(func).__name__}: {func!r:.60}")
        self.func = func
        self.afunc = afunc
        self.name = name
        fname = getattr(func, "__name__", None)
        self._label = name or (fname if fname and fname != "<lambda>" else "RunnableLambda")
        self._is_async = inspect.iscoroutinefunction(func)
        self._is_gen = inspect.isgeneratorfunction(func)
        self._is_agen = inspect.isasyncgenfunction(func)
        self._wants_config = _accepts_config(func)
        self._awants_config = _accepts_config(afunc) if afunc else False
        self.streams_input = self._is_gen or self._is_agen  # type: ignore[misc]

    def get_name(self, suffix: str | None = None) -> str:
        return f"{self._label}{suffix}" if suffix else self._label

    def __repr__(self) -> str:
        return f"RunnableLambda({self._label})"

    @property
    def InputType(self) -> Any:  # noqa: N802
        try:
            params = list(inspect.signature(self.func).parameters.values())
            hints = get_type_hints(self.func)
            return hints.get(params[0].name, Any) if params else Any
        except (TypeError, ValueError, NameError):
            return Any

    @property
    def OutputType(self) -> Any:  # noqa: N802
        try:
            return get_type_hints(self.func).get("return", Any)
        except (TypeError, NameError):
            return Any

    # ---- plumbing -----------------------------------------------------------------------
    def _args(self, input: Any, config: RunnableConfig | None, wants: bool) -> tuple[Any, ...]:
        return (input, config or {}) if wants else (input,)

    def _call(self, input: Any, config: RunnableConfig | None, **kwargs: Any) -> Any:
        if self._is_gen:
            out = None
            for chunk in self.func(*self._args(iter((input,)), config, self._wants_config)):
                out = add_chunks(out, chunk)
            return out
        if self._is_agen or (self._is_async and self.afunc is None):
            return run_coroutine_sync(self._acall(input, config))
        out = self.func(*self._args(input, config, self._wants_config))
        if isinstance(out, Runnable):
            return out.invoke(input, _deeper(config, self._label))
        return out

    async def _acall(self, input: Any, config: RunnableConfig | None, **kwargs: Any) -> Any:
        if self._is_agen:
            out = None
            async for chunk in self.func(*self._args(_one(input), config, self._wants_config)):
                out = add_chunks(out, chunk)
            return out
        if self.afunc is not None:
            out = await self.afunc(*self._args(input, config, self._awants_config))
        elif self._is_async:
            out = await self.func(*self._args(input, config, self._wants_config))
        else:
            # A user's sync function may block (I/O, sleep): keep it off the event loop.
            out = await asyncio.to_thread(self._call, input, config)
            return out
        if isinstance(out, Runnable):
            return await out.ainvoke(input, _deeper(config, self._label))
        return out

    def _transform(
        self, chunks: Iterator[Any], config: RunnableConfig | None, **kwargs: Any
    ) -> Iterator[Any]:
        if self._is_gen:
            yield from self.func(*self._args(chunks, config, self._wants_config))
            return
        final = None
        for chunk in chunks:
            final = add_chunks(final, chunk)
        yield self._call(final, config)

    async def _atransform(
        self, chunks: AsyncIterator[Any], config: RunnableConfig | None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        if self._is_agen:
            async for out in self.func(*self._args(chunks, config, self._wants_config)):
                yield out
            return
        if self._is_gen:
            # A sync generator on the async path: feed it the buffered input in a thread.
            final = None
            async for chunk in chunks:
                final = add_chunks(final, chunk)
            outs = await asyncio.to_thread(
                lambda: list(self.func(*self._args(iter((final,)), config, self._wants_config)))
            )
            for out in outs:
                yield out
            return
        final = None
        async for chunk in chunks:
            final = add_chunks(final, chunk)
        yield await self._acall(final, config)


async def _one(value: Any) -> AsyncIterator[Any]:
    yield value


def _accepts_config(func: Callable[..., Any] | None) -> bool:
    if func is None:
        return False
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False
    return "config" in params


def _deeper(config: RunnableConfig | None, label: str) -> RunnableConfig | None:
    limit = (config or {}).get("recursion_limit", DEFAULT_RECURSION_LIMIT)
    if limit <= 0:
        raise RecursionError(
            f"recursion limit reached: RunnableLambda {label!r} returned runnables nested more than "
            "recursion_limit deep; raise config['recursion_limit'] if this is intended"
        )
    cfg: RunnableConfig = dict(config or {})  # type: ignore[assignment]
    cfg["recursion_limit"] = limit - 1
    return cfg
