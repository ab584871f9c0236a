"""HumanMessage and its chunk."""

from __future__ import annotations

from chainkit.messages import BaseMessageChunk, HumanMessage, HumanMessageChunk


def test_human_message() -> None:
    message = HumanMessage("hi", name="bob")
    assert (message.type, message.content, message.name) == ("human", "hi", "bob")
    assert repr(message) == "HumanMessage(content='hi', name='bob')"


def test_human_chunks_merge() -> None:
    chunk = HumanMessageChunk("Hel", id="m1") + HumanMessageChunk("lo", name="bob")
    assert isinstance(chunk, HumanMessage) and isinstance(chunk, BaseMessageChunk)
    assert chunk == HumanMessageChunk("Hello", id="m1", name="bob")
    assert chunk.type == "HumanMessageChunk"
