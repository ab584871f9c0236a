"""JsonOutputParser: whole answers, streamed partial values, errors, sync and async."""

from __future__ import annotations

import json
from itertools import pairwise
from typing import Any

import jsonpatch
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from chainkit.messages import AIMessage, AIMessageChunk
from chainkit.models.outputs import Generation
from chainkit.parsers import JsonOutputParser, OutputParserException
from chainkit.parsers.json import json_patch, loads_json_output


class Joke(BaseModel):
    setup: str = Field(description="question to set up a joke")
    punchline: str


def chunks_of(text: str, size: int = 1) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


# ---- invoke ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        ("[1, 2]", [1, 2]),
        ('```json\n{"a": [1, 2]}\n```', {"a": [1, 2]}),
        ('```\n{"a": 1}\n```', {"a": 1}),
        ('Sure! Here is the JSON:\n{"a": 1}\nHope this helps.', {"a": 1}),
        ('Here you go:\n```json\n{"a": 1}\n```\nAnything else?', {"a": 1}),
        ('  \n {"a": "x"} \n', {"a": "x"}),
        ('{"a": 1}}', {"a": 1}),  # text after the document is ignored
        ('{"a": 1, "a": 2}', {"a": 2}),  # duplicate keys: the last wins
        ('{"s": "line\nbreak"}', {"s": "line\nbreak"}),  # raw control chars, as strict=False
        ("42", 42),  # a bare scalar when there is no object or array
        ('```json\n"yes"\n```', "yes"),
        ("true", True),
        ('Use [x] like this:\n```json\n{"a": 1}\n```', {"a": 1}),  # fence rescue
    ],
)
def test_invoke(text: str, expected: Any) -> None:
    assert JsonOutputParser().invoke(text) == expected


def test_invoke_message() -> None:
    assert JsonOutputParser().invoke(AIMessage('{"a": 1}')) == {"a": 1}
    assert JsonOutputParser().invoke(AIMessage([{"type": "text", "text": "[true]"}])) == [True]


async def test_ainvoke() -> None:
    assert await JsonOutputParser().ainvoke(AIMessage('```json\n{"a": 1}\n```')) == {"a": 1}
    with pytest.raises(OutputParserException, match="expected a JSON object or array"):
        await JsonOutputParser().ainvoke("no json")


def test_no_json_error_says_what_was_expected_and_what_arrived() -> None:
    text = "Sure! here is what you asked for, but not as JSON"
    with pytest.raises(OutputParserException) as info:
        JsonOutputParser().invoke(text)
    assert str(info.value) == (
        "Invalid JSON output: expected a JSON object or array; got 'Sure! here is what you "
        "asked for, but not as JSON' (error at line 1 column 1)"
    )
    assert info.value.llm_output == text
    assert info.value.observation == "expected a JSON object or array"


def test_long_bad_output_is_truncated_in_the_message_only() -> None:
    text = "Sure! " + "blah " * 100
    with pytest.raises(OutputParserException) as info:
        JsonOutputParser().invoke(text)
    assert "got 'Sure! blah blah" in str(info.value)
    assert "'..." in str(info.value)
    assert len(str(info.value)) < 200
    assert info.value.llm_output == text


def test_malformed_json_names_the_problem_and_position() -> None:
    with pytest.raises(OutputParserException) as info:
        JsonOutputParser().invoke('{"a": 1\n "b": 2}')
    assert str(info.value) == (
        "Invalid JSON output: expecting ',' delimiter; got '{\"a\": 1\\n \"b\": 2}' "
        "(error at line 2 column 2)"
    )


@pytest.mark.parametrize("text", ['{"a": 1', '{"a": "unfinished', '[1, 2', '{"a'])
def test_truncated_json_says_it_was_cut_off(text: str) -> None:
    with pytest.raises(OutputParserException, match="ends before it is complete") as info:
        JsonOutputParser().invoke(text)
    assert info.value.llm_output == text


