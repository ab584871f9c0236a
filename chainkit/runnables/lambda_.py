"""`RunnableLambda`: a plain function, coroutine function or generator as a chain step; and the
`chain` decorator that makes one.

Everything about the function is read once, at construction: whether it is async, a
generator, and whether it accepts ``config``. A call is then a direct function call. On the
async path a *sync* user function runs in a worker thread (it may block); an async function is
awaited; on the sync path an async-only function runs via `run_coroutine_sync`, which also
works inside Jupyter's running loop. Keyword arguments given to ``invoke`` (or bound with
``bind``) are passed on to the function, as LangChain does.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar, cast, get_type_hints, overload

from chainkit.runnables._sync import (
    aclosing,
    add_chunks,
    iterate_in_thread,
    run_coroutine_sync,
)
from chainkit.runnables.base import Input, Output, Runnable
from chainkit.runnables.config import DEFAULT_RECURSION_LIMIT, RunnableConfig

# How the wrapped function produces its output (decided once, in __init__).
_SYNC, _GEN, _ASYNC, _AGEN = "sync", "gen", "async", "agen"
_END: Any = object()


class RunnableLambda(Runnable[Input, Output]):
    """Wrap a callable. Generator functions stream: they receive the input stream and yield.

    ``func`` may be a function, a generator function, a coroutine function or an async generator
    function. ``afunc`` optionally gives a sync ``func`` an async twin for ``ainvoke``. Either may
    take a second parameter named ``config`` to receive the call's `RunnableConfig`. A function
    that returns a runnable has it invoked on the same input (up to ``recursion_limit`` deep).

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
        afunc: Callable[..., Awaitable[Any]] | None = None,
        name: str | None = None,
    ) -> None:
        if not callable(func):
            raise TypeError(
                f"RunnableLambda needs a callable, got {type(func).__name__}: {func!r:.60}"
            )
        if afunc is not None and not callable(afunc):
            raise TypeError(
                f"RunnableLambda afunc must be an async callable, got {type(afunc).__name__}"
            )
        if inspect.isasyncgenfunction(func):
            mode = _AGEN
        elif _is_coroutine_function(func):
            mode = _ASYNC
        elif inspect.isgeneratorfunction(func):
            mode = _GEN
        else:
            mode = _SYNC
        if afunc is not None and mode in (_ASYNC, _AGEN):
            raise TypeError(
                "RunnableLambda got an async func and also an afunc; pass a sync func with an "
                "async afunc, or only the async function"
            )
        self.func = func
        self.afunc = afunc
        self.name = name
        fname = getattr(func, "__name__", None)
        self._label = name or (fname if fname and fname != "<lambda>" else "RunnableLambda")
        self._mode = mode
        self._wants_config = _accepts_config(func)
        self._awants_config = _accepts_config(afunc)
        self.streams_input = mode in (_GEN, _AGEN)  # type: ignore[misc]
        self.async_in_thread = afunc is None and mode in (_SYNC, _GEN)  # type: ignore[misc]
        # The common case, called without any per-call decision.
        self._direct = mode == _SYNC and not self._wants_config

    def get_name(self, suffix: str | None = None) -> str:
        return f"{self._label}{suffix}" if suffix else self._label

    def __repr__(self) -> str:
        return f"RunnableLambda({self._label})"

    @property
    def InputType(self) -> Any:  # LangChain's public name
        try:
            params = list(inspect.signature(self.func).parameters.values())
            hints = get_type_hints(self.func)
            return hints.get(params[0].name, Any) if params else Any
        except (TypeError, ValueError, NameError):
            return Any

    @property
    def OutputType(self) -> Any:  # LangChain's public name
        if self._mode != _SYNC:
            return Any  # the annotation names a coroutine or generator, not the output
        try:
            return get_type_hints(self.func).get("return", Any)
        except (TypeError, NameError):
            return Any

    # ---- plumbing -----------------------------------------------------------------------
    def _sync_out(self, input: Any, config: RunnableConfig | None, kwargs: dict[str, Any]) -> Any:
        """The sync function's output for one input (a generator's chunks added up)."""
        args = (input, config or {}) if self._wants_config else (input,)
        if self._mode == _SYNC:
            return self.func(*args, **kwargs)
        out = None
        args = (iter((input,)), *args[1:])
        for chunk in self.func(*args, **kwargs):
            out = add_chunks(out, chunk)
        return out

    def _call(self, input: Any, config: RunnableConfig | None, **kwargs: Any) -> Any:
        if self._direct:
            out = self.func(input, **kwargs) if kwargs else self.func(input)
        elif self._mode in (_ASYNC, _AGEN):
            return run_coroutine_sync(self._acall(input, config, **kwargs))
        else:
            out = self._sync_out(input, config, kwargs)
        if isinstance(out, Runnable):
            return out.invoke(input, _deeper(config, self._label))
        return out

    async def _acall(self, input: Any, config: RunnableConfig | None, **kwargs: Any) -> Any:
        if self.afunc is not None:
            args = (input, config or {}) if self._awants_config else (input,)
            out = await self.afunc(*args, **kwargs)
        elif self._mode == _ASYNC:
            args = (input, config or {}) if self._wants_config else (input,)
            out = await self.func(*args, **kwargs)
        elif self._mode == _AGEN:
            out = None
            async with aclosing(self._agen(_one(input), config, kwargs)) as it:
                async for chunk in it:
                    out = add_chunks(out, chunk)
        else:
            # A user's sync function may block (I/O, sleep): keep it off the event loop.
            out = await asyncio.to_thread(self._sync_out, input, config, kwargs)
        if isinstance(out, Runnable):
            return await out.ainvoke(input, _deeper(config, self._label))
        return out

    def _agen(
        self, chunks: AsyncIterator[Any], config: RunnableConfig | None, kwargs: dict[str, Any]
    ) -> AsyncIterator[Any]:
        args = (chunks, config or {}) if self._wants_config else (chunks,)
        return cast(AsyncIterator[Any], self.func(*args, **kwargs))

    def _transform(
        self, chunks: Iterator[Any], config: RunnableConfig | None, **kwargs: Any
    ) -> Iterator[Any]:
        if self._mode == _GEN:
            args = (chunks, config or {}) if self._wants_config else (chunks,)
            yield from self.func(*args, **kwargs)
            return
        final = None
        for chunk in chunks:
            final = add_chunks(final, chunk)
        yield self._call(final, config, **kwargs)

    async def _atransform(
        self, chunks: AsyncIterator[Any], config: RunnableConfig | None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        if self._mode == _AGEN or (self._mode == _GEN and self.afunc is None):
            gen = (self._agen if self._mode == _AGEN else self._thread_gen)(chunks, config, kwargs)
            async with aclosing(gen) as it:
                async for out in it:
                    yield out
            return
        final = None
        async for chunk in chunks:
            final = add_chunks(final, chunk)
        yield await self._acall(final, config, **kwargs)

    def _thread_gen(
        self, chunks: AsyncIterator[Any], config: RunnableConfig | None, kwargs: dict[str, Any]
    ) -> AsyncIterator[Any]:
        """Run a sync generator on the async path in a thread of its own, so that it streams.

        The generator reads its input through a sync iterator that fetches each chunk from the
        event loop (free while it awaits the generator's output).
        """
        loop = asyncio.get_running_loop()

        def pull() -> Iterator[Any]:
            while True:
                item = asyncio.run_coroutine_threadsafe(_anext(chunks), loop).result()
                if item is _END:
                    return
                yield item

        def start() -> Iterator[Any]:
            args = (pull(), config or {}) if self._wants_config else (pull(),)
            return cast(Iterator[Any], self.func(*args, **kwargs))

        return iterate_in_thread(start)


async def _one(value: Any) -> AsyncIterator[Any]:
    yield value


async def _anext(it: AsyncIterator[Any]) -> Any:
    try:
        return await it.__anext__()
    except StopAsyncIteration:
        return _END


def _is_coroutine_function(func: Callable[..., Any]) -> bool:
    # Also callable objects whose __call__ is async.
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
        getattr(func, "__call__", None)  # noqa: B004 - the bound __call__, not callable()
    )


