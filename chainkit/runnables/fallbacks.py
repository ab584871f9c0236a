"""`RunnableWithFallbacks`: when a runnable fails, try the next one on the same input.

The decisions live once, in `_Tries` (which errors are handled, what input the next runnable
gets, which error to raise at the end); the sync and async drivers only call and loop.

As in LangChain, when every runnable fails the *first* error is raised; the later ones are
attached to it as notes, so nothing is lost.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from chainkit.runnables._errors import add_note
from chainkit.runnables._sync import aclosing, closing
from chainkit.runnables.base import Input, Output, Runnable, coerce_to_runnable, step_config
from chainkit.runnables.config import RunnableConfig


class RunnableWithFallbacks(Runnable[Input, Output]):
    """Run ``runnable``; if it raises one of ``exceptions_to_handle``, run each fallback in turn.

    With ``exception_key`` set, the input must be a dict, and each fallback receives it with the
    previous runnable's exception under that key.

    A stream falls back only if the failure comes before its first chunk; after that the error
    propagates (the caller has already seen part of the output). An input stream
    (``transform``) is buffered so that it can be given to each runnable in turn.

    Example:
        >>> safe = model.with_fallbacks([backup_model])
        >>> RunnableWithFallbacks(RunnableLambda(parse_strict), [RunnableLambda(parse_loose)],
        ...                       exceptions_to_handle=(ValueError,)).invoke(text)
    """

    def __init__(
        self,
        runnable: Runnable[Input, Output],
        fallbacks: Sequence[Runnable[Input, Output]],
        *,
        exceptions_to_handle: tuple[type[BaseException], ...] = (Exception,),
        exception_key: str | None = None,
        name: str | None = None,
    ) -> None:
        if isinstance(fallbacks, Runnable) or not isinstance(fallbacks, Sequence) or isinstance(
            fallbacks, str
        ):
            raise TypeError(
                "fallbacks must be a list of runnables, got "
                f"{type(fallbacks).__name__}: {fallbacks!r:.60}; wrap a single one: [fallback]"
            )
        if not fallbacks:
            raise ValueError("fallbacks is empty; give at least one runnable to fall back to")
        if isinstance(exceptions_to_handle, type):
            exceptions_to_handle = (exceptions_to_handle,)
        if not isinstance(exceptions_to_handle, tuple) or not all(
            isinstance(t, type) and issubclass(t, BaseException) for t in exceptions_to_handle
        ):
            raise TypeError(
                "exceptions_to_handle must be a tuple of exception classes, got "
                f"{exceptions_to_handle!r:.80}"
            )
        if exception_key is not None and not isinstance(exception_key, str):
            raise TypeError(f"exception_key must be a str or None, got {exception_key!r:.60}")
        self.runnable: Runnable[Input, Output] = coerce_to_runnable(runnable)
        self.fallbacks: tuple[Runnable[Input, Output], ...] = tuple(
            coerce_to_runnable(f) for f in fallbacks
        )
        self.exceptions_to_handle = exceptions_to_handle
        self.exception_key = exception_key
        self.name = name

    @property
    def runnables(self) -> tuple[Runnable[Input, Output], ...]:
        """The runnable, then its fallbacks, in the order they are tried."""
        return (self.runnable, *self.fallbacks)

    def get_name(self, suffix: str | None = None) -> str:
        name = self.name or f"{self.runnable.get_name()}WithFallbacks"
        return f"{name}{suffix}" if suffix else name

    def __repr__(self) -> str:
        fallbacks = list(self.fallbacks)
        return f"RunnableWithFallbacks(runnable={self.runnable!r}, fallbacks={fallbacks!r})"

    @property
    def InputType(self) -> Any:  # LangChain's public name
        return self.runnable.InputType

    @property
    def OutputType(self) -> Any:  # LangChain's public name
        return self.runnable.OutputType

    def get_input_schema(self) -> type[Any]:
        return self.runnable.get_input_schema()

    def get_output_schema(self) -> type[Any]:
        return self.runnable.get_output_schema()

    # ---- one call ---------------------------------------------------------------------------
    def _call(self, input: Any, config: RunnableConfig | None, **kwargs: Any) -> Any:
        tries = _Tries(self, input)
        for i, runnable in enumerate(self.runnables):
            try:
                return runnable.invoke(tries.input, tries.config(config, i), **kwargs)
            except self.exceptions_to_handle as exc:
                tries.failed(exc)
        raise tries.error()

    async def _acall(self, input: Any, config: RunnableConfig | None, **kwargs: Any) -> Any:
        tries = _Tries(self, input)
        for i, runnable in enumerate(self.runnables):
            try:
                return await runnable.ainvoke(tries.input, tries.config(config, i), **kwargs)
            except self.exceptions_to_handle as exc:
                tries.failed(exc)
        raise tries.error()

    # ---- streams: fall back only before the first chunk ------------------------------------
    def _iter(self, input: Any, config: RunnableConfig | None, **kwargs: Any) -> Iterator[Any]:
        tries = _Tries(self, input)
        for i, runnable in enumerate(self.runnables):
            with closing(runnable.stream(tries.input, tries.config(config, i), **kwargs)) as it:
                try:
                    first = next(it)
                except StopIteration:
                    return
                except self.exceptions_to_handle as exc:
                    tries.failed(exc)
                    continue
                yield first
                yield from it
                return
        raise tries.error()

    async def _aiter(
        self, input: Any, config: RunnableConfig | None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        tries = _Tries(self, input)
        for i, runnable in enumerate(self.runnables):
            async with aclosing(
                runnable.astream(tries.input, tries.config(config, i), **kwargs)
            ) as it:
                try:
                    first = await it.__anext__()
                except StopAsyncIteration:
                    return
                except self.exceptions_to_handle as exc:
                    tries.failed(exc)
                    continue
                yield first
                async for chunk in it:
                    yield chunk
                return
        raise tries.error()


class _Tries:
    """The fallback decisions for one call: the next input, the errors so far, the final error."""

    __slots__ = ("errors", "input", "owner")

    def __init__(self, owner: RunnableWithFallbacks[Any, Any], input: Any) -> None:
        if owner.exception_key is not None and not isinstance(input, dict):
            raise ValueError(
                f"with exception_key={owner.exception_key!r} the input must be a dict (each "
                f"fallback receives the previous error under that key), got "
                f"{type(input).__name__}: {input!r:.60}"
            )
        self.owner = owner
        self.input = input
        self.errors: list[BaseException] = []

    def config(self, config: RunnableConfig | None, i: int) -> RunnableConfig | None:
        return config if i == 0 else step_config(config, f"fallback:{i}")

    def failed(self, exc: BaseException) -> None:
        """Record a handled error; the next runnable's input carries it under exception_key."""
        self.errors.append(exc)
        key = self.owner.exception_key
        if key is not None:
            self.input = {**self.input, key: exc}

    def error(self) -> BaseException:
        """The error to raise when every runnable failed: the first, noting the others."""
        first, *rest = self.errors
        runnables = self.owner.runnables
        for i, exc in enumerate(rest, 1):
            add_note(
                first,
                f"fallback {i} ({runnables[i].get_name()}) also failed: "
                f"{type(exc).__name__}: {exc}",
            )
        return first
