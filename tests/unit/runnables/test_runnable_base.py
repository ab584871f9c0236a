"""The Runnable protocol: the public methods a subclass gets from one hook, batching, config
validation, coercion and the sync/async bridge."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from typing import Any

import pytest

from chainkit.runnables import (
    Runnable,
    RunnableConfig,
    RunnableLambda,
    RunnableParallel,
    coerce_to_runnable,
    run_coroutine_sync,
)
from chainkit.runnables._sync import AddableDict, add_chunks


class Double(Runnable[int, int]):
    """A subclass that implements only `_call`."""

    def _call(self, input: int, config: RunnableConfig | None, **kwargs: Any) -> int:
        self.thread = threading.get_ident()
        return input * 2


def test_a_call_hook_gives_every_public_method(every_path: Any) -> None:
    every_path(Double(), 4, 8)


async def test_call_hook_runs_inline_on_the_async_path() -> None:
    d = Double()
    assert await d.ainvoke(1) == 2
    assert d.thread == threading.get_ident()


def test_default_name_and_repr() -> None:
    assert Double().get_name() == "Double"
    assert Double().get_name("Input") == "DoubleInput"
    assert repr(Double()) == "Double()"


def test_stream_is_lazy() -> None:
    calls: list[int] = []
    r = RunnableLambda(lambda x: calls.append(x))
    it = r.stream(1)
    assert calls == []
    list(it)
    assert calls == [1]


# ---- config validation -----------------------------------------------------------------------
def _calls(r: Runnable[Any, Any], config: Any) -> dict[str, Any]:
    return {
        "invoke": lambda: r.invoke(1, config),
        "ainvoke": lambda: asyncio.run(r.ainvoke(1, config)),
        "stream": lambda: r.stream(1, config),
        "astream": lambda: r.astream(1, config),
        "batch": lambda: r.batch([1, 2], config),
        "abatch": lambda: asyncio.run(r.abatch([1, 2], config)),
    }


@pytest.mark.parametrize("method", ["invoke", "ainvoke", "stream", "astream", "batch", "abatch"])
def test_non_dict_config_raises_type_error(method: str) -> None:
    match = r"config must be a dict \(RunnableConfig\) or None, got str"
    with pytest.raises(TypeError, match=match):
        _calls(RunnableLambda(lambda x: x), "tags")[method]()


@pytest.mark.parametrize("method", ["invoke", "ainvoke", "stream", "astream", "batch", "abatch"])
def test_unknown_config_key_lists_the_valid_keys(method: str) -> None:
    match = r"unknown config key\(s\) \['tag'\]; valid keys: \["
    with pytest.raises(ValueError, match=match) as info:
        _calls(RunnableLambda(lambda x: x), {"tag": ["x"]})[method]()
    for key in ("callbacks", "max_concurrency", "metadata", "recursion_limit", "tags"):
        assert key in str(info.value)


def test_batch_config_list_must_match_inputs() -> None:
    r = RunnableLambda(lambda x: x)
    with pytest.raises(ValueError, match="batch got 3 inputs but 2 configs"):
        r.batch([1, 2, 3], [{}, {}])
    with pytest.raises(ValueError, match="batch got 3 inputs but 1 configs"):
        asyncio.run(r.abatch([1, 2, 3], [{}]))
    with pytest.raises(ValueError, match="unknown config key"):
        r.batch([1, 2], [{}, {"bogus": 1}])  # type: ignore[list-item]


def test_with_config_validates_at_once() -> None:
    with pytest.raises(ValueError, match="unknown config key"):
        RunnableLambda(lambda x: x).with_config(colour="red")


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2"])
def test_invalid_max_concurrency(bad: Any) -> None:
    r = RunnableLambda(lambda x: x)
    with pytest.raises(ValueError, match="max_concurrency must be a positive int or None"):
        r.batch([1, 2], {"max_concurrency": bad})
    with pytest.raises(ValueError, match="max_concurrency must be a positive int or None"):
        asyncio.run(r.abatch([1, 2], {"max_concurrency": bad}))


# ---- batch -----------------------------------------------------------------------------------
def _jittery(x: int) -> int:
    time.sleep(random.uniform(0, 0.02))
    return x * 10


def test_batch_keeps_input_order() -> None:
    r = RunnableLambda(_jittery)
    assert r.batch(list(range(20))) == [x * 10 for x in range(20)]
    assert asyncio.run(r.abatch(list(range(20)))) == [x * 10 for x in range(20)]
    assert r.batch([]) == [] and asyncio.run(r.abatch([])) == []


def fails_on_odd(x: int) -> int:
    if x % 2:
        raise ValueError(f"odd {x}")
    return x


def test_batch_return_exceptions() -> None:
    r = RunnableLambda(fails_on_odd)
    for out in (r.batch([0, 1, 2], return_exceptions=True),
                asyncio.run(r.abatch([0, 1, 2], return_exceptions=True))):
        assert out[0] == 0 and out[2] == 2
        assert isinstance(out[1], ValueError) and str(out[1]) == "odd 1"


def test_batch_raises_the_error_without_return_exceptions() -> None:
    r = RunnableLambda(fails_on_odd)
    with pytest.raises(ValueError, match="odd 1"):
        r.batch([0, 1, 2])
    with pytest.raises(ValueError, match="odd 1"):
        asyncio.run(r.abatch([0, 1, 2]))


class InFlight:
    """Counts how many calls run at once (sync calls in threads)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0

    def __call__(self, x: Any) -> Any:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        time.sleep(0.02)
        with self.lock:
            self.now -= 1
        return x


