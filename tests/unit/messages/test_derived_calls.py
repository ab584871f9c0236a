"""An AI chunk's tool calls are parsed from its tool call chunks on first read, not per merge.

Whatever way they are read (attribute, ==, repr, dumps, copies, conversion), the result is the
one parsing at construction gives.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

import chainkit.messages._derived_calls as derived
from chainkit.messages import (
    AIMessage,
    AIMessageChunk,
    AnyMessage,
    message_chunk_to_message,
    messages_from_dict,
    messages_to_dict,
    tool_call,
    tool_call_chunk,
)
from chainkit.messages._derived_calls import PendingToolCalls, parse_tool_call_chunks
from chainkit.messages._partial_json import parse_partial_json


def stream(args: str, *, size: int = 3, name: str = "f", call_id: str = "c1") -> AIMessageChunk:
    """``args`` streamed in ``size``-character pieces, merged with ``+`` one at a time."""
    total = AIMessageChunk("", tool_call_chunks=[
        tool_call_chunk(name=name, args="", id=call_id, index=0)])
    for start in range(0, len(args), size):
        total = total + AIMessageChunk("", tool_call_chunks=[
            tool_call_chunk(args=args[start:start + size], index=0)])
    return total


def is_pending(chunk: AIMessageChunk) -> bool:
    return type(chunk.__dict__["tool_calls"]) is PendingToolCalls


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The argument texts parsed, in order."""
    seen: list[str] = []
    real = parse_partial_json

    def counting(text: str) -> Any:
        seen.append(text)
        return real(text)

    monkeypatch.setattr(derived, "parse_partial_json", counting)
    return seen


def test_merging_parses_nothing_and_the_first_read_parses_once(parses: list[str]) -> None:
    total = stream(json.dumps({"items": list(range(50))}))
    assert parses == [] and is_pending(total)
    assert total.tool_calls == [tool_call(name="f", args={"items": list(range(50))}, id="c1")]
    assert total.invalid_tool_calls == []
    assert total.tool_calls is total.tool_calls
    assert parses == [json.dumps({"items": list(range(50))})]
    assert not is_pending(total)


def test_a_shared_prefix_merged_two_ways_gives_two_independent_results() -> None:
    a = stream('{"city": "Par')
    b1 = AIMessageChunk("", tool_call_chunks=[tool_call_chunk(args='is"}', index=0)])
    b2 = AIMessageChunk("", tool_call_chunks=[tool_call_chunk(args="ma", index=0)])
    ab1, ab2 = a + b1, a + b2
    assert ab2.tool_calls[0]["args"] == {"city": "Parma"}
    assert ab1.tool_calls[0]["args"] == {"city": "Paris"}
    assert a.tool_calls[0]["args"] == {"city": "Par"}
    ab1.tool_calls[0]["args"]["extra"] = 1  # the lists belong to one message
    assert ab2.tool_calls[0]["args"] == {"city": "Parma"}
    assert (a + b1).tool_calls[0]["args"] == {"city": "Paris"}


def test_equality_does_not_depend_on_what_was_read() -> None:
    args = '{"q": "weather", "days": [1, 2]}'
    pending, read = stream(args), stream(args)
    read.tool_calls  # noqa: B018
    direct = AIMessageChunk("", tool_call_chunks=[
        tool_call_chunk(name="f", args=args, id="c1", index=0)])
    assert pending == read and read == pending
    assert stream(args) == stream(args) == direct
    assert pending != stream(args[:-1])
    assert pending.model_copy(update={"id": "other"}) != read
    assert is_pending(pending)  # comparing needed no parse stored in the message


def test_equality_inside_another_model() -> None:
    class Box(BaseModel):
        message: AnyMessage

    args = '{"a": [1, {"b": "c"}]}'
    assert Box(message=stream(args)) == Box(message=stream(args, size=5))
    assert Box(message=stream(args)) != Box(message=stream('{"a": 2}'))


