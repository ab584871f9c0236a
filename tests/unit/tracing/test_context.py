"""The run tree: run records, parent links across threads and tasks, listeners, quiet calls."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any
from uuid import UUID

import pytest

from chainkit.runnables import RunnableLambda, RunnableParallel
from chainkit.tracing import context as ctx
from chainkit.tracing.context import Run, add_global_listener, remove_global_listener, uuid7


def _three_steps() -> Any:
    return RunnableLambda(lambda x: x + 1) | RunnableLambda(lambda x: x * 2) | (lambda x: x - 3)


# ---- quiet calls allocate nothing -------------------------------------------------------
@pytest.fixture
def run_count(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    count = [0]
    original = Run.__init__

    def counting(self: Run, *args: Any, **kwargs: Any) -> None:
        count[0] += 1
        original(self, *args, **kwargs)

    monkeypatch.setattr(Run, "__init__", counting)
    return count


def test_a_quiet_call_creates_no_run(run_count: list[int]) -> None:
    chain = _three_steps()
    assert chain.invoke(1) == 1
    assert list(chain.stream(1)) == [1]
    assert chain.batch([1, 2]) == [1, 3]
    assert run_count[0] == 0


async def test_a_quiet_async_call_creates_no_run(run_count: list[int]) -> None:
    chain = _three_steps()
    assert await chain.ainvoke(1) == 1
    assert [c async for c in chain.astream(1)] == [1]
    assert await chain.abatch([1, 2]) == [1, 3]
    assert run_count[0] == 0


def test_an_observed_call_creates_one_run_per_step(run_count: list[int], recorder: Any) -> None:
    _three_steps().invoke(1, {"callbacks": [recorder]})
    assert run_count[0] == 4


# ---- the run record ----------------------------------------------------------------------
def test_run_records_name_type_io_tags_and_links(recorder: Any) -> None:
    chain = _three_steps()
    out = chain.invoke(1, {"callbacks": [recorder], "tags": ["t"], "metadata": {"k": 1}})
    assert out == 1
    root, *steps = recorder.runs
    assert (root.name, root.run_type) == ("RunnableSequence", "chain")
    assert (root.inputs, root.outputs) == (1, 1)
    assert root.parent_run_id is None and root.trace_id == root.id
    assert [s.tags for s in steps] == [["t", f"seq:step:{i}"] for i in (1, 2, 3)]
    assert [(s.inputs, s.outputs) for s in steps] == [(1, 2), (2, 4), (4, 1)]
    for step in steps:
        assert step.parent_run_id == root.id and step.trace_id == root.id
        assert step.metadata == {"k": 1}
        assert step.start_time <= step.end_time
        assert step.parent_ids == [str(root.id)]
    assert [e for e, _ in recorder.events] == ["start", "start", "end", "start", "end",
                                                "start", "end", "end"]


def test_run_name_and_run_id_name_the_root_only(recorder: Any) -> None:
    rid = uuid7()
    _three_steps().invoke(1, {"callbacks": [recorder], "run_name": "mine", "run_id": rid})
    assert recorder.runs[0].name == "mine" and recorder.runs[0].id == rid
    assert [r.name for r in recorder.runs[1:]] == ["RunnableLambda"] * 3
    assert all(r.id != rid for r in recorder.runs[1:])


def test_a_failing_run_records_its_error(recorder: Any) -> None:
    def boom(x: int) -> int:
        raise KeyError("nope")

    chain = RunnableLambda(lambda x: x) | boom
    with pytest.raises(KeyError):
        chain.invoke(1, {"callbacks": [recorder]})
    failed = recorder.by_name("boom")
    assert isinstance(failed.error, KeyError) and failed.outputs is None
    assert isinstance(recorder.runs[0].error, KeyError)


def test_model_runs_record_invocation_params_usage_and_provider(
    recorder: Any, model_factory: Any
) -> None:
    model = model_factory()
    model.invoke("hi there", {"callbacks": [recorder]}, stop=["x"])
    run = recorder.runs[0]
    assert run.run_type == "chat_model"
    assert run.extra["invocation_params"]["stop"] == ["x"]
    assert run.provider == run.extra["invocation_params"]["_type"]
    assert run.usage == {"input_tokens": 2, "output_tokens": 2, "total_tokens": 4}


def test_uuid7_is_time_ordered_and_version_7() -> None:
    ids = [uuid7() for _ in range(2000)]
    assert ids == sorted(ids, key=lambda u: u.int)
    assert len(set(ids)) == len(ids)
    assert all(isinstance(u, UUID) and u.version == 7 for u in ids)


def test_a_runs_id_is_made_lazily_and_is_the_same_from_every_thread() -> None:
    run = ctx.start_run(None, name="x", run_type="chain", inputs=1, config=None)
    seen: list[UUID] = []
    threads = [threading.Thread(target=lambda: seen.append(run.id)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(seen)) == 1 and seen[0] == run.id and run.id.version == 7
    # The id carries the run's start time (ms), like uuid7().
    assert run.id.int >> 80 == run.start_ns // 1_000_000


def test_lazy_run_ids_stay_unique_and_ordered() -> None:
    runs = [ctx.start_run(None, name="x", run_type="chain", inputs=i, config=None)
            for i in range(2000)]
    ids = [r.id for r in reversed(runs)][::-1]  # read in the reverse order of creation
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids, key=lambda u: u.int)


def test_run_times_are_utc_datetimes_from_the_ns_clock(recorder: Any) -> None:
    before = time.time_ns()
    _three_steps().invoke(1, {"callbacks": [recorder]})
    root = recorder.runs[0]
    assert before <= root.start_ns <= root.end_ns
    assert root.start_time.tzinfo is not None
    assert root.start_time.timestamp() == pytest.approx(root.start_ns / 1e9, abs=1e-5)
    assert root.serialized == {"name": "RunnableSequence"}


def test_a_tracer_binds_only_the_methods_a_listener_has() -> None:
    class EndsOnly:
        def __init__(self) -> None:
            self.ended: list[str] = []

        def on_run_end(self, run: Run) -> None:
            self.ended.append(run.name)

    listener, bare = EndsOnly(), object()
    tracer = ctx.Tracer([listener, bare])
    run = Run("r", "chain", None, tracer)
    tracer.start(run)
    tracer.stream(run, 1)
    tracer.end(run)
    assert listener.ended == ["r"]
    tracer.remove(listener)
    tracer.remove(listener)  # twice: no error
    tracer.end(run)
    assert listener.ended == ["r"] and tracer.listeners == (bare,)
    tracer.add(listener)
    tracer.end(run)
    assert listener.ended == ["r", "r"]


# ---- parent links survive threads and tasks -----------------------------------------------
def _record_threads() -> tuple[Any, dict[str, int]]:
    seen: dict[str, int] = {}

    def where(name: str) -> Any:
        def step(x: int) -> int:
            seen[name] = threading.get_ident()
            time.sleep(0.02)  # overlap, so the pool really uses several threads
            return x

        return RunnableLambda(step, name=name)

    return where, seen


def test_parallel_branches_in_threads_keep_their_parent(recorder: Any) -> None:
    where, seen = _record_threads()
    par = RunnableParallel(a=where("a"), b=where("b") | where("b2"), c=where("c"))
    assert par.invoke(1, {"callbacks": [recorder]}) == {"a": 1, "b": 1, "c": 1}
    assert len(set(seen.values())) > 1  # really ran in several threads
    assert threading.get_ident() not in seen.values()
    root = recorder.runs[0]
    for name in ("a", "c"):
        assert recorder.by_name(name).parent_run_id == root.id
        assert recorder.by_name(name).tags == [f"map:key:{name}"]
    seq = next(r for r in recorder.runs if r.name == "RunnableSequence")
    assert seq.parent_run_id == root.id
    assert recorder.by_name("b").parent_run_id == seq.id
    assert recorder.by_name("b2").parent_run_id == seq.id


def test_batch_threads_make_separate_trees(recorder: Any) -> None:
    chain = _three_steps()
    assert chain.batch([1, 2, 3], {"callbacks": [recorder]}) == [1, 3, 5]
    roots = [r for r in recorder.runs if r.parent is None]
    assert len(roots) == 3
    for root in roots:
        children = [r for r in recorder.runs if r.parent_run_id == root.id]
        assert len(children) == 3 and all(c.trace_id == root.id for c in children)


async def test_async_tasks_keep_their_parent(recorder: Any) -> None:
    async def slow(x: int) -> int:
        await asyncio.sleep(0.01)
        return x

    par = RunnableParallel(a=RunnableLambda(slow, name="a"), b=RunnableLambda(slow, name="b"))
    outs = await par.abatch([1, 2], {"callbacks": [recorder]})
    assert outs == [{"a": 1, "b": 1}, {"a": 2, "b": 2}]
    roots = [r for r in recorder.runs if r.parent is None]
    assert len(roots) == 2
    for root in roots:
        kids = sorted(r.name for r in recorder.runs if r.parent_run_id == root.id)
        assert kids == ["a", "b"]


async def test_sync_lambda_in_a_worker_thread_keeps_its_parent(recorder: Any) -> None:
    inner = RunnableLambda(lambda x: x + 1, name="inner")

    def outer(x: int, config: Any) -> int:
        return inner.invoke(x, config)

    assert await RunnableLambda(outer).ainvoke(1, {"callbacks": [recorder]}) == 2
    assert recorder.by_name("inner").parent_run_id == recorder.by_name("outer").id


# ---- listeners --------------------------------------------------------------------------
class Boom:
    def __init__(self) -> None:
        self.calls = 0

    def on_run_start(self, run: Any) -> None:
        self.calls += 1
        raise RuntimeError("listener bug")


def test_a_raising_listener_is_logged_and_detached(
    recorder: Any, caplog: pytest.LogCaptureFixture
) -> None:
    boom = Boom()
    with caplog.at_level(logging.ERROR, logger="chainkit.tracing"):
        out = _three_steps().invoke(1, {"callbacks": [boom, recorder]})
    assert out == 1
    assert boom.calls == 1  # detached after its first failure
    assert len(recorder.runs) == 4  # the other listener saw everything
    assert "listener bug" in caplog.text and "detaching" in caplog.text


async def test_a_raising_listener_does_not_change_an_async_result(recorder: Any) -> None:
    out = [c async for c in _three_steps().astream(1, {"callbacks": [Boom(), recorder]})]
    assert out == [1]
    assert len(recorder.runs) == 4


def test_global_listeners_see_every_root(recorder: Any) -> None:
    add_global_listener(recorder)
    try:
        _three_steps().invoke(1)
        assert len(recorder.runs) == 4
    finally:
        remove_global_listener(recorder)
    _three_steps().invoke(1)
    assert len(recorder.runs) == 4
    assert ctx.global_listeners == ()


def test_the_current_run_is_set_only_inside_the_call(recorder: Any) -> None:
    seen = []

    def look(x: int) -> int:
        seen.append(ctx.current_run.get())
        return x

    RunnableLambda(look).invoke(1, {"callbacks": [recorder]})
    list(RunnableLambda(look).stream(1, {"callbacks": [recorder]}))
    assert seen == [recorder.runs[0], recorder.runs[1]]
    assert ctx.current_run.get() is None
    RunnableLambda(look).invoke(1)
    assert seen[-1] is None  # quiet: no run at all


def test_stream_starts_its_run_when_iterated(recorder: Any) -> None:
    it = _three_steps().stream(1, {"callbacks": [recorder]})
    assert recorder.runs == []
    assert list(it) == [1]
    assert len(recorder.runs) == 4


def test_a_listener_class_is_not_kept_alive_by_the_tracer() -> None:
    import gc
    import weakref

    def traced_once() -> weakref.ref[Any]:
        seen: list[Run] = []

        class Local:
            def on_run_end(self, run: Run) -> None:
                seen.append(run)

        _three_steps().invoke(1, {"callbacks": [Local()]})
        assert len(seen) == 4
        return weakref.ref(Local)

    ref = traced_once()
    gc.collect()
    assert ref() is None  # nor, through its closure, the runs it recorded
