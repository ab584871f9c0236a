"""Coercion of message-likes, OpenAI dicts, buffer strings and chunk-to-message."""

from __future__ import annotations

from typing import Any

import pytest

from chainkit.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    ChatMessageChunk,
    FunctionMessage,
    FunctionMessageChunk,
    HumanMessage,
    HumanMessageChunk,
    MessageLikeRepresentation,
    SystemMessage,
    ToolMessage,
    ToolMessageChunk,
    convert_to_messages,
    convert_to_openai_messages,
    get_buffer_string,
    invalid_tool_call,
    message_chunk_to_message,
    message_to_openai_dict,
    openai_dict_to_message,
    tool_call,
    tool_call_chunk,
)

EXPECTED = (
    "expected a BaseMessage, str, (role, content) tuple or {'role': ..., 'content': ...} dict"
)
DEV = {"__openai_role__": "developer"}


class FakePromptValue:
    def to_messages(self) -> list[BaseMessage]:
        return [SystemMessage("s"), HumanMessage("h")]


# --- convert_to_messages: accepted shapes ---------------------------------------------------


def test_messages_pass_through_unchanged() -> None:
    message = HumanMessage("hi")
    assert convert_to_messages([message])[0] is message
    assert convert_to_messages(message) == [message]


def test_a_str_is_a_human_message() -> None:
    assert convert_to_messages("hi") == [HumanMessage("hi")]
    assert convert_to_messages(["hi", "yo"]) == [HumanMessage("hi"), HumanMessage("yo")]


def test_prompt_values_are_duck_typed() -> None:
    assert convert_to_messages(FakePromptValue()) == [SystemMessage("s"), HumanMessage("h")]


@pytest.mark.parametrize(
    ("pair", "expected"),
    [
        (("system", "s"), SystemMessage("s")),
        (("developer", "d"), SystemMessage("d", additional_kwargs=DEV)),
        (("human", "h"), HumanMessage("h")),
        (("user", "u"), HumanMessage("u")),
        (("ai", "a"), AIMessage("a")),
        (("assistant", "a"), AIMessage("a")),
        (("critic", "c"), ChatMessage("c", role="critic")),
        (["human", "list pair"], HumanMessage("list pair")),
        (("human", [{"type": "text", "text": "t"}]), HumanMessage([{"type": "text", "text": "t"}])),
    ],
)
def test_role_content_pairs(pair: Any, expected: BaseMessage) -> None:
    assert convert_to_messages([pair]) == [expected]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"role": "user", "content": "u"}, HumanMessage("u")),
        ({"role": "system", "content": "s", "name": "n"}, SystemMessage("s", name="n")),
        ({"role": "developer", "content": "d"}, SystemMessage("d", additional_kwargs=DEV)),
        ({"role": "assistant", "content": None}, AIMessage("")),
        ({"role": "tool", "content": "42", "tool_call_id": "c1"},
         ToolMessage("42", tool_call_id="c1")),
        ({"role": "function", "content": "21", "name": "f"}, FunctionMessage("21", name="f")),
        ({"role": "critic", "content": "c"}, ChatMessage("c", role="critic")),
        ({"type": "human", "content": "lc", "id": "m1"}, HumanMessage("lc", id="m1")),
        ({"type": "ai", "content": "", "tool_calls": [tool_call(name="f", args={}, id="1")]},
         AIMessage("", tool_calls=[tool_call(name="f", args={}, id="1")])),
        (
            {"role": "user", "content": "x", "foo": 1},
            HumanMessage("x", additional_kwargs={"foo": 1}),
        ),
        ({"role": "assistant", "content": "x",
          "usage_metadata": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}},
         AIMessage("x", usage_metadata={"input_tokens": 1, "output_tokens": 1, "total_tokens": 2})),
    ],
)
def test_dicts(data: dict[str, Any], expected: BaseMessage) -> None:
    assert convert_to_messages([data]) == [expected]


