"""CommaSeparatedListOutputParser: CSV items, parsed whole or streamed item by item."""

from __future__ import annotations

import csv
import io
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainkit.messages import AIMessage, AIMessageChunk
from chainkit.parsers import CommaSeparatedListOutputParser


def csv_items(text: str) -> list[str]:
    """LangChain's parse: the csv module with skipinitialspace."""
    reader = csv.reader(io.StringIO(text), quotechar='"', delimiter=",", skipinitialspace=True)
    return [item for row in reader for item in row]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a, b, c", ["a", "b", "c"]),
        ("a,b,c", ["a", "b", "c"]),
        ("red, green, blue\n", ["red", "green", "blue"]),
        ("one", ["one"]),
        ("", []),
        ("  ", [""]),
        ("a,,b", ["a", "", "b"]),
        ("a,", ["a", ""]),
        ("a\nb", ["a", "b"]),
        ("a\r\nb", ["a", "b"]),
        ("\n\na", ["a"]),
        (' a ,b', ["a ", "b"]),
        ('a, "b, c", d', ["a", "b, c", "d"]),
        ('"say ""hi""", x', ['say "hi"', "x"]),
        ('a"b, c', ['a"b', "c"]),
        ('"a"b, c', ["ab", "c"]),
        ('a, "unfinished', ["a", "unfinished"]),
        ('"multi\nline", x', ["multi\nline", "x"]),
    ],
)
def test_parse(text: str, expected: list[str]) -> None:
    assert CommaSeparatedListOutputParser().invoke(text) == expected
    assert CommaSeparatedListOutputParser().parse(text) == expected


def test_invoke_message() -> None:
    assert CommaSeparatedListOutputParser().invoke(AIMessage("x, y")) == ["x", "y"]


async def test_ainvoke() -> None:
    assert await CommaSeparatedListOutputParser().ainvoke(AIMessage("x, y")) == ["x", "y"]


def test_stream_yields_each_item_when_its_separator_arrives() -> None:
    parser = CommaSeparatedListOutputParser()
    chunks = ["red", ", gr", "een,", " blue"]
    assert list(parser.transform(iter(chunks))) == [["red"], ["green"], ["blue"]]
    msgs = [AIMessageChunk(c) for c in "a, b, c"]
    assert list(parser.transform(iter(msgs))) == [["a"], ["b"], ["c"]]
    assert list(parser.stream("a, b")) == [["a"], ["b"]]


def test_stream_yields_items_before_the_stream_ends() -> None:
    seen: list[Any] = []

    def chunks() -> Any:
        yield "a, "
        assert seen == [["a"]]  # "a" came out as soon as its comma arrived
        yield "b"

    for item in CommaSeparatedListOutputParser().transform(chunks()):
        seen.append(item)
    assert seen == [["a"], ["b"]]


async def test_astream_and_atransform(aiter_of: Any) -> None:
    parser = CommaSeparatedListOutputParser()
    msgs = [AIMessageChunk(c) for c in ['"x, y"', ", z", ""]]
    assert [x async for x in parser.atransform(aiter_of(msgs))] == [["x, y"], ["z"]]
    assert [x async for x in parser.astream("a,b")] == [["a"], ["b"]]


def test_metadata() -> None:
    parser = CommaSeparatedListOutputParser()
    assert parser.get_format_instructions() == (
        "Your response should be a list of comma separated values, "
        "eg: `foo, bar, baz` or `foo,bar,baz`"
    )
    assert parser._type == "comma-separated-list"
    assert parser.OutputType == list[str]


_texts = st.text(alphabet=st.sampled_from(list('ab ,"\n')), max_size=20)


@settings(max_examples=300, deadline=None)
@given(_texts, st.lists(st.integers(min_value=0, max_value=20), max_size=6))
def test_matches_csv_and_streaming_matches_parse(text: str, cuts: list[int]) -> None:
    expected = csv_items(text)
    parser = CommaSeparatedListOutputParser()
    assert parser.invoke(text) == expected
    bounds = [0, *sorted(c % (len(text) + 1) for c in cuts), len(text)]
    chunks = [text[a:b] for a, b in pairwise(bounds)]
    assert [item for (item,) in parser.transform(iter(chunks))] == expected
