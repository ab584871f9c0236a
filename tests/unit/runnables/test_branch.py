"""RunnableBranch: conditions in order, the first true picks the branch, else the default."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from chainkit.runnables import RunnableBranch, RunnableLambda, RunnableSequence
from chainkit.runnables._errors import chain_path


def sign() -> RunnableBranch[int, str]:
    return RunnableBranch(
        (lambda x: x < 0, lambda x: "negative"),
        (lambda x: x == 0, lambda x: "zero"),
        lambda x: "positive",
    )


@pytest.mark.parametrize(("value", "expected"), [(-3, "negative"), (0, "zero"), (5, "positive")])
def test_branch_on_every_path(every_path: Any, value: int, expected: str) -> None:
    every_path(sign(), value, expected)


def test_conditions_run_in_order_and_stop_at_the_first_true() -> None:
    checked: list[str] = []

    def cond(name: str, result: bool) -> Any:
        def check(x: Any) -> bool:
            checked.append(name)
            return result

        return check

    branch = RunnableBranch(
        (cond("first", False), lambda x: 1),
        (cond("second", True), lambda x: 2),
        (cond("third", True), lambda x: 3),
        lambda x: 0,
    )
    assert branch.invoke(None) == 2
    assert checked == ["first", "second"]
    checked.clear()
    assert asyncio.run(branch.ainvoke(None)) == 2
    assert checked == ["first", "second"]


def test_conditions_and_branches_may_be_runnables_or_async() -> None:
    async def is_big(x: int) -> bool:
        return x > 100

    branch = RunnableBranch(
        (RunnableLambda(is_big), RunnableLambda(lambda x: "big")),
        (lambda x: x > 10, RunnableLambda(lambda x: "medium") | str.upper),
        {"small": lambda x: x},
    )
    assert branch.invoke(1000) == "big"
    assert asyncio.run(branch.ainvoke(50)) == "MEDIUM"
    assert branch.invoke(1) == {"small": 1}


def test_truthiness_decides() -> None:
    branch = RunnableBranch((lambda x: x.get("items"), lambda x: "has items"), lambda x: "empty")
    assert branch.invoke({"items": [1]}) == "has items"
    assert branch.invoke({"items": []}) == "empty"


def letters(chunks: Iterator[str]) -> Iterator[str]:
    for chunk in chunks:
        yield from chunk


def test_streams_the_chosen_branch() -> None:
    branch = RunnableBranch((lambda x: x.startswith("a"), letters), lambda x: "no")
    assert list(branch.stream("abc")) == ["a", "b", "c"]
    assert list(branch.stream("xyz")) == ["no"]
    assert list(branch.transform(iter(["a", "bc"]))) == ["a", "b", "c"]


async def test_astreams_the_chosen_branch() -> None:
    branch = RunnableBranch((lambda x: x.startswith("a"), letters), lambda x: "no")
    assert [c async for c in branch.astream("abc")] == ["a", "b", "c"]
    assert [c async for c in branch.astream("xyz")] == ["no"]


def test_branch_in_a_chain() -> None:
    chain = RunnableLambda(lambda x: x - 10) | sign() | str.upper
    assert isinstance(chain, RunnableSequence)
    assert chain.invoke(3) == "NEGATIVE"
    assert chain.batch([10, 20]) == ["ZERO", "POSITIVE"]


# ---- errors -------------------------------------------------------------------------------
def explode(x: Any) -> Any:
    raise ZeroDivisionError("nope")


@pytest.mark.parametrize("method", ["invoke", "ainvoke", "stream", "astream"])
def test_errors_name_the_branch_or_condition(method: str) -> None:
    async def run(r: Any) -> Any:
        if method == "ainvoke":
            return await r.ainvoke(1)
        return [c async for c in r.astream(1)]

    def call(r: Any) -> Any:
        if method == "invoke":
            return r.invoke(1)
        if method == "stream":
            return list(r.stream(1))
        return asyncio.run(run(r))

    in_branch = RunnableBranch((lambda x: False, lambda x: x), (lambda x: True, explode), str)
    with pytest.raises(ZeroDivisionError) as info:
        call(in_branch)
    assert chain_path(info.value) == "RunnableBranch › branch 2 › explode"

    in_condition = RunnableBranch((explode, str), str)
    with pytest.raises(ZeroDivisionError) as info:
        call(in_condition)
    assert chain_path(info.value) == "RunnableBranch › condition 1 › explode"

    in_default = RunnableBranch((lambda x: False, str), explode)
    with pytest.raises(ZeroDivisionError) as info:
        call(in_default)
    assert chain_path(info.value) == "RunnableBranch › default › explode"


def test_fewer_than_two_arguments() -> None:
    match = r"at least one \(condition, runnable\) pair and a default, got 0"
    with pytest.raises(ValueError, match=match):
        RunnableBranch()
    with pytest.raises(ValueError, match="got 1 argument"):
        RunnableBranch(str)


@pytest.mark.parametrize("pair", [(str,), (str, str, str), "ab", 3])
def test_non_pair_arguments(pair: Any) -> None:
    with pytest.raises(TypeError, match=r"argument 1 must be a \(condition, runnable\) pair, got"):
        RunnableBranch(pair, str)


def test_non_runnable_default() -> None:
    match = r"default \(the last argument\) must be a Runnable, a callable or a dict, got int: 3"
    with pytest.raises(TypeError, match=match):
        RunnableBranch((bool, str), 3)


def test_non_callable_condition_or_runnable() -> None:
    match = "argument 1: the condition must be a Runnable or a callable, got bool"
    with pytest.raises(TypeError, match=match):
        RunnableBranch((True, str), str)
    match = "argument 2: the runnable must be a Runnable or a callable, got str"
    with pytest.raises(TypeError, match=match):
        RunnableBranch((bool, str), (bool, "text"), str)


def test_repr() -> None:
    assert repr(RunnableBranch((bool, str), str)) == (
        "RunnableBranch(branches=[(RunnableLambda(bool), RunnableLambda(str))], "
        "default=RunnableLambda(str))"
    )