def test_openai_tool_calls_in_dicts_are_parsed() -> None:
    [message] = convert_to_messages([{
        "role": "assistant",
        "tool_calls": [
            {"id": "1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}},
            {"id": "2", "type": "function", "function": {"name": "g", "arguments": "{bad"}},
        ],
    }])
    assert isinstance(message, AIMessage)
    assert message.content == ""
    assert message.tool_calls == [tool_call(name="f", args={"a": 1}, id="1")]
    assert [c["id"] for c in message.invalid_tool_calls] == ["2"]


def test_a_single_dict_is_one_message() -> None:
    assert convert_to_messages({"role": "user", "content": "hi"}) == [HumanMessage("hi")]


def test_any_iterable_of_message_likes() -> None:
    likes: list[MessageLikeRepresentation] = ["a", ("ai", "b")]
    assert convert_to_messages(iter(likes)) == [HumanMessage("a"), AIMessage("b")]


# --- convert_to_messages: errors ------------------------------------------------------------


def test_an_int_names_its_index_type_and_value() -> None:
    with pytest.raises(TypeError) as info:
        convert_to_messages(["a", "b", 42])  # type: ignore[list-item]
    assert str(info.value) == (
        f"cannot convert message at index 2 to a message: got int 42; {EXPECTED}"
    )


def test_none_names_its_index() -> None:
    with pytest.raises(TypeError) as info:
        convert_to_messages([None])  # type: ignore[list-item]
    assert str(info.value) == (
        f"cannot convert message at index 0 to a message: got NoneType None; {EXPECTED}"
    )


def test_a_dict_without_role() -> None:
    with pytest.raises(ValueError) as info:
        convert_to_messages(["a", {"content": "hi"}])
    assert str(info.value) == (
        "cannot convert message at index 1 to a message: dict has no 'role' key: "
        "{'content': 'hi'}; expected {'role': ..., 'content': ...}"
    )


def test_a_dict_without_content() -> None:
    with pytest.raises(ValueError) as info:
        convert_to_messages([{"role": "critic"}])
    assert str(info.value) == (
        "cannot convert message at index 0 to a message: dict has no 'content' key: "
        "{'role': 'critic'}; expected {'role': 'critic', 'content': ...}"
    )


def test_a_tuple_of_the_wrong_length() -> None:
    with pytest.raises(ValueError) as info:
        convert_to_messages(["a", ("human", "b", "c")])  # type: ignore[list-item]
    assert str(info.value) == (
        "cannot convert message at index 1 to a message: got tuple of length 3 "
        "('human', 'b', 'c'); expected a (role, content) pair"
    )


def test_a_pair_with_a_non_str_role() -> None:
    with pytest.raises(TypeError, match=r"index 0 to a message: the role of a \(role, content\) "
                                        r"pair must be a str, got int 1"):
        convert_to_messages([(1, "x")])  # type: ignore[list-item]


def test_bad_content() -> None:
    with pytest.raises(TypeError, match="index 0 to a message: content must be a str or a list "
                                        "of content blocks, got int 5"):
        convert_to_messages([("human", 5)])  # type: ignore[list-item]


@pytest.mark.parametrize(("role", "key"), [("tool", "tool_call_id"), ("function", "name")])
def test_roles_that_need_more_than_a_pair(role: str, key: str) -> None:
    with pytest.raises(ValueError) as info:
        convert_to_messages([(role, "x")])
    assert str(info.value) == (
        f"cannot convert message at index 0 to a message: a {role!r} message needs a {key!r}; "
        f"write it as {{'role': {role!r}, 'content': ..., {key!r}: ...}}"
    )


def test_invalid_fields_are_value_errors_with_the_position() -> None:
    with pytest.raises(ValueError, match="index 0 to a message: invalid ToolMessage: status: "):
        convert_to_messages([{"role": "tool", "content": "x", "tool_call_id": "1",
                              "status": "meh"}])


def test_long_values_are_shortened_in_errors() -> None:
    with pytest.raises(ValueError, match=r"\.\.\.; expected a \(role, content\) pair$"):
        convert_to_messages([tuple("x" * 200)])  # type: ignore[list-item]


def test_a_non_iterable() -> None:
    with pytest.raises(TypeError, match="cannot convert int 42 to messages"):
        convert_to_messages(42)  # type: ignore[arg-type]


# --- OpenAI dicts ---------------------------------------------------------------------------

ROUND_TRIPS: list[tuple[BaseMessage, dict[str, Any]]] = [
    (SystemMessage("s"), {"role": "system", "content": "s"}),
    (SystemMessage("d", additional_kwargs=DEV), {"role": "developer", "content": "d"}),
    (HumanMessage("u", name="bob"), {"role": "user", "content": "u", "name": "bob"}),
    (HumanMessage([{"type": "text", "text": "t"}]),
     {"role": "user", "content": [{"type": "text", "text": "t"}]}),
    (AIMessage("a"), {"role": "assistant", "content": "a"}),
    (
        AIMessage("", tool_calls=[tool_call(name="f", args={"q": "é"}, id="c1")]),
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"q": "é"}'}}
        ]},
    ),
    (ToolMessage("42", tool_call_id="c1"), {"role": "tool", "content": "42", "tool_call_id": "c1"}),
    (FunctionMessage("21", name="f"), {"role": "function", "content": "21", "name": "f"}),
    (ChatMessage("c", role="critic"), {"role": "critic", "content": "c"}),
]


@pytest.mark.parametrize(("message", "data"), ROUND_TRIPS)
def test_openai_round_trip(message: BaseMessage, data: dict[str, Any]) -> None:
    assert message_to_openai_dict(message) == data
    assert openai_dict_to_message(data) == message


def test_invalid_tool_calls_are_written_with_their_raw_args() -> None:
    message = AIMessage("", invalid_tool_calls=[invalid_tool_call(name="f", args="{", id="1")])
    assert message_to_openai_dict(message)["tool_calls"] == [
        {"id": "1", "type": "function", "function": {"name": "f", "arguments": "{"}}
    ]


