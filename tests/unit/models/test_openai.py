"""ChatOpenAI over a scripted server: requests, replies, streams, usage, keys, lifecycle."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from chainkit.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage
from chainkit.models import ChatOpenAI
from chainkit.models.http import APIResponseValidationError, AuthenticationError, RetryPolicy
from chainkit.models.http.testing import Reply, ScriptedServer

URL = "http://llm.test/v1"
USAGE = {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}


def completion(content: str = "Hello!", usage: dict[str, Any] | None = USAGE,
               **message: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "gpt-4o-mini-2024-07-18",
        "system_fingerprint": "fp_1",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content, **message}}],
    }
    if usage is not None:
        body["usage"] = usage
    return body


def chunks(*texts: str, usage: dict[str, Any] | None = USAGE, done: bool = True) -> list[Any]:
    base = {"id": "chatcmpl-1", "object": "chat.completion.chunk",
            "model": "gpt-4o-mini-2024-07-18", "system_fingerprint": "fp_1"}
    out: list[Any] = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant",
                                                                  "content": ""}}]}]
    out += [{**base, "choices": [{"index": 0, "delta": {"content": t}}]} for t in texts]
    out.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    if usage is not None:
        out.append({**base, "choices": [], "usage": usage})
    if done:
        out.append(b"data: [DONE]\n\n")
    return out


def chat(server: ScriptedServer, mode: str = "sync", **kwargs: Any) -> ChatOpenAI:
    kwargs.setdefault("model", "gpt-4o-mini")
    kwargs.setdefault("base_url", URL)
    kwargs.setdefault("backoff_base", 0.001)
    clients = {"http_client": server.client(), "http_async_client": server.async_client()}
    return ChatOpenAI(**clients, **kwargs)


def invoke(model: Any, mode: str, input: Any = "hi", **kwargs: Any) -> Any:
    if mode == "sync":
        return model.invoke(input, **kwargs)
    return asyncio.run(model.ainvoke(input, **kwargs))


def stream(model: Any, mode: str, input: Any = "hi", **kwargs: Any) -> list[AIMessageChunk]:
    if mode == "sync":
        return list(model.stream(input, **kwargs))

    async def collect() -> list[AIMessageChunk]:
        return [c async for c in model.astream(input, **kwargs)]

    return asyncio.run(collect())


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# ---- invoke --------------------------------------------------------------------------------
def test_invoke_request_and_reply(mode):
    server = ScriptedServer(Reply.json(completion()))
    model = chat(server, api_key="sk-test", temperature=0.2, max_tokens=50, seed=7,
                 stop=["\n"], model_kwargs={"logprobs": False})
    reply = invoke(model, mode, [SystemMessage("Be brief."), HumanMessage("hi")])
    assert server.bodies() == [{
        "model": "gpt-4o-mini",
        "messages": [{"role": "system", "content": "Be brief."},
                     {"role": "user", "content": "hi"}],
        "temperature": 0.2, "max_tokens": 50, "seed": 7, "logprobs": False, "stop": ["\n"],
    }]
    assert server.requests[0].headers["authorization"] == "Bearer sk-test"
    assert str(server.requests[0].url) == f"{URL}/chat/completions"
    assert isinstance(reply, AIMessage)
    assert reply.content == "Hello!"
    assert reply.usage_metadata == {"input_tokens": 12, "output_tokens": 3, "total_tokens": 15}
    assert reply.response_metadata == {
        "token_usage": USAGE, "model_name": "gpt-4o-mini-2024-07-18",
        "system_fingerprint": "fp_1", "id": "chatcmpl-1", "finish_reason": "stop",
    }
    assert reply.id is not None and reply.id.startswith("run-")
    assert server.open_responses == 0


def test_stop_passed_per_call_wins(mode):
    server = ScriptedServer(Reply.json(completion()))
    invoke(chat(server, stop=["a"]), mode, stop=["b"])
    assert server.bodies()[0]["stop"] == ["b"]


def test_no_usage_from_the_server_means_none_not_zero(mode):
    server = ScriptedServer(Reply.json(completion(usage=None)))
    reply = invoke(chat(server), mode)
    assert reply.usage_metadata is None
    assert "token_usage" not in reply.response_metadata


def test_usage_details_are_mapped():
    usage = {**USAGE, "prompt_tokens_details": {"cached_tokens": 8},
             "completion_tokens_details": {"reasoning_tokens": 2}}
    server = ScriptedServer(Reply.json(completion(usage=usage)))
    assert chat(server).invoke("hi").usage_metadata == {
        "input_tokens": 12, "output_tokens": 3, "total_tokens": 15,
        "input_token_details": {"cache_read": 8}, "output_token_details": {"reasoning": 2},
    }


def test_generate_gives_llm_output_and_generation_info():
    server = ScriptedServer(Reply.json(completion("a")), Reply.json(completion("b")))
    result = chat(server).generate([["hi"], ["hello"]])
    assert [g[0].text for g in result.generations] == ["a", "b"]
    assert result.generations[0][0].generation_info == {"finish_reason": "stop"}
    assert result.llm_output == {
        "token_usage": {"prompt_tokens": 24, "completion_tokens": 6, "total_tokens": 30},
        "model_name": "gpt-4o-mini-2024-07-18", "system_fingerprint": "fp_1",
    }
    assert result.run is not None and len(result.run) == 2


def test_batch_keeps_order_with_max_concurrency(mode):
    def answer(request: Any) -> Reply:
        import json

        text = json.loads(request.content)["messages"][0]["content"]
        return Reply.json(completion(text.upper()))

    server = ScriptedServer(handler=answer)
    model = chat(server)
    inputs = [f"q{i}" for i in range(12)]
    config = {"max_concurrency": 4}
    if mode == "sync":
        out = model.batch(inputs, config)
    else:
        out = asyncio.run(model.abatch(inputs, config))
    assert [m.content for m in out] == [f"Q{i}" for i in range(12)]
    assert server.open_responses == 0


def test_unexpected_answer_shape_is_a_validation_error(mode):
    server = ScriptedServer(Reply.json({"object": "list"}))
    with pytest.raises(APIResponseValidationError, match="unexpected answer"):
        invoke(chat(server), mode)


# ---- streaming -------------------------------------------------------------------------------
def test_stream_chunks_and_final_usage(mode):
    server = ScriptedServer(Reply.sse(chunks("Hel", "lo")))
    out = stream(chat(server), mode)
    body = server.bodies()[0]
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert [c.content for c in out] == ["Hel", "lo", ""]
    last = out[-1]
    assert last.chunk_position == "last"
    assert last.usage_metadata == {"input_tokens": 12, "output_tokens": 3, "total_tokens": 15}
    assert last.response_metadata["finish_reason"] == "stop"
    assert last.response_metadata["model_name"] == "gpt-4o-mini-2024-07-18"
    assert last.response_metadata["system_fingerprint"] == "fp_1"
    assert len({c.id for c in out}) == 1
    assert server.open_responses == 0


def test_streamed_usage_equals_invoked_usage(mode):
    server = ScriptedServer(Reply.json(completion("Hello")), Reply.sse(chunks("Hel", "lo")))
    model = chat(server)
    invoked = invoke(model, mode)
    out = stream(model, mode)
    merged = out[0] + out[1:]
    assert merged.content == invoked.content
    assert merged.usage_metadata == invoked.usage_metadata


def test_stream_without_usage_has_usage_none(mode):
    server = ScriptedServer(Reply.sse(chunks("Hi", usage=None)))
    out = stream(chat(server), mode)
    merged = out[0] + out[1:]
    assert merged.usage_metadata is None


def test_stream_usage_can_be_turned_off():
    server = ScriptedServer(Reply.sse(chunks("Hi", usage=None)))
    list(chat(server, stream_usage=False).stream("hi"))
    assert "stream_options" not in server.bodies()[0]


def test_streaming_flag_makes_invoke_stream(mode):
    server = ScriptedServer(Reply.sse(chunks("Hel", "lo")))
    reply = invoke(chat(server, streaming=True), mode)
    assert reply.content == "Hello"
    assert reply.usage_metadata == {"input_tokens": 12, "output_tokens": 3, "total_tokens": 15}
    assert server.bodies()[0]["stream"] is True


def test_stream_error_event_before_content_is_retried(mode):
    error = {"error": {"message": "The server had an error", "type": "server_error"}}
    server = ScriptedServer(Reply.sse([error]), Reply.sse(chunks("ok")))
    out = stream(chat(server), mode)
    assert "".join(c.text for c in out) == "ok"
    assert len(server.requests) == 2


# ---- keys, urls, identity ------------------------------------------------------------------------
def test_missing_key_for_openai_is_a_clear_error_at_call_time(monkeypatch, mode):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_BASE", raising=False)
    model = ChatOpenAI()  # constructing is fine
    with pytest.raises(ValueError, match="OPENAI_API_KEY"):
        invoke(model, mode)
    with pytest.raises(ValueError, match="OPENAI_API_KEY"):
        stream(model, mode)


def test_local_server_needs_no_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    server = ScriptedServer(Reply.json(completion()))
    chat(server).invoke("hi")
    assert "authorization" not in server.requests[0].headers


def test_environment_fallbacks(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://env.test/v1/")
    model = ChatOpenAI(model="m")
    assert model.base_url == "http://env.test/v1"
    assert model.openai_api_key is not None
    assert model.openai_api_key.get_secret_value() == "sk-env"
    assert ChatOpenAI(model="m", base_url="http://arg.test/v1").base_url == "http://arg.test/v1"


def test_repr_and_params_hide_the_key():
    model = ChatOpenAI(model="gpt-4o", api_key="sk-canary-42", temperature=0)
    assert "sk-canary-42" not in repr(model)
    assert repr(model) == (
        "ChatOpenAI(model_name='gpt-4o', openai_api_key=SecretStr('**********'), temperature=0)"
    )
    assert model._identifying_params == {"model_name": "gpt-4o", "temperature": 0}
    extra = model._run_extra({})
    assert extra is not None and "sk-canary-42" not in repr(extra)
    assert extra["invocation_params"]["_type"] == "openai-chat"
    assert model.model == "gpt-4o"


def test_model_name_alias_and_validation():
    assert ChatOpenAI(model_name="gpt-4o", api_key="k").model_name == "gpt-4o"
    with pytest.raises(ValueError, match="temperature must be a number from 0 to 2 or None, "
                       "got 3"):
        ChatOpenAI(temperature=3)
    with pytest.raises(ValueError, match="max_tokens must be a positive int or None, got 0"):
        ChatOpenAI(max_tokens=0)
    with pytest.raises(ValueError, match="model must be a non-empty model name"):
        ChatOpenAI(model=" ")
    with pytest.raises(ValueError, match="not both"):
        ChatOpenAI(model="a", model_name="b")


def test_authentication_error_is_typed(mode):
    body = {"error": {"message": "Incorrect API key provided: sk-wr***ng.",
                      "type": "invalid_request_error", "code": "invalid_api_key"}}
    server = ScriptedServer(Reply.json(body, 401, headers={"x-request-id": "req_7"}))
    with pytest.raises(AuthenticationError) as info:
        invoke(chat(server, api_key="sk-wrong"), mode)
    assert info.value.status_code == 401 and info.value.request_id == "req_7"
    assert str(info.value).startswith(
        "OpenAI API error 401 Unauthorized for POST http://llm.test/v1/chat/completions: "
        "invalid_request_error: Incorrect API key provided"
    )


# ---- lifecycle ----------------------------------------------------------------------------------
def test_context_managers_close_the_pooled_clients():
    with ChatOpenAI(model="m", base_url=URL) as model:
        client = model._transport.clients.sync()
    assert client.is_closed

    async def run() -> Any:
        async with ChatOpenAI(model="m", base_url=URL) as model:
            client = model._transport.clients.async_()
        return client

    assert asyncio.run(run()).is_closed


def test_retries_follow_max_retries(mode):
    server = ScriptedServer(*(Reply.json({"error": "busy"}, 503) for _ in range(2)),
                            Reply.json(completion()))
    assert invoke(chat(server, max_retries=2), mode).content == "Hello!"
    server = ScriptedServer(Reply.json({"error": "busy"}, 503))
    with pytest.raises(Exception, match="503"):
        invoke(chat(server, max_retries=0), mode)
    assert isinstance(chat(server)._transport.retry, RetryPolicy)
