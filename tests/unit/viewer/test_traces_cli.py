"""``chainkit traces``, ``chainkit traces show <id>`` and ``chainkit ui``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from chainkit.cli import COMMANDS, main
from chainkit.tracing.client import Client

ROOT = Path(__file__).resolve().parents[3]


def test_traces_lists_recent_traces(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["traces", "--db", str(db)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["TIME", "NAME", "STATUS", "LATENCY", "TOKENS", "COST",
                                "PROJECT", "ID"]
    assert [line.split()[2] for line in lines[1:]] == ["divide", "RunnableSequence"]
    assert "4+2=6" in lines[2] and "error" in lines[1]


def test_traces_filters_and_json(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["traces", "--db", str(db), "--error"]) == 0
    assert [line.split()[2] for line in capsys.readouterr().out.splitlines()[1:]] == ["divide"]
    assert main(["traces", "--db", str(db), "--ok", "--json", "--limit", "5"]) == 0
    [row] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert row["name"] == "RunnableSequence" and row["total_tokens"] == 6
    assert main(["traces", "--db", str(db), "--project", "other"]) == 0
    assert capsys.readouterr().out.startswith("no traces in ")
    assert main(["traces", "--db", str(db), "--name", "divide", "--limit", "1"]) == 0
    assert "divide" in capsys.readouterr().out


def test_traces_show_prints_the_tree(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = Client(db).list_runs(name="RunnableSequence")[0]
    assert main(["traces", "show", root.id, "--db", str(db), "--io"]) == 0
    out = capsys.readouterr().out
    assert f"trace {root.trace_id}  project web" in out
    assert "overhead" in out and "runtime python" in out
    tree = [line for line in out.splitlines() if "[" in line and " +" in line]
    assert tree[0].startswith("RunnableSequence [chain]")
    assert tree[1].startswith("├─ ChatPromptTemplate [prompt]")
    assert "GenericFakeChatModel [chat_model]" in tree[2] and "model fake" in tree[2]
    assert tree[3].startswith("└─ StrOutputParser [parser]")
    assert '"hello world"' in out  # --io
    # a child's id, or a unique prefix of it, shows the same trace
    child = Client(db).list_runs(run_type="parser")[0]
    assert main(["traces", "show", child.id[:-4], "--db", str(db)]) == 0
    assert f"trace {root.trace_id}" in capsys.readouterr().out


def test_traces_show_errors(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["traces", "show", "zzzz-missing", "--db", str(db)]) == 1
    assert "no trace or run with id 'zzzz-missing'" in capsys.readouterr().err
    failed = Client(db).list_runs(error=True)[0]
    assert main(["traces", "show", failed.id, "--db", str(db)]) == 0
    assert "! ZeroDivisionError: division by zero" in capsys.readouterr().out
    assert main(["traces", "--limit", "0"]) == 2
    assert "expected a positive integer, got 0" in capsys.readouterr().err


def test_commands_are_listed() -> None:
    assert {"traces", "ui"} <= set(COMMANDS)


def test_ui_serves_the_viewer(db: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "chainkit", "ui", "--db", str(db), "--port", "0"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("chainkit trace viewer on http://127.0.0.1:"), line
        url = line.split()[4]
        for _ in range(50):
            try:
                with urllib.request.urlopen(url + "api/traces", timeout=5) as res:
                    traces = json.loads(res.read())
                break
            except OSError:
                import time

                time.sleep(0.1)
        assert [t["name"] for t in traces] == ["divide", "RunnableSequence"]
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