@pytest.mark.parametrize(
    ("text", "name"),
    [('{"a": NaN}', "NaN"), ("[Infinity]", "Infinity"), ('{"a": -Infinity}', "-Infinity")],
)
def test_nan_and_infinity_are_refused(text: str, name: str) -> None:
    with pytest.raises(OutputParserException, match=f"{name} is not valid JSON"):
        JsonOutputParser().invoke(text)


@pytest.mark.parametrize("text", ['{"a": NaN}', "[1, Infinity]"])
def test_nan_is_refused_when_streamed(text: str) -> None:
    with pytest.raises(OutputParserException, match="is not valid JSON"):
        list(JsonOutputParser().transform(iter(chunks_of(text, 3))))


def test_depth_limit() -> None:
    ok = "[" * 200 + "]" * 200
    assert JsonOutputParser().invoke(ok) is not None
    deep = "[" * 201 + "]" * 201
    with pytest.raises(OutputParserException, match="nesting deeper than 200 levels"):
        JsonOutputParser().invoke(deep)
    very_deep = '{"a": ' * 100_000 + "1" + "}" * 100_000
    with pytest.raises(OutputParserException, match="nesting deeper than 200 levels"):
        JsonOutputParser().invoke(very_deep)


def test_depth_limit_counts_brackets_only_outside_strings() -> None:
    text = json.dumps({"s": "[" * 500, "v": [[1]]})
    assert JsonOutputParser().invoke(text) == {"s": "[" * 500, "v": [[1]]}


async def test_depth_limit_when_streamed(aiter_of: Any) -> None:
    deep = "[" * 300 + "]" * 300
    with pytest.raises(OutputParserException, match="nesting deeper than 200 levels"):
        list(JsonOutputParser().transform(iter(chunks_of(deep, 7))))
    with pytest.raises(OutputParserException, match="nesting deeper than 200 levels"):
        [x async for x in JsonOutputParser().atransform(aiter_of(chunks_of(deep, 7)))]


def test_huge_integer_is_an_output_parser_exception() -> None:
    with pytest.raises(OutputParserException, match="limit"):
        JsonOutputParser().invoke('{"n": ' + "9" * 5000 + "}")
    with pytest.raises(OutputParserException, match="limit"):
        list(JsonOutputParser().transform(iter(['{"n": ' + "9" * 5000, "}"])))


@pytest.mark.parametrize(
    "text",
    [
        '{"a": "\ud800"}',  # a raw lone surrogate
        '{"a": "\\ud800"}',  # an escaped lone surrogate
        '{"a": "\\udc00\\ud800"}',  # reversed pair
        '{"\udfff": 1}',
    ],
)
def test_lone_surrogates_parse_like_json_loads(text: str) -> None:
    expected = json.loads(text)
    assert JsonOutputParser().invoke(text) == expected
    assert list(JsonOutputParser().transform(iter(chunks_of(text))))[-1] == expected


@pytest.mark.parametrize(
    "text",
    [
        '{"a": "\\x"}',
        '{"a": "\\u12G4"}',
        "{'a': 1}",
        '{"a": 1,}',
        "[01]",
        '{"a" 1}',
        "[1 2]",
        "\ud800{\udfff",
        "\x00\xff{]",
    ],
)
def test_bad_json_only_raises_output_parser_exception(text: str) -> None:
    with pytest.raises(OutputParserException) as info:
        JsonOutputParser().invoke(text)
    assert info.value.llm_output == text
    str(info.value).encode("utf-8")
    with pytest.raises(OutputParserException):
        list(JsonOutputParser().transform(iter(chunks_of(text, 2))))


def test_a_json_string_with_brackets_reads_from_the_first_bracket() -> None:
    # Documented: the document starts at the first { or [, even inside a bare string.
    assert JsonOutputParser().invoke('"see [1]"') == [1]


