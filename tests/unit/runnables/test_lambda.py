"""RunnableLambda and @chain: every kind of function, on every path, sync and async."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from chainkit.runnables import Runnable, RunnableConfig, RunnableLambda, chain


def add_one(x: int) -> int:
    return x + 1


async def aadd_one(x: int) -> int:
    await asyncio.sleep(0)
    return x + 1


def count_up(chunks: Iterator[int]) -> Iterator[int]:
    for n in chunks:
        yield from range(n)


async def acount_up(chunks: AsyncIterator[int]) -> AsyncIterator[int]:
    async for n in chunks:
        for i in range(n):
            yield i


@pytest.mark.parametrize("func", [add_one, aadd_one, lambda x: x + 1])
def test_functions_on_every_path(every_path: Any, func: Any) -> None:
    every_path(RunnableLambda(func), 1, 2)


@pytest.mark.parametrize("func", [count_up, acount_up])
def test_generators_on_every_path(every_path: Any, func: Any) -> None:
    # invoke adds the chunks up: 0 + 1 + 2 + 3
    every_path(RunnableLambda(func), 4, 6)


def test_generators_stream_their_chunks() -> None:
    assert list(RunnableLambda(count_up).stream(3)) == [0, 1, 2]
    assert asyncio.run(_collect(RunnableLambda(count_up).astream(3))) == [0, 1, 2]
    assert asyncio.run(_collect(RunnableLambda(acount_up).astream(3))) == [0, 1, 2]


async def _collect(it: AsyncIterator[Any]) -> list[Any]:
    return [x async for x in it]


def test_afunc_is_used_on_the_async_path() -> None:
    async def afunc(x: int) -> str:
        return f"async {x}"

    r = RunnableLambda(lambda x: f"sync {x}", afunc=afunc)
    assert r.invoke(1) == "sync 1"
    assert asyncio.run(r.ainvoke(1)) == "async 1"
    assert asyncio.run(r.abatch([1, 2])) == ["async 1", "async 2"]


def test_config_is_passed_to_functions_that_take_it() -> None:
    def tagged(x: int, config: RunnableConfig) -> Any:
        return (x, config.get("tags"))

    async def atagged(x: int, config: RunnableConfig) -> Any:
        return (x, config.get("tags"))

    cfg: RunnableConfig = {"tags": ["t"]}
    assert RunnableLambda(tagged).invoke(1, cfg) == (1, ["t"])
    assert RunnableLambda(tagged).invoke(1) == (1, None)
    assert asyncio.run(RunnableLambda(atagged).ainvoke(1, cfg)) == (1, ["t"])
    assert RunnableLambda(atagged).invoke(1, cfg) == (1, ["t"])


def test_call_kwargs_reach_the_function() -> None:
    r = RunnableLambda(lambda x, scale=1: x * scale)
    assert r.invoke(2, scale=3) == 6
    assert asyncio.run(r.ainvoke(2, scale=3)) == 6
    assert r.bind(scale=5).invoke(2) == 10


def test_async_lambda_from_sync_invoke() -> None:
    chain_ = RunnableLambda(add_one) | aadd_one | add_one
    assert chain_.invoke(1) == 4
    assert chain_.batch([1, 2]) == [4, 5]
    assert list(chain_.stream(1)) == [4]


async def test_sync_invoke_inside_a_running_event_loop() -> None:
    # As in a notebook cell: a loop is running in this thread and the chain holds async steps.
    chain_ = RunnableLambda(add_one) | aadd_one | RunnableLambda(acount_up)
    assert chain_.invoke(2) == 0 + 1 + 2 + 3
    assert list(chain_.stream(2)) == [6]
    assert chain_.batch([1, 2]) == [3, 6]


async def test_sync_functions_run_off_the_event_loop() -> None:
    loop_thread = threading.get_ident()
    r = RunnableLambda(lambda _: threading.get_ident())
    assert await r.ainvoke(None) != loop_thread


async def test_async_functions_run_on_the_event_loop() -> None:
    async def where(_: Any) -> int:
        return threading.get_ident()

    assert await RunnableLambda(where).ainvoke(None) == threading.get_ident()


# ---- functions returning runnables ------------------------------------------------------
def test_returned_runnable_is_invoked_on_the_same_input() -> None:
    r = RunnableLambda(lambda x: RunnableLambda(add_one) if x > 0 else RunnableLambda(abs))
    assert r.invoke(2) == 3 and r.invoke(-2) == 2
    assert asyncio.run(r.ainvoke(2)) == 3


def _countdown(depth: int) -> Runnable[Any, Any]:
    """A runnable that returns a runnable ``depth`` times before returning a value."""

    def step(x: Any) -> Any:
        return "done" if depth == 0 else _countdown(depth - 1)

    return RunnableLambda(step, name=f"countdown{depth}")


def test_recursion_limit_for_lambdas_returning_runnables() -> None:
    assert _countdown(20).invoke(None) == "done"
    with pytest.raises(RecursionError, match=r"recursion limit reached.*recursion_limit"):
        _countdown(30).invoke(None)
    assert _countdown(30).invoke(None, {"recursion_limit": 40}) == "done"
    with pytest.raises(RecursionError):
        _countdown(5).invoke(None, {"recursion_limit": 3})


async def test_recursion_limit_async() -> None:
    assert await _countdown(20).ainvoke(None) == "done"
    with pytest.raises(RecursionError):
        await _countdown(30).ainvoke(None)


# ---- construction -----------------------------------------------------------------------
def test_non_callable_raises_type_error() -> None:
    with pytest.raises(TypeError, match="needs a callable, got int: 3"):
        RunnableLambda(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="afunc must be an async callable, got str"):
        RunnableLambda(add_one, afunc="nope")  # type: ignore[arg-type]


def test_async_func_with_afunc_is_ambiguous() -> None:
    with pytest.raises(TypeError, match="async func and also an afunc"):
        RunnableLambda(aadd_one, afunc=aadd_one)


def test_names_and_repr() -> None:
    assert RunnableLambda(add_one).get_name() == "add_one"
    assert RunnableLambda(lambda x: x).get_name() == "RunnableLambda"
    assert RunnableLambda(add_one, name="plus").get_name() == "plus"
    assert repr(RunnableLambda(add_one)) == "RunnableLambda(add_one)"


def test_input_and_output_types_come_from_annotations() -> None:
    assert RunnableLambda(add_one).InputType is int
    assert RunnableLambda(add_one).OutputType is int
    assert RunnableLambda(lambda x: x).InputType is Any
    assert RunnableLambda(aadd_one).OutputType is Any  # the annotation is not the output's


def test_async_callable_object_is_detected() -> None:
    class Caller:
        async def __call__(self, x: int) -> int:
            return x * 10

    r = RunnableLambda(Caller())
    assert r.invoke(2) == 20
    assert asyncio.run(r.ainvoke(2)) == 20


# ---- @chain ------------------------------------------------------------------------------
def test_chain_decorator_makes_a_named_lambda() -> None:
    @chain
    def shout(text: str) -> str:
        return text.upper() + "!"

    assert isinstance(shout, RunnableLambda)
    assert shout.get_name() == "shout"
    assert shout.invoke("hi") == "HI!"
    assert (shout | (lambda s: s * 2)).invoke("a") == "A!A!"


async def test_chain_decorator_on_async_and_generator_functions() -> None:
    @chain
    async def twice(x: int) -> int:
        return x * 2

    @chain
    def letters(chunks: Iterator[str]) -> Iterator[str]:
        for c in chunks:
            yield from c

    assert await twice.ainvoke(4) == 8
    assert [c async for c in letters.astream("ab")] == ["a", "b"]


# ---- sync generators on the async path ----------------------------------------------------
def _relay(chunks: Iterator[Any]) -> Iterator[Any]:
    yield from chunks


async def test_long_chains_of_sync_generators_stream_without_starving_threads() -> None:
    # More generator steps, and more concurrent streams, than the loop's default executor
    # has workers: each step blocks a thread while it waits for its input from the loop.
    chain_ = RunnableLambda(count_up)
    for _ in range(12):
        chain_ = chain_ | _relay

    async def consume() -> list[int]:
        return [c async for c in chain_.astream(3)]

    outs = await asyncio.wait_for(asyncio.gather(*(consume() for _ in range(4))), timeout=20)
    assert outs == [[0, 1, 2]] * 4


async def test_stopping_early_closes_the_sync_generator() -> None:
    closed = threading.Event()

    def endless(chunks: Iterator[Any]) -> Iterator[int]:
        try:
            n = 0
            while True:
                n += 1
                yield n
        finally:
            closed.set()

    it = RunnableLambda(endless).astream(None)
    assert await it.__anext__() == 1
    await it.aclose()  # type: ignore[attr-defined]
    assert closed.is_set()


async def test_sync_generator_errors_keep_their_type_on_the_async_path() -> None:
    def bad(chunks: Iterator[Any]) -> Iterator[int]:
        yield 1
        raise LookupError("gone")

    got: list[int] = []
    with pytest.raises(LookupError, match="gone"):
        async for c in (RunnableLambda(bad) | _relay).astream(None):
            got.append(c)
    assert got == [1]
