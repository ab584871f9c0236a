"""Dict plumbing steps: `RunnablePassthrough` (the input as it is), `RunnableAssign` (the input
dict plus computed keys) and `RunnablePick` (some keys of the input dict).

All three stream: a passthrough forwards each input chunk as it arrives, an assign forwards the
input's keys first and then the computed keys as they are produced, and a pick forwards the
picked part of each chunk.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import Any, TypeVar

from chainkit.runnables._sync import AddableDict, aclosing, add_chunks, run_coroutine_sync
from chainkit.runnables.base import Runnable
from chainkit.runnables.config import RunnableConfig
from chainkit.runnables.lambda_ import _accepts_config
from chainkit.runnables.parallel import RunnableParallel

T = TypeVar("T")


class RunnablePassthrough(Runnable[T, T]):
    """Return the input unchanged; optionally call ``func(input)`` on the side first.

    In a dict (a `RunnableParallel`) it forwards the whole input under its key. ``func`` (or
    ``afunc`` on the async path) receives the complete input, also when streaming, after the
    last chunk went through; it may take a second parameter named ``config``.

    Example:
        >>> RunnableParallel(original=RunnablePassthrough(), n=lambda x: len(x)).invoke("abc")
        {'original': 'abc', 'n': 3}
        >>> RunnablePassthrough.assign(n=lambda d: len(d["text"])).invoke({"text": "abc"})
        {'text': 'abc', 'n': 3}
    """

    inline = True
    streams_input = True

    def __init__(
        self,
        func: Callable[..., Any] | None = None,
        afunc: Callable[..., Awaitable[Any]] | None = None,
        *,
        name: str | None = None,
    ) -> None:
        for label, f in (("func", func), ("afunc", afunc)):
            if f is not None and not callable(f):
                raise TypeError(
                    f"RunnablePassthrough {label} must be callable, got {type(f).__name__}: "
                    f"{f!r:.60}"
                )
        if func is not None and afunc is None and inspect.iscoroutinefunction(func):
            func, afunc = None, func  # an async side effect given as func
        self.func = func
        self.afunc = afunc
        self.name = name
        self._wants_config = _accepts_config(func)
        self._awants_config = _accepts_config(afunc)

    def __repr__(self) -> str:
        return "RunnablePassthrough()"

    @classmethod
    def assign(  # type: ignore[override]  # LangChain's API: a classmethod here
        cls, **kwargs: Runnable[dict[str, Any], Any] | Callable[..., Any] | Mapping[str, Any]
    ) -> RunnableAssign:
        """A step that returns its input dict plus ``kwargs``' keys, each computed from the input.

        Example:
            >>> RunnablePassthrough.assign(total=lambda d: d["a"] + d["b"]).invoke({"a": 1, "b": 2})
            {'a': 1, 'b': 2, 'total': 3}
        """
        return RunnableAssign(RunnableParallel(kwargs))

    # ---- the side effect, once for each path ----------------------------------------------
    def _effect(self, input: Any, config: RunnableConfig | None) -> None:
        if self.func is not None:
            self.func(*((input, config or {}) if self._wants_config else (input,)))
        elif self.afunc is not None:
            run_coroutine_sync(self._aeffect(input, config))

    async def _aeffect(self, input: Any, config: RunnableConfig | None) -> None:
        if self.afunc is not None:
            await self.afunc(*((input, config or {}) if self._awants_config else (input,)))
        elif self.func is not None:
            self.func(*((input, config or {}) if self._wants_config else (input,)))

    # ---- hooks ----------------------------------------------------------------------------
    def _call(self, input: Any, config: RunnableConfig | None, **kwargs: Any) -> Any:
        if self.func is not None or self.afunc is not None:
            self._effect(input, config)
        return input

    async def _acall(self, input: Any, config: RunnableConfig | None, **kwargs: Any) -> Any:
        if self.func is not None or self.afunc is not None:
            await self._aeffect(input, config)
        return input

    def _transform(
        self, chunks: Iterator[Any], config: RunnableConfig | None, **kwargs: Any
    ) -> Iterator[Any]:
        if self.func is None and self.afunc is None:
            yield from chunks
            return
        final = None
        for chunk in chunks:
            final = add_chunks(final, chunk)
            yield chunk
        self._effect(final, config)

    async def _atransform(
        self, chunks: AsyncIterator[Any], config: RunnableConfig | None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        final = None
        async for chunk in chunks:
            final = add_chunks(final, chunk)
            yield chunk
        if self.func is not None or self.afunc is not None:
            await self._aeffect(final, config)


class RunnableAssign(Runnable[dict[str, Any], dict[str, Any]]):
    """The input dict plus keys computed, concurrently, from that same input.

    ``mapper`` maps each new key to a runnable, a callable or a dict (as in `RunnableParallel`);
    a computed key replaces an input key of the same name. Usually built with
    `RunnablePassthrough.assign` or ``chain.assign(...)``.

    Example:
        >>> RunnableAssign({"n": lambda d: len(d["text"])}).invoke({"text": "abc"})
        {'text': 'abc', 'n': 3}
    """

    streams_input = True

    def __init__(self, mapper: RunnableParallel[dict[str, Any]] | Mapping[str, Any]) -> None:
        if isinstance(mapper, RunnableParallel):
            self.mapper = mapper
        elif isinstance(mapper, Mapping):
            self.mapper = RunnableParallel(dict(mapper))
        else:
            raise TypeError(
                "RunnableAssign needs a dict of key -> runnable/callable (or a RunnableParallel), "
                f"got {type(mapper).__name__}: {mapper!r:.60}"
            )
        self._keys = frozenset(self.mapper.steps)

    def get_name(self, suffix: str | None = None) -> str:
        name = self.name or f"RunnableAssign<{','.join(self.mapper.steps)}>"
        return f"{name}{suffix}" if suffix else name

    def __repr__(self) -> str:
        return f"RunnableAssign(mapper={self.mapper!r})"

    @property
    def OutputType(self) -> Any:  # LangChain's public name
        return dict[str, Any]

    def _check(self, input: Any) -> dict[str, Any]:
        if not isinstance(input, dict):
            raise TypeError(
                f"RunnableAssign (adding keys {sorted(self._keys)}) needs a dict input, got "
                f"{type(input).__name__}: {input!r:.60}"
            )
        return input

    # The mapper is called through its public methods so that, when observed, it shows as a
    # child run (the config then carries this run as parent).
    def _call(self, input: Any, config: RunnableConfig | None, **kwargs: Any) -> dict[str, Any]:
        return {**self._check(input), **self.mapper.invoke(input, config)}

    async def _acall(
        self, input: Any, config: RunnableConfig | None, **kwargs: Any
    ) -> dict[str, Any]:
        return {**self._check(input), **await self.mapper.ainvoke(input, config)}

    def _passed(self, chunk: Any, final: AddableDict | None) -> tuple[AddableDict, AddableDict]:
        """The part of an input chunk to forward now, and the input aggregated so far."""
        chunk = self._check(chunk)
        final = AddableDict(chunk) if final is None else final + chunk
        return AddableDict({k: v for k, v in chunk.items() if k not in self._keys}), final

    def _transform(
        self, chunks: Iterator[Any], config: RunnableConfig | None, **kwargs: Any
    ) -> Iterator[Any]:
        final: AddableDict | None = None
        for chunk in chunks:
            passed, final = self._passed(chunk, final)
            if passed:
                yield passed
        yield from self.mapper.stream(self._check(final), config)

    async def _atransform(
        self, chunks: AsyncIterator[Any], config: RunnableConfig | None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        final: AddableDict | None = None
        async for chunk in chunks:
            passed, final = self._passed(chunk, final)
            if passed:
                yield passed
        async with aclosing(self.mapper.astream(self._check(final), config)) as it:
            async for out in it:
                yield out


class RunnablePick(Runnable[dict[str, Any], Any]):
    """Pick from the input dict: one key gives its value, a list of keys a dict of those present.

    A single key missing from the input raises `KeyError` naming the keys that are there.

    Example:
        >>> RunnablePick("a").invoke({"a": 1, "b": 2})
        1
        >>> RunnablePick(["a", "c"]).invoke({"a": 1, "b": 2})
        {'a': 1}
    """

    inline = True
    streams_input = True

    def __init__(self, keys: str | list[str]) -> None:
        if isinstance(keys, str):
            self.keys: str | list[str] = keys
        elif isinstance(keys, (list, tuple)) and keys and all(isinstance(k, str) for k in keys):
            self.keys = list(keys)
        else:
            raise TypeError(
                f"RunnablePick keys must be a str or a non-empty list of str, got {keys!r:.60}"
            )

    def get_name(self, suffix: str | None = None) -> str:
        keys = self.keys if isinstance(self.keys, str) else ",".join(self.keys)
        name = self.name or f"RunnablePick<{keys}>"
        return f"{name}{suffix}" if suffix else name

    def __repr__(self) -> str:
        return f"RunnablePick(keys={self.keys!r})"

    def _check(self, input: Any) -> dict[str, Any]:
        if not isinstance(input, dict):
            raise TypeError(
                f"RunnablePick({self.keys!r}) needs a dict input, got {type(input).__name__}: "
                f"{input!r:.60}"
            )
        return input

    def _missing(self, available: Any) -> KeyError:
        return KeyError(
            f"RunnablePick: key {self.keys!r} not in the input; available keys: "
            f"{sorted(available, key=str)}"
        )

    def _call(self, input: Any, config: RunnableConfig | None, **kwargs: Any) -> Any:
        input = self._check(input)
        if isinstance(self.keys, str):
            if self.keys not in input:
                raise self._missing(input)
            return input[self.keys]
        return AddableDict({k: input[k] for k in self.keys if k in input})

    def _transform(
        self, chunks: Iterator[Any], config: RunnableConfig | None, **kwargs: Any
    ) -> Iterator[Any]:
        picker = _StreamPick(self)
        for chunk in chunks:
            yield from picker.push(chunk)
        picker.finish()

    async def _atransform(
        self, chunks: AsyncIterator[Any], config: RunnableConfig | None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        picker = _StreamPick(self)
        async for chunk in chunks:
            for out in picker.push(chunk):
                yield out
        picker.finish()


class _StreamPick:
    """Pick from each dict chunk of a stream; chunks without the key(s) yield nothing."""

    __slots__ = ("found", "pick", "seen_keys")

    def __init__(self, pick: RunnablePick) -> None:
        self.pick = pick
        self.seen_keys: set[Any] = set()
        self.found = False

    def push(self, chunk: Any) -> list[Any]:
        chunk = self.pick._check(chunk)
        self.seen_keys.update(chunk)
        keys = self.pick.keys
        if isinstance(keys, str):
            if keys not in chunk:
                return []
            self.found = True
            return [chunk[keys]]
        picked = AddableDict({k: chunk[k] for k in keys if k in chunk})
        return [picked] if picked else []

    def finish(self) -> None:
        if isinstance(self.pick.keys, str) and not self.found:
            raise self.pick._missing(self.seen_keys)

