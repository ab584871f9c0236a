"""Iterate a blocking (sync) iterator from async code without blocking the event loop.

The whole iterator runs in one dedicated thread, from creation to ``close()``. One thread,
rather than ``asyncio.to_thread(next, it)`` per item, because a provider's sync generator may
hold a lock or thread-local state across items (llama.cpp holds a lock for a whole
generation, and an ``RLock`` must be released by the thread that took it), and because a
hop per item costs a thread-pool round trip. A dedicated thread, rather than the loop's
default executor, so that many concurrent streams cannot starve ``asyncio.to_thread``.

The producer hands items to the loop with ``call_soon_threadsafe``. When the consumer stops
early, the producer is told to stop; it finishes the item it is waiting for, closes the
iterator in its own thread (running the provider's ``finally`` blocks), and only then does
the consumer's ``aclose()`` return.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import AsyncGenerator, Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

_ITEM, _DONE, _ERROR = 0, 1, 2


async def iterate_in_thread(factory: Callable[[], Iterator[T]]) -> AsyncGenerator[T, None]:
    """Yield the items of ``factory()``, which is created, iterated and closed in a thread.

    Exceptions raised by the iterator are re-raised here with their type unchanged.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[int, Any]] = asyncio.Queue()
    stopping = threading.Event()

    def send(kind: int, value: Any) -> None:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, (kind, value))
        except RuntimeError:  # the loop has closed: nobody is listening any more
            stopping.set()

    def produce() -> None:
        try:
            it = factory()
            try:
                for item in it:
                    send(_ITEM, item)
                    if stopping.is_set():
                        break
            finally:
                close = getattr(it, "close", None)
                if close is not None:
                    close()
        except BaseException as exc:  # handed to the consumer, which re-raises it
            send(_ERROR, exc)
        else:
            send(_DONE, None)

    ctx = contextvars.copy_context()
    thread = threading.Thread(
        target=ctx.run, args=(produce,), name="chainkit-stream", daemon=True
    )
    thread.start()
    finished = False
    try:
        while True:
            kind, value = await queue.get()
            if kind == _ITEM:
                yield value
                continue
            finished = True
            if kind == _ERROR:
                raise value
            return
    finally:
        if not finished:
            # Stopped early: let the producer close the iterator, and wait until it has.
            stopping.set()
            while (await queue.get())[0] == _ITEM:
                pass
