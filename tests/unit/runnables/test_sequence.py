"""RunnableSequence: ``a | b | c`` on every path, coercion, streaming pass-through, error paths."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from chainkit.runnables import (
    RunnableLambda,
    RunnableParallel,
    RunnablePassthrough,
    RunnableSequence,
)
from chainkit.runnables._errors import chain_path


def add_one(x: int) -> int:
    return x + 1


def double(x: int) -> int:
    return x * 2


def boom(x: Any) -> Any:
    raise ValueError(f"bad value {x}")


# ---- composition ---------------------------------------------------------------------------
def test_two_and_three_steps_on_every_path(every_path: Any) -> None:
    every_path(RunnableLambda(add_one) | double, 3, 8)
    every_path(RunnableLambda(add_one) | double | str, 3, "8")


def test_nested_sequences_on_every_path(every_path: Any) -> None:
    inner = RunnableSequence(RunnableLambda(add_one), RunnableLambda(double), name="inner")
    outer = RunnableLambda(add_one) | inner | (lambda x: x - 1)
    assert len(outer.steps) == 3 and outer.steps[1] is inner
    every_path(outer, 1, 5)


def test_unnamed_sequences_flatten() -> None:
    a, b, c, d = (RunnableLambda(add_one) for _ in range(4))
    chain = (a | b) | (c | d)
    assert chain.steps == (a, b, c, d)
    assert chain.first is a and chain.last is d and chain.middle == (b, c)
    assert chain.invoke(0) == 4


def test_pipe_is_or() -> None:
    chain = RunnableLambda(add_one).pipe(double, str)
    assert isinstance(chain, RunnableSequence)
    assert chain.invoke(1) == "4"


def test_or_coerces_callables_and_dicts_on_either_side() -> None:
    left = (lambda x: x + 1) | RunnableLambda(double)
    assert isinstance(left, RunnableSequence) and left.invoke(1) == 4
    fan = RunnableLambda(add_one) | {"double": double, "same": RunnablePassthrough()}
    assert isinstance(fan.last, RunnableParallel)
    assert fan.invoke(1) == {"double": 4, "same": 2}
    reverse = {"n": add_one} | RunnableLambda(lambda d: d["n"] * 10)
    assert reverse.invoke(1) == 20


@pytest.mark.parametrize("bad", [3, "text", None, [1, 2]])
def test_or_with_a_non_runnable_raises_type_error(bad: Any) -> None:
    with pytest.raises(TypeError, match="expected a Runnable, a callable, or a dict") as info:
        RunnableLambda(add_one) | bad
    assert type(bad).__name__ in str(info.value)
    with pytest.raises(TypeError, match=type(bad).__name__):
        bad | RunnableLambda(add_one)


def test_construction_errors() -> None:
    with pytest.raises(ValueError, match="at least 2 steps, got 1"):
        RunnableSequence(RunnableLambda(add_one))
    with pytest.raises(TypeError, match="step 2 is int, not a Runnable"):
        RunnableSequence(RunnableLambda(add_one), 3)  # type: ignore[arg-type]


def test_invoke_kwargs_go_to_the_first_step_only() -> None:
    seen: list[Any] = []

    def first(x: int, scale: int = 1) -> int:
        seen.append(scale)
        return x * scale

    chain = RunnableLambda(first) | add_one
    assert chain.invoke(2, scale=10) == 21
    assert asyncio.run(chain.ainvoke(2, scale=10)) == 21
    assert list(chain.stream(2, scale=10)) == [21]
    assert seen == [10, 10, 10]


def test_repr_lists_the_steps() -> None:
    expected = "RunnableLambda(add_one)\n| RunnableLambda(double)"
    assert repr(RunnableLambda(add_one) | double) == expected


# ---- streaming ---------------------------------------------------------------------------
def _gated_producer(gate: threading.Event, saw_gate: list[bool]) -> Any:
    def produce(chunks: Iterator[str]) -> Iterator[str]:
        for _ in chunks:
            pass
        yield "a"
        # The consumer opens the gate when it receives the first chunk; if the chain buffered,
        # nothing reaches the consumer until this generator ends, and the wait times out.
        saw_gate.append(gate.wait(timeout=2))
        yield "b"

    return produce


def shout(chunks: Iterator[str]) -> Iterator[str]:
    for c in chunks:
        yield c.upper()


def test_stream_passes_through_generator_steps_incrementally() -> None:
    gate, saw_gate = threading.Event(), []
    chain = RunnableLambda(_gated_producer(gate, saw_gate)) | shout | shout
    out = []
    for chunk in chain.stream("go"):
        out.append(chunk)
        gate.set()
    assert out == ["A", "B"]
    assert saw_gate == [True]


async def test_astream_passes_through_sync_generator_steps_incrementally() -> None:
    gate, saw_gate = threading.Event(), []
    chain = RunnableLambda(_gated_producer(gate, saw_gate)) | shout | shout
    out = []
    async for chunk in chain.astream("go"):
        out.append(chunk)
        gate.set()
    assert out == ["A", "B"]
    assert saw_gate == [True]


async def test_astream_passes_through_async_generator_steps_incrementally() -> None:
    gate, saw_gate = asyncio.Event(), []

    async def produce(chunks: AsyncIterator[str]) -> AsyncIterator[str]:
        async for _ in chunks:
            pass
        yield "a"
        try:
            await asyncio.wait_for(gate.wait(), 2)
            saw_gate.append(True)
        except asyncio.TimeoutError:
            saw_gate.append(False)
        yield "b"

    async def ashout(chunks: AsyncIterator[str]) -> AsyncIterator[str]:
        async for c in chunks:
            yield c.upper()

    out = []
    async for chunk in (RunnableLambda(produce) | ashout).astream("go"):
        out.append(chunk)
        gate.set()
    assert out == ["A", "B"] and saw_gate == [True]


def test_transform_streams_input_chunks_through() -> None:
    chain = RunnableLambda(shout) | shout
    assert list(chain.transform(iter(["a", "b", "c"]))) == ["A", "B", "C"]
    assert chain.streams_input


def test_plain_function_buffers_only_its_own_step() -> None:
    received: list[str] = []

    def letters(chunks: Iterator[str]) -> Iterator[str]:
        for _ in chunks:
            pass
        yield from "abc"

    def upper(text: str) -> str:
        received.append(text)
        return text.upper()

    def split(chunks: Iterator[str]) -> Iterator[str]:
        for chunk in chunks:
            yield from chunk

    chain = RunnableLambda(letters) | upper | split
    assert list(chain.stream(None)) == ["A", "B", "C"]
    assert received == ["abc"]  # the plain step saw the whole input, once
    assert not (RunnableLambda(upper) | split).streams_input


async def test_plain_function_buffers_only_its_own_step_async() -> None:
    def letters(chunks: Iterator[str]) -> Iterator[str]:
        for _ in chunks:
            pass
        yield from "abc"

    def split(chunks: Iterator[str]) -> Iterator[str]:
        for chunk in chunks:
            yield from chunk

    chain = RunnableLambda(letters) | str.upper | split
    assert [c async for c in chain.astream(None)] == ["A", "B", "C"]


def test_stream_does_no_work_until_iterated() -> None:
    calls: list[int] = []
    chain = RunnableLambda(lambda x: calls.append(x) or x) | add_one
    it = chain.stream(1)
    assert calls == []
    assert list(it) == [2] and calls == [1]


# ---- errors ------------------------------------------------------------------------------
def _paths(chain: Any, x: Any) -> list[Any]:
    async def ainvoke() -> Any:
        return await chain.ainvoke(x)

    async def astream() -> Any:
        return [c async for c in chain.astream(x)]

    return [
        lambda: chain.invoke(x),
        lambda: list(chain.stream(x)),
        lambda: chain.batch([x, x]),
        lambda: asyncio.run(ainvoke()),
        lambda: asyncio.run(astream()),
    ]


@pytest.mark.parametrize("path", range(5))
def test_error_keeps_its_type_and_names_the_step(path: int) -> None:
    chain = RunnableLambda(add_one) | boom | double
    with pytest.raises(ValueError, match="bad value 2") as info:
        _paths(chain, 1)[path]()
    assert chain_path(info.value) == "RunnableSequence › step 2/3 › boom"
    assert "chain path: RunnableSequence › step 2/3 › boom" in info.value.__notes__


@pytest.mark.parametrize("path", range(5))
def test_nested_error_path_reads_outermost_first(path: int) -> None:
    inner = RunnableSequence(RunnableLambda(add_one), RunnableLambda(boom), name="inner")
    outer = RunnableSequence(RunnableLambda(add_one), inner, RunnableLambda(double), name="qa")
    with pytest.raises(ValueError) as info:
        _paths(outer, 1)[path]()
    notes = [n for n in info.value.__notes__ if n.startswith("chain path: ")]
    assert notes == ["chain path: qa › step 2/3 › inner › step 2/2 › boom"]


def test_error_in_first_generator_step_is_annotated() -> None:
    def bad_gen(chunks: Iterator[Any]) -> Iterator[Any]:
        yield "a"
        raise KeyError("missing")

    chain = RunnableLambda(bad_gen) | shout
    seen = []
    with pytest.raises(KeyError) as info:
        for chunk in chain.stream(None):
            seen.append(chunk)
    assert seen == ["A"]
    assert chain_path(info.value) == "RunnableSequence › step 1/2 › bad_gen"


async def test_consecutive_sync_steps_share_one_thread_hop_on_the_async_path() -> None:
    threads: list[int] = []

    def record(x: Any) -> Any:
        threads.append(threading.get_ident())
        return x

    async def on_loop(x: Any) -> Any:
        threads.append(threading.get_ident())
        return x

    chain = RunnableLambda(record) | record | on_loop | record
    assert await chain.ainvoke(1) == 1
    loop_thread = threading.get_ident()
    assert threads[0] == threads[1] != loop_thread
    assert threads[2] == loop_thread and threads[3] != loop_thread


# ---- stopping a stream early closes every step at once --------------------------------------
def _wrappers() -> dict[str, Any]:
    from chainkit.runnables import RunnableBranch

    return {
        "sequence": lambda r: RunnablePassthrough() | r | RunnablePassthrough(),
        "retry": lambda r: r.with_retry(),
        "fallbacks": lambda r: r.with_fallbacks([RunnableLambda(str)]),
        "branch": lambda r: RunnableBranch((lambda x: True, r), str),
        "binding": lambda r: r.bind(),
        "parallel": lambda r: RunnableParallel(x=r),
        "assign": lambda r: RunnablePassthrough.assign(x=r),
    }


def _endless(closed: threading.Event) -> RunnableLambda[Any, Any]:
    def endless(chunks: Iterator[Any]) -> Iterator[int]:
        try:
            n = 0
            while True:
                n += 1
                yield n
        finally:
            closed.set()

    return RunnableLambda(endless)


@pytest.mark.parametrize("wrapper", list(_wrappers()))
def test_stopping_a_stream_closes_the_inner_generator(wrapper: str) -> None:
    closed = threading.Event()
    it = _wrappers()[wrapper](_endless(closed)).stream({})
    next(it)
    it.close()  # type: ignore[attr-defined]
    assert closed.wait(timeout=2)


@pytest.mark.parametrize("wrapper", list(_wrappers()))
async def test_stopping_an_astream_closes_the_inner_generator(wrapper: str) -> None:
    closed = threading.Event()
    it = _wrappers()[wrapper](_endless(closed)).astream({})
    await it.__anext__()
    await it.aclose()  # type: ignore[attr-defined]
    assert closed.is_set()
