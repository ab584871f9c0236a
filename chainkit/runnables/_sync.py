"""Bridges between sync and async code, used only at the edges.

`run_coroutine_sync` lets a sync call run an async-only step even inside a running event loop
(Jupyter), by running the coroutine on a private loop in a worker thread instead of nesting
loops. `add_chunks` is the one rule for aggregating streamed chunks.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_coroutine_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion from sync code, whether or not a loop runs in this thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    # A loop is running here (e.g. a notebook cell): never block it re-entrantly; use a thread.
    result: list[Any] = []
    error: list[BaseException] = []
    ctx = contextvars.copy_context()

    def target() -> None:
        try:
            result.append(ctx.run(asyncio.run, coro))
        except BaseException as exc:
            error.append(exc)

    t = threading.Thread(target=target, name="chainkit-sync-bridge", daemon=True)
    t.start()
    t.join()
    if error:
        raise error[0]
    return result[0]  # type: ignore[no-any-return]


def add_chunks(a: Any, b: Any) -> Any:
    """Aggregate two streamed chunks: ``a + b`` where defined (str, message chunks, lists,
    `AddableDict`), otherwise the newer chunk replaces the older (plain dicts, objects)."""
    if a is None:
        return b
    try:
        return a + b
    except TypeError:
        return b


class AddableDict(dict[str, Any]):
    """A dict whose ``+`` merges keys (values added with `add_chunks`): parallel stream chunks."""

    def __add__(self, other: dict[str, Any]) -> AddableDict:  # type: ignore[override]
        if not isinstance(other, dict):
            return NotImplemented
        out = AddableDict(self)
        for key, value in other.items():
            out[key] = add_chunks(out[key], value) if key in out else value
        return out
