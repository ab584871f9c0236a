"""StrOutputParser: message or str in, text out; streams each chunk's text."""

from __future__ import annotations

from typing import Any

import pytest

from chainkit.messages import AIMessage, AIMessageChunk, SystemMessage
from chainkit.parsers import StrOutputParser
from chainkit.runnables import RunnableLambda


def test_invoke() -> None:
    parser = StrOutputParser()
    assert parser.invoke("plain") == "plain"
    assert parser.invoke(AIMessage("J'adore la programmation.")) == "J'adore la programmation."
    assert parser.invoke(SystemMessage("sys")) == "sys"
    assert parser.invoke(AIMessageChunk("chunk")) == "chunk"


def test_empty_message_gives_empty_string() -> None:
    assert StrOutputParser().invoke(AIMessage("")) == ""
    assert StrOutputParser().invoke(AIMessage([])) == ""


def test_content_blocks_join_their_text() -> None:
    msg = AIMessage([{"type": "text", "text": "Hello"}, {"type": "image_url"}, " world"])
    assert StrOutputParser().invoke(msg) == "Hello world"


async def test_ainvoke() -> None:
    assert await StrOutputParser().ainvoke(AIMessage("hi")) == "hi"
    assert await StrOutputParser().ainvoke("hi") == "hi"
    assert await StrOutputParser().ainvoke(AIMessage("")) == ""


def test_stream_and_transform() -> None:
    parser = StrOutputParser()
    assert list(parser.stream(AIMessage("hi"))) == ["hi"]
    last = AIMessageChunk("", chunk_position="last")
    chunks = [AIMessageChunk("Hel"), AIMessageChunk("lo"), last]
    # The last (usage-only) chunk yields '' as in LangChain.
    assert list(parser.transform(iter(chunks))) == ["Hel", "lo", ""]
    assert list(parser.transform(iter(["a", "b"]))) == ["a", "b"]


async def test_astream_and_atransform(aiter_of: Any) -> None:
    parser = StrOutputParser()
    assert [x async for x in parser.astream(AIMessage("hi"))] == ["hi"]
    chunks = [AIMessageChunk("Hel"), "lo", AIMessageChunk("")]
    assert [x async for x in parser.atransform(aiter_of(chunks))] == ["Hel", "lo", ""]


def test_streamed_chain_yields_each_token() -> None:
    def fake_model(_: Any) -> Any:
        yield from (AIMessageChunk(t) for t in ["The", " answer", "."])

    chain = RunnableLambda(fake_model) | StrOutputParser()
    assert list(chain.stream("q")) == ["The", " answer", "."]


def test_metadata() -> None:
    parser = StrOutputParser()
    assert parser.OutputType is str
    assert parser._type == "default"
    assert repr(parser) == "StrOutputParser()"
    with pytest.raises(NotImplementedError, match="no format instructions"):
        parser.get_format_instructions()


def test_rejects_non_text() -> None:
    with pytest.raises(TypeError, match="got list"):
        StrOutputParser().invoke(["a"])  # type: ignore[arg-type]
