"""The trace store records every traced run, from threads and asyncio, without ever failing or
blocking the chain; the switches (enable, disable, tracing(), the env var) route runs."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import chainkit.tracing.context as ctx
from chainkit.runnables import RunnableLambda
from chainkit.tracing import _enable
from chainkit.tracing._enable import disable, enable, flush, tracing
from chainkit.tracing.client import Client
from chainkit.tracing.store.writer import TraceStore

ROOT = Path(__file__).resolve().parents[4]


def _count(db: Path, where: str = "1=1") -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(f"SELECT COUNT(*) FROM runs WHERE {where}").fetchone()[0])


def test_thousand_runs_from_sixteen_threads_none_lost(db_path: Path, chain_factory: Any) -> None:
    chain = chain_factory()
    store = enable("threads", db_path=db_path)
    per_thread, threads = 63, 16  # 1008 traces of 4 runs each

    def work(t: int) -> None:
        for i in range(per_thread):
            assert chain.invoke({"x": f"{t}-{i}"}) == "hello world"

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert store.flush()
    assert store.dropped == 0 and store.failed == 0
    assert _count(db_path, "parent_run_id IS NULL") == per_thread * threads
    assert _count(db_path) == per_thread * threads * 4
    # every child's trace has its root
    assert _count(db_path, "trace_id NOT IN (SELECT id FROM runs WHERE parent_run_id IS NULL)") == 0


async def test_thousand_runs_from_asyncio_none_lost(db_path: Path, chain_factory: Any) -> None:
    chain = chain_factory()
    store = enable("async", db_path=db_path)
    outs = await asyncio.gather(*(chain.ainvoke({"x": i}) for i in range(1000)))
    assert outs == ["hello world"] * 1000
    assert store.flush()
    assert _count(db_path, "parent_run_id IS NULL AND project = 'async'") == 1000
    assert _count(db_path) == 4000


def test_full_queue_drops_and_counts_never_blocks(db_path: Path) -> None:
    store = TraceStore(db_path, project="p", max_queue=5, flush_interval=60)
    step = RunnableLambda(lambda x: x + 1)
    try:
        t0 = time.perf_counter()
        for i in range(20):
            assert step.invoke(i, {"callbacks": [store]}) == i + 1
        assert time.perf_counter() - t0 < 2.0
        assert store.dropped == 15
        assert store.flush()
        assert _count(db_path) == 5 and store.written == 5
    finally:
        store.close()


def test_a_run_that_cannot_be_serialised_is_skipped_not_raised(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = TraceStore(db_path, project="p")
    try:
        run = ctx.start_run(None, name="bad", run_type="chain", inputs=1, config=None)
        run.extra = None  # type: ignore[assignment]
        store.on_run_start(run)
        store.on_run_end(run)  # the chain's side never raises
        good = RunnableLambda(lambda x: x)
        good.invoke(1, {"callbacks": [store]})
        assert store.flush()
        assert store.failed == 1 and _count(db_path) == 1
        assert "could not record run" in caplog.text
    finally:
        store.close()


def test_tracing_block_records_only_inside_and_flushes_on_exit(db_path: Path) -> None:
    step = RunnableLambda(lambda x: x * 2, name="double")
    step.invoke(1)
    with tracing(project="inside", db_path=db_path) as store:
        assert store is not None and ctx.global_listeners == (store,)
        step.invoke(2)
        with tracing(project="nested", db_path=db_path):
            step.invoke(3)
        with tracing(enabled=False):
            step.invoke(4)
    assert ctx.global_listeners == ()  # removed again: the quiet path is quiet
    step.invoke(5)
    runs = Client(db_path).list_runs()
    assert sorted((r.project, r.inputs) for r in runs) == [("inside", 2), ("nested", 3)]


async def test_tracing_block_async(db_path: Path) -> None:
    step = RunnableLambda(lambda x: x * 2, name="double")
    with tracing(project="aio", db_path=db_path):
        assert await step.ainvoke(21) == 42
    [run] = Client(db_path).list_runs()
    assert (run.project, run.name, run.outputs) == ("aio", "double", 42)


def test_enable_disable_and_project_from_env(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHAINKIT_PROJECT", "from-env")
    step = RunnableLambda(lambda x: x)
    store = enable(db_path=db_path)
    assert store.default_project == "from-env"
    step.invoke("a")
    assert flush()
    disable()
    assert ctx.global_listeners == () and _enable.get_store() is None
    step.invoke("b")
    assert [(r.project, r.inputs) for r in Client(db_path).list_runs()] == [("from-env", "a")]


def test_bad_project_and_switching_databases_inside_a_block(db_path: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="project must be a non-empty string"):
        enable("  ", db_path=db_path)
    with tracing(project="a", db_path=db_path), pytest.raises(ValueError, match=r"other\.db"):
        enable("b", db_path=tmp_path / "other.db")
    enable("c", db_path=tmp_path / "other.db")  # allowed once the block is over
    assert _enable.get_store() is not None
    assert _enable.get_store().path == tmp_path / "other.db"  # type: ignore[union-attr]
    # a block never moves the program's tracing elsewhere; enable() may
    with pytest.raises(ValueError, match=r"cannot write to .*traces\.db.*disable\(\) first"), \
            tracing(db_path=db_path):
        pass
    with tracing(project="same") as store:  # no path: the store in use
        assert store is _enable.get_store()
    enable("d", db_path=db_path)
    assert _enable.get_store().path == db_path  # type: ignore[union-attr]


def test_store_options_are_validated(db_path: Path) -> None:
    with pytest.raises(ValueError, match="max_queue must be a positive int, got 0"):
        TraceStore(db_path, max_queue=0)
    with pytest.raises(ValueError, match="flush_interval must be > 0"):
        TraceStore(db_path, flush_interval=0)


def _run_script(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **env}, timeout=60,
    )


def test_env_var_turns_tracing_on_and_exit_flushes(db_path: Path) -> None:
    code = """
        import sys
        import chainkit.tracing.context as ctx
        # nothing heavy is loaded until the first root run
        assert "chainkit.tracing.store.writer" not in sys.modules
        from chainkit.runnables import RunnableLambda
        step = RunnableLambda(lambda x: x + 1, name="inc")
        print(step.invoke(1), step.invoke(2))
        assert "chainkit.tracing.store.writer" in sys.modules
    """
    out = _run_script(code, {"CHAINKIT_TRACING": "true", "CHAINKIT_PROJECT": "envproj",
                             "CHAINKIT_TRACE_DB": str(db_path)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "2 3"
    runs = Client(db_path).list_runs()
    assert sorted((r.project, r.name, r.outputs) for r in runs) == [
        ("envproj", "inc", 2), ("envproj", "inc", 3)
    ]


def test_env_var_off_means_no_listener() -> None:
    out = _run_script(
        "import chainkit.tracing.context as c; print(len(c.global_listeners))",
        {"CHAINKIT_TRACING": "false"},
    )
    assert out.stdout.strip() == "0", out.stderr


def test_sigkill_mid_batch_keeps_every_flushed_run(db_path: Path) -> None:
    code = f"""
        import itertools
        from chainkit.tracing._enable import enable
        from chainkit.runnables import RunnableLambda
        store = enable("crash", db_path={str(db_path)!r}, flush_interval=0.005, batch_size=20)
        inner = RunnableLambda(lambda x: {{"v": x, "pad": "x" * 2000}}, name="inner")
        chain = RunnableLambda(lambda x: x, name="outer") | inner
        for i in range(300):
            chain.invoke(i)
        assert store.flush()
        print("flushed", flush=True)
        for i in itertools.count(300):  # keep the writer busy until killed
            chain.invoke(i)
    """
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip() == "flushed", proc.stderr.read() if proc.stderr else ""
        time.sleep(0.3)  # several batches in flight
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()
        proc.communicate()
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    client = Client(db_path)
    roots = client.list_runs(project="crash", is_root=True, limit=100_000)
    seen = {r.inputs for r in roots}
    assert set(range(300)) <= seen
    assert len(roots) > 300  # runs after the flush were being written when it died


def test_streamed_and_batched_runs_are_recorded(db_path: Path, chain_factory: Any) -> None:
    chain = chain_factory()
    with tracing(project="stream", db_path=db_path):
        assert "".join(chain.stream({"x": "s"})) == "hello world"
        assert chain.batch([{"x": 1}, {"x": 2}]) == ["hello world"] * 2

    async def astream() -> str:
        return "".join([c async for c in chain.astream({"x": "a"})])

    with tracing(project="stream", db_path=db_path):
        assert asyncio.run(astream()) == "hello world"
    client = Client(db_path)
    roots = client.list_runs(project="stream", is_root=True)
    assert len(roots) == 4 and {r.outputs for r in roots} == {"hello world"}
    assert all(r.total_tokens is not None and r.n_runs == 4 for r in roots)
    models = client.list_runs(project="stream", run_type="chat_model")
    assert {m.outputs["content"] for m in models} == {"hello world"}
