"""The ``Example:`` sections of the HTTP providers' docstrings run as written."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "chainkit.models.http", "chainkit.models.http.errors", "chainkit.models.http.retry",
    "chainkit.models.http.sse", "chainkit.models.http._clients", "chainkit.models.http._stream",
    "chainkit.models.http.transport", "chainkit.models.http.testing",
    "chainkit.models._tool_convert", "chainkit.models._openai_convert",
    "chainkit.models._anthropic_convert", "chainkit.models.openai", "chainkit.models.anthropic",
]


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
