"""ChatAnthropic against hand-written transcripts in the Messages API's documented format:
request bodies and headers, replies, SSE streams (text, tool use, a mid-stream error)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from chainkit.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage, ToolMessage
from chainkit.models import ChatAnthropic
from chainkit.models.http import (
    AuthenticationError,
    InternalServerError,
    StreamInterruptedError,
)
from chainkit.models.http.testing import Reply, ScriptedServer

TRANSCRIPTS = Path(__file__).parent / "transcripts"
URL = "http://claude.test"


def transcript(name: str, piece: int = 37) -> Reply:
    """A recorded stream, delivered in small pieces that split lines and events."""
    raw = (TRANSCRIPTS / name).read_bytes()
    pieces = [raw[i : i + piece] for i in range(0, len(raw), piece)]
    return Reply(200, pieces, headers={"content-type": "text/event-stream"})


MESSAGE = {
    "id": "msg_01", "type": "message", "role": "assistant",
    "model": "claude-3-5-haiku-20241022",
    "content": [{"type": "text", "text": "Hello!"}],
    "stop_reason": "end_turn", "stop_sequence": None,
    "usage": {"input_tokens": 10, "output_tokens": 4, "cache_creation_input_tokens": 0,
              "cache_read_input_tokens": 6},
}


def chat(server: ScriptedServer, **kwargs: Any) -> ChatAnthropic:
    kwargs.setdefault("model", "claude-3-5-haiku-latest")
    kwargs.setdefault("api_key", "sk-ant-test")
    return ChatAnthropic(base_url=URL, http_client=server.client(),
                         http_async_client=server.async_client(), backoff_base=0.001, **kwargs)


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def invoke(model: Any, mode: str, input: Any = "hi", **kwargs: Any) -> Any:
    if mode == "sync":
        return model.invoke(input, **kwargs)
    return asyncio.run(model.ainvoke(input, **kwargs))


def stream(model: Any, mode: str, input: Any = "hi") -> list[AIMessageChunk]:
    if mode == "sync":
        return list(model.stream(input))

    async def collect() -> list[AIMessageChunk]:
        return [c async for c in model.astream(input)]

    return asyncio.run(collect())


# ---- requests -------------------------------------------------------------------------------
def test_request_headers_and_body(mode):
    server = ScriptedServer(Reply.json(MESSAGE))
    model = chat(server, temperature=0.5, top_k=40, stop=["\n\n"])
    invoke(model, mode, [SystemMessage("Be brief."), SystemMessage("Be kind."),
                         HumanMessage("hi")])
    request = server.requests[0]
    assert str(request.url) == f"{URL}/v1/messages"
    assert request.headers["x-api-key"] == "sk-ant-test"
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in request.headers
    assert server.bodies() == [{
        "model": "claude-3-5-haiku-latest",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 1024, "temperature": 0.5, "top_k": 40,
        "system": "Be brief.\n\nBe kind.",
        "stop_sequences": ["\n\n"],
    }]


def test_tool_use_and_results_round_trip():
    server = ScriptedServer(Reply.json(MESSAGE))
    history = [
        HumanMessage("Weather in Paris and Rome?"),
        AIMessage("Checking.", tool_calls=[
            {"name": "get_weather", "args": {"city": "Paris"}, "id": "toolu_1"},
            {"name": "get_weather", "args": {"city": "Rome"}, "id": "toolu_2"},
        ]),
        ToolMessage("sunny", tool_call_id="toolu_1"),
        ToolMessage("no such city", tool_call_id="toolu_2", status="error"),
    ]
    chat(server).invoke(history)
    assert server.bodies()[0]["messages"] == [
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {"role": "assistant", "content": [
            {"type": "text", "text": "Checking."},
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather",
             "input": {"city": "Paris"}},
            {"type": "tool_use", "id": "toolu_2", "name": "get_weather",
             "input": {"city": "Rome"}},
        ]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"},
            {"type": "tool_result", "tool_use_id": "toolu_2", "content": "no such city",
             "is_error": True},
        ]},
    ]


def test_image_blocks_are_converted():
    server = ScriptedServer(Reply.json(MESSAGE))
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    chat(server).invoke([HumanMessage([{"type": "text", "text": "What is this?"}, image])])
    assert server.bodies()[0]["messages"][0]["content"][1] == {
        "type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}
    }


def test_missing_key_names_the_variable(monkeypatch, mode):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    with pytest.raises(ValueError, match="ANTHROPIC_API_KEY"):
        invoke(ChatAnthropic(model="claude-3-5-haiku-latest"), mode)


def test_environment_key_and_repr(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-canary")
    model = ChatAnthropic(model="claude-3-5-haiku-latest")
    assert "sk-ant-canary" not in repr(model)
    # The repr lists what differs from the defaults (the model here is the default one).
    assert repr(model) == "ChatAnthropic(anthropic_api_key=SecretStr('**********'))"
    assert model._identifying_params == {"model_name": "claude-3-5-haiku-latest",
                                         "max_tokens": 1024}
    assert model._llm_type == "anthropic-chat"


def test_invalid_settings():
    with pytest.raises(ValueError, match="max_tokens must be a positive int, got 0"):
        ChatAnthropic(max_tokens=0)
    with pytest.raises(ValueError, match="temperature must be a number from 0 to 1"):
        ChatAnthropic(temperature=1.5)
    with pytest.raises(ValueError, match="role 'critic'"):
        from chainkit.messages import ChatMessage

        ChatAnthropic(api_key="k")._body([ChatMessage("x", role="critic")], None, {}, False)


# ---- replies ----------------------------------------------------------------------------------
def test_reply_usage_and_metadata(mode):
    server = ScriptedServer(Reply.json(MESSAGE))
    reply = invoke(chat(server), mode)
    assert reply.content == "Hello!"
    assert reply.usage_metadata == {
        "input_tokens": 16, "output_tokens": 4, "total_tokens": 20,
        "input_token_details": {"cache_read": 6, "cache_creation": 0},
    }
    assert reply.response_metadata["stop_reason"] == "end_turn"
    assert reply.response_metadata["finish_reason"] == "end_turn"
    assert reply.response_metadata["model_name"] == "claude-3-5-haiku-20241022"
    assert reply.response_metadata["id"] == "msg_01"


def test_generate_sums_token_usage():
    server = ScriptedServer(Reply.json(MESSAGE), Reply.json(MESSAGE))
    result = chat(server).generate([["hi"], ["hello"]])
    assert result.llm_output == {
        "token_usage": {"prompt_tokens": 32, "completion_tokens": 8, "total_tokens": 40},
        "model_name": "claude-3-5-haiku-20241022",
    }
    assert result.generations[0][0].generation_info == {"finish_reason": "end_turn"}


def test_tool_use_reply(mode):
    body = {**MESSAGE, "stop_reason": "tool_use", "content": [
        {"type": "text", "text": "Let me check."},
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
    ]}
    server = ScriptedServer(Reply.json(body))
    reply = invoke(chat(server).bind_tools([_get_weather], tool_choice="any"), mode)
    assert reply.content == "Let me check."
    assert reply.tool_calls == [
        {"name": "get_weather", "args": {"city": "Paris"}, "id": "toolu_1", "type": "tool_call"}
    ]
    sent = server.bodies()[0]
    assert sent["tools"] == [{
        "name": "get_weather", "description": "Current weather in a city.",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}},
                         "required": ["city"]},
    }]
    assert sent["tool_choice"] == {"type": "any"}


def _get_weather(city: str) -> str:
    """Current weather in a city."""
    return city


_get_weather.__name__ = "get_weather"


@pytest.mark.parametrize(
    ("choice", "sent"),
    [("auto", {"type": "auto"}), ("required", {"type": "any"}), ("none", {"type": "none"}),
     ("get_weather", {"type": "tool", "name": "get_weather"}),
     (True, {"type": "tool", "name": "get_weather"})],
)
def test_tool_choice_forms(choice, sent):
    server = ScriptedServer(Reply.json(MESSAGE))
    chat(server).bind_tools([_get_weather], tool_choice=choice).invoke("hi")
    assert server.bodies()[0]["tool_choice"] == sent


# ---- streams ------------------------------------------------------------------------------------
def test_text_stream_transcript(mode):
    server = ScriptedServer(transcript("anthropic_text.sse"))
    out = stream(chat(server), mode)
    assert server.bodies()[0]["stream"] is True
    assert [c.content for c in out] == ["Hello", "! How can I help?", ""]
    last = out[-1]
    assert last.chunk_position == "last"
    assert last.usage_metadata == {
        "input_tokens": 25, "output_tokens": 12, "total_tokens": 37,
        "input_token_details": {"cache_read": 0, "cache_creation": 0},
    }
    assert last.response_metadata["stop_reason"] == "end_turn"
    assert last.response_metadata["id"] == "msg_01XFDUDYJgAACzvnptvVoYEL"
    assert server.open_responses == 0


def test_stream_equals_invoke_shape(mode):
    server = ScriptedServer(transcript("anthropic_text.sse"))
    out = stream(chat(server, streaming=False), mode)
    merged = out[0] + out[1:]
    assert merged.content == "Hello! How can I help?"
    assert merged.usage_metadata is not None and merged.usage_metadata["total_tokens"] == 37


def test_tool_use_stream_transcript(mode):
    server = ScriptedServer(transcript("anthropic_tool_use.sse", piece=11))
    out = stream(chat(server).bind_tools([_get_weather]), mode)
    merged = out[0] + out[1:]
    assert merged.content == "Let me check the weather."
    assert merged.tool_calls == [{"name": "get_weather", "args": {"city": "Paris"},
                                  "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "type": "tool_call"}]
    assert merged.response_metadata["stop_reason"] == "tool_use"
    assert merged.usage_metadata is not None and merged.usage_metadata["output_tokens"] == 89


def test_overloaded_error_mid_stream_is_never_a_complete_answer(mode):
    server = ScriptedServer(transcript("anthropic_overloaded.sse"))
    got: list[str] = []
    model = chat(server)
    with pytest.raises(StreamInterruptedError) as info:
        if mode == "sync":
            for chunk in model.stream("hi"):
                got.append(chunk.text)
        else:
            async def run() -> None:
                async for chunk in model.astream("hi"):
                    got.append(chunk.text)
            asyncio.run(run())
    assert got == ["Once upon"]
    assert info.value.partial_text == "Once upon"
    cause = info.value.__cause__
    assert isinstance(cause, InternalServerError) and cause.status_code == 529
    assert "overloaded_error: Overloaded" in str(info.value)
    assert len(server.requests) == 1
    assert server.open_responses == 0


def test_overloaded_before_content_is_retried(mode):
    overloaded = ("error", {"type": "error", "error": {"type": "overloaded_error",
                                                      "message": "Overloaded"}})
    server = ScriptedServer(Reply.sse([overloaded]), transcript("anthropic_text.sse"))
    out = stream(chat(server), mode)
    assert "".join(c.text for c in out) == "Hello! How can I help?"
    assert len(server.requests) == 2


def test_stream_without_message_stop_raises(mode):
    raw = (TRANSCRIPTS / "anthropic_text.sse").read_bytes()
    cut = raw[: raw.index(b"event: message_stop")]
    server = ScriptedServer(Reply(200, [cut]))
    with pytest.raises(StreamInterruptedError) as info:
        stream(chat(server), mode)
    assert "event: message_stop" in str(info.value.__cause__)
    assert info.value.partial_text == "Hello! How can I help?"


def test_http_529_and_401_are_typed(mode):
    body = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    server = ScriptedServer(*(Reply.json(body, 529) for _ in range(3)))
    with pytest.raises(InternalServerError, match=r"529 Overloaded .*overloaded_error"):
        invoke(chat(server), mode)
    assert len(server.requests) == 3
    auth = {"type": "error", "error": {"type": "authentication_error",
                                       "message": "invalid x-api-key"}}
    server = ScriptedServer(Reply.json(auth, 401))
    with pytest.raises(AuthenticationError, match="authentication_error: invalid x-api-key"):
        invoke(chat(server), mode)


# ---- structured output ------------------------------------------------------------------------
class Person(BaseModel):
    """A person."""

    name: str
    age: int


@pytest.mark.parametrize("method", ["function_calling", "json_schema"])
def test_structured_output_is_a_forced_tool_call(mode, method):
    body = {**MESSAGE, "stop_reason": "tool_use", "content": [
        {"type": "tool_use", "id": "toolu_1", "name": "Person",
         "input": {"name": "Ada", "age": 36}},
    ]}
    server = ScriptedServer(Reply.json(body))
    structured = chat(server).with_structured_output(Person, method=method)
    assert invoke(structured, mode) == Person(name="Ada", age=36)
    sent = server.bodies()[0]
    assert sent["tool_choice"] == {"type": "tool", "name": "Person"}
    assert sent["tools"][0]["name"] == "Person"
    assert sent["tools"][0]["description"] == "A person."


def test_json_mode_is_rejected_with_the_alternatives():
    with pytest.raises(ValueError, match=r"no JSON mode.*function_calling"):
        ChatAnthropic(api_key="k").with_structured_output(Person, method="json_mode")
