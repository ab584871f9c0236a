"""RunnableRetry: which errors are retried, how long it waits, batches and streams."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from chainkit.runnables import RunnableLambda, RunnableRetry

FAST = {"wait_initial": 0.001, "wait_max": 0.005}


class Flaky:
    """Fails with ``error`` for the first ``failures`` calls per input, then returns input * 10."""

    def __init__(self, failures: int, error: type[Exception] = ConnectionError) -> None:
        self.failures = failures
        self.error = error
        self.calls: dict[Any, int] = {}
        self.lock = threading.Lock()

    def __call__(self, x: Any) -> Any:
        with self.lock:
            n = self.calls[x] = self.calls.get(x, 0) + 1
        if n <= self.failures:
            raise self.error(f"attempt {n} for {x!r} failed")
        return x * 10


def test_retries_until_success_on_every_path(every_path: Any) -> None:
    flaky = Flaky(failures=2)
    retry = RunnableRetry(RunnableLambda(flaky), stop_after_attempt=3, **FAST)
    # every path succeeds on its third attempt; later calls find the input already "healed"
    every_path(retry, 1, 10)
    assert flaky.calls[1] >= 3


@pytest.mark.parametrize("path", ["invoke", "ainvoke", "stream", "astream"])
def test_counts_attempts_and_gives_up_with_the_last_error(path: str) -> None:
    flaky = Flaky(failures=5)
    retry = RunnableRetry(RunnableLambda(flaky), stop_after_attempt=3, **FAST)

    async def arun() -> Any:
        if path == "ainvoke":
            return await retry.ainvoke(1)
        return [c async for c in retry.astream(1)]

    with pytest.raises(ConnectionError, match="attempt 3 for 1 failed") as info:
        if path == "invoke":
            retry.invoke(1)
        elif path == "stream":
            list(retry.stream(1))
        else:
            asyncio.run(arun())
    assert flaky.calls[1] == 3
    assert "RunnableLambda: gave up after 3 attempt(s)" in info.value.__notes__


def test_only_listed_exception_types_are_retried() -> None:
    flaky = Flaky(failures=1, error=KeyError)
    retry = RunnableRetry(
        RunnableLambda(flaky), retry_if_exception_type=(ConnectionError,), **FAST
    )
    with pytest.raises(KeyError):
        retry.invoke(1)
    assert flaky.calls[1] == 1
    with pytest.raises(KeyError):
        asyncio.run(retry.ainvoke(2))
    assert flaky.calls[2] == 1


def test_a_single_exception_class_is_accepted() -> None:
    flaky = Flaky(failures=1, error=TimeoutError)
    retry = RunnableRetry(RunnableLambda(flaky), retry_if_exception_type=TimeoutError, **FAST)
    assert retry.invoke(2) == 20


def test_stop_after_one_attempt_means_no_retry() -> None:
    flaky = Flaky(failures=1)
    with pytest.raises(ConnectionError):
        RunnableRetry(RunnableLambda(flaky), stop_after_attempt=1).invoke(1)
    assert flaky.calls[1] == 1


# ---- waiting --------------------------------------------------------------------------------
def test_waits_grow_exponentially_with_jitter_up_to_the_cap() -> None:
    retry = RunnableRetry(RunnableLambda(str), wait_initial=1.0, wait_max=10.0)
    for _ in range(50):
        assert 1.0 <= retry.wait_before(2) <= 2.0
        assert 2.0 <= retry.wait_before(3) <= 3.0
        assert 4.0 <= retry.wait_before(4) <= 5.0
        assert retry.wait_before(10) == 10.0


def test_langchain_jitter_params() -> None:
    retry = RunnableLambda(str).with_retry(
        exponential_jitter_params={"initial": 0.5, "max": 3.0, "exp_base": 3.0, "jitter": 0.0}
    )
    assert [retry.wait_before(n) for n in (2, 3, 4)] == [0.5, 1.5, 3.0]
    match = r"unknown exponential_jitter_params key\(s\) \['maximum'\]"
    with pytest.raises(ValueError, match=match):
        RunnableRetry(RunnableLambda(str), exponential_jitter_params={"maximum": 1.0})


def test_no_wait_without_exponential_jitter() -> None:
    retry = RunnableRetry(RunnableLambda(str), wait_exponential_jitter=False)
    assert retry.wait_before(2) == retry.wait_before(5) == 0.0


def test_sync_path_sleeps_between_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    retry = RunnableRetry(
        RunnableLambda(Flaky(failures=2)), wait_initial=1.0, wait_max=10.0, stop_after_attempt=3
    )
    assert retry.invoke(1) == 10
    assert len(slept) == 2 and 1.0 <= slept[0] <= 2.0 and 2.0 <= slept[1] <= 3.0


async def test_async_path_sleeps_with_asyncio(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", fake_sleep)

    async def flaky_async(x: int, _state: dict[str, int] = {"n": 0}) -> int:  # noqa: B006
        _state["n"] += 1
        if _state["n"] < 3:
            raise ConnectionError("down")
        return x

    retry = RunnableRetry(RunnableLambda(flaky_async), wait_initial=1.0, wait_max=10.0)
    assert await retry.ainvoke(7) == 7
    assert len(slept) == 2 and 1.0 <= slept[0] <= 2.0


# ---- batches ---------------------------------------------------------------------------------
def test_batch_retries_only_failed_inputs() -> None:
    flaky = Flaky(failures=0)
    flaky_for_two = Flaky(failures=2)

    def route(x: int) -> int:
        return flaky_for_two(x) if x == 2 else flaky(x)

    retry = RunnableRetry(RunnableLambda(route), stop_after_attempt=3, **FAST)
    assert retry.batch([1, 2, 3]) == [10, 20, 30]
    assert flaky.calls == {1: 1, 3: 1}
    assert flaky_for_two.calls == {2: 3}


async def test_abatch_retries_only_failed_inputs() -> None:
    flaky = Flaky(failures=0)
    flaky_for_two = Flaky(failures=2)

    def route(x: int) -> int:
        return flaky_for_two(x) if x == 2 else flaky(x)

    retry = RunnableRetry(RunnableLambda(route), stop_after_attempt=3, **FAST)
    assert await retry.abatch([1, 2, 3]) == [10, 20, 30]
    assert flaky.calls == {1: 1, 3: 1}
    assert flaky_for_two.calls == {2: 3}


def test_batch_gives_up_and_return_exceptions() -> None:
    def route(x: int) -> int:
        if x == 2:
            raise ConnectionError("always down")
        if x == 3:
            raise KeyError("not retried")
        return x

    retry = RunnableRetry(RunnableLambda(route), stop_after_attempt=2, **FAST)
    for out in (
        retry.batch([1, 2, 3], return_exceptions=True),
        asyncio.run(retry.abatch([1, 2, 3], return_exceptions=True)),
    ):
        assert out[0] == 1
        assert isinstance(out[1], ConnectionError) and isinstance(out[2], KeyError)
    with pytest.raises(ConnectionError, match="always down"):
        retry.batch([1, 2, 3])
    with pytest.raises(ConnectionError, match="always down"):
        asyncio.run(retry.abatch([1, 2, 3]))


# ---- streams ---------------------------------------------------------------------------------
def test_stream_is_retried_before_the_first_chunk() -> None:
    attempts: list[int] = []

    def gen(chunks: Iterator[str]) -> Iterator[str]:
        for _ in chunks:
            pass
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("no connection yet")
        yield from "ok"

    retry = RunnableRetry(RunnableLambda(gen), **FAST)
    assert list(retry.stream("x")) == ["o", "k"]
    assert len(attempts) == 3


@pytest.mark.parametrize("use_async", [False, True])
def test_stream_is_not_retried_after_a_chunk(use_async: bool) -> None:
    attempts: list[int] = []

    def gen(chunks: Iterator[str]) -> Iterator[str]:
        for _ in chunks:
            pass
        attempts.append(1)
        yield "partial"
        raise ConnectionError("dropped")

    retry = RunnableRetry(RunnableLambda(gen), **FAST)
    got: list[str] = []

    async def consume() -> None:
        async for c in retry.astream("x"):
            got.append(c)

    with pytest.raises(ConnectionError, match="dropped"):
        if use_async:
            asyncio.run(consume())
        else:
            for c in retry.stream("x"):
                got.append(c)
    assert got == ["partial"] and len(attempts) == 1


# ---- construction ----------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "3"])
def test_bad_stop_after_attempt(bad: Any) -> None:
    with pytest.raises(ValueError, match="stop_after_attempt must be an int >= 1"):
        RunnableRetry(RunnableLambda(str), stop_after_attempt=bad)


@pytest.mark.parametrize("bad", [(), ("ValueError",), (int,), "x", [ValueError]])
def test_bad_exception_types(bad: Any) -> None:
    with pytest.raises(TypeError, match="retry_if_exception_type must be an exception class"):
        RunnableRetry(RunnableLambda(str), retry_if_exception_type=bad)


def test_negative_waits() -> None:
    with pytest.raises(ValueError, match=r"wait_initial must be >= 0 seconds, got -1\.0"):
        RunnableRetry(RunnableLambda(str), wait_initial=-1)


def test_with_retry_builds_a_retry_and_names_follow_the_bound() -> None:
    def add_one_x10(x: int) -> int:
        return x

    retry = RunnableLambda(add_one_x10).with_retry(
        retry_if_exception_type=(ValueError,), stop_after_attempt=5
    )
    assert isinstance(retry, RunnableRetry)
    assert retry.stop_after_attempt == 5 and retry.retry_if_exception_type == (ValueError,)
    assert retry.get_name() == "add_one_x10"
    assert repr(retry) == (
        "RunnableRetry(bound=RunnableLambda(add_one_x10), retry_if_exception_type=(ValueError,), "
        "stop_after_attempt=5)"
    )
