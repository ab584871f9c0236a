"""The public names of chainkit.runnables, exactly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import chainkit.runnables


def test_public_names() -> None:
    assert sorted(chainkit.runnables.__all__) == [
        "Runnable",
        "RunnableAssign",
        "RunnableBinding",
        "RunnableBranch",
        "RunnableConfig",
        "RunnableLambda",
        "RunnableParallel",
        "RunnablePassthrough",
        "RunnablePick",
        "RunnableRetry",
        "RunnableSequence",
        "RunnableWithFallbacks",
        "chain",
        "coerce_to_runnable",
        "run_coroutine_sync",
    ]
    for name in chainkit.runnables.__all__:
        assert getattr(chainkit.runnables, name) is not None


def test_import_does_not_load_pydantic_schemas() -> None:
    code = "import sys, chainkit.runnables; print('chainkit.runnables.schema' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert out.stdout.strip() == "False"
