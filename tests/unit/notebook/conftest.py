"""A stand-in IPython kernel: records what the notebook helpers display and update."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest


class Handle:
    def __init__(self, frontend: FakeFrontend, bundle: dict[str, str]) -> None:
        self.frontend = frontend
        self.bundle = bundle
        self.updates = 0

    def update(self, bundle: dict[str, str], raw: bool = False) -> None:
        assert raw
        self.bundle = bundle
        self.updates += 1


class FakeFrontend:
    """What a notebook front end would hold: one entry per display handle."""

    def __init__(self) -> None:
        self.handles: list[Handle] = []

    def display(self, obj: Any, raw: bool = False, display_id: Any = None) -> Handle:
        assert raw and display_id is True
        handle = Handle(self, obj)
        self.handles.append(handle)
        return handle

    @property
    def html(self) -> str:
        assert len(self.handles) == 1, f"expected one output area, got {len(self.handles)}"
        return self.handles[0].bundle["text/html"]

    @property
    def text(self) -> str:
        return self.handles[0].bundle["text/plain"]


@pytest.fixture
def notebook(monkeypatch: pytest.MonkeyPatch) -> FakeFrontend:
    """Pretend the code runs in an IPython kernel, and capture the display calls."""
    frontend = FakeFrontend()
    shell = types.SimpleNamespace(kernel=object())
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: shell  # type: ignore[attr-defined]
    display_mod = types.ModuleType("IPython.display")
    display_mod.display = frontend.display  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", display_mod)
    return frontend


@pytest.fixture
def no_notebook(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plain Python: no IPython loaded (even if the test runner loaded it)."""
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
