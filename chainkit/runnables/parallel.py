"""`RunnableParallel`: run several runnables on the same input, concurrently; return a dict.

Sync: branches run in worker threads (bounded by ``max_concurrency``), except steps marked
``inline`` (passthrough, pick, templates), which are too cheap to be worth a thread. Async:
branches are tasks. Streaming merges the branches' streams, yielding ``{key: chunk}`` pieces as
any branch produces them. Every branch needs the whole input, so a parallel step buffers its
input stream.
"""

from __future__ import annotations

import asyncio
import contextvars
import queue
import threading
from collections.abc import AsyncIterator, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chainkit.runnables._errors import annotate
from chainkit.runnables._sync import AddableDict, aclosing
from chainkit.runnables.base import (
    Input,
    Runnable,
    coerce_to_runnable,
    concurrency_limit,
    gather_limited,
    step_config,
)
from chainkit.runnables.config import RunnableConfig

_DONE = object()


class RunnableParallel(Runnable[Input, dict[str, Any]]):
    """Branches keyed by name; a dict in a chain is coerced to one.

    Example:
        >>> par = RunnableParallel(double=lambda x: x * 2, same=RunnablePassthrough())
        >>> par.invoke(3)
        {'double': 6, 'same': 3}
    """

    def __init__(
        self,
        steps: Mapping[str, Any] | None = None,
        /,
        *,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        merged = {**(steps or {}), **kwargs}
        if not merged:
            raise ValueError("RunnableParallel needs at least one branch")
        for key in merged:
            if not isinstance(key, str):
                raise TypeError(
                    f"RunnableParallel branch keys must be str, got {type(key).__name__} {key!r}"
                )
        self.steps: dict[str, Runnable[Any, Any]] = {
            k: coerce_to_runnable(v) for k, v in merged.items()
        }
        self.name = name
        self._inline = [k for k, s in self.steps.items() if s.inline]
        self._threaded = [k for k, s in self.steps.items() if not s.inline]

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}: {v!r}" for k, v in self.steps.items())
        return "{" + inner + "}"

    @property
    def OutputType(self) -> Any:  # LangChain's public name
        return dict[str, Any]

    def _fail(self, exc: BaseException, key: str) -> None:
        annotate(exc, id(self), self.get_name(), f"branch {key!r}", self.steps[key].get_name())

    def _branch(self, key: str, input: Any, config: RunnableConfig | None) -> Any:
        try:
            return self.steps[key].invoke(input, step_config(config, f"map:key:{key}"))
        except Exception as exc:
            self._fail(exc, key)
            raise

    async def _abranch(self, key: str, input: Any, config: RunnableConfig | None) -> Any:
        try:
            return await self.steps[key].ainvoke(input, step_config(config, f"map:key:{key}"))
        except Exception as exc:
            self._fail(exc, key)
            raise

    # ---- one call -------------------------------------------------------------------
    def _call(self, input: Any, config: RunnableConfig | None, **kwargs: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        threaded = self._threaded
        if len(threaded) <= 1:
            for key in self.steps:
                out[key] = self._branch(key, input, config)
            return out
        limit = concurrency_limit(config) or len(threaded)
        with ThreadPoolExecutor(max_workers=min(limit, len(threaded))) as ex:
            futures = {
                k: ex.submit(contextvars.copy_context().run, self._branch, k, input, config)
                for k in threaded
            }
            inline = {k: self._branch(k, input, config) for k in self._inline}
            try:
                done = {k: f.result() for k, f in futures.items()}
            finally:
                for f in futures.values():
                    f.cancel()
        for key in self.steps:
            out[key] = inline[key] if key in inline else done[key]
        return out

    async def _acall(
        self, input: Any, config: RunnableConfig | None, **kwargs: Any
    ) -> dict[str, Any]:
        keys = list(self.steps)
        limit = concurrency_limit(config)
        values = await gather_limited([self._abranch(k, input, config) for k in keys], limit)
        return dict(zip(keys, values, strict=True))

    # ---- streams (the base class buffers the input stream, then calls these) ----------------
    def _iter(self, input: Any, config: RunnableConfig | None, **kwargs: Any) -> Iterator[Any]:
        return self._merge(input, config)

    def _merge(self, input: Any, config: RunnableConfig | None) -> Iterator[AddableDict]:
        """Stream every branch in its own thread; yield ``{key: chunk}`` in arrival order."""
        q: queue.Queue[tuple[str, Any]] = queue.Queue()
        stop = threading.Event()

        def pump(key: str) -> None:
            try:
                it = self.steps[key].stream(input, step_config(config, f"map:key:{key}"))
                for chunk in it:
                    if stop.is_set():
                        close = getattr(it, "close", None)
                        if close:
                            close()
                        break
                    q.put((key, chunk))
            except BaseException as exc:
                if isinstance(exc, Exception):
                    self._fail(exc, key)
                q.put((key, _Failure(exc)))
                return
            q.put((key, _DONE))

        threads = [
            threading.Thread(target=contextvars.copy_context().run, args=(pump, k), daemon=True)
            for k in self.steps
        ]
        for t in threads:
            t.start()
        remaining = len(threads)
        try:
            while remaining:
                key, item = q.get()
                if item is _DONE:
                    remaining -= 1
                elif isinstance(item, _Failure):
                    raise item.exc
                else:
                    yield AddableDict({key: item})
        finally:
            stop.set()

    async def _aiter(
        self, input: Any, config: RunnableConfig | None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        """Stream every branch as a task; yield ``{key: chunk}`` in arrival order."""
        q: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

        async def pump(key: str) -> None:
            try:
                cfg = step_config(config, f"map:key:{key}")
                async with aclosing(self.steps[key].astream(input, cfg)) as it:
                    async for chunk in it:
                        await q.put((key, chunk))
            except Exception as exc:
                self._fail(exc, key)
                await q.put((key, _Failure(exc)))
                return
            await q.put((key, _DONE))

        tasks = [asyncio.ensure_future(pump(k)) for k in self.steps]
        remaining = len(tasks)
        try:
            while remaining:
                key, item = await q.get()
                if item is _DONE:
                    remaining -= 1
                elif isinstance(item, _Failure):
                    raise item.exc
                else:
                    yield AddableDict({key: item})
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


class _Failure:
    __slots__ = ("exc",)

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
