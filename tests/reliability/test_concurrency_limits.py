"""Figure 4: ``max_concurrency`` holds under large and nested batches.

- 10,000 inputs through `batch` / `abatch` of an in-process runnable that counts how many
  calls run at once: never more than 16 (and 16 are reached), outputs in input order, and
  with ``return_exceptions=True`` exactly the injected failures in their slots.
- Nested batches (a batch whose every item runs a batch): limits multiply per level, as in
  LangChain, so an outer limit of 4 over inner limits of 4 never exceeds 16 in flight.
- A few hundred real HTTP calls through `ChatOpenAI.batch` / ``abatch``: the server never
  sees more than 16 requests at once; answers in order; injected 400s in their slots.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from typing import Any

import pytest

from chainkit.models import ChatOpenAI
from chainkit.models.http import BadRequestError
from chainkit.runnables import RunnableLambda
from tests.reliability.canary import CANARY
from tests.reliability.fault_server import Act, FaultServer, Request

N = 10_000
LIMIT = 16
HTTP_N = 300


class Injected(ValueError):
    """The failure the fake step raises for chosen inputs."""


def fails(i: int) -> bool:
    return i % 97 == 13


class Gauge:
    """Counts calls in flight (thread-safe), and the most at once."""

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0
        self.calls = 0
        self._lock = threading.Lock()

    def enter(self) -> None:
        with self._lock:
            self.now += 1
            self.calls += 1
            self.peak = max(self.peak, self.now)

    def leave(self) -> None:
        with self._lock:
            self.now -= 1


def sync_step(gauge: Gauge) -> RunnableLambda[int, int]:
    def work(i: int) -> int:
        gauge.enter()
        try:
            time.sleep(0.0002 if i % 3 else 0.0)
            if fails(i):
                raise Injected(f"injected failure for input {i}")
            return i * 2
        finally:
            gauge.leave()

    return RunnableLambda(work)


def async_step(gauge: Gauge) -> RunnableLambda[int, int]:
    async def work(i: int) -> int:
        gauge.enter()
        try:
            await asyncio.sleep(0 if i % 3 else 0.0002)
            if fails(i):
                raise Injected(f"injected failure for input {i}")
            return i * 2
        finally:
            gauge.leave()

    return RunnableLambda(work)


def check_results(results: list[Any], n: int) -> None:
    assert len(results) == n
    for i, out in enumerate(results):
        if fails(i):
            assert isinstance(out, Injected), f"slot {i}: expected the failure, got {out!r}"
            assert str(out) == f"injected failure for input {i}"
        else:
            assert out == i * 2, f"slot {i}: got {out!r} (order broken?)"


def test_batch_10k_sync() -> None:
    gauge = Gauge()
    results = sync_step(gauge).batch(
        list(range(N)), {"max_concurrency": LIMIT}, return_exceptions=True
    )
    check_results(results, N)
    assert gauge.peak <= LIMIT
    assert gauge.peak == LIMIT, f"only {gauge.peak} ran at once: the limit was never reached"
    assert gauge.calls == N


async def test_batch_10k_async() -> None:
    gauge = Gauge()
    results = await async_step(gauge).abatch(
        list(range(N)), {"max_concurrency": LIMIT}, return_exceptions=True
    )
    check_results(results, N)
    assert gauge.peak == LIMIT
    assert gauge.calls == N


def test_batch_without_return_exceptions_raises_the_injected_failure() -> None:
    gauge = Gauge()
    with pytest.raises(Injected, match="injected failure for input 13"):
        sync_step(gauge).batch(list(range(200)), {"max_concurrency": LIMIT})
    assert gauge.peak <= LIMIT


def _groups() -> list[list[int]]:
    return [list(range(g * 100, g * 100 + 100)) for g in range(40)]


def test_nested_batch_sync() -> None:
    gauge = Gauge()
    leaf = sync_step(gauge)
    outer = RunnableLambda(
        lambda xs: leaf.batch(xs, {"max_concurrency": 4}, return_exceptions=True)
    )
    results = outer.batch(_groups(), {"max_concurrency": 4})
    check_results([out for group in results for out in group], 4000)
    assert gauge.peak <= 16


async def test_nested_batch_async() -> None:
    gauge = Gauge()
    leaf = async_step(gauge)

    async def inner(xs: list[int]) -> list[Any]:
        return await leaf.abatch(xs, {"max_concurrency": 4}, return_exceptions=True)

    results = await RunnableLambda(inner).abatch(_groups(), {"max_concurrency": 4})
    check_results([out for group in results for out in group], 4000)
    assert gauge.peak == 16


# ---- over HTTP ------------------------------------------------------------------------------
def http_fails(i: int) -> bool:
    return i % 13 == 5


def answer(request: Request) -> Act:
    i = int(request.json()["messages"][-1]["content"])
    if http_fails(i):
        return Act.json({"error": {"message": f"bad input {i}"}}, status=400,
                        first_delay=0.002)
    return Act.json({"id": "c", "model": "m", "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": f"echo {i}"}}]},
                    first_delay=random.uniform(0.001, 0.01))


def check_http(results: list[Any]) -> None:
    assert len(results) == HTTP_N
    for i, out in enumerate(results):
        if http_fails(i):
            assert isinstance(out, BadRequestError), f"slot {i}: {out!r}"
            assert f"bad input {i}" in str(out)
        else:
            assert out.content == f"echo {i}", f"slot {i}: {out!r}"


def test_http_batch_sync(server: FaultServer) -> None:
    server.default = answer
    with ChatOpenAI(model="m", api_key=CANARY, base_url=server.url + "/v1") as model:
        results = model.batch([str(i) for i in range(HTTP_N)], {"max_concurrency": LIMIT},
                              return_exceptions=True)
    check_http(results)
    assert len(server.requests) == HTTP_N  # 400s are not retried
    assert server.peak_in_flight <= LIMIT
    assert server.peak_in_flight >= LIMIT // 2, "the batch never ran concurrently"


async def test_http_batch_async(server: FaultServer) -> None:
    server.default = answer
    async with ChatOpenAI(model="m", api_key=CANARY, base_url=server.url + "/v1") as model:
        results = await model.abatch([str(i) for i in range(HTTP_N)],
                                     {"max_concurrency": LIMIT}, return_exceptions=True)
    check_http(results)
    assert len(server.requests) == HTTP_N
    assert server.peak_in_flight <= LIMIT
    assert server.peak_in_flight >= LIMIT // 2, "the batch never ran concurrently"