def _accepts_config(func: Callable[..., Any] | None) -> bool:
    if func is None:
        return False
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False
    return "config" in params


def _deeper(config: RunnableConfig | None, label: str) -> RunnableConfig:
    limit = (config or {}).get("recursion_limit", DEFAULT_RECURSION_LIMIT)
    if limit <= 0:
        raise RecursionError(
            f"recursion limit reached: RunnableLambda {label!r} returned runnables nested more "
            "than recursion_limit deep; raise config['recursion_limit'] if this is intended"
        )
    cfg = cast(RunnableConfig, dict(config or {}))
    cfg["recursion_limit"] = limit - 1
    return cfg


# ---- the @chain decorator ------------------------------------------------------------------
In = TypeVar("In")
Out = TypeVar("Out")


@overload
def chain(func: Callable[[In], Awaitable[Out]]) -> Runnable[In, Out]: ...
@overload
def chain(func: Callable[[In], Iterator[Out]]) -> Runnable[In, Out]: ...
@overload
def chain(func: Callable[[In], AsyncIterator[Out]]) -> Runnable[In, Out]: ...
@overload
def chain(func: Callable[[In], Out]) -> Runnable[In, Out]: ...
def chain(func: Callable[[Any], Any]) -> Runnable[Any, Any]:
    """Decorate a function to make it a `RunnableLambda` named after the function.

    Example:
        >>> @chain
        ... def shout(text: str) -> str:
        ...     return text.upper() + "!"
        >>> shout.invoke("hi"), shout.get_name()
        ('HI!', 'shout')
    """
    return RunnableLambda(func)
