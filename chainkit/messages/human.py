"""Messages from the person using the chat model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from chainkit.messages.base import BaseMessage, BaseMessageChunk, MessageContent


class HumanMessage(BaseMessage):
    """A message from the person using the chat model.

    Example:
        >>> HumanMessage("What is 2 + 2?")
        HumanMessage(content='What is 2 + 2?')
        >>> HumanMessage("hi").pretty_repr()
        '================================ Human Message =================================\\n\\nhi'
    """

    type: Literal["human"] = "human"
    """Always ``"human"``."""

    if TYPE_CHECKING:  # keeps content positional for type checkers; see BaseMessage.__init__
        def __init__(self, content: MessageContent, **kwargs: Any) -> None: ...


class HumanMessageChunk(HumanMessage, BaseMessageChunk):
    """A streamed piece of a :class:`HumanMessage`.

    Example:
        >>> HumanMessageChunk("Hel") + HumanMessageChunk("lo")
        HumanMessageChunk(content='Hello')
    """

    type: Literal["HumanMessageChunk"] = "HumanMessageChunk"  # type: ignore[assignment]
    """Always ``"HumanMessageChunk"``."""

    if TYPE_CHECKING:  # keeps content positional for type checkers; see BaseMessage.__init__
        def __init__(self, content: MessageContent, **kwargs: Any) -> None: ...


__all__ = [
    "HumanMessage",
    "HumanMessageChunk",
]
