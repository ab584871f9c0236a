"""Messages with an arbitrary role."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from chainkit.messages.base import BaseMessage, BaseMessageChunk, MessageContent


class ChatMessage(BaseMessage):
    """A message whose author has a role other than the standard ones.

    Example:
        >>> ChatMessage("Looks good to me.", role="reviewer")
        ChatMessage(content='Looks good to me.', role='reviewer')
    """

    role: str
    """The speaker's role, e.g. ``"reviewer"``."""

    type: Literal["chat"] = "chat"
    """Always ``"chat"``."""

    if TYPE_CHECKING:  # keeps content positional for type checkers; see BaseMessage.__init__
        def __init__(self, content: MessageContent, **kwargs: Any) -> None: ...


class ChatMessageChunk(ChatMessage, BaseMessageChunk):
    """A streamed piece of a :class:`ChatMessage`; only chunks of the same role merge.

    Example:
        >>> ChatMessageChunk("a", role="critic") + ChatMessageChunk("b", role="critic")
        ChatMessageChunk(content='ab', role='critic')
    """

    type: Literal["ChatMessageChunk"] = "ChatMessageChunk"  # type: ignore[assignment]
    """Always ``"ChatMessageChunk"``."""

    if TYPE_CHECKING:  # keeps content positional for type checkers; see BaseMessage.__init__
        def __init__(self, content: MessageContent, **kwargs: Any) -> None: ...

    def _merged_fields(self, others: Sequence[BaseMessageChunk]) -> dict[str, Any]:
        for other in others:
            if not isinstance(other, ChatMessageChunk) or other.role != self.role:
                raise self._incompatible(other, "role")
        fields = super()._merged_fields(others)
        fields["role"] = self.role
        return fields


__all__ = [
    "ChatMessage",
    "ChatMessageChunk",
]
