"""The ``Example:`` sections of the docstrings run as written."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "chainkit.messages", "chainkit.messages._derived_calls", "chainkit.messages._merge",
    "chainkit.messages._partial_json",
    "chainkit.messages.ai", "chainkit.messages.base", "chainkit.messages.chat",
    "chainkit.messages.convert", "chainkit.messages.function", "chainkit.messages.human",
    "chainkit.messages.serde", "chainkit.messages.system", "chainkit.messages.tool",
]


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
