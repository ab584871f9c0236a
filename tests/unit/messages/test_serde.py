"""Messages as {"type", "data"} dicts, and the AnyMessage union."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from chainkit.messages import (
    AIMessage,
    AIMessageChunk,
    AnyMessage,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    HumanMessageChunk,
    SystemMessage,
    ToolMessage,
    message_to_dict,
    messages_from_dict,
    messages_to_dict,
    tool_call,
    tool_call_chunk,
)

MESSAGES: list[BaseMessage] = [
    SystemMessage("Be brief.", id="s"),
    HumanMessage(["hi", {"type": "image_url", "image_url": {"url": "u"}}], name="bob"),
    AIMessage("", tool_calls=[tool_call(name="f", args={"a": 1}, id="c1")],
              usage_metadata={"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}),
    ToolMessage("42", tool_call_id="c1", artifact={"raw": 42}, status="error"),
    FunctionMessage("21", name="temp"),
    ChatMessage("ok", role="reviewer"),
    AIMessageChunk("", tool_call_chunks=[tool_call_chunk(name="f", args='{"a": 1}', index=0)],
                   chunk_position="last"),
    HumanMessageChunk("hel"),
]


def test_message_to_dict_shape() -> None:
    assert message_to_dict(HumanMessage("hi")) == {
        "type": "human",
        "data": {"content": "hi", "additional_kwargs": {}, "response_metadata": {},
                 "type": "human", "name": None, "id": None},
    }


def test_round_trip() -> None:
    assert messages_from_dict(messages_to_dict(MESSAGES)) == MESSAGES


def test_unknown_type_names_the_index_and_choices() -> None:
    with pytest.raises(ValueError, match=r"message at index 1: unknown type 'os.system'; "
                                         r"expected one of \['AIMessageChunk'"):
        messages_from_dict([message_to_dict(HumanMessage("x")),
                            {"type": "os.system", "data": {}}])


@pytest.mark.parametrize("item", [{"data": {}}, {"type": "human"}, "human"])
def test_malformed_items_are_value_errors(item: object) -> None:
    with pytest.raises(ValueError, match=r"cannot load message at index 0: expected a"):
        messages_from_dict([item])  # type: ignore[list-item]


class Thread(BaseModel):
    messages: list[AnyMessage]


def test_any_message_picks_the_class_by_type() -> None:
    thread = Thread.model_validate({"messages": [
        {"type": "human", "content": "hi"},
        {"type": "ai", "content": "yo"},
        {"type": "AIMessageChunk", "content": "y"},
        ToolMessage("1", tool_call_id="c"),
    ]})
    assert [type(m) for m in thread.messages] == [HumanMessage, AIMessage, AIMessageChunk,
                                                  ToolMessage]
    assert Thread.model_validate_json(thread.model_dump_json()) == thread
