"""AIMessage, AIMessageChunk and usage: tool calls, chunk merging, usage sums."""

from __future__ import annotations

import pytest

from chainkit.messages import (
    AIMessage,
    AIMessageChunk,
    HumanMessageChunk,
    UsageMetadata,
    add_ai_message_chunks,
    add_usage,
    tool_call,
    tool_call_chunk,
)


def usage(i: int, o: int) -> UsageMetadata:
    return {"input_tokens": i, "output_tokens": o, "total_tokens": i + o}


def test_defaults() -> None:
    message = AIMessage("hi")
    assert message.type == "ai"
    assert message.tool_calls == [] and message.invalid_tool_calls == []
    assert message.usage_metadata is None


def test_tool_calls_get_their_type_without_mutating_the_input() -> None:
    given = {"name": "f", "args": {"a": 1}, "id": "1"}
    message = AIMessage("", tool_calls=[given])
    assert message.tool_calls == [{"name": "f", "args": {"a": 1}, "id": "1", "type": "tool_call"}]
    assert "type" not in given
    bad = AIMessage("", invalid_tool_calls=[{"name": "f", "args": "{", "id": "1", "error": None}])
    assert bad.invalid_tool_calls[0]["type"] == "invalid_tool_call"


def test_raw_openai_tool_calls_in_additional_kwargs_are_parsed() -> None:
    raw = [
        {"id": "1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}},
        {"id": "2", "type": "function", "function": {"name": "g", "arguments": "{oops"}},
    ]
    message = AIMessage("", additional_kwargs={"tool_calls": raw})
    assert message.tool_calls == [tool_call(name="f", args={"a": 1}, id="1")]
    assert [(c["name"], c["args"], c["id"]) for c in message.invalid_tool_calls] == [
        ("g", "{oops", "2")
    ]


def test_usage_metadata_keeps_token_details() -> None:
    full: UsageMetadata = {**usage(1, 2), "input_token_details": {"cache_read": 1},
                           "output_token_details": {"reasoning": 2}}
    assert AIMessage("", usage_metadata=full).usage_metadata == full


def test_add_usage_sums_counts_and_details() -> None:
    left: UsageMetadata = {**usage(1, 2), "input_token_details": {"cache_read": 1}}
    right: UsageMetadata = {**usage(3, 4), "input_token_details": {"cache_read": 2, "audio": 5}}
    assert add_usage(left, right) == {
        **usage(4, 6), "input_token_details": {"cache_read": 3, "audio": 5},
    }
    assert add_usage(None, left) == left
    assert add_usage(left, None) == left
    assert add_usage(None, None) == usage(0, 0)


def test_pretty_repr_lists_tool_calls() -> None:
    message = AIMessage("", tool_calls=[tool_call(name="search", args={"q": "x"}, id="c1")])
    assert message.pretty_repr() == (
        "================================== Ai Message ==================================\n"
        "Tool Calls:\n  search (c1)\n Call ID: c1\n  Args:\n    q: x"
    )


# --- chunks ---------------------------------------------------------------------------------


def test_chunk_is_an_ai_message_with_its_own_type() -> None:
    chunk = AIMessageChunk("x")
    assert isinstance(chunk, AIMessage)
    assert chunk.type == "AIMessageChunk"
    assert chunk.tool_call_chunks == [] and chunk.chunk_position is None


def test_content_concatenates() -> None:
    assert (AIMessageChunk("Hel") + AIMessageChunk("lo")).content == "Hello"
    blocks = AIMessageChunk([{"index": 0, "type": "text", "text": "a"}]) + AIMessageChunk(
        [{"index": 0, "type": "text", "text": "b"}]
    )
    assert blocks.content == [{"index": 0, "type": "text", "text": "ab"}]


def test_adding_a_list_merges_in_order() -> None:
    total = AIMessageChunk("a") + [AIMessageChunk("b"), AIMessageChunk("c")]  # noqa: RUF005
    assert total == AIMessageChunk("abc")
    assert add_ai_message_chunks(AIMessageChunk("a"), AIMessageChunk("b")) == AIMessageChunk("ab")


def test_tool_call_chunks_merge_by_index() -> None:
    stream = [
        AIMessageChunk("", tool_call_chunks=[
            tool_call_chunk(name="search", args="", id="c1", index=0)]),
        AIMessageChunk("", tool_call_chunks=[tool_call_chunk(args='{"q": "wea', index=0)]),
        AIMessageChunk("", tool_call_chunks=[
            tool_call_chunk(args='ther"}', index=0),
            tool_call_chunk(name="clock", args="{}", id="c2", index=1)]),
    ]
    total = stream[0] + stream[1:]
    assert total.tool_call_chunks == [
        tool_call_chunk(name="search", args='{"q": "weather"}', id="c1", index=0),
        tool_call_chunk(name="clock", args="{}", id="c2", index=1),
    ]
    assert total.tool_calls == [
        tool_call(name="search", args={"q": "weather"}, id="c1"),
        tool_call(name="clock", args={}, id="c2"),
    ]
    assert total.invalid_tool_calls == []


def test_tool_calls_are_derived_from_partial_json_mid_stream() -> None:
    chunk = AIMessageChunk("", tool_call_chunks=[
        tool_call_chunk(name="search", args='{"q": "wea', id="c1", index=0)])
    assert chunk.tool_calls == [tool_call(name="search", args={"q": "wea"}, id="c1")]


def test_name_only_chunk_is_a_call_with_empty_args() -> None:
    chunk = AIMessageChunk("", tool_call_chunks=[tool_call_chunk(name="f", id="c1", index=0)])
    assert chunk.tool_calls == [tool_call(name="f", args={}, id="c1")]


@pytest.mark.parametrize("args", ["not json", "[1, 2]", '"text"', "{}}"])
def test_args_that_are_not_a_json_object_make_invalid_tool_calls(args: str) -> None:
    chunk = AIMessageChunk("", tool_call_chunks=[
        tool_call_chunk(name="f", args=args, id="c1", index=0)])
    assert chunk.tool_calls == []
    assert chunk.invalid_tool_calls == [
        {"name": "f", "args": args, "id": "c1", "error": None, "type": "invalid_tool_call"}
    ]


def test_chunk_built_from_tool_calls_gets_matching_chunks() -> None:
    chunk = AIMessageChunk("", tool_calls=[{"name": "f", "args": {"a": 1}, "id": "c1"}])
    assert chunk.tool_call_chunks == [tool_call_chunk(name="f", args='{"a": 1}', id="c1")]
    assert chunk.tool_calls == [tool_call(name="f", args={"a": 1}, id="c1")]


def test_raw_openai_deltas_become_tool_call_chunks() -> None:
    first = AIMessageChunk("", additional_kwargs={"tool_calls": [
        {"index": 0, "id": "c1", "function": {"name": "f", "arguments": '{"a"'}}]})
    second = AIMessageChunk("", additional_kwargs={"tool_calls": [
        {"index": 0, "function": {"arguments": ": 1}"}}]})
    assert first.tool_call_chunks == [tool_call_chunk(name="f", args='{"a"', id="c1", index=0)]
    assert (first + second).tool_calls == [tool_call(name="f", args={"a": 1}, id="c1")]


def test_usage_is_summed_and_none_is_zero() -> None:
    total = AIMessageChunk("a") + [  # noqa: RUF005
        AIMessageChunk("b", usage_metadata=usage(1, 2)),
        AIMessageChunk("c"),
        AIMessageChunk("d", usage_metadata=usage(0, 3)),
    ]
    assert total.usage_metadata == usage(1, 5)
    assert (AIMessageChunk("a") + AIMessageChunk("b")).usage_metadata is None


def test_metadata_merges_recursively() -> None:
    left = AIMessageChunk("", additional_kwargs={"function_call": {"name": "f", "arguments": "{"}},
                          response_metadata={"model_name": "m", "logprobs": {"content": [1]}})
    right = AIMessageChunk("", additional_kwargs={"function_call": {"arguments": "}"}},
                           response_metadata={"finish_reason": "stop",
                                              "logprobs": {"content": [2]}})
    total = left + right
    assert total.additional_kwargs == {"function_call": {"name": "f", "arguments": "{}"}}
    assert total.response_metadata == {
        "model_name": "m", "logprobs": {"content": [1, 2]}, "finish_reason": "stop",
    }


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        ([None, "chatcmpl-1"], "chatcmpl-1"),
        (["run-abc", "chatcmpl-1"], "chatcmpl-1"),
        (["lc_run-abc", None], "lc_run-abc"),
        (["chatcmpl-1", "chatcmpl-2"], "chatcmpl-1"),
        ([None, None], None),
    ],
)
def test_id_prefers_the_first_provider_id(ids: list[str | None], expected: str | None) -> None:
    first, second = (AIMessageChunk("", id=i) for i in ids)
    assert (first + second).id == expected


