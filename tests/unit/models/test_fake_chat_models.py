"""The fake chat models: scripted replies, LangChain's streaming granularity, usage."""

from __future__ import annotations

import itertools
import time

import pytest

from chainkit.messages import AIMessage, AIMessageChunk, HumanMessage
from chainkit.models.fake import (
    FakeListChatModel,
    FakeListChatModelError,
    GenericFakeChatModel,
    ParrotFakeChatModel,
)


def test_fake_list_cycles_through_responses() -> None:
    chat = FakeListChatModel(responses=["a", "b"])
    assert [chat.invoke("x").content for _ in range(3)] == ["a", "b", "a"]


def test_fake_list_reports_usage_and_finish_reason() -> None:
    reply = FakeListChatModel(responses=["two words"]).invoke("three word prompt")
    assert reply.usage_metadata == {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5}
    assert reply.response_metadata == {"finish_reason": "stop", "model_name": "fake"}


def test_fake_list_generate_shows_usage() -> None:
    result = FakeListChatModel(responses=["a b", "c"]).generate([["x"], ["y z"]])
    assert result.llm_output == {
        "token_usage": {"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6},
        "model_name": "fake",
    }
    assert result.generations[0][0].generation_info == {"finish_reason": "stop"}


def test_fake_list_streams_characters() -> None:
    chunks = list(FakeListChatModel(responses=["hey"]).stream("x"))
    assert [c.content for c in chunks] == ["h", "e", "y"]
    assert [c.chunk_position for c in chunks] == [None, None, "last"]
    assert chunks[-1].usage_metadata == {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}
    total = chunks[0] + chunks[1:]
    assert total.content == "hey" and total.response_metadata["finish_reason"] == "stop"


def test_fake_list_empty_response_still_ends_with_a_last_chunk() -> None:
    (chunk,) = list(FakeListChatModel(responses=[""]).stream("x"))
    assert chunk.content == "" and chunk.chunk_position == "last"


async def test_fake_list_async_stream_matches_sync() -> None:
    sync = [c.content for c in FakeListChatModel(responses=["abc"]).stream("x")]
    chat = FakeListChatModel(responses=["abc"])
    assert [c.content async for c in chat.astream("x")] == sync
    assert (await chat.ainvoke("x")).content == "abc"
    assert FakeListChatModel._native_astream and FakeListChatModel._native_agenerate


async def test_fake_list_sleeps_between_chunks() -> None:
    chat = FakeListChatModel(responses=["abcd"], sleep=0.02)
    start = time.perf_counter()
    list(chat.stream("x"))
    assert time.perf_counter() - start >= 0.08
    start = time.perf_counter()
    [c async for c in chat.astream("x")]
    assert time.perf_counter() - start >= 0.08


async def test_fake_list_error_on_chunk_number() -> None:
    chat = FakeListChatModel(responses=["abc"], error_on_chunk_number=1)
    seen = []
    with pytest.raises(FakeListChatModelError):
        for chunk in chat.stream("x"):
            seen.append(chunk.content)
    assert seen == ["a"]
    with pytest.raises(FakeListChatModelError):
        [c async for c in chat.astream("x")]


@pytest.mark.parametrize("responses", [[], "abc"])
def test_fake_list_rejects_bad_responses(responses: object) -> None:
    with pytest.raises(ValueError, match="responses must be a non-empty list"):
        FakeListChatModel(responses=responses)  # type: ignore[arg-type]


def test_fake_list_batch_gives_each_input_its_own_reply() -> None:
    chat = FakeListChatModel(responses=[str(i) for i in range(8)])
    assert sorted(m.content for m in chat.batch(["x"] * 8)) == [str(i) for i in range(8)]


def test_fake_list_repr() -> None:
    assert repr(FakeListChatModel(responses=["a"])) == "FakeListChatModel(responses=['a'])"


def test_generic_fake_streams_words_keeping_whitespace() -> None:
    chat = GenericFakeChatModel(messages=iter(["hello  world"]))
    chunks = list(chat.stream("hi"))
    assert [c.content for c in chunks] == ["hello", " ", "", " ", "world"]
    assert chunks[-1].chunk_position == "last"
    assert chunks[-1].usage_metadata == {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}


def test_generic_fake_streams_tool_calls_in_the_last_chunk() -> None:
    call = {"name": "search", "args": {"q": "owls"}, "id": "call_1", "type": "tool_call"}
    chat = GenericFakeChatModel(messages=iter([AIMessage("ok", tool_calls=[call])]))
    chunks = list(chat.stream("hi"))
    total = chunks[0] + chunks[1:]
    assert isinstance(total, AIMessageChunk)
    assert total.tool_calls == [call]


def test_generic_fake_keeps_given_usage_and_does_not_mutate_replies() -> None:
    usage = {"input_tokens": 10, "output_tokens": 20, "total_tokens": 30}
    scripted = AIMessage("x", usage_metadata=usage)
    reply = GenericFakeChatModel(messages=iter([scripted])).invoke("hi")
    assert reply.usage_metadata == usage
    assert scripted.id is None and scripted.response_metadata == {}


async def test_generic_fake_invoke_and_async() -> None:
    chat = GenericFakeChatModel(messages=itertools.cycle(["a b"]))
    assert chat.invoke("x").content == "a b"
    assert (await chat.ainvoke("x")).content == "a b"
    assert [c.content async for c in chat.astream("x")] == ["a", " ", "b"]


def test_generic_fake_exhausted_iterator_is_a_clear_error() -> None:
    chat = GenericFakeChatModel(messages=iter([]))
    with pytest.raises(ValueError, match="exhausted"):
        chat.invoke("x")
    with pytest.raises(ValueError, match="exhausted"):
        list(chat.stream("x"))


def test_generic_fake_rejects_non_ai_replies() -> None:
    chat = GenericFakeChatModel(messages=iter([HumanMessage("x")]))  # type: ignore[list-item]
    with pytest.raises(TypeError, match="must be AIMessage or str, got HumanMessage"):
        chat.invoke("x")


async def test_parrot_echoes_the_last_message() -> None:
    chat = ParrotFakeChatModel()
    assert chat.invoke([("system", "s"), ("human", "repeat me")]).content == "repeat me"
    assert (await chat.ainvoke("again")).content == "again"
    assert [c.content for c in chat.stream("one chunk")] == ["one chunk"]
    with pytest.raises(ValueError, match="at least one message"):
        chat.invoke([])
