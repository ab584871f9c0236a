"""PromptValue, StringPromptValue and ChatPromptValue."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chainkit.messages import AIMessage, HumanMessage, SystemMessage
from chainkit.prompts import ChatPromptValue, PromptValue, StringPromptValue


def test_prompt_value_is_abstract() -> None:
    with pytest.raises(TypeError, match="abstract"):
        PromptValue()  # type: ignore[abstract]


def test_string_prompt_value() -> None:
    value = StringPromptValue(text="Tell me a joke")
    assert value == StringPromptValue("Tell me a joke")
    assert value.to_string() == "Tell me a joke"
    assert value.to_messages() == [HumanMessage("Tell me a joke")]
    assert repr(value) == "StringPromptValue(text='Tell me a joke')"
    assert value.type == "StringPromptValue"
    assert value.model_dump() == {"text": "Tell me a joke", "type": "StringPromptValue"}
    assert isinstance(value, PromptValue)


def test_chat_prompt_value() -> None:
    messages = [SystemMessage("Be brief."), HumanMessage("hi"), AIMessage("Hello!")]
    value = ChatPromptValue(messages=messages)
    assert value.to_string() == "System: Be brief.\nHuman: hi\nAI: Hello!"
    assert value.to_messages() == messages
    assert value.to_messages() is not value.messages  # a copy: callers may append to it
    assert repr(value) == (
        "ChatPromptValue(messages=[SystemMessage(content='Be brief.'), "
        "HumanMessage(content='hi'), AIMessage(content='Hello!')])"
    )
    assert value.type == "ChatPromptValue"
    assert value == ChatPromptValue(list(messages))
    assert value != ChatPromptValue(messages[:1])


def test_values_validate() -> None:
    with pytest.raises(ValidationError):
        StringPromptValue(text=3)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        ChatPromptValue(messages="hi")  # type: ignore[arg-type]
