"""with_structured_output over a provider's JSON-schema kwargs, and the schema helpers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel
from typing_extensions import TypedDict

from chainkit.messages import AIMessage, BaseMessage
from chainkit.models.base import BaseChatModel
from chainkit.models.fake import FakeListChatModel, GenericFakeChatModel
from chainkit.models.outputs import ChatResult
from chainkit.models.structured import ToolArgsParser, convert_to_json_schema
from chainkit.parsers.exceptions import OutputParserException


class Joke(BaseModel):
    """A joke."""

    setup: str
    punchline: str


class JokeDict(TypedDict):
    setup: str
    punchline: str


JOKE = {"setup": "Why?", "punchline": "Because."}


class JsonFake(FakeListChatModel):
    """A fake that supports structured output the way an OpenAI-style provider does."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.seen: list[dict[str, Any]] = []

    def _structured_output_kwargs(
        self, json_schema: dict[str, Any], method: Any, **kwargs: Any
    ) -> dict[str, Any]:
        if method == "function_calling":
            raise ValueError("JsonFake does not do function calling")
        return {"response_format": {"name": json_schema["title"], "schema": json_schema, **kwargs}}

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> ChatResult:
        self.seen.append(kwargs)
        return super()._generate(messages, stop, **kwargs)


def test_pydantic_schema_gives_instances_and_binds_the_provider_kwargs() -> None:
    chat = JsonFake(responses=[json.dumps(JOKE)])
    joke = chat.with_structured_output(Joke).invoke("tell me a joke")
    assert joke == Joke(**JOKE)
    fmt = chat.seen[0]["response_format"]
    assert fmt["name"] == "Joke"
    assert fmt["schema"]["required"] == ["setup", "punchline"]


def test_extra_kwargs_reach_the_provider() -> None:
    chat = JsonFake(responses=[json.dumps(JOKE)])
    chat.with_structured_output(Joke, strict=True).invoke("x")
    assert chat.seen[0]["response_format"]["strict"] is True


@pytest.mark.parametrize("schema", [JokeDict, convert_to_json_schema(Joke)])
def test_typeddict_and_json_schema_give_dicts(schema: Any) -> None:
    chat = JsonFake(responses=[json.dumps(JOKE)])
    assert chat.with_structured_output(schema).invoke("x") == JOKE


async def test_async_and_stream_paths() -> None:
    chat = JsonFake(responses=["```json\n" + json.dumps(JOKE) + "\n```"])
    structured = chat.with_structured_output(Joke)
    assert await structured.ainvoke("x") == Joke(**JOKE)
    assert list(structured.stream("x"))[-1] == Joke(**JOKE)
    assert [c async for c in structured.astream("x")][-1] == Joke(**JOKE)


def test_include_raw_returns_raw_parsed_and_error() -> None:
    chat = JsonFake(responses=[json.dumps(JOKE), "not json"])
    structured = chat.with_structured_output(Joke, include_raw=True)
    ok = structured.invoke("x")
    assert isinstance(ok["raw"], AIMessage)
    assert ok["parsed"] == Joke(**JOKE) and ok["parsing_error"] is None
    bad = structured.invoke("x")
    assert bad["raw"].content == "not json"
    assert bad["parsed"] is None
    assert isinstance(bad["parsing_error"], OutputParserException)


def test_invalid_reply_raises_a_value_error_naming_the_schema() -> None:
    chat = JsonFake(responses=['{"setup": "only"}', "nope"])
    structured = chat.with_structured_output(Joke)
    with pytest.raises(OutputParserException, match=r"Failed to parse Joke.*punchline"):
        structured.invoke("x")
    with pytest.raises(ValueError, match="Invalid JSON output") as info:
        structured.invoke("x")
    assert isinstance(info.value, OutputParserException)
    assert info.value.llm_output == "nope"


def test_function_calling_reads_the_tool_call() -> None:
    class ToolFake(GenericFakeChatModel):
        def _structured_output_kwargs(
            self, json_schema: dict[str, Any], method: Any, **kwargs: Any
        ) -> dict[str, Any]:
            return {"tools": [json_schema], "tool_choice": json_schema["title"]}

    call = {"name": "Joke", "args": JOKE, "id": "c1"}
    chat = ToolFake(messages=iter([AIMessage("", tool_calls=[call]), AIMessage("no call")]))
    structured = chat.with_structured_output(Joke, method="function_calling")
    assert structured.invoke("x") == Joke(**JOKE)
    with pytest.raises(OutputParserException, match="expected the model to reply with a tool call"):
        structured.invoke("x")


def test_unsupported_method_and_model() -> None:
    with pytest.raises(ValueError, match="does not do function calling"):
        JsonFake(responses=["{}"]).with_structured_output(Joke, method="function_calling")
    with pytest.raises(ValueError, match=r"unknown structured output method 'xml'.*json_schema"):
        JsonFake(responses=["{}"]).with_structured_output(Joke, method="xml")  # type: ignore[arg-type]
    with pytest.raises(NotImplementedError, match="FakeListChatModel does not support structured"):
        FakeListChatModel(responses=["{}"]).with_structured_output(Joke)


def test_convert_to_json_schema() -> None:
    schema = convert_to_json_schema(Joke)
    assert schema["title"] == "Joke" and schema["description"] == "A joke."
    assert convert_to_json_schema(JokeDict)["title"] == "JokeDict"
    function = {"name": "get_weather", "description": "Weather.", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}}}
    expected = {"title": "get_weather", "description": "Weather.", "type": "object",
                "properties": {"city": {"type": "string"}}}
    assert convert_to_json_schema(function) == expected
    assert convert_to_json_schema({"type": "function", "function": function}) == expected
    with pytest.raises(TypeError, match="expected a pydantic model class, a TypedDict"):
        convert_to_json_schema(42)
    with pytest.raises(ValueError, match="cannot read"):
        convert_to_json_schema({"foo": 1})


def test_tool_args_parser() -> None:
    assert repr(ToolArgsParser(Joke)) == "ToolArgsParser(Joke)"
    assert repr(ToolArgsParser(None)) == "ToolArgsParser(dict)"
    bad = AIMessage("", tool_calls=[{"name": "Joke", "args": {"setup": 1}, "id": "1"}])
    with pytest.raises(OutputParserException, match="do not match Joke"):
        ToolArgsParser(Joke).invoke(bad)


def test_base_model_is_not_structured_by_default() -> None:
    class Plain(BaseChatModel):
        pass

    with pytest.raises(NotImplementedError, match="Plain does not support structured output"):
        Plain().with_structured_output(Joke)
