"""The public names of `chainkit.tracing`, and that importing the run context stays cheap."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import chainkit.tracing

ROOT = Path(__file__).resolve().parents[3]

PUBLIC = [
    "AsyncCallbackHandler", "BaseCallbackHandler", "Run", "RunListener", "RunLog", "RunLogPatch",
    "Tracer", "add_global_listener", "adispatch_custom_event", "dispatch_custom_event",
    "remove_global_listener", "uuid7",
    "Client", "TraceStore", "disable", "enable", "flush", "tracing",
]


def test_public_names_are_exactly_these() -> None:
    assert sorted(chainkit.tracing.__all__) == sorted(PUBLIC)
    assert sorted(dir(chainkit.tracing)) == sorted(PUBLIC)
    for name in PUBLIC:
        assert getattr(chainkit.tracing, name) is not None


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match=r"chainkit\.tracing.*NoSuch"):
        chainkit.tracing.NoSuch  # noqa: B018


def test_importing_the_run_context_is_cheap() -> None:
    code = (
        "import sys, chainkit.tracing.context;"
        "heavy = [m for m in ('pydantic', 'chainkit.messages', 'chainkit.tracing.callbacks',"
        " 'chainkit.tracing.log', 'chainkit.tracing.events', 'asyncio') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == ""