def test_dumps_give_the_parsed_calls() -> None:
    args = '{"q": "wea'
    pending, read = stream(args), stream(args)
    read.tool_calls  # noqa: B018
    assert pending.model_dump() == read.model_dump()
    assert pending.model_dump()["tool_calls"] == [
        tool_call(name="f", args={"q": "wea"}, id="c1")]
    assert stream(args).model_dump_json() == read.model_dump_json()
    assert stream(args).model_dump(exclude_unset=True) == read.model_dump(exclude_unset=True)
    assert "tool_calls" in stream(args).model_dump(exclude_unset=True)
    assert set(stream(args).model_fields_set) >= {"tool_calls", "invalid_tool_calls"}
    assert stream(args).model_dump(include={"invalid_tool_calls"}) == {"invalid_tool_calls": []}


def test_dumps_inside_another_model_and_serde_round_trip() -> None:
    class Box(BaseModel):
        message: AnyMessage

    args = '{"a": [1, 2'
    dumped = Box(message=stream(args)).model_dump(mode="json")
    assert dumped["message"]["tool_calls"][0]["args"] == {"a": [1, 2]}
    assert Box.model_validate(dumped).message == stream(args)
    [loaded] = messages_from_dict(messages_to_dict([stream(args)]))
    assert loaded == stream(args)
    assert messages_to_dict([stream(args)])[0]["data"]["tool_calls"][0]["args"] == {"a": [1, 2]}


@pytest.mark.parametrize("args", ["not json", "[1, 2]", '"text"', "{}}", '{"a": 1}}'])
def test_invalid_arguments_read_lazily_are_invalid_tool_calls(args: str) -> None:
    expected = [{"name": "f", "args": args, "id": "c1", "error": None,
                 "type": "invalid_tool_call"}]
    assert stream(args).invalid_tool_calls == expected
    assert stream(args).tool_calls == []
    assert stream(args).model_dump()["invalid_tool_calls"] == expected
    assert stream(args) == AIMessageChunk("", tool_call_chunks=[
        tool_call_chunk(name="f", args=args, id="c1", index=0)])


def test_valid_and_invalid_calls_in_one_message() -> None:
    total = AIMessageChunk("", tool_call_chunks=[
        tool_call_chunk(name="f", args='{"a"', id="1", index=0),
        tool_call_chunk(name="g", args="[", id="2", index=1)])
    total = total + AIMessageChunk("", tool_call_chunks=[
        tool_call_chunk(args=": 1}", index=0), tool_call_chunk(args="1]", index=1)])
    assert total.tool_calls == [tool_call(name="f", args={"a": 1}, id="1")]
    assert [c["args"] for c in total.invalid_tool_calls] == ["[1]"]


def test_repr_and_pretty_repr_show_the_parsed_calls() -> None:
    read = stream('{"a": 1}')
    read.tool_calls  # noqa: B018
    assert repr(stream('{"a": 1}')) == repr(read)
    assert "tool_calls=[{'name': 'f', 'args': {'a': 1}" in repr(stream('{"a": 1}'))
    assert "a: 1" in stream('{"a": 1}').pretty_repr()


def test_copies_keep_the_calls_of_their_source() -> None:
    source = stream('{"a": [1')
    assert source.model_copy().tool_calls[0]["args"] == {"a": [1]}
    assert copy.deepcopy(source).tool_calls[0]["args"] == {"a": [1]}
    assert copy.copy(source) == source
    # As when parsed at construction: a copy with other chunks keeps the derived calls.
    updated = stream('{"a": [1').model_copy(update={"tool_call_chunks": []})
    assert updated.tool_calls[0]["args"] == {"a": [1]}
    deep = copy.deepcopy(source)
    deep.tool_calls[0]["args"]["a"].append(2)
    assert source.tool_calls[0]["args"] == {"a": [1]}


def test_later_edits_to_the_chunks_do_not_change_the_calls() -> None:
    total = stream('{"a": 1}')
    total.tool_call_chunks[0]["args"] = "[broken"
    total.tool_call_chunks.append(tool_call_chunk(name="g", args="{}", id="2", index=1))
    assert total.tool_calls == [tool_call(name="f", args={"a": 1}, id="c1")]
    assert total.invalid_tool_calls == []


