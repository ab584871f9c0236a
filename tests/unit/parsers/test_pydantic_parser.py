"""PydanticOutputParser: JSON validated into a model; partial models while streaming."""

from __future__ import annotations

import json
from itertools import pairwise
from typing import Any

import pytest
from pydantic import BaseModel, Field

from chainkit.messages import AIMessage, AIMessageChunk
from chainkit.models.outputs import Generation
from chainkit.parsers import JsonOutputParser, OutputParserException, PydanticOutputParser


class Joke(BaseModel):
    """A joke."""

    setup: str = Field(description="question to set up a joke")
    punchline: str = Field(description="answer to resolve the joke")
    rating: int = 0


class Item(BaseModel):
    name: str
    price: float


class Order(BaseModel):
    items: list[Item]


JOKE = '{"setup": "Why did the chicken cross the road?", "punchline": "To get to the other side."}'


def chunks_of(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def test_invoke() -> None:
    parser = PydanticOutputParser(pydantic_object=Joke)
    joke = parser.invoke(AIMessage(f"Here:\n```json\n{JOKE}\n```"))
    assert joke == Joke.model_validate_json(JOKE)
    assert parser.invoke(JOKE) == joke
    assert isinstance(parser, JsonOutputParser)


async def test_ainvoke() -> None:
    parser = PydanticOutputParser(pydantic_object=Joke)
    assert await parser.ainvoke(AIMessage(JOKE)) == Joke.model_validate_json(JOKE)


def test_validation_error_names_the_failing_fields() -> None:
    parser = PydanticOutputParser(pydantic_object=Joke)
    text = '{"setup": 42, "rating": "high"}'
    with pytest.raises(OutputParserException) as info:
        parser.invoke(text)
    message = str(info.value)
    assert message.startswith(
        "Failed to parse Joke from completion '{\"setup\": 42, \"rating\": \"high\"}'. "
        "Got 3 validation errors: "
    )
    assert "setup: Input should be a valid string (got 42)" in message
    assert "punchline: Field required" in message
    assert "rating: Input should be a valid integer" in message
    assert info.value.llm_output == text
    assert "punchline: Field required" in (info.value.observation or "")


def test_nested_field_paths() -> None:
    parser = PydanticOutputParser(pydantic_object=Order)
    expected = r"items\.1\.price: Input should be a valid number"
    with pytest.raises(OutputParserException, match=expected):
        parser.invoke('{"items": [{"name": "a", "price": 1}, {"name": "b", "price": "cheap"}]}')


async def test_validation_error_async() -> None:
    expected = "1 validation error: punchline: Field required"
    with pytest.raises(OutputParserException, match=expected):
        await PydanticOutputParser(pydantic_object=Joke).ainvoke('{"setup": "x"}')


def test_bad_json_is_reported_as_json() -> None:
    with pytest.raises(OutputParserException, match="Invalid JSON output: expected a JSON object"):
        PydanticOutputParser(pydantic_object=Joke).invoke("no joke today")


def test_stream_yields_partial_models_that_validate() -> None:
    parser = PydanticOutputParser(pydantic_object=Joke)
    text = '{"setup": "Why?", "punchline": "Because.", "rating": 5}'
    out = list(parser.transform(iter(chunks_of(text, 4))))
    assert out == [
        Joke(setup="Why?", punchline=""),
        Joke(setup="Why?", punchline="Beca"),
        Joke(setup="Why?", punchline="Because."),
        Joke(setup="Why?", punchline="Because.", rating=5),
    ]


async def test_astream_matches_stream(aiter_of: Any) -> None:
    parser = PydanticOutputParser(pydantic_object=Order)
    text = json.dumps({"items": [{"name": "apple", "price": 1.5}, {"name": "pear", "price": 2}]})
    chunks = [AIMessageChunk(c) for c in chunks_of(text, 5)]
    sync = list(parser.transform(iter(chunks)))
    async_ = [x async for x in parser.atransform(aiter_of(chunks))]
    assert sync == async_
    assert async_[-1] == Order.model_validate_json(text)
    assert all(a != b for a, b in pairwise(async_))
    assert [x async for x in parser.astream(AIMessage(text))] == [Order.model_validate_json(text)]


def test_stream_raises_when_the_finished_document_does_not_validate() -> None:
    parser = PydanticOutputParser(pydantic_object=Joke)
    chunks = ['{"setup": "a", "punchline": "b"', ', "rating": "x"}', " trailing"]
    seen: list[Joke] = []
    with pytest.raises(OutputParserException, match="rating: Input should be a valid integer"):
        for joke in parser.transform(iter(chunks)):
            seen.append(joke)
    assert seen == [Joke(setup="a", punchline="b")]


def test_stream_raises_when_only_the_closing_bracket_completes_an_invalid_document() -> None:
    parser = PydanticOutputParser(pydantic_object=Joke)
    with pytest.raises(OutputParserException, match="punchline: Field required"):
        list(parser.transform(iter(['{"setup": "a"', "}"])))


async def test_truncated_stream_raises_async(aiter_of: Any) -> None:
    parser = PydanticOutputParser(pydantic_object=Joke)
    with pytest.raises(OutputParserException, match="ends before it is complete"):
        [x async for x in parser.atransform(aiter_of(['{"setup": "a", ', '"punchline": "b']))]


def test_parse_result_partial() -> None:
    parser = PydanticOutputParser(pydantic_object=Joke)
    partial = parser.parse_result([Generation(text='{"setup": "a", "punchline": "b')], partial=True)
    assert partial == Joke(setup="a", punchline="b")
    assert parser.parse_result([Generation(text='{"setup": "a"')], partial=True) is None
    assert parser.parse_result([Generation(text="nope")], partial=True) is None
    assert parser.parse_result([Generation(text=JOKE)]) == Joke.model_validate_json(JOKE)


def test_format_instructions_hold_the_schema_without_title_and_type() -> None:
    text = PydanticOutputParser(pydantic_object=Joke).get_format_instructions()
    assert text.startswith(
        "The output should be formatted as a JSON instance that conforms to the JSON schema below."
    )
    schema = json.loads(text.rsplit("```\n", 1)[1].split("\n```")[0])
    assert "title" not in schema and "type" not in schema and "description" in schema
    assert schema["properties"]["setup"] == {
        "description": "question to set up a joke",
        "title": "Setup",
        "type": "string",
    }
    assert schema["required"] == ["setup", "punchline"]


def test_metadata() -> None:
    parser = PydanticOutputParser(pydantic_object=Joke)
    assert parser.OutputType is Joke
    assert parser._type == "pydantic"
    assert repr(parser) == "PydanticOutputParser(pydantic_object=Joke)"


def test_constructor_checks_the_model() -> None:
    with pytest.raises(TypeError, match="needs a pydantic_object"):
        PydanticOutputParser(pydantic_object=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must be a pydantic BaseModel subclass"):
        PydanticOutputParser(pydantic_object=Joke(setup="a", punchline="b"))  # type: ignore[arg-type]
