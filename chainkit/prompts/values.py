"""Prompt values: what a prompt template produces and a model consumes.

A ``PromptValue`` is a rendered prompt that can be read either as one string (for text
completion models) or as a list of messages (for chat models). This is the values layer: it
imports pydantic and ``chainkit.messages`` only.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict

from chainkit.messages import BaseMessage, HumanMessage, get_buffer_string


class PromptValue(BaseModel, ABC):
    """A rendered prompt, readable as a string or as chat messages.

    Example:
        >>> value = StringPromptValue(text="Tell me a joke")
        >>> value.to_string()
        'Tell me a joke'
        >>> value.to_messages()
        [HumanMessage(content='Tell me a joke')]
    """

    model_config = ConfigDict(defer_build=True)  # schema built on first use, not at import

    @abstractmethod
    def to_string(self) -> str:
        """The prompt as one string."""

    @abstractmethod
    def to_messages(self) -> list[BaseMessage]:
        """The prompt as a list of messages."""

    def __repr_args__(self) -> Iterator[tuple[Union[str, None], Any]]:
        # Like LangChain: the fixed ``type`` tag is left out of the repr.
        for name, value in super().__repr_args__():
            if name != "type":
                yield name, value


class StringPromptValue(PromptValue):
    """A prompt rendered as plain text; as messages it is one human message.

    Example:
        >>> StringPromptValue("Tell me a joke")
        StringPromptValue(text='Tell me a joke')
    """

    text: str
    """The prompt text."""

    type: Literal["StringPromptValue"] = "StringPromptValue"
    """Always ``"StringPromptValue"``."""

    def __init__(self, text: str, **kwargs: Any) -> None:
        """Build the value; ``text`` may be given positionally."""
        kwargs["text"] = text
        self.__pydantic_validator__.validate_python(kwargs, self_instance=self)

    def to_string(self) -> str:
        """The text itself."""
        return self.text

    def to_messages(self) -> list[BaseMessage]:
        """The text as a single human message."""
        return [HumanMessage(self.text)]


class ChatPromptValue(PromptValue):
    """A prompt rendered as chat messages; as a string it is a ``Role: text`` transcript.

    Example:
        >>> from chainkit.messages import SystemMessage
        >>> value = ChatPromptValue(messages=[SystemMessage("Be brief."), HumanMessage("hi")])
        >>> value
        ChatPromptValue(messages=[SystemMessage(content='Be brief.'), HumanMessage(content='hi')])
        >>> print(value.to_string())
        System: Be brief.
        Human: hi
    """

    messages: list[BaseMessage]
    """The messages, in order."""

    type: Literal["ChatPromptValue"] = "ChatPromptValue"
    """Always ``"ChatPromptValue"``."""

    def __init__(self, messages: list[BaseMessage], **kwargs: Any) -> None:
        """Build the value; ``messages`` may be given positionally."""
        kwargs["messages"] = messages
        self.__pydantic_validator__.validate_python(kwargs, self_instance=self)

    def to_string(self) -> str:
        """The messages as a transcript (see `chainkit.messages.get_buffer_string`)."""
        return get_buffer_string(self.messages)

    def to_messages(self) -> list[BaseMessage]:
        """A new list holding the messages."""
        return list(self.messages)

    def _repr_html_(self) -> str:
        """Notebook display: the conversation as role-labelled bubbles."""
        from chainkit.notebook.display import conversation_html  # the notebook layer loads on use

        return conversation_html(self.messages)


__all__ = ["ChatPromptValue", "PromptValue", "StringPromptValue"]