def test_assigning_the_calls_replaces_only_that_field() -> None:
    total = stream("oops")
    total.tool_calls = [tool_call(name="g", args={}, id="2")]
    assert total.tool_calls == [tool_call(name="g", args={}, id="2")]
    assert [c["args"] for c in total.invalid_tool_calls] == ["oops"]
    assert total.model_dump()["tool_calls"] == [tool_call(name="g", args={}, id="2")]


def test_dict_and_state_hold_lists() -> None:
    assert dict(stream('{"a": 1}'))["tool_calls"] == [tool_call(name="f", args={"a": 1}, id="c1")]
    state = stream('{"a": 1}').__getstate__()
    assert state["__dict__"]["tool_calls"] == [tool_call(name="f", args={"a": 1}, id="c1")]
    assert type(state["__dict__"]["invalid_tool_calls"]) is list


def test_converting_a_stream_to_a_message_gives_parsed_calls() -> None:
    message = message_chunk_to_message(stream('{"a": {"b": [1, 2]}}') + AIMessageChunk("!"))
    assert type(message) is AIMessage
    assert message.tool_calls == [tool_call(name="f", args={"a": {"b": [1, 2]}}, id="c1")]
    assert type(message.tool_calls) is list and message.content == "!"


def test_a_directly_built_chunk_exposes_its_calls() -> None:
    chunk = AIMessageChunk("", tool_call_chunks=[
        tool_call_chunk(name="f", args='{"a": "b', id="1", index=0)])
    assert chunk.tool_calls == [tool_call(name="f", args={"a": "b"}, id="1")]
    assert AIMessageChunk("hi").tool_calls == []
    assert not is_pending(AIMessageChunk("hi"))


def test_the_class_attribute_stays_absent_so_subclasses_keep_the_field_default() -> None:
    assert not hasattr(AIMessageChunk, "tool_calls")

    class TaggedChunk(AIMessageChunk):
        tag: str = ""

    empty = TaggedChunk(content="")
    assert empty.tool_calls == [] and empty.invalid_tool_calls == []
    assert TaggedChunk.model_fields["tool_calls"].default_factory is list
    total = TaggedChunk(content="", tool_call_chunks=[
        tool_call_chunk(name="f", args='{"a"', id="1", index=0)]) + TaggedChunk(
        content="", tool_call_chunks=[tool_call_chunk(args=": 2}", index=0)])
    assert type(total) is TaggedChunk
    assert total.tool_calls == [tool_call(name="f", args={"a": 2}, id="1")]


def test_the_serialisation_schema_is_the_field_schema() -> None:
    pairs = [
        (AIMessageChunk.model_json_schema(mode="serialization"),
         AIMessage.model_json_schema(mode="serialization")),
        (AIMessageChunk.model_json_schema(), AIMessage.model_json_schema()),
    ]
    for chunk, message in pairs:
        for field in ("tool_calls", "invalid_tool_calls"):
            assert chunk["properties"][field] == message["properties"][field], field


def test_a_pending_value_reads_as_its_list() -> None:
    calls, invalid = derived.pending_tool_calls([
        tool_call_chunk(name="f", args='{"a": 1', id="1"),
        tool_call_chunk(name="g", args="x", id="2")])
    assert calls == [tool_call(name="f", args={"a": 1}, id="1")]
    assert [tool_call(name="f", args={"a": 1}, id="1")] == calls
    assert calls != invalid and calls != []
    assert repr(calls) == repr([tool_call(name="f", args={"a": 1}, id="1")])
    assert calls.value() is calls.value()


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    st.one_of(
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=5),
            lambda inner: st.lists(inner, max_size=3)
            | st.dictionaries(st.text(max_size=3), inner, max_size=3),
            max_leaves=8,
        ).map(json.dumps),
        st.text(max_size=30),
    ),
    st.data(),
)
def test_any_split_reads_as_parsing_the_whole_text(args: str, data: st.DataObject) -> None:
    cut = data.draw(st.integers(0, len(args)))
    size = data.draw(st.integers(1, 8))
    total = stream(args[:cut], size=size)
    expected = parse_tool_call_chunks([("f", args[:cut], "c1")])
    assert (total.tool_calls, total.invalid_tool_calls) == expected
