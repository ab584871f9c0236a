"""Fixtures for the trace store tests: a fresh database per test, tracing off afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chainkit.tracing import _enable


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "traces.db"


@pytest.fixture(autouse=True)
def _tracing_off() -> Iterator[None]:
    _enable._shutdown()
    yield
    _enable._shutdown()
