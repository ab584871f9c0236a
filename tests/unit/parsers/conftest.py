"""Shared helpers for the parser tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

import pytest


async def agen(items: Iterable[Any]) -> AsyncIterator[Any]:
    """An async iterator over ``items`` (a model stream stand-in)."""
    for item in items:
        yield item


@pytest.fixture
def aiter_of() -> Any:
    return agen