def test_chunk_position_last_sticks() -> None:
    last = AIMessageChunk("", chunk_position="last")
    assert (AIMessageChunk("a") + last).chunk_position == "last"
    assert (AIMessageChunk("a") + AIMessageChunk("b")).chunk_position is None


def test_adding_another_chunk_type_is_a_type_error_naming_both() -> None:
    with pytest.raises(TypeError, match="cannot add AIMessageChunk and HumanMessageChunk"):
        AIMessageChunk("a") + HumanMessageChunk("b")
    with pytest.raises(TypeError, match="cannot add HumanMessageChunk and AIMessageChunk"):
        HumanMessageChunk("a") + [AIMessageChunk("b")]  # noqa: RUF005
    with pytest.raises(TypeError, match="cannot add AIMessageChunk and AIMessage"):
        AIMessageChunk("a") + [AIMessage("b")]  # type: ignore[list-item]  # noqa: RUF005


def test_adding_a_non_chunk_is_the_usual_operand_error() -> None:
    with pytest.raises(TypeError, match="unsupported operand"):
        AIMessageChunk("a") + 1  # type: ignore[operator]


def test_adding_does_not_mutate_the_operands() -> None:
    left = AIMessageChunk(["a"], additional_kwargs={"k": "x"})
    right = AIMessageChunk("b", additional_kwargs={"k": "y"})
    left + right
    assert left == AIMessageChunk(["a"], additional_kwargs={"k": "x"})