def test_legacy_function_call_and_refusal_are_written() -> None:
    message = AIMessage("", additional_kwargs={"function_call": {"name": "f", "arguments": "{}"},
                                               "refusal": "no"})
    assert message_to_openai_dict(message) == {
        "role": "assistant", "content": "", "function_call": {"name": "f", "arguments": "{}"},
        "refusal": "no",
    }


def test_chunks_write_like_their_messages() -> None:
    assert message_to_openai_dict(AIMessageChunk("a")) == {"role": "assistant", "content": "a"}


def test_a_message_without_role_cannot_be_written() -> None:
    with pytest.raises(ValueError, match="cannot write BaseMessage \\(type 'custom'\\)"):
        message_to_openai_dict(BaseMessage("x", type="custom"))


def test_openai_dict_errors_have_no_index() -> None:
    with pytest.raises(ValueError, match=r"^cannot convert dict to a message: dict has no 'role'"):
        openai_dict_to_message({"content": "x"})


def test_convert_to_openai_messages_list_and_single() -> None:
    messages: list[MessageLikeRepresentation] = [("system", "s"), "hi", AIMessage("a")]
    assert convert_to_openai_messages(messages) == [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "a"},
    ]
    assert convert_to_openai_messages(HumanMessage("hi")) == {"role": "user", "content": "hi"}
    assert convert_to_openai_messages({"role": "user", "content": "hi"}) == {
        "role": "user", "content": "hi",
    }
    assert convert_to_openai_messages(FakePromptValue()) == [
        {"role": "system", "content": "s"}, {"role": "user", "content": "h"},
    ]


def test_text_formats() -> None:
    blocks = HumanMessage(["a", {"type": "text", "text": "b"}])
    mixed = HumanMessage(["a", {"type": "image_url", "image_url": {"url": "u"}}])
    assert convert_to_openai_messages(blocks)["content"] == "a\nb"
    assert convert_to_openai_messages(mixed)["content"] == [
        {"type": "text", "text": "a"}, {"type": "image_url", "image_url": {"url": "u"}},
    ]
    assert convert_to_openai_messages("hi", text_format="block")["content"] == [
        {"type": "text", "text": "hi"}
    ]
    assert convert_to_openai_messages(AIMessage(""), text_format="block")["content"] == []
    with pytest.raises(ValueError, match="text_format must be 'string' or 'block', got 'html'"):
        convert_to_openai_messages("hi", text_format="html")  # type: ignore[call-overload]


# --- get_buffer_string ----------------------------------------------------------------------


def test_buffer_string() -> None:
    messages: list[BaseMessage] = [
        SystemMessage("s"), HumanMessage("h"), AIMessage("a"), ChatMessage("c", role="critic"),
        FunctionMessage("f", name="fn"), ToolMessage("t", tool_call_id="1"),
        HumanMessageChunk(["x", {"type": "text", "text": "y"}]),
    ]
    assert get_buffer_string(messages) == (
        "System: s\nHuman: h\nAI: a\ncritic: c\nFunction: f\nTool: t\nHuman: xy"
    )
    assert get_buffer_string([HumanMessage("h"), AIMessage("a")], human_prefix="User",
                             ai_prefix="Bot", message_separator=" | ") == "User: h | Bot: a"


def test_buffer_string_appends_tool_calls() -> None:
    call = tool_call(name="f", args={}, id="1")
    assert get_buffer_string([AIMessage("a", tool_calls=[call])]) == f"AI: a{[call]}"


def test_buffer_string_rejects_role_less_messages() -> None:
    with pytest.raises(ValueError, match="cannot name the role of BaseMessage"):
        get_buffer_string([BaseMessage("x", type="custom")])


# --- message_chunk_to_message ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("chunk", "expected"),
    [
        (HumanMessageChunk("h", id="1"), HumanMessage("h", id="1")),
        (ChatMessageChunk("c", role="critic"), ChatMessage("c", role="critic")),
        (FunctionMessageChunk("f", name="fn"), FunctionMessage("f", name="fn")),
        (ToolMessageChunk("t", tool_call_id="1", artifact=2), ToolMessage("t", tool_call_id="1",
                                                                           artifact=2)),
        (
            AIMessageChunk("", tool_call_chunks=[tool_call_chunk(name="f", args='{"a": 1}',
                                                                 id="c1", index=0)],
                           chunk_position="last", usage_metadata={"input_tokens": 1,
                                                                  "output_tokens": 1,
                                                                  "total_tokens": 2}),
            AIMessage("", tool_calls=[tool_call(name="f", args={"a": 1}, id="c1")],
                      usage_metadata={"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}),
        ),
        (AIMessageChunk("x", foo=1), AIMessage("x", foo=1)),
    ],
)
def test_chunk_to_message(chunk: BaseMessage, expected: BaseMessage) -> None:
    message = message_chunk_to_message(chunk)
    assert type(message) is type(expected)
    assert message == expected


def test_non_chunks_pass_through() -> None:
    message = AIMessage("x")
    assert message_chunk_to_message(message) is message
