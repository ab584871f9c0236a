"""PromptVariableError: a KeyError whose message names everything needed to fix the call."""

from __future__ import annotations

import copy

import pytest

from chainkit.prompts import ChatPromptTemplate, PromptTemplate, PromptVariableError

EXPECTED = (
    "missing variable(s) ['context'] for ChatPromptTemplate with input_variables "
    "['context', 'question']; got ['question']. Pass them in the input dict or with .partial()."
)


@pytest.fixture
def prompt() -> ChatPromptTemplate:
    return ChatPromptTemplate.from_messages(
        [("system", "Use this context: {context}"), ("human", "{question}")]
    )


def test_exact_message_on_invoke(prompt: ChatPromptTemplate) -> None:
    with pytest.raises(PromptVariableError) as info:
        prompt.invoke({"question": "why?"})
    assert str(info.value) == EXPECTED
    assert info.value.missing == ["context"]
    assert info.value.expected == ["context", "question"]
    assert info.value.got == ["question"]
    assert info.value.template_name == "ChatPromptTemplate"


async def test_exact_message_on_ainvoke(prompt: ChatPromptTemplate) -> None:
    with pytest.raises(PromptVariableError) as info:
        await prompt.ainvoke({"question": "why?"})
    assert str(info.value) == EXPECTED


def test_is_a_key_error(prompt: ChatPromptTemplate) -> None:
    with pytest.raises(KeyError):
        prompt.format_messages(question="why?")


def test_every_missing_variable_is_named(prompt: ChatPromptTemplate) -> None:
    with pytest.raises(PromptVariableError) as info:
        prompt.invoke({"other": 1})
    assert str(info.value) == (
        "missing variable(s) ['context', 'question'] for ChatPromptTemplate with "
        "input_variables ['context', 'question']; got ['other']. Pass them in the input dict "
        "or with .partial()."
    )


def test_string_template_and_format_paths() -> None:
    prompt = PromptTemplate.from_template("{a} {b}")
    for call in (
        lambda: prompt.format(a=1),
        lambda: prompt.invoke({"a": 1}),
        lambda: prompt.format_prompt(a=1),
    ):
        with pytest.raises(PromptVariableError) as info:
            call()
        assert str(info.value) == (
            "missing variable(s) ['b'] for PromptTemplate with input_variables ['a', 'b']; "
            "got ['a']. Pass them in the input dict or with .partial()."
        )


def test_partials_are_not_reported_as_supplied() -> None:
    prompt = PromptTemplate.from_template("{a} {b}", partial_variables={"a": 1})
    with pytest.raises(PromptVariableError) as info:
        prompt.format()
    assert info.value.expected == ["b"]
    assert info.value.got == []


def test_copies_keep_the_fields() -> None:
    error = PromptVariableError(["x"], ["x", "y"], ["y"], "T")
    for clone in (copy.copy(error), copy.deepcopy(error)):
        assert str(clone) == str(error)
        assert clone.missing == ["x"]
