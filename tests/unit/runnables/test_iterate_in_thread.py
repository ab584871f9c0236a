"""iterate_in_thread: a sync iterator consumed from async code, in one worker thread."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import Iterator

import pytest

from chainkit.runnables._sync import iterate_in_thread

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class Source:
    def __init__(self, n: int, delay: float = 0.0) -> None:
        self.n = n
        self.delay = delay
        self.closed = threading.Event()
        self.threads: set[int] = set()

    def __call__(self) -> Iterator[int]:
        lock = threading.RLock()  # must be released by the thread that took it
        with lock:
            try:
                for i in range(self.n):
                    self.threads.add(threading.get_ident())
                    if self.delay:
                        time.sleep(self.delay)
                    yield i
            finally:
                self.closed.set()


async def test_yields_every_item_from_one_thread() -> None:
    source = Source(50)
    assert [i async for i in iterate_in_thread(source)] == list(range(50))
    assert len(source.threads) == 1 and threading.get_ident() not in source.threads
    assert source.closed.is_set()


async def test_errors_keep_their_type() -> None:
    def broken() -> Iterator[int]:
        yield 1
        raise KeyError("gone")

    seen = []
    with pytest.raises(KeyError, match="gone"):
        async for item in iterate_in_thread(broken):
            seen.append(item)
    assert seen == [1]


async def test_aclose_closes_the_iterator_in_its_thread_before_returning() -> None:
    source = Source(1000, delay=0.001)
    stream = iterate_in_thread(source)
    assert await stream.__anext__() == 0
    await stream.aclose()
    assert source.closed.is_set()
    assert len(source.threads) == 1


async def test_cancelling_the_consumer_closes_the_iterator() -> None:
    source = Source(1000, delay=0.01)
    started = asyncio.Event()

    async def consume() -> None:
        async for _ in iterate_in_thread(source):
            started.set()

    task = asyncio.create_task(consume())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert source.closed.is_set()


async def test_context_variables_reach_the_thread() -> None:
    def read() -> Iterator[str]:
        yield request_id.get()

    request_id.set("r-42")
    assert [v async for v in iterate_in_thread(read)] == ["r-42"]


async def test_the_loop_keeps_running_while_the_iterator_blocks() -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.002)
            ticks += 1

    task = asyncio.create_task(ticker())
    items = [i async for i in iterate_in_thread(Source(5, delay=0.02))]
    task.cancel()
    assert items == [0, 1, 2, 3, 4]
    assert ticks >= 15
