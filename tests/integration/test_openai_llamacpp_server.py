"""ChatOpenAI against a real OpenAI-compatible server: llama-cpp-python's, on SmolLM2.

Facts about that server these tests rely on (llama-cpp-python 0.3.36): it reports usage for
non-streaming calls only (streams carry none, even with ``include_usage``), rejects OpenAI's
``json_schema`` response format with a 500 but constrains output with
``{"type": "json_object", "schema": ...}``, and can force a tool call with ``tool_choice``.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from chainkit.messages import AIMessage, AIMessageChunk
from chainkit.models import ChatOpenAI
from chainkit.models.http import NotFoundError
from tests.integration.llama_server import LlamaServer

pytestmark = pytest.mark.integration

PROMPT = "Say hello in five words or fewer."


def chat(server: LlamaServer, **kwargs: Any) -> ChatOpenAI:
    kwargs.setdefault("temperature", 0)
    kwargs.setdefault("max_tokens", 16)
    kwargs.setdefault("seed", 0)
    return ChatOpenAI(model=server.model, base_url=server.base_url, **kwargs)


def test_invoke(llama_server):
    with chat(llama_server) as model:
        reply = model.invoke(PROMPT)
    assert isinstance(reply, AIMessage) and reply.text.strip()
    usage = reply.usage_metadata
    assert usage is not None and usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert reply.response_metadata["finish_reason"] in ("stop", "length")
    assert reply.response_metadata["token_usage"]["total_tokens"] == usage["total_tokens"]


async def test_ainvoke_equals_invoke(llama_server):
    async with chat(llama_server) as model:
        reply = await model.ainvoke(PROMPT)
    assert reply.text == chat(llama_server).invoke(PROMPT).text


def test_stream_adds_up_to_invoke_and_has_no_usage(llama_server):
    model = chat(llama_server)
    chunks = list(model.stream(PROMPT))
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    assert chunks[-1].chunk_position == "last"
    total = chunks[0] + chunks[1:]
    assert total.text == model.invoke(PROMPT).text
    # The server sends no usage in streams: absent, not zero.
    assert total.usage_metadata is None
    assert total.response_metadata["finish_reason"] in ("stop", "length")


async def test_astream(llama_server):
    model = chat(llama_server)
    chunks = [c async for c in model.astream(PROMPT)]
    assert "".join(c.text for c in chunks) == model.invoke(PROMPT).text


def test_batch_with_max_concurrency(llama_server):
    model = chat(llama_server, max_tokens=8)
    prompts = ["Name a color.", "Name a fruit.", "Name an animal.", "Name a city."]
    expected = [model.invoke(p).text for p in prompts]
    assert [r.text for r in model.batch(prompts, {"max_concurrency": 2})] == expected


async def test_abatch_with_max_concurrency(llama_server):
    model = chat(llama_server, max_tokens=8)
    prompts = ["Name a color.", "Name a fruit.", "Name an animal."]
    expected = [model.invoke(p).text for p in prompts]
    replies = await model.abatch(prompts, {"max_concurrency": 2})
    assert [r.text for r in replies] == expected


def test_generate_sums_usage(llama_server):
    result = chat(llama_server).generate([[PROMPT], ["Name a fruit."]])
    assert result.llm_output is not None
    totals = [g[0].message.usage_metadata["total_tokens"] for g in result.generations]
    assert result.llm_output["token_usage"]["total_tokens"] == sum(totals)
    assert result.generations[0][0].generation_info["finish_reason"] in ("stop", "length")


class City(BaseModel):
    name: str
    country: str


def test_structured_output_default_method_falls_back_to_json_object(llama_server):
    model = chat(llama_server, max_tokens=60)
    structured = model.with_structured_output(City)
    city = structured.invoke("Give me a city as JSON with its name and country.")
    assert isinstance(city, City)
    assert model._json_schema_ok is False  # remembered: later calls skip the probe
    assert isinstance(structured.invoke("Another city, as JSON."), City)


async def test_structured_output_async(llama_server):
    structured = chat(llama_server, max_tokens=60).with_structured_output(City)
    city = await structured.ainvoke("Give me a city as JSON with its name and country.")
    assert isinstance(city, City)


def test_prompt_model_parser_chain(llama_server):
    from chainkit.parsers import StrOutputParser
    from chainkit.prompts import ChatPromptTemplate

    prompt = ChatPromptTemplate.from_messages(
        [("system", "You are terse."), ("human", "Say hello to {name}.")]
    )
    model = chat(llama_server)
    chain = prompt | model | StrOutputParser()
    text = chain.invoke({"name": "Ada"})
    assert isinstance(text, str) and text.strip()
    assert "".join(chain.stream({"name": "Ada"})) == text


def test_forced_tool_call(llama_server):
    def get_weather(city: str) -> str:
        """Current weather in a city."""
        return city

    model = chat(llama_server, max_tokens=40).bind_tools([get_weather], tool_choice="get_weather")
    reply = model.invoke("What is the weather in Paris?")
    assert reply.tool_calls and reply.tool_calls[0]["name"] == "get_weather"
    assert isinstance(reply.tool_calls[0]["args"], dict)
    chunks = list(model.stream("What is the weather in Paris?"))
    merged = chunks[0] + chunks[1:]
    assert merged.tool_calls and merged.tool_calls[0]["name"] == "get_weather"


def test_wrong_path_is_a_typed_404(llama_server):
    model = ChatOpenAI(model="m", base_url=llama_server.base_url.removesuffix("/v1"),
                       max_retries=0)
    with pytest.raises(NotFoundError, match="404 Not Found for POST"):
        model.invoke("hi")
