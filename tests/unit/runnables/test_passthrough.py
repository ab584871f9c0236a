"""RunnablePassthrough, RunnableAssign and RunnablePick."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from chainkit.runnables import (
    RunnableAssign,
    RunnableConfig,
    RunnableLambda,
    RunnableParallel,
    RunnablePassthrough,
    RunnablePick,
    RunnableSequence,
)


async def _aiter(items: list[Any]) -> AsyncIterator[Any]:
    for item in items:
        yield item


# ---- RunnablePassthrough -------------------------------------------------------------------
@pytest.mark.parametrize("value", [1, "text", {"a": 1}, [1, 2], None])
def test_passthrough_is_identity_on_every_path(every_path: Any, value: Any) -> None:
    every_path(RunnablePassthrough(), value, value)


def test_passthrough_is_inline_and_streams_input() -> None:
    assert RunnablePassthrough.inline and RunnablePassthrough().streams_input


def test_passthrough_streams_chunks_unchanged() -> None:
    p = RunnablePassthrough()
    assert list(p.transform(iter(["a", "b", "c"]))) == ["a", "b", "c"]
    chunks = [{"a": 1}, {"b": 2}]
    assert list(p.transform(iter(chunks))) == chunks
    assert asyncio.run(_collect(p.atransform(_aiter(["a", "b"])))) == ["a", "b"]


def test_passthrough_forwards_each_chunk_before_the_next_arrives() -> None:
    gate = threading.Event()
    waited: list[bool] = []

    def produce() -> Iterator[str]:
        yield "a"
        waited.append(gate.wait(timeout=2))
        yield "b"

    for chunk in RunnablePassthrough().transform(produce()):
        if chunk == "a":
            gate.set()
    assert waited == [True]


async def _collect(it: AsyncIterator[Any]) -> list[Any]:
    return [x async for x in it]


def test_func_is_called_once_with_the_whole_input() -> None:
    seen: list[Any] = []
    p = RunnablePassthrough(seen.append)
    assert p.invoke("x") == "x"
    assert asyncio.run(p.ainvoke("y")) == "y"
    assert list(p.transform(iter(["a", "b"]))) == ["a", "b"]
    assert asyncio.run(_collect(p.atransform(_aiter(["c", "d"])))) == ["c", "d"]
    assert seen == ["x", "y", "ab", "cd"]


def test_func_may_take_config() -> None:
    seen: list[Any] = []

    def record(x: Any, config: RunnableConfig) -> None:
        seen.append((x, config.get("tags")))

    RunnablePassthrough(record).invoke(1, {"tags": ["t"]})
    assert seen == [(1, ["t"])]


def test_afunc_is_used_on_the_async_path_and_async_func_is_recognised() -> None:
    seen: list[Any] = []

    async def arecord(x: Any) -> None:
        seen.append(("async", x))

    p = RunnablePassthrough(lambda x: seen.append(("sync", x)), afunc=arecord)
    p.invoke(1)
    asyncio.run(p.ainvoke(2))
    only_async = RunnablePassthrough(arecord)
    assert only_async.invoke(3) == 3  # the coroutine still runs on the sync path
    asyncio.run(only_async.ainvoke(4))
    assert seen == [("sync", 1), ("async", 2), ("async", 3), ("async", 4)]


def test_passthrough_rejects_non_callables() -> None:
    with pytest.raises(TypeError, match="RunnablePassthrough func must be callable, got int"):
        RunnablePassthrough(3)  # type: ignore[arg-type]


def test_passthrough_in_parallel_forwards_the_input() -> None:
    par = RunnableParallel(original=RunnablePassthrough(), n=len)
    assert par.invoke("abc") == {"original": "abc", "n": 3}


# ---- RunnableAssign -------------------------------------------------------------------------
def test_assign_on_every_path(every_path: Any) -> None:
    assign = RunnablePassthrough.assign(total=lambda d: d["a"] + d["b"], label=lambda d: "sum")
    assert isinstance(assign, RunnableAssign)
    every_path(assign, {"a": 1, "b": 2}, {"a": 1, "b": 2, "total": 3, "label": "sum"})


def test_assign_computed_key_replaces_input_key() -> None:
    assert RunnableAssign({"a": lambda d: d["a"] * 10}).invoke({"a": 1, "b": 2}) == {
        "a": 10,
        "b": 2,
    }


def test_assign_does_not_mutate_the_input() -> None:
    data = {"a": 1}
    RunnablePassthrough.assign(b=lambda d: 2).invoke(data)
    assert data == {"a": 1}


def test_assign_computes_keys_concurrently() -> None:
    def slow(key: str) -> Any:
        def run(d: dict[str, Any]) -> str:
            time.sleep(0.2)
            return key

        return run

    assign = RunnablePassthrough.assign(x=slow("x"), y=slow("y"))
    start = time.perf_counter()
    assert assign.invoke({}) == {"x": "x", "y": "y"}
    assert time.perf_counter() - start < 0.35


@pytest.mark.parametrize("bad", [3, "text", [("a", 1)]])
def test_assign_non_dict_input_raises_type_error(bad: Any) -> None:
    assign = RunnablePassthrough.assign(b=lambda d: 1)
    match = rf"RunnableAssign \(adding keys \['b'\]\) needs a dict input, got {type(bad).__name__}"
    with pytest.raises(TypeError, match=match):
        assign.invoke(bad)
    with pytest.raises(TypeError, match=match):
        asyncio.run(assign.ainvoke(bad))
    with pytest.raises(TypeError, match=match):
        list(assign.stream(bad))


def test_assign_rejects_a_non_dict_mapper() -> None:
    with pytest.raises(TypeError, match="RunnableAssign needs a dict"):
        RunnableAssign([1, 2])  # type: ignore[arg-type]


def test_assign_streams_input_keys_first_then_computed_keys() -> None:
    def letters(chunks: Iterator[dict[str, Any]]) -> Iterator[str]:
        for d in chunks:
            yield from d["text"]

    assign = RunnablePassthrough.assign(chars=letters, n=lambda d: len(d["text"]))
    chunks = list(assign.stream({"text": "ab", "chars": "old"}))
    assert chunks[0] == {"text": "ab"}  # the input, minus the keys being computed
    rest = chunks[1:]
    assert [c["chars"] for c in rest if "chars" in c] == ["a", "b"]
    assert [c["n"] for c in rest if "n" in c] == [2]


async def test_assign_astream_input_chunks_pass_through_as_they_arrive() -> None:
    assign = RunnablePassthrough.assign(both=lambda d: d["a"] + d["b"])
    chunks = [c async for c in assign.atransform(_aiter([{"a": "x"}, {"b": "y"}]))]
    assert chunks == [{"a": "x"}, {"b": "y"}, {"both": "xy"}]


def test_assign_transform_aggregates_dict_chunks() -> None:
    assign = RunnablePassthrough.assign(both=lambda d: d["a"] + d["b"])
    chunks = list(assign.transform(iter([{"a": "x"}, {"a": "z", "b": "y"}])))
    assert chunks[-1] == {"both": "xzy"}


def test_chain_assign_method() -> None:
    chain = RunnableLambda(lambda x: {"x": x}).assign(y=lambda d: d["x"] * 2)
    assert isinstance(chain, RunnableSequence)
    assert chain.invoke(3) == {"x": 3, "y": 6}


def test_assign_name() -> None:
    assert RunnablePassthrough.assign(a=len, b=len).get_name() == "RunnableAssign<a,b>"


# ---- RunnablePick ---------------------------------------------------------------------------
def test_pick_one_key_on_every_path(every_path: Any) -> None:
    every_path(RunnablePick("a"), {"a": "x", "b": "y"}, "x")


def test_pick_several_keys_on_every_path(every_path: Any) -> None:
    every_path(RunnablePick(["a", "c"]), {"a": "x", "b": "y", "c": "z"}, {"a": "x", "c": "z"})


def test_pick_list_keeps_only_present_keys() -> None:
    assert RunnablePick(["a", "zzz"]).invoke({"a": 1, "b": 2}) == {"a": 1}
    assert RunnablePick(["zzz"]).invoke({"a": 1}) == {}


def test_pick_missing_single_key_names_available_keys() -> None:
    pick = RunnablePick("c")
    match = r"RunnablePick: key 'c' not in the input; available keys: \['a', 'b'\]"
    with pytest.raises(KeyError, match=match):
        pick.invoke({"b": 1, "a": 2})
    with pytest.raises(KeyError, match=match):
        asyncio.run(pick.ainvoke({"b": 1, "a": 2}))
    with pytest.raises(KeyError, match=match):
        list(pick.stream({"b": 1, "a": 2}))
    with pytest.raises(KeyError, match=match):
        list(pick.transform(iter([{"a": 1}, {"b": 2}])))
    with pytest.raises(KeyError, match=match):
        asyncio.run(_collect(pick.atransform(_aiter([{"a": 1}, {"b": 2}]))))


def test_pick_non_dict_input_raises_type_error() -> None:
    with pytest.raises(TypeError, match=r"RunnablePick\('a'\) needs a dict input, got int: 3"):
        RunnablePick("a").invoke(3)


@pytest.mark.parametrize("bad", [3, [], ["a", 1], None])
def test_pick_rejects_bad_keys(bad: Any) -> None:
    with pytest.raises(TypeError, match="keys must be a str or a non-empty list of str"):
        RunnablePick(bad)


def test_pick_streams_the_picked_part_of_each_chunk() -> None:
    chunks = [{"a": "x", "b": 1}, {"b": 2}, {"a": "y"}]
    assert list(RunnablePick("a").transform(iter(chunks))) == ["x", "y"]
    assert list(RunnablePick(["a"]).transform(iter(chunks))) == [{"a": "x"}, {"a": "y"}]
    assert asyncio.run(_collect(RunnablePick("a").atransform(_aiter(chunks)))) == ["x", "y"]


def test_chain_pick_method_and_names() -> None:
    chain = RunnableLambda(lambda x: {"x": x, "y": -x}).pick("y")
    assert chain.invoke(2) == -2
    assert RunnablePick(["a", "b"]).get_name() == "RunnablePick<a,b>"
    assert RunnablePick.inline
    assert repr(RunnablePick("a")) == "RunnablePick(keys='a')"
