"""ChatOpenAI tools and structured output: tool schemas, tool calls (whole and streamed),
tool results sent back, and every structured output method, including the json_schema ->
json_object fallback for llama.cpp-style servers."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from chainkit.messages import AIMessage, HumanMessage, ToolMessage
from chainkit.models import ChatOpenAI
from chainkit.models._tool_convert import convert_to_openai_tool
from chainkit.models.http import BadRequestError
from chainkit.models.http.testing import Reply, ScriptedServer

URL = "http://llm.test/v1"


class GetWeather(BaseModel):
    """Current weather in a city."""

    city: str = Field(description="The city name")
    unit: str = "celsius"


def get_weather(city: str, days: int = 1) -> str:
    """Current weather in a city.

    Args:
        city: The city name,
            e.g. Paris.
        days: How many days ahead.

    Returns:
        A forecast.
    """
    return city


class Movie(TypedDict):
    """A movie."""

    title: str
    year: int


class Person(BaseModel):
    name: str
    age: int


def chat(server: ScriptedServer, **kwargs: Any) -> ChatOpenAI:
    return ChatOpenAI(model="m", base_url=URL, http_client=server.client(),
                      http_async_client=server.async_client(), backoff_base=0.001, **kwargs)


def reply(content: str | None = None, **message: Any) -> Reply:
    return Reply.json({
        "id": "c1", "model": "m",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content, **message}}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10},
    })


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def invoke(runnable: Any, mode: str, input: Any = "hi") -> Any:
    if mode == "sync":
        return runnable.invoke(input)
    return asyncio.run(runnable.ainvoke(input))


# ---- tool schemas ---------------------------------------------------------------------------
def test_tool_from_pydantic_model():
    assert convert_to_openai_tool(GetWeather) == {
        "type": "function",
        "function": {
            "name": "GetWeather",
            "description": "Current weather in a city.",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "The city name"},
                    "unit": {"type": "string", "default": "celsius"},
                },
                "required": ["city"],
            },
        },
    }


def test_tool_from_typed_function_reads_the_docstring():
    assert convert_to_openai_tool(get_weather) == {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather in a city.",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "The city name, e.g. Paris."},
                    "days": {"type": "integer", "default": 1,
                             "description": "How many days ahead."},
                },
                "required": ["city"],
            },
        },
    }


def test_tool_from_typeddict_and_dicts():
    movie = convert_to_openai_tool(Movie)["function"]
    assert movie["name"] == "Movie" and movie["description"] == "A movie."
    assert movie["parameters"]["required"] == ["title", "year"]
    schema = {"title": "lookup", "description": "Look up.", "type": "object",
              "properties": {"q": {"type": "string"}}}
    assert convert_to_openai_tool(schema)["function"] == {
        "name": "lookup", "description": "Look up.",
        "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
    }
    openai_tool = {"type": "function", "function": {"name": "f", "parameters": {}}}
    assert convert_to_openai_tool(openai_tool) == openai_tool
    anthropic_tool = {"name": "f", "input_schema": {"type": "object"}}
    assert convert_to_openai_tool(anthropic_tool)["function"] == {
        "name": "f", "parameters": {"type": "object"}
    }


def test_property_named_title_is_kept():
    class Book(BaseModel):
        title: str

    params = convert_to_openai_tool(Book)["function"]["parameters"]
    assert params["properties"] == {"title": {"type": "string"}}


def test_unsupported_tool_lists_the_kinds():
    with pytest.raises(TypeError, match="cannot offer int 3 as a tool: expected a pydantic"):
        convert_to_openai_tool(3)
    with pytest.raises(ValueError, match="has no name"):
        convert_to_openai_tool({"type": "object", "properties": {}})


# ---- bind_tools ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("choice", "sent"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ("required", "required"),
        ("any", "required"),
        ("get_weather", {"type": "function", "function": {"name": "get_weather"}}),
        (True, {"type": "function", "function": {"name": "get_weather"}}),
        ({"type": "function", "function": {"name": "x"}},
         {"type": "function", "function": {"name": "x"}}),
    ],
)
def test_tool_choice_forms(choice, sent):
    server = ScriptedServer(reply("ok"))
    chat(server).bind_tools([get_weather], tool_choice=choice).invoke("hi")
    body = server.bodies()[0]
    assert body["tools"][0]["function"]["name"] == "get_weather"
    assert body["tool_choice"] == sent


def test_bad_tool_choice_lists_valid_choices():
    with pytest.raises(ValueError, match="tool_choice 'weather' names no offered tool.*"
                       r"\['get_weather'\]"):
        ChatOpenAI(api_key="k").bind_tools([get_weather], tool_choice="weather")
    with pytest.raises(ValueError, match="forces the single tool, but 2 tools"):
        ChatOpenAI(api_key="k").bind_tools([get_weather, GetWeather], tool_choice=True)


def test_strict_and_parallel_tool_calls_are_sent():
    server = ScriptedServer(reply("ok"))
    chat(server).bind_tools([GetWeather], strict=True, parallel_tool_calls=False).invoke("hi")
    body = server.bodies()[0]
    assert body["tools"][0]["function"]["strict"] is True
    assert body["parallel_tool_calls"] is False


def test_tool_calls_are_normalised(mode):
    raw = [{"id": "call_1", "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}},
           {"id": "call_2", "type": "function",
            "function": {"name": "get_weather", "arguments": "{not json"}}]
    server = ScriptedServer(reply(None, tool_calls=raw))
    message = invoke(chat(server).bind_tools([get_weather]), mode)
    assert message.content == ""
    assert message.tool_calls == [
        {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1", "type": "tool_call"}
    ]
    assert message.invalid_tool_calls[0]["id"] == "call_2"
    assert message.additional_kwargs["tool_calls"] == raw


def test_streamed_tool_call_chunks_merge(mode):
    # llama.cpp's server repeats the id and name on every piece; they must not be joined.
    def piece(args: str) -> dict[str, Any]:
        return {"choices": [{"index": 0, "delta": {"tool_calls": [{
            "index": 0, "id": "call_1", "type": "function",
            "function": {"name": "get_weather", "arguments": args}}]}}]}

    events = [piece('{"ci'), piece('ty": "Pa'), piece('ris"}'),
              {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
              b"data: [DONE]\n\n"]
    server = ScriptedServer(Reply.sse(events))
    model = chat(server).bind_tools([get_weather])
    if mode == "sync":
        out = list(model.stream("hi"))
    else:
        async def collect() -> list[Any]:
            return [c async for c in model.astream("hi")]
        out = asyncio.run(collect())
    merged = out[0] + out[1:]
    assert merged.tool_calls == [
        {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1", "type": "tool_call"}
    ]
    assert merged.response_metadata["finish_reason"] == "tool_calls"


def test_tool_results_are_sent_back():
    server = ScriptedServer(reply("It is sunny."))
    history = [
        HumanMessage("Weather in Paris?"),
        AIMessage("", tool_calls=[{"name": "get_weather", "args": {"city": "Paris"},
                                   "id": "call_1"}]),
        ToolMessage("sunny, 21 C", tool_call_id="call_1"),
    ]
    assert chat(server).invoke(history).content == "It is sunny."
    messages = server.bodies()[0]["messages"]
    assert messages[1] == {
        "role": "assistant", "content": "",
        "tool_calls": [{"id": "call_1", "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}],
    }
    assert messages[2] == {"role": "tool", "content": "sunny, 21 C", "tool_call_id": "call_1"}


# ---- structured output ------------------------------------------------------------------------
def test_json_schema_is_the_default(mode):
    server = ScriptedServer(reply('{"name": "Ada", "age": 36}'))
    person = invoke(chat(server).with_structured_output(Person), mode)
    assert person == Person(name="Ada", age=36)
    fmt = server.bodies()[0]["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["name"] == "Person"
    assert fmt["json_schema"]["schema"]["required"] == ["name", "age"]


def test_json_schema_strict_and_dict_schema():
    server = ScriptedServer(reply('{"title": "Heat", "year": 1995}'))
    movie = chat(server).with_structured_output(Movie, strict=True).invoke("hi")
    assert movie == {"title": "Heat", "year": 1995}
    assert server.bodies()[0]["response_format"]["json_schema"]["strict"] is True


@pytest.mark.parametrize("status", [400, 422, 500])
def test_rejected_json_schema_falls_back_once_and_is_remembered(mode, status):
    rejection = {"error": {"message": "1 validation error: ('body', 'response_format', 'type') "
                           "Input should be 'text' or 'json_object'"}}
    server = ScriptedServer(
        Reply.json(rejection, status),
        reply('{"name": "Ada", "age": 36}'),
        reply('{"name": "Bob", "age": 7}'),
    )
    structured = chat(server).with_structured_output(Person)
    assert invoke(structured, mode) == Person(name="Ada", age=36)
    assert invoke(structured, mode) == Person(name="Bob", age=7)
    formats = [b["response_format"] for b in server.bodies()]
    assert len(formats) == 3  # no retries of the rejected request, one fallback, then direct
    assert formats[0]["type"] == "json_schema"
    schema = formats[0]["json_schema"]["schema"]
    assert formats[1] == formats[2] == {"type": "json_object", "schema": schema}


def test_fallback_applies_to_streams(mode):
    rejection = {"error": {"message": "response_format json_schema is not supported"}}
    events = [{"choices": [{"index": 0, "delta": {"content": '{"name": "Ada", "age": 36}'}}]},
              b"data: [DONE]\n\n"]
    server = ScriptedServer(Reply.json(rejection, 400), Reply.sse(events))
    structured = chat(server).with_structured_output(Person)
    if mode == "sync":
        out = list(structured.stream("hi"))
    else:
        async def collect() -> list[Any]:
            return [c async for c in structured.astream("hi")]
        out = asyncio.run(collect())
    assert out[-1] == Person(name="Ada", age=36)
    assert server.bodies()[1]["response_format"]["type"] == "json_object"


def test_accepted_json_schema_is_not_probed_again():
    server = ScriptedServer(reply('{"name": "A", "age": 1}'), Reply.json({"error": "busy"}, 503),
                            reply('{"name": "B", "age": 2}'))
    structured = chat(server).with_structured_output(Person)
    structured.invoke("hi")
    # Now known to work: a 503 is retried as usual, never taken as a rejected format.
    assert structured.invoke("hi") == Person(name="B", age=2)
    assert all(b["response_format"]["type"] == "json_schema" for b in server.bodies())


def test_other_errors_do_not_trigger_the_fallback():
    server = ScriptedServer(Reply.json({"error": {"message": "context length exceeded"}}, 400))
    with pytest.raises(BadRequestError, match="context length exceeded"):
        chat(server).with_structured_output(Person).invoke("hi")
    assert len(server.requests) == 1


def test_function_calling_method(mode):
    raw = [{"id": "call_1", "type": "function",
            "function": {"name": "Person", "arguments": '{"name": "Ada", "age": 36}'}}]
    server = ScriptedServer(reply(None, tool_calls=raw))
    structured = chat(server).with_structured_output(Person, method="function_calling")
    assert invoke(structured, mode) == Person(name="Ada", age=36)
    body = server.bodies()[0]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "Person"}}
    assert body["tools"][0]["function"]["parameters"]["required"] == ["name", "age"]


def test_json_mode_and_include_raw():
    server = ScriptedServer(reply('{"name": "Ada", "age": 36}'), reply("not json"))
    structured = chat(server).with_structured_output(Person, method="json_mode", include_raw=True)
    out = structured.invoke("Reply in JSON")
    assert server.bodies()[0]["response_format"] == {"type": "json_object"}
    assert out["parsed"] == Person(name="Ada", age=36) and out["parsing_error"] is None
    assert isinstance(out["raw"], AIMessage)
    bad = structured.invoke("Reply in JSON")
    assert bad["parsed"] is None and bad["parsing_error"] is not None


def test_unknown_structured_kwargs_are_rejected():
    with pytest.raises(TypeError, match=r"unexpected keyword argument.*'schema_name'.*valid: "
                       r"strict"):
        ChatOpenAI(api_key="k").with_structured_output(Person, schema_name="x")


def test_body_is_json_serialisable_with_tools():
    server = ScriptedServer(reply("ok"))
    chat(server).bind_tools([GetWeather, get_weather, Movie]).invoke("hi")
    body = json.loads(server.requests[0].content)
    assert [t["function"]["name"] for t in body["tools"]] == ["GetWeather", "get_weather",
                                                                "Movie"]
