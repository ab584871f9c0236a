"""The benchmark suite's quick mode, in CI: every scenario runs and checks its outputs.

No timing is asserted here (timings belong in benchmarks/RESULTS.md, from a full run on a quiet
machine); each scenario asserts that chainkit and langchain-core produced the right outputs
before it reports a number, so a scenario that breaks fails this test.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration


def test_every_scenario_runs_in_quick_mode() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "missing, skipped" not in proc.stdout, out[-4000:]
    for row in ("import of prompts", "invoke: prompt | fake model", "ainvoke: same chain",
                "stream per chunk", "astream per chunk", "astream_log per chunk",
                "astream_events per chunk", "peak RSS"):
        assert row in proc.stdout, f"no {row!r} row in:\n{proc.stdout[-3000:]}"
    # Both libraries ran side by side (langchain-core comes with the dev extra).
    table = proc.stdout[proc.stdout.index("| scenario |"):]
    assert "n/a" not in table.split("\n")[2], table


def test_run_py_rejects_an_unknown_script() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--only", "nope.py"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0 and "nope.py: missing, skipped" in proc.stdout
