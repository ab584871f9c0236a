"""Composites under observation: each child is a run under its parent, tagged with its role."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from chainkit.runnables import (
    RunnableBranch,
    RunnableLambda,
    RunnableParallel,
    RunnablePassthrough,
    RunnableRetry,
)
from chainkit.tracing import context as ctx


class Recorder:
    """A listener: (name, parent name, tags) of every run, in end order."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.started = 0
        self.ended: list[tuple[str, str | None, tuple[str, ...]]] = []

    def on_run_start(self, run: Any) -> None:
        with self.lock:
            self.started += 1

    def on_run_end(self, run: Any) -> None:
        parent = run.parent.name if run.parent is not None else None
        with self.lock:
            self.ended.append((run.name, parent, tuple(run.tags)))

    def tags_of(self, name: str) -> list[tuple[str, ...]]:
        return [tags for n, _, tags in self.ended if n == name]


def lam(name: str, func: Any = lambda x: x) -> RunnableLambda[Any, Any]:
    return RunnableLambda(func, name=name)


def _run(r: Any, x: Any, method: str, rec: Recorder) -> Any:
    cfg = {"callbacks": [rec]}
    if method == "invoke":
        return r.invoke(x, cfg)
    if method == "stream":
        return list(r.stream(x, cfg))

    async def arun() -> Any:
        if method == "ainvoke":
            return await r.ainvoke(x, cfg)
        return [c async for c in r.astream(x, cfg)]

    return asyncio.run(arun())


METHODS = ["invoke", "ainvoke", "stream", "astream"]


@pytest.mark.parametrize("method", METHODS)
def test_sequence_steps_are_tagged(method: str) -> None:
    rec = Recorder()
    _run(lam("a") | lam("b") | lam("c"), 1, method, rec)
    assert sorted(rec.ended) == sorted([
        ("a", "RunnableSequence", ("seq:step:1",)),
        ("b", "RunnableSequence", ("seq:step:2",)),
        ("c", "RunnableSequence", ("seq:step:3",)),
        ("RunnableSequence", None, ()),
    ])


@pytest.mark.parametrize("method", METHODS)
def test_parallel_branches_are_tagged(method: str) -> None:
    rec = Recorder()
    _run(RunnableParallel(x=lam("a"), y=lam("b")), 1, method, rec)
    assert rec.tags_of("a") == [("map:key:x",)] and rec.tags_of("b") == [("map:key:y",)]
    assert ("RunnableParallel", None, ()) in rec.ended


@pytest.mark.parametrize("method", METHODS)
def test_branch_conditions_and_branch_are_tagged(method: str) -> None:
    rec = Recorder()
    branch = RunnableBranch(
        (lam("no", lambda x: False), lam("one")), (lam("yes", lambda x: True), lam("two")), lam("d")
    )
    _run(branch, 1, method, rec)
    assert rec.tags_of("no") == [("condition:1",)]
    assert rec.tags_of("yes") == [("condition:2",)]
    assert rec.tags_of("two") == [("branch:2",)]
    assert rec.tags_of("one") == [] and rec.tags_of("d") == []


@pytest.mark.parametrize("method", METHODS)
def test_retry_attempts_and_fallbacks_are_tagged(method: str) -> None:
    calls: list[int] = []

    def flaky(x: Any) -> Any:
        calls.append(1)
        if len(calls) < 2:
            raise ConnectionError("once")
        return x

    def down(x: Any) -> Any:
        raise ValueError("down")

    rec = Recorder()
    retry = RunnableRetry(lam("flaky", flaky), wait_initial=0.001, wait_max=0.001)
    _run(retry, 1, method, rec)
    # The retry run is named after what it retries (as in LangChain); attempts are its children.
    attempts = [tags for name, parent, tags in rec.ended if parent == "flaky"]
    assert attempts == [(), ("retry:attempt:2",)]
    assert ("flaky", None, ()) in rec.ended

    rec = Recorder()
    _run(lam("down", down).with_fallbacks([lam("backup")]), 1, method, rec)
    assert rec.tags_of("down") == [()] and rec.tags_of("backup") == [("fallback:1",)]
    assert ("backup", "downWithFallbacks", ("fallback:1",)) in rec.ended


@pytest.mark.parametrize("method", METHODS)
def test_assign_mapper_is_a_child_run(method: str) -> None:
    rec = Recorder()
    out = _run(RunnablePassthrough.assign(n=lam("count", len)), {"a": 1}, method, rec)
    assert rec.tags_of("count") == [("map:key:n",)]
    assert ("RunnableParallel", "RunnableAssign<n>", ()) in rec.ended
    if method in ("invoke", "ainvoke"):
        assert out == {"a": 1, "n": 1}


def test_error_ends_every_run_with_the_error() -> None:
    errors: list[tuple[str, str]] = []

    class ErrorRecorder:
        def on_run_end(self, run: Any) -> None:
            if run.error is not None:
                errors.append((run.name, type(run.error).__name__))

    def boom(x: Any) -> Any:
        raise KeyError(x)

    with pytest.raises(KeyError):
        (lam("a") | lam("boom", boom)).invoke(1, {"callbacks": [ErrorRecorder()]})
    assert errors == [("boom", "KeyError"), ("RunnableSequence", "KeyError")]


def test_quiet_calls_allocate_no_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_runs(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a run was started on the quiet path")

    monkeypatch.setattr(ctx, "start_run", no_runs)
    from chainkit.runnables import _observed

    monkeypatch.setattr(_observed, "start_run", no_runs)

    def letters(chunks: Iterator[str]) -> Iterator[str]:
        for c in chunks:
            yield from c

    chain = (
        lam("a")
        | {"x": lam("b"), "y": RunnablePassthrough()}
        | RunnablePassthrough.assign(z=lambda d: d["x"])
        | RunnableBranch((lambda d: True, lambda d: d["z"]), str)
        | RunnableRetry(lam("r"))
        | lam("f").with_fallbacks([lam("g")])
        | letters
    )
    assert chain.invoke("hi") == "hi"
    assert list(chain.stream("hi")) == ["h", "i"]
    assert asyncio.run(chain.ainvoke("hi")) == "hi"