@pytest.mark.parametrize("limit", [1, 3])
def test_batch_respects_max_concurrency(limit: int) -> None:
    counter = InFlight()
    r = RunnableLambda(counter)
    assert r.batch(list(range(10)), {"max_concurrency": limit}) == list(range(10))
    assert counter.peak == limit
    counter.peak = 0
    list(r.batch_as_completed(list(range(10)), {"max_concurrency": limit}))
    assert counter.peak == limit


@pytest.mark.parametrize("limit", [1, 3])
async def test_abatch_respects_max_concurrency(limit: int) -> None:
    counter = InFlight()
    r = RunnableLambda(counter)
    assert await r.abatch(list(range(10)), {"max_concurrency": limit}) == list(range(10))
    assert counter.peak == limit
    counter.peak = 0
    [p async for p in r.abatch_as_completed(list(range(10)), {"max_concurrency": limit})]
    assert counter.peak == limit


async def test_abatch_max_concurrency_with_async_functions() -> None:
    state = {"now": 0, "peak": 0}

    async def track(x: int) -> int:
        state["now"] += 1
        state["peak"] = max(state["peak"], state["now"])
        await asyncio.sleep(0.01)
        state["now"] -= 1
        return x

    assert await RunnableLambda(track).abatch(list(range(8)), {"max_concurrency": 2}) == list(
        range(8)
    )
    assert state["peak"] == 2


def _sleep_for(x: float) -> float:
    time.sleep(x)
    return x


def test_batch_as_completed_yields_in_completion_order() -> None:
    r = RunnableLambda(_sleep_for)
    out = list(r.batch_as_completed([0.15, 0.0, 0.05]))
    assert [i for i, _ in out] == [1, 2, 0]
    assert dict(out) == {0: 0.15, 1: 0.0, 2: 0.05}
    assert list(r.batch_as_completed([])) == []


async def test_abatch_as_completed_yields_in_completion_order() -> None:
    async def sleep_for(x: float) -> float:
        await asyncio.sleep(x)
        return x

    out = [p async for p in RunnableLambda(sleep_for).abatch_as_completed([0.1, 0.0, 0.05])]
    assert [i for i, _ in out] == [1, 2, 0]


def test_batch_as_completed_return_exceptions() -> None:
    r = RunnableLambda(fails_on_odd)
    out = dict(r.batch_as_completed([0, 1], return_exceptions=True))
    assert out[0] == 0 and isinstance(out[1], ValueError)
    with pytest.raises(ValueError, match="odd 1"):
        list(r.batch_as_completed([0, 1]))


async def test_abatch_as_completed_return_exceptions() -> None:
    r = RunnableLambda(fails_on_odd)
    out = dict([p async for p in r.abatch_as_completed([0, 1], return_exceptions=True)])
    assert out[0] == 0 and isinstance(out[1], ValueError)
    with pytest.raises(ValueError, match="odd 1"):
        [p async for p in r.abatch_as_completed([0, 1])]


def test_batch_with_one_config_per_input() -> None:
    r = RunnableLambda(lambda x, config: (x, config.get("tags")))
    assert r.batch([1, 2], [{"tags": ["a"]}, {"tags": ["b"]}]) == [(1, ["a"]), (2, ["b"])]


def test_batch_keeps_run_id_for_the_first_input_only() -> None:
    from uuid import uuid4

    run_id = uuid4()
    r = RunnableLambda(lambda x, config: config.get("run_id"))
    assert r.batch([1, 2, 3], {"run_id": run_id}) == [run_id, None, None]


# ---- coercion ---------------------------------------------------------------------------------
def test_coerce_to_runnable() -> None:
    d = Double()
    assert coerce_to_runnable(d) is d
    assert isinstance(coerce_to_runnable(len), RunnableLambda)
    assert isinstance(coerce_to_runnable({"a": len}), RunnableParallel)
    with pytest.raises(TypeError, match="cannot use int 42 in a chain"):
        coerce_to_runnable(42)


# ---- the sync/async bridge ---------------------------------------------------------------------
async def _answer() -> int:
    await asyncio.sleep(0)
    return 42


async def _raise() -> int:
    raise KeyError("inside")


def test_run_coroutine_sync_without_a_loop() -> None:
    assert run_coroutine_sync(_answer()) == 42
    with pytest.raises(KeyError, match="inside"):
        run_coroutine_sync(_raise())


async def test_run_coroutine_sync_inside_a_running_loop() -> None:
    assert run_coroutine_sync(_answer()) == 42
    with pytest.raises(KeyError, match="inside"):
        run_coroutine_sync(_raise())


def test_add_chunks() -> None:
    assert add_chunks(None, "a") == "a"
    assert add_chunks("a", "b") == "ab"
    assert add_chunks([1], [2]) == [1, 2]
    assert add_chunks({"a": 1}, {"b": 2}) == {"b": 2}  # plain dicts: the newer replaces
    merged = add_chunks(AddableDict(a="x"), {"a": "y", "b": 1})
    assert merged == {"a": "xy", "b": 1} and isinstance(merged, AddableDict)
    assert add_chunks({"a": "x"}, AddableDict(a="y")) == {"a": "xy"}
