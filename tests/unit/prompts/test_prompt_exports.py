"""The public names of chainkit.prompts, and that their docstring examples run."""

from __future__ import annotations

import doctest
import importlib

import pytest

import chainkit.prompts

PUBLIC = {
    "AIMessagePromptTemplate",
    "ChatMessagePromptTemplate",
    "ChatPromptTemplate",
    "ChatPromptValue",
    "HumanMessagePromptTemplate",
    "MessagesPlaceholder",
    "PromptTemplate",
    "PromptValue",
    "PromptVariableError",
    "StringPromptValue",
    "SystemMessagePromptTemplate",
}

MODULES = [
    "chainkit.prompts",
    "chainkit.prompts._content",
    "chainkit.prompts._jinja",
    "chainkit.prompts.base",
    "chainkit.prompts.chat",
    "chainkit.prompts.errors",
    "chainkit.prompts.formatting",
    "chainkit.prompts.message",
    "chainkit.prompts.string",
    "chainkit.prompts.values",
]


def test_all_is_exact() -> None:
    assert set(chainkit.prompts.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(chainkit.prompts, name).__module__.startswith("chainkit.prompts.")


def test_public_classes_have_examples() -> None:
    for name in PUBLIC:
        assert "Example:" in (getattr(chainkit.prompts, name).__doc__ or ""), name


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    globs = {**vars(module), **{n: getattr(chainkit.prompts, n) for n in PUBLIC}}
    result = doctest.testmod(module, globs=globs, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
