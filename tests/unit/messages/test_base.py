"""BaseMessage behaviour: construction, equality, repr, text, pretty printing, content merging."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chainkit.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    get_msg_title_repr,
    merge_content,
)


def test_content_is_positional_or_keyword() -> None:
    assert HumanMessage("hi") == HumanMessage(content="hi")
    assert HumanMessage("hi").content == "hi"
    assert HumanMessage("hi").type == "human"


def test_defaults_are_fresh_per_message() -> None:
    first, second = HumanMessage("a"), HumanMessage("b")
    first.additional_kwargs["x"] = 1
    assert second.additional_kwargs == {}
    assert first.response_metadata == {} and first.name is None and first.id is None


def test_list_content_and_extra_fields_are_kept() -> None:
    message = HumanMessage(["hi", {"type": "image_url", "image_url": {"url": "u"}}], foo=1)
    assert message.content[1] == {"type": "image_url", "image_url": {"url": "u"}}
    assert message.foo == 1  # type: ignore[attr-defined]


def test_numeric_id_becomes_str() -> None:
    assert HumanMessage("hi", id=7).id == "7"


def test_bad_content_is_rejected() -> None:
    with pytest.raises(ValidationError):
        HumanMessage(42)  # type: ignore[arg-type]


def test_equality_compares_every_field_and_the_class() -> None:
    assert HumanMessage("hi") != HumanMessage("hi", name="bob")
    assert HumanMessage("hi") != SystemMessage("hi")  # type: ignore[comparison-overlap]
    assert HumanMessage("hi", id="1") == HumanMessage(content="hi", id="1")


def test_base_message_takes_any_type() -> None:
    message = BaseMessage("x", type="custom")
    assert message.type == "custom"
    assert repr(message) == "BaseMessage(content='x', type='custom')"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (HumanMessage("hi"), "HumanMessage(content='hi')"),
        (
            AIMessage("J'adore la programmation."),
            "AIMessage(content=\"J'adore la programmation.\")",
        ),
        (AIMessageChunk("The"), "AIMessageChunk(content='The')"),
        (AIMessage(""), "AIMessage(content='')"),
        (
            HumanMessage("hi", name="bob", id="m1"),
            "HumanMessage(content='hi', name='bob', id='m1')",
        ),
        (
            AIMessage("hi", usage_metadata={"input_tokens": 1, "output_tokens": 2,
                                            "total_tokens": 3}),
            "AIMessage(content='hi', usage_metadata={'input_tokens': 1, 'output_tokens': 2, "
            "'total_tokens': 3})",
        ),
        (
            AIMessage("x", response_metadata={"finish_reason": "stop"}),
            "AIMessage(content='x', response_metadata={'finish_reason': 'stop'})",
        ),
        (HumanMessage("hi", foo=1), "HumanMessage(content='hi', foo=1)"),
        (ToolMessage("ok", tool_call_id="c1"), "ToolMessage(content='ok', tool_call_id='c1')"),
    ],
)
def test_repr_shows_content_and_only_non_default_fields(
    message: BaseMessage, expected: str
) -> None:
    assert repr(message) == expected


def test_text_joins_text_parts_only() -> None:
    assert HumanMessage("plain").text == "plain"
    message = HumanMessage(
        ["a", {"type": "text", "text": "b"}, {"type": "image_url", "image_url": {}}, "c"]
    )
    assert message.text == "abc"


def test_pretty_repr_matches_langchain() -> None:
    expected = (
        "================================ Human Message =================================\n\nhi"
    )
    assert HumanMessage("hi").pretty_repr() == expected
    assert AIMessage("yo", name="bot").pretty_repr() == (
        "================================== Ai Message ==================================\n"
        "Name: bot\n\nyo"
    )


def test_pretty_repr_of_blocks_and_html_title() -> None:
    message = HumanMessage(["a", {"type": "text", "text": "b"}, {"type": "image_url"}])
    assert message.pretty_repr().endswith("\n\na\n\nb\n\n[image_url]")
    assert "\033[1m Human Message \033[0m" in HumanMessage("hi").pretty_repr(html=True)


def test_pretty_print_prints_pretty_repr(capsys: pytest.CaptureFixture[str]) -> None:
    HumanMessage("hi").pretty_print()
    assert capsys.readouterr().out == HumanMessage("hi").pretty_repr() + "\n"


def test_title_bar_is_80_columns() -> None:
    for title in ("Human Message", "Ai Message", "Tool Message"):
        assert len(get_msg_title_repr(title)) == 80


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (["Hel", "lo"], "Hello"),
        (["a", ["b"]], ["a", "b"]),
        ([["a"], "b"], ["ab"]),
        ([[{"type": "image"}], "b"], [{"type": "image"}, "b"]),
        ([[{"type": "image"}], ""], [{"type": "image"}]),
        (
            [
                [{"index": 0, "type": "text", "text": "a"}],
                [
                    {"index": 0, "type": "text", "text": "b"},
                    {"index": 1, "type": "text", "text": "c"},
                ],
            ],
            [{"index": 0, "type": "text", "text": "ab"}, {"index": 1, "type": "text", "text": "c"}],
        ),
    ],
)
def test_merge_content(parts: list[object], expected: object) -> None:
    assert merge_content(*parts) == expected  # type: ignore[arg-type]


def test_merge_content_does_not_mutate_its_inputs() -> None:
    first: list[str | dict[str, object]] = ["a"]
    merge_content(first, "b")
    assert first == ["a"]
