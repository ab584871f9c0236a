"""Result values: LangChain's shapes, the quickstart's reprs, equality and flatten."""

from __future__ import annotations

from uuid import UUID

import pytest

from chainkit.messages import AIMessage, AIMessageChunk, HumanMessage
from chainkit.models.outputs import (
    ChatGeneration,
    ChatGenerationChunk,
    ChatResult,
    Generation,
    GenerationChunk,
    LLMResult,
    RunInfo,
)

RUN_1 = UUID("077917a9-026c-47c4-b308-77b37c3a3bfa")
RUN_2 = UUID("0a70a0bf-c599-4f51-932a-c7d42202c984")


def quickstart_result() -> LLMResult:
    return LLMResult(
        generations=[
            [
                ChatGeneration(
                    generation_info={"finish_reason": "stop"},
                    message=AIMessage("J'adore programmer."),
                )
            ],
            [
                ChatGeneration(
                    generation_info={"finish_reason": "stop"},
                    message=AIMessage("J'adore l'intelligence artificielle."),
                )
            ],
        ],
        llm_output={
            "token_usage": {"prompt_tokens": 53, "completion_tokens": 18, "total_tokens": 71},
            "model_name": "gpt-3.5-turbo",
        },
        run=[RunInfo(run_id=RUN_1), RunInfo(run_id=RUN_2)],
    )


def test_llm_result_repr_matches_quickstart() -> None:
    assert repr(quickstart_result()) == (
        "LLMResult(generations=[[ChatGeneration(text=\"J'adore programmer.\", "
        "generation_info={'finish_reason': 'stop'}, message=AIMessage(content=\"J'adore "
        "programmer.\"))], [ChatGeneration(text=\"J'adore l'intelligence artificielle.\", "
        "generation_info={'finish_reason': 'stop'}, message=AIMessage(content=\"J'adore "
        "l'intelligence artificielle.\"))]], llm_output={'token_usage': {'prompt_tokens': 53, "
        "'completion_tokens': 18, 'total_tokens': 71}, 'model_name': 'gpt-3.5-turbo'}, "
        "run=[RunInfo(run_id=UUID('077917a9-026c-47c4-b308-77b37c3a3bfa')), "
        "RunInfo(run_id=UUID('0a70a0bf-c599-4f51-932a-c7d42202c984'))])"
    )


def test_reprs_omit_defaults_and_type() -> None:
    assert repr(Generation(text="hi")) == "Generation(text='hi')"
    assert repr(ChatGeneration(message=AIMessage("hi"))) == (
        "ChatGeneration(text='hi', message=AIMessage(content='hi'))"
    )
    assert repr(RunInfo(run_id=RUN_1)) == f"RunInfo(run_id={RUN_1!r})"
    assert repr(LLMResult(generations=[])) == "LLMResult(generations=[])"


def test_type_tags() -> None:
    assert Generation(text="").type == "Generation"
    assert GenerationChunk(text="").type == "GenerationChunk"
    assert ChatGeneration(message=AIMessage("")).type == "ChatGeneration"
    assert ChatGenerationChunk(message=AIMessageChunk("")).type == "ChatGenerationChunk"
    assert LLMResult(generations=[]).type == "LLMResult"


def test_chat_generation_text_is_derived_from_the_message() -> None:
    gen = ChatGeneration(text="ignored", message=AIMessage("real"))
    assert gen.text == "real"
    blocks = AIMessage([{"type": "text", "text": "a"}, {"type": "image_url", "image_url": {}}])
    assert ChatGeneration(message=blocks).text == "a"


def test_chat_generation_needs_a_message() -> None:
    with pytest.raises(ValueError, match="message"):
        ChatGeneration(text="no message")  # type: ignore[call-arg]


def test_generation_chunks_merge_messages_and_info() -> None:
    a = ChatGenerationChunk(message=AIMessageChunk("Hel"), generation_info={"a": 1})
    b = ChatGenerationChunk(message=AIMessageChunk("lo"), generation_info={"finish_reason": "stop"})
    merged = a + b
    assert isinstance(merged, ChatGenerationChunk)
    assert merged.text == "Hello"
    assert merged.message == AIMessageChunk("Hello")
    assert merged.generation_info == {"a": 1, "finish_reason": "stop"}
    assert (a + [b, b]).text == "Hellolo"  # noqa: RUF005 - list + is the API under test
    assert (GenerationChunk(text="a") + GenerationChunk(text="b")).text == "ab"


def test_adding_a_non_chunk_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        ChatGenerationChunk(message=AIMessageChunk("a")) + "b"  # type: ignore[operator]


def test_llm_result_equality_ignores_run() -> None:
    a = quickstart_result()
    b = quickstart_result()
    b.run = [RunInfo(run_id=RUN_2)]
    assert a == b
    b.llm_output = {}
    assert a != b
    assert a != "LLMResult"


def test_flatten_keeps_token_usage_on_the_first_only() -> None:
    result = quickstart_result()
    first, second = result.flatten()
    assert first.generations == [result.generations[0]]
    assert first.llm_output == result.llm_output
    assert second.generations == [result.generations[1]]
    assert second.llm_output == {"token_usage": {}, "model_name": "gpt-3.5-turbo"}
    assert result.llm_output is not None and result.llm_output["token_usage"]["total_tokens"] == 71


def test_dump_and_load_round_trip_keeps_message_classes() -> None:
    result = quickstart_result()
    result.generations[0].append(ChatGenerationChunk(message=AIMessageChunk("x")))
    data = result.model_dump()
    assert data["type"] == "LLMResult"
    assert data["generations"][0][0]["message"]["type"] == "ai"
    loaded = LLMResult.model_validate(data)
    assert loaded == result
    assert type(loaded.generations[0][0]) is ChatGeneration
    assert type(loaded.generations[0][1]) is ChatGenerationChunk
    assert type(loaded.generations[0][0].message) is AIMessage  # type: ignore[union-attr]


def test_chat_result_holds_provider_output() -> None:
    result = ChatResult(
        generations=[ChatGeneration(message=AIMessage("hi"))], llm_output={"model_name": "m"}
    )
    assert result.generations[0].message == AIMessage("hi")
    assert ChatResult(generations=[]).llm_output is None
    with pytest.raises(ValueError):
        ChatResult(generations=[HumanMessage("not a generation")])  # type: ignore[list-item]
