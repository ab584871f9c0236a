"""Messages that set up the model's behaviour."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from chainkit.messages.base import BaseMessage, BaseMessageChunk, MessageContent


class SystemMessage(BaseMessage):
    """Instructions for the model, usually the first message of a conversation.

    OpenAI's ``"developer"`` role reads as a system message with
    ``additional_kwargs["__openai_role__"] == "developer"``.

    Example:
        >>> SystemMessage("You are a helpful assistant.")
        SystemMessage(content='You are a helpful assistant.')
    """

    type: Literal["system"] = "system"
    """Always ``"system"``."""

    if TYPE_CHECKING:  # keeps content positional for type checkers; see BaseMessage.__init__
        def __init__(self, content: MessageContent, **kwargs: Any) -> None: ...


class SystemMessageChunk(SystemMessage, BaseMessageChunk):
    """A streamed piece of a :class:`SystemMessage`.

    Example:
        >>> SystemMessageChunk("Be ") + SystemMessageChunk("brief.")
        SystemMessageChunk(content='Be brief.')
    """

    type: Literal["SystemMessageChunk"] = "SystemMessageChunk"  # type: ignore[assignment]
    """Always ``"SystemMessageChunk"``."""

    if TYPE_CHECKING:  # keeps content positional for type checkers; see BaseMessage.__init__
        def __init__(self, content: MessageContent, **kwargs: Any) -> None: ...


__all__ = [
    "SystemMessage",
    "SystemMessageChunk",
]
