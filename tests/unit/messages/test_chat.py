"""ChatMessage and its chunk."""

from __future__ import annotations

import pytest

from chainkit.messages import ChatMessage, ChatMessageChunk, HumanMessageChunk


def test_chat_message_has_a_role() -> None:
    message = ChatMessage("ok", role="reviewer")
    assert (message.type, message.role) == ("chat", "reviewer")
    assert repr(message) == "ChatMessage(content='ok', role='reviewer')"


def test_chat_chunks_merge_only_with_the_same_role() -> None:
    total = ChatMessageChunk("a", role="critic") + ChatMessageChunk("b", role="critic")
    assert total == ChatMessageChunk("ab", role="critic")
    with pytest.raises(TypeError, match=r"ChatMessageChunk\(role='critic'\) and "
                                        r"ChatMessageChunk\(role='user'\): their roles differ"):
        ChatMessageChunk("a", role="critic") + ChatMessageChunk("b", role="user")
    with pytest.raises(TypeError, match="cannot add ChatMessageChunk and HumanMessageChunk"):
        ChatMessageChunk("a", role="critic") + HumanMessageChunk("b")
