"""Messages as plain data: ``{"type": ..., "data": {...}}`` dicts and the ``AnyMessage`` union.

Loading looks the ``type`` tag up in a fixed table of this package's classes; it never imports
anything named by the data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, TypeAlias, Union

from pydantic import Discriminator, Tag

from chainkit.messages.ai import AIMessage, AIMessageChunk
from chainkit.messages.base import BaseMessage
from chainkit.messages.chat import ChatMessage, ChatMessageChunk
from chainkit.messages.function import FunctionMessage, FunctionMessageChunk
from chainkit.messages.human import HumanMessage, HumanMessageChunk
from chainkit.messages.system import SystemMessage, SystemMessageChunk
from chainkit.messages.tool import ToolMessage, ToolMessageChunk

_CLASSES: dict[str, type[BaseMessage]] = {
    cls.model_fields["type"].default: cls
    for cls in (
        AIMessage, HumanMessage, SystemMessage, ChatMessage, FunctionMessage, ToolMessage,
        AIMessageChunk, HumanMessageChunk, SystemMessageChunk, ChatMessageChunk,
        FunctionMessageChunk, ToolMessageChunk,
    )
}


def _type_tag(value: Any) -> Any:
    return value.get("type") if isinstance(value, dict) else getattr(value, "type", None)


AnyMessage: TypeAlias = Annotated[
    Union[
        Annotated[AIMessage, Tag("ai")],
        Annotated[HumanMessage, Tag("human")],
        Annotated[ChatMessage, Tag("chat")],
        Annotated[SystemMessage, Tag("system")],
        Annotated[FunctionMessage, Tag("function")],
        Annotated[ToolMessage, Tag("tool")],
        Annotated[AIMessageChunk, Tag("AIMessageChunk")],
        Annotated[HumanMessageChunk, Tag("HumanMessageChunk")],
        Annotated[ChatMessageChunk, Tag("ChatMessageChunk")],
        Annotated[SystemMessageChunk, Tag("SystemMessageChunk")],
        Annotated[FunctionMessageChunk, Tag("FunctionMessageChunk")],
        Annotated[ToolMessageChunk, Tag("ToolMessageChunk")],
    ],
    Discriminator(_type_tag),
]
"""Any concrete message, picked by its ``type`` tag when a pydantic model validates data."""


def message_to_dict(message: BaseMessage) -> dict[str, Any]:
    """Dump a message as ``{"type": message.type, "data": {...every field...}}``.

    Example:
        >>> message_to_dict(HumanMessage("hi"))["type"]
        'human'
    """
    return {"type": message.type, "data": message.model_dump()}


def messages_to_dict(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """Dump messages with :func:`message_to_dict`."""
    return [message_to_dict(m) for m in messages]


def messages_from_dict(messages: Sequence[dict[str, Any]]) -> list[BaseMessage]:
    """Load messages dumped by :func:`messages_to_dict`.

    Raises:
        ValueError: An item lacks ``type`` or ``data``, or its ``type`` is unknown
            (its index is named).

    Example:
        >>> messages_from_dict(messages_to_dict([HumanMessage("hi")]))
        [HumanMessage(content='hi')]
    """
    return [_message_from_dict(item, index) for index, item in enumerate(messages)]


def _message_from_dict(item: dict[str, Any], index: int) -> BaseMessage:
    where = f"cannot load message at index {index}"
    for key in ("type", "data"):
        if not isinstance(item, dict) or key not in item:
            msg = f"{where}: expected a {{'type': ..., 'data': {{...}}}} dict, got {item!r:.80}"
            raise ValueError(msg)
    cls = _CLASSES.get(item["type"])
    if cls is None:
        msg = f"{where}: unknown type {item['type']!r}; expected one of {sorted(_CLASSES)}"
        raise ValueError(msg)
    return cls(**item["data"])


__all__ = ["AnyMessage", "message_to_dict", "messages_from_dict", "messages_to_dict"]