# ---- streaming ------------------------------------------------------------------------------
def test_stream_yields_each_changed_partial_value() -> None:
    text = '{"name": "Jo\\u00e9", "n": 12.5, "ok": true, "xs": [1, {"y": null}]}'
    out = list(JsonOutputParser().transform(iter(chunks_of(text))))
    assert out == [
        {},
        {"name": ""},
        {"name": "J"},
        {"name": "Jo"},
        {"name": "Joé"},
        {"name": "Joé", "n": 1},
        {"name": "Joé", "n": 12},
        {"name": "Joé", "n": 12.5},
        {"name": "Joé", "n": 12.5, "ok": True},
        {"name": "Joé", "n": 12.5, "ok": True, "xs": []},
        {"name": "Joé", "n": 12.5, "ok": True, "xs": [1]},
        {"name": "Joé", "n": 12.5, "ok": True, "xs": [1, {}]},
        {"name": "Joé", "n": 12.5, "ok": True, "xs": [1, {"y": None}]},
    ]


def test_stream_of_message_chunks_with_fence_and_prose() -> None:
    text = 'Sure!\n```json\n{"a": [1, 2], "b": "hi"}\n```\nDone.'
    chunks = [AIMessageChunk(c) for c in chunks_of(text, 4)]
    out = list(JsonOutputParser().transform(iter(chunks)))
    assert out[0] == {"a": []} or out[0] == {}
    assert out[-1] == {"a": [1, 2], "b": "hi"}
    assert all(a != b for a, b in pairwise(out))  # only changes are yielded


async def test_astream_matches_stream(aiter_of: Any) -> None:
    text = '{"setup": "Why?", "punchline": "Because.", "tags": ["a", "b"]}'
    chunks = [AIMessageChunk(c) for c in chunks_of(text, 3)]
    sync = list(JsonOutputParser().transform(iter(chunks)))
    async_ = [x async for x in JsonOutputParser().atransform(aiter_of(chunks))]
    assert sync == async_
    assert async_[-1] == json.loads(text)
    assert [x async for x in JsonOutputParser().astream(text)] == [json.loads(text)]
    assert list(JsonOutputParser().stream(AIMessage(text))) == [json.loads(text)]


def test_partials_are_snapshots() -> None:
    out = list(JsonOutputParser().transform(iter(['{"a": [1', ", 2", "]}"])))
    assert out == [{"a": [1]}, {"a": [1, 2]}]


def test_a_number_that_turns_out_to_be_a_float_is_yielded_again() -> None:
    out = list(JsonOutputParser().transform(iter(['{"n": 1', ".0}"])))
    assert out == [{"n": 1}, {"n": 1.0}]
    assert type(out[-1]["n"]) is float


def test_truncated_stream_yields_partials_then_raises() -> None:
    seen: list[Any] = []
    with pytest.raises(OutputParserException, match="ends before it is complete") as info:
        for value in JsonOutputParser().transform(iter(['{"a": 1, ', '"b": "x'])):
            seen.append(value)
    assert seen == [{"a": 1}, {"a": 1, "b": "x"}]
    assert info.value.llm_output == '{"a": 1, "b": "x'


async def test_truncated_stream_raises_async(aiter_of: Any) -> None:
    with pytest.raises(OutputParserException, match="ends before it is complete"):
        [x async for x in JsonOutputParser().atransform(aiter_of(['{"a": ', "[1"]))]


def test_stream_without_json_raises_at_the_end() -> None:
    with pytest.raises(OutputParserException, match="expected a JSON object or array") as info:
        list(JsonOutputParser().transform(iter(["Sorry, ", "I can't."])))
    assert info.value.llm_output == "Sorry, I can't."


def test_stream_of_a_scalar_yields_it_at_the_end() -> None:
    assert list(JsonOutputParser().transform(iter(["4", "2"]))) == [42]


def test_stream_rescued_by_a_fence_ends_with_the_invoke_result() -> None:
    text = 'Use [x] like this:\n```json\n{"a": 1}\n```'
    # "[" previews as []; "x" is not JSON, so previews stop and the full parse decides.
    assert list(JsonOutputParser().transform(iter(chunks_of(text, 5)))) == [[], {"a": 1}]


def test_stream_ignores_text_after_the_document() -> None:
    out = list(JsonOutputParser().transform(iter(['{"a": 1}', " trailing ", "{junk"])))
    assert out == [{"a": 1}]


