"""A fresh trace database with a small dataset, tracing off around each test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chainkit.tracing import _enable
from chainkit.tracing.client import Client


@pytest.fixture(autouse=True)
def _tracing_off() -> Iterator[None]:
    _enable._shutdown()
    yield
    _enable._shutdown()


@pytest.fixture
def client(tmp_path: Path) -> Client:
    client = Client(tmp_path / "traces.db")
    client.create_dataset("capitals")
    for country, city in [("France", "Paris"), ("Italy", "Rome"), ("Spain", "Madrid")]:
        client.create_example({"country": country}, {"output": city}, dataset="capitals")
    return client
