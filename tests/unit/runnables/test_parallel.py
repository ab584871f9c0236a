"""RunnableParallel: one input, several branches, run concurrently; merged streams."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from chainkit.runnables import RunnableLambda, RunnableParallel, RunnablePassthrough
from chainkit.runnables._errors import chain_path


def test_branches_on_every_path(every_path: Any) -> None:
    par = RunnableParallel(double=lambda x: x * 2, same=RunnablePassthrough(), text=str)
    every_path(par, 3, {"double": 6, "same": 3, "text": "3"})


def test_dict_and_kwargs_forms_merge() -> None:
    par = RunnableParallel({"a": lambda x: x + 1}, b=lambda x: x - 1)
    assert par.invoke(1) == {"a": 2, "b": 0}
    assert list(par.steps) == ["a", "b"]


def test_output_keeps_branch_order() -> None:
    def slow(x: int) -> int:
        time.sleep(0.05)
        return x

    par = RunnableParallel(first=slow, second=lambda x: x, third=RunnablePassthrough())
    assert list(par.invoke(1)) == ["first", "second", "third"]
    assert list(asyncio.run(par.ainvoke(1))) == ["first", "second", "third"]


def test_construction_errors() -> None:
    with pytest.raises(ValueError, match="at least one branch"):
        RunnableParallel()
    with pytest.raises(TypeError, match="keys must be str, got int 1"):
        RunnableParallel({1: lambda x: x})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="expected a Runnable"):
        RunnableParallel(a=3)


# ---- concurrency -------------------------------------------------------------------------
def _sleepy(seconds: float) -> Any:
    def sleep(x: Any) -> Any:
        time.sleep(seconds)
        return x

    return sleep


def _asleepy(seconds: float) -> Any:
    async def sleep(x: Any) -> Any:
        await asyncio.sleep(seconds)
        return x

    return sleep


def test_sync_branches_run_concurrently() -> None:
    par = RunnableParallel(a=_sleepy(0.2), b=_sleepy(0.2))
    start = time.perf_counter()
    assert par.invoke(1) == {"a": 1, "b": 1}
    assert time.perf_counter() - start < 0.35


@pytest.mark.parametrize("make", [_sleepy, _asleepy])
async def test_async_branches_run_concurrently(make: Any) -> None:
    par = RunnableParallel(a=make(0.2), b=make(0.2))
    start = time.perf_counter()
    assert await par.ainvoke(1) == {"a": 1, "b": 1}
    assert time.perf_counter() - start < 0.35


def test_async_branches_run_concurrently_from_sync_invoke() -> None:
    par = RunnableParallel(a=_asleepy(0.2), b=_asleepy(0.2))
    start = time.perf_counter()
    assert par.invoke(1) == {"a": 1, "b": 1}
    assert time.perf_counter() - start < 0.35


class InFlight:
    """Counts how many calls run at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0

    def __call__(self, x: Any) -> Any:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        time.sleep(0.03)
        with self.lock:
            self.now -= 1
        return x


def test_max_concurrency_bounds_sync_branches() -> None:
    counter = InFlight()
    par = RunnableParallel({str(i): RunnableLambda(counter) for i in range(6)})
    assert par.invoke(1, {"max_concurrency": 2}) == {str(i): 1 for i in range(6)}
    assert counter.peak == 2


async def test_max_concurrency_bounds_async_branches() -> None:
    counter = InFlight()
    par = RunnableParallel({str(i): RunnableLambda(counter) for i in range(6)})
    assert await par.ainvoke(1, {"max_concurrency": 2}) == {str(i): 1 for i in range(6)}
    assert counter.peak == 2


def test_inline_branches_run_in_the_callers_thread() -> None:
    threads: dict[str, int] = {}
    par = RunnableParallel(
        cheap=RunnablePassthrough(lambda _: threads.__setitem__("cheap", threading.get_ident())),
        a=lambda _: threads.__setitem__("a", threading.get_ident()),
        b=lambda _: threads.__setitem__("b", threading.get_ident()),
    )
    par.invoke(None)
    assert threads["cheap"] == threading.get_ident()
    assert threads["a"] != threading.get_ident() and threads["b"] != threading.get_ident()


# ---- streams -----------------------------------------------------------------------------
def letters(chunks: Iterator[str]) -> Iterator[str]:
    for chunk in chunks:
        yield from chunk


def test_stream_yields_one_key_per_chunk() -> None:
    par = RunnableParallel(chars=letters, same=RunnablePassthrough())
    chunks = list(par.stream("abc"))
    assert sorted(map(tuple, (c.items() for c in chunks))) == sorted(
        [(("chars", "a"),), (("chars", "b"),), (("chars", "c"),), (("same", "abc"),)]
    )
    assert [c["chars"] for c in chunks if "chars" in c] == ["a", "b", "c"]


async def test_astream_yields_one_key_per_chunk() -> None:
    par = RunnableParallel(chars=letters, same=RunnablePassthrough())
    chunks = [c async for c in par.astream("abc")]
    assert [c["chars"] for c in chunks if "chars" in c] == ["a", "b", "c"]
    assert [c["same"] for c in chunks if "same" in c] == ["abc"]


def test_stream_buffers_the_input_stream() -> None:
    par = RunnableParallel(same=RunnablePassthrough(), n=len)
    assert not par.streams_input
    out = {}
    for chunk in par.transform(iter(["ab", "c"])):
        out = {**out, **chunk}
    assert out == {"same": "abc", "n": 3}


# ---- errors ------------------------------------------------------------------------------
def fails(x: Any) -> Any:
    raise LookupError("no such thing")


@pytest.mark.parametrize("method", ["invoke", "stream"])
def test_branch_error_keeps_type_and_names_the_branch(method: str) -> None:
    par = RunnableParallel(ok=lambda x: x, bad=fails, also=lambda x: x)
    with pytest.raises(LookupError, match="no such thing") as info:
        out = getattr(par, method)(1)
        if method == "stream":
            list(out)
    assert chain_path(info.value) == "RunnableParallel › branch 'bad' › fails"


@pytest.mark.parametrize("method", ["ainvoke", "astream"])
async def test_branch_error_async(method: str) -> None:
    par = RunnableParallel(ok=lambda x: x, bad=fails)
    with pytest.raises(LookupError) as info:
        if method == "ainvoke":
            await par.ainvoke(1)
        else:
            [c async for c in par.astream(1)]
    assert chain_path(info.value) == "RunnableParallel › branch 'bad' › fails"


def test_error_inside_a_chain_reads_outermost_first() -> None:
    chain = RunnableLambda(lambda x: x) | {"bad": fails, "ok": lambda x: x}
    with pytest.raises(LookupError) as info:
        chain.invoke(1)
    assert chain_path(info.value) == (
        "RunnableSequence › step 2/2 › RunnableParallel › branch 'bad' › fails"
    )