def test_empty_chunks_change_nothing() -> None:
    out = list(JsonOutputParser().transform(iter(["", '{"a"', "", ": 1}", ""])))
    assert out == [{}, {"a": 1}]


# ---- diff mode ------------------------------------------------------------------------------
def test_diff_mode_yields_json_patch_operations() -> None:
    out = list(JsonOutputParser(diff=True).transform(iter(chunks_of('{"a": "xy", "b": [1, 2]}'))))
    assert out == [
        [{"op": "replace", "path": "", "value": {}}],
        [{"op": "add", "path": "/a", "value": ""}],
        [{"op": "replace", "path": "/a", "value": "x"}],
        [{"op": "replace", "path": "/a", "value": "xy"}],
        [{"op": "add", "path": "/b", "value": []}],
        [{"op": "add", "path": "/b/0", "value": 1}],
        [{"op": "add", "path": "/b/1", "value": 2}],
    ]


async def test_diff_mode_patches_rebuild_the_value(aiter_of: Any) -> None:
    doc = {"a/b": {"c~": [1, {"d": "text"}]}, "e": [True, None, 2.5], "f": "x"}
    text = json.dumps(doc)
    state: Any = None
    async for ops in JsonOutputParser(diff=True).atransform(aiter_of(chunks_of(text, 3))):
        state = jsonpatch.apply_patch(state, ops)
    assert state == doc


def test_diff_mode_yields_every_change_of_a_large_document() -> None:
    text = json.dumps({"items": [{"id": i, "name": f"n{i}"} for i in range(1500)]})
    chunks = chunks_of(text, 3)
    patches = list(JsonOutputParser(diff=True).transform(iter(chunks)))
    values = list(JsonOutputParser().transform(iter(chunks)))
    assert len(patches) > 1.5 * len(values)  # values are spaced out in a large document
    state: Any = None
    pending = iter(values)  # the values are some of the states the patches build
    value = next(pending)
    for ops in patches:
        assert ops  # only changes
        for op in ops:  # each operation is about the item being written, not the array
            assert op["op"] != "remove"
            assert op["path"] == "" if state is None else op["path"].startswith("/items")
        state = jsonpatch.apply_patch(state, ops, in_place=True)
        if len(state.get("items", ())) == len(value.get("items", ())) and state == value:
            value = next(pending, None)
    assert state == json.loads(text)
    assert value is None


def test_diff_mode_follows_the_values_exactly() -> None:
    text = '{"a": [1, {"b": "xy", "c": [true, 2.5]}], "d": {}, "e": "z"}'
    for size in (1, 2, 5):
        chunks = chunks_of(text, size)
        values = list(JsonOutputParser().transform(iter(chunks)))
        state: Any = None
        for ops, value in zip(
            JsonOutputParser(diff=True).transform(iter(chunks)), values, strict=True
        ):
            state = jsonpatch.apply_patch(state, ops)
            assert state == value


def test_diff_mode_with_a_repeated_key() -> None:
    chunks = ['{"a": [1], "b": 2', ', "a": ', '"x', '"}']
    assert list(JsonOutputParser().transform(iter(chunks))) == [
        {"a": [1], "b": 2}, {"a": "x", "b": 2}
    ]
    assert list(JsonOutputParser(diff=True).transform(iter(chunks))) == [
        [{"op": "replace", "path": "", "value": {"a": [1], "b": 2}}],
        [{"op": "replace", "path": "/a", "value": "x"}],
    ]


def test_a_piece_that_breaks_the_json_yields_nothing_new() -> None:
    for diff in (False, True):
        seen: list[Any] = []
        with pytest.raises(OutputParserException, match="expecting ',' delimiter"):
            for value in JsonOutputParser(diff=diff).transform(iter(["[1", ", 2x", "]"])):
                seen.append(value)
        assert seen == ([[1]] if not diff else [[{"op": "replace", "path": "", "value": [1]}]])


def test_json_patch_handles_removals_and_type_changes() -> None:
    prev = {"a": [1, 2, 3], "b": 1, "c": "x"}
    new = {"a": [1], "b": 1.0, "d": {}}
    assert jsonpatch.apply_patch(prev, json_patch(prev, new)) == new
    assert {"op": "replace", "path": "/b", "value": 1.0} in json_patch(prev, new)


