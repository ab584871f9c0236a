"""ToolMessage and the tool call dicts, factories and parsers."""

from __future__ import annotations

from uuid import UUID

import pytest

from chainkit.messages import (
    ToolMessage,
    ToolMessageChunk,
    default_tool_chunk_parser,
    default_tool_parser,
    invalid_tool_call,
    tool_call,
    tool_call_chunk,
)


def test_factories_set_the_type() -> None:
    assert tool_call(name="f", args={}, id=None) == {
        "name": "f", "args": {}, "id": None, "type": "tool_call",
    }
    assert tool_call_chunk() == {
        "name": None, "args": None, "id": None, "index": None, "type": "tool_call_chunk",
    }
    assert invalid_tool_call(error="e") == {
        "name": None, "args": None, "id": None, "error": "e", "type": "invalid_tool_call",
    }


def test_default_tool_parser() -> None:
    calls, invalid = default_tool_parser([
        {"id": "1", "function": {"name": "f", "arguments": '{"a": 1}'}},
        {"id": "2", "function": {"name": "g", "arguments": ""}},
        {"id": "3", "function": {"name": "h", "arguments": "{bad"}},
        {"id": "4", "function": {"name": "i", "arguments": "[1]"}},
        {"id": "5", "type": "custom"},
    ])
    assert calls == [
        tool_call(name="f", args={"a": 1}, id="1"),
        tool_call(name="g", args={}, id="2"),
    ]
    assert [(c["id"], c["args"]) for c in invalid] == [("3", "{bad"), ("4", "[1]")]
    assert invalid[0]["error"] is not None and "not valid JSON" in invalid[0]["error"]
    assert invalid[1]["error"] == "arguments must be a JSON object, got list"


def test_default_tool_chunk_parser() -> None:
    assert default_tool_chunk_parser([
        {"index": 0, "id": "1", "function": {"name": "f", "arguments": "{"}},
        {"index": 1},
    ]) == [
        tool_call_chunk(name="f", args="{", id="1", index=0),
        tool_call_chunk(index=1),
    ]


def test_tool_message_fields() -> None:
    message = ToolMessage("ok", tool_call_id="c1")
    assert (message.type, message.status, message.artifact) == ("tool", "success", None)
    assert ToolMessage("x", tool_call_id="c1", status="error", artifact={"raw": 1}).artifact == {
        "raw": 1
    }


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (42, "42"),
        (None, "None"),
        ({"a": 1}, "{'a': 1}"),
        ((1, "b", {"c": 2}), ["1", "b", {"c": 2}]),
    ],
)
def test_tool_content_is_coerced(content: object, expected: object) -> None:
    assert ToolMessage(content, tool_call_id="1").content == expected


def test_tool_call_id_is_coerced() -> None:
    uid = UUID(int=1)
    assert ToolMessage("x", tool_call_id=uid).tool_call_id == str(uid)
    assert ToolMessage("x", tool_call_id=3).tool_call_id == "3"


def test_tool_call_id_is_required() -> None:
    with pytest.raises(ValueError, match="tool_call_id"):
        ToolMessage("x")


def test_tool_chunks_merge_content_artifact_and_status() -> None:
    total = ToolMessageChunk("a", tool_call_id="1", artifact=[1]) + ToolMessageChunk(
        "b", tool_call_id="1", artifact=[2], status="error"
    )
    assert total == ToolMessageChunk("ab", tool_call_id="1", artifact=[1, 2], status="error")


def test_tool_chunks_with_different_call_ids_do_not_merge() -> None:
    with pytest.raises(TypeError, match=r"ToolMessageChunk\(tool_call_id='1'\) and "
                                        r"ToolMessageChunk\(tool_call_id='2'\)"):
        ToolMessageChunk("a", tool_call_id="1") + ToolMessageChunk("b", tool_call_id="2")