# ---- the rest of the parser API ------------------------------------------------------------
def test_parse_result_partial() -> None:
    parser = JsonOutputParser()
    assert parser.parse_result([Generation(text='{"a": [1, "x')], partial=True) == {"a": [1, "x"]}
    assert parser.parse_result([Generation(text="nothing")], partial=True) is None
    assert parser.parse_result([Generation(text='{"a": NaN')], partial=True) is None
    with pytest.raises(OutputParserException):
        parser.parse_result([Generation(text='{"a": [1')])


def test_format_instructions() -> None:
    assert JsonOutputParser().get_format_instructions() == "Return a JSON object."
    text = JsonOutputParser(pydantic_object=Joke).get_format_instructions()
    assert text.startswith("STRICT OUTPUT FORMAT:")
    schema = json.loads(text.rsplit("```\n", 1)[1].split("\n```")[0])
    assert "title" not in schema and "type" not in schema
    assert schema["required"] == ["setup", "punchline"]
    assert schema["properties"]["setup"]["description"] == "question to set up a joke"


def test_constructor_checks_the_model() -> None:
    with pytest.raises(TypeError, match="pydantic_object must be a pydantic BaseModel subclass"):
        JsonOutputParser(pydantic_object=dict)  # type: ignore[arg-type]


def test_repr_and_type() -> None:
    assert repr(JsonOutputParser()) == "JsonOutputParser()"
    assert repr(JsonOutputParser(pydantic_object=Joke, diff=True)) == (
        "JsonOutputParser(pydantic_object=Joke, diff=True)"
    )
    assert JsonOutputParser()._type == "simple_json_output_parser"


def test_subclass_overriding_parse_is_used_by_invoke() -> None:
    class Wrapped(JsonOutputParser):
        def parse(self, text: str) -> Any:
            return {"wrapped": super().parse(text)}

    assert Wrapped().invoke("[1]") == {"wrapped": [1]}


def test_loads_json_output_is_the_invoke_parse() -> None:
    assert loads_json_output('x {"a": 1} y') == {"a": 1}


async def test_stream_events_report_each_partial_as_a_parser_stream() -> None:
    from chainkit.runnables import RunnableLambda

    def model(_: Any) -> Any:
        yield from (AIMessageChunk(t) for t in ['{"a"', ": [1", "]}"])

    chain = RunnableLambda(model) | JsonOutputParser()
    events = [e async for e in chain.astream_events("q", version="v2")]
    parser_events = [(e["event"], e["data"]) for e in events if e["name"] == "JsonOutputParser"]
    assert parser_events[0] == ("on_parser_start", {})
    assert [d["chunk"] for ev, d in parser_events if ev == "on_parser_stream"] == [{}, {"a": [1]}]
    assert parser_events[-1][0] == "on_parser_end"
    assert parser_events[-1][1]["output"] == {"a": [1]}


_JSONISH = st.lists(
    st.sampled_from(
        [*'{}[]":,0123456789.-+eE \n\\uNIx`', '"a"', '"b":', "true", "null", "1.5",
         "\\ud83d", "\\ude00", "```json\n", "Sure! "]
    ),
    max_size=14,
).map("".join)


def _outcome(run: Any) -> tuple[str, str]:
    try:
        return "ok", repr(run())
    except OutputParserException:
        return "error", ""


@settings(max_examples=400, deadline=None)
@given(_JSONISH, st.lists(st.integers(min_value=0, max_value=20), max_size=4))
def test_a_stream_ends_exactly_as_invoke(text: str, cuts: list[int]) -> None:
    """The last value streamed is invoke's result (same repr), or both raise."""
    bounds = [0, *sorted(c % (len(text) + 1) for c in cuts), len(text)]
    chunks = [text[a:b] for a, b in pairwise(bounds)]
    expected = _outcome(lambda: JsonOutputParser().invoke(text))
    assert _outcome(lambda: list(JsonOutputParser().transform(iter(chunks)))[-1]) == expected
