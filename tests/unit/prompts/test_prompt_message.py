"""Message templates and MessagesPlaceholder."""

from __future__ import annotations

import pytest

from chainkit.messages import AIMessage, ChatMessage, HumanMessage, SystemMessage
from chainkit.prompts import (
    AIMessagePromptTemplate,
    ChatMessagePromptTemplate,
    ChatPromptTemplate,
    ChatPromptValue,
    HumanMessagePromptTemplate,
    MessagesPlaceholder,
    PromptTemplate,
    PromptVariableError,
    SystemMessagePromptTemplate,
)


@pytest.mark.parametrize(
    ("cls", "message"),
    [
        (SystemMessagePromptTemplate, SystemMessage("You are terse.")),
        (HumanMessagePromptTemplate, HumanMessage("You are terse.")),
        (AIMessagePromptTemplate, AIMessage("You are terse.")),
    ],
)
def test_role_templates(cls: type[SystemMessagePromptTemplate], message: object) -> None:
    template = cls.from_template("You are {style}.")
    assert template.input_variables == ["style"]
    assert template.format(style="terse") == message
    assert template.format_messages(style="terse") == [message]
    assert isinstance(template.prompt, PromptTemplate)


async def test_async_format() -> None:
    template = HumanMessagePromptTemplate.from_template("{q}")
    assert await template.aformat(q="hi") == HumanMessage("hi")
    assert await template.aformat_messages(q="hi") == [HumanMessage("hi")]


def test_chat_message_template_role() -> None:
    template = ChatMessagePromptTemplate.from_template("May the {x} be with you", role="Jedi")
    assert template.format(x="force") == ChatMessage("May the force be with you", role="Jedi")
    assert template.role == "Jedi"
    assert "role='Jedi'" in repr(template)
    with pytest.raises(TypeError, match="role must be a non-empty str"):
        ChatMessagePromptTemplate.from_template("x", role="")


def test_constructor_with_prompt_and_additional_kwargs() -> None:
    prompt = PromptTemplate.from_template("{a}")
    template = SystemMessagePromptTemplate(prompt=prompt, additional_kwargs={"k": 1})
    message = template.format(a="x")
    assert message == SystemMessage("x", additional_kwargs={"k": 1})
    # Each message gets its own dict.
    message.additional_kwargs["k"] = 2
    assert template.format(a="x").additional_kwargs == {"k": 1}
    with pytest.raises(TypeError, match=r"use SystemMessagePromptTemplate.from_template\(text\)"):
        SystemMessagePromptTemplate("a string")  # type: ignore[arg-type]


def test_partials_of_the_inner_prompt() -> None:
    template = HumanMessagePromptTemplate.from_template(
        "{a} {b}", partial_variables={"a": lambda: "A"}
    )
    assert template.input_variables == ["b"]
    assert template.format(b="B") == HumanMessage("A B")
    chat = ChatPromptTemplate.from_messages([template])
    assert chat.input_variables == ["b"]
    assert chat.format_messages(b="B") == [HumanMessage("A B")]


def test_missing_variable_on_a_message_template() -> None:
    with pytest.raises(PromptVariableError) as info:
        HumanMessagePromptTemplate.from_template("{a}{b}").format(a=1)
    assert str(info.value) == (
        "missing variable(s) ['b'] for HumanMessagePromptTemplate with input_variables "
        "['a', 'b']; got ['a']. Pass them in the input dict or with .partial()."
    )


def test_list_content_blocks() -> None:
    template = HumanMessagePromptTemplate.from_template(
        [
            "Describe {thing}:",
            {"type": "text", "text": "in {n} words"},
            {"image_url": "data:image/png;base64,{image}"},
            {"type": "image_url", "image_url": {"url": "{url}", "detail": "low"}},
        ]
    )
    assert template.input_variables == ["image", "n", "thing", "url"]
    message = template.format(thing="this", n=3, image="AAAA", url="https://x/y.png")
    assert message.content == [
        {"type": "text", "text": "Describe this:"},
        {"type": "text", "text": "in 3 words"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
        {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "low"}},
    ]
    assert "Describe {thing}:" in template.pretty_repr()
    with pytest.raises(ValueError, match="not supported for list content"):
        HumanMessagePromptTemplate.from_template(["{a}"], partial_variables={"a": 1})
    with pytest.raises(TypeError, match="a content block must be a str or a dict, got int"):
        HumanMessagePromptTemplate.from_template([1])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="unsafe"):
        HumanMessagePromptTemplate.from_template([{"image_url": "{x.__class__}"}])


def test_pretty_repr() -> None:
    assert SystemMessagePromptTemplate.from_template("Be {x}").pretty_repr() == (
        "================================ System Message ================================\n\nBe {x}"
    )
    assert " AI Message " in AIMessagePromptTemplate.from_template("a").pretty_repr()


def test_repr() -> None:
    assert repr(HumanMessagePromptTemplate.from_template("{q}")) == (
        "HumanMessagePromptTemplate(prompt=PromptTemplate(input_variables=['q'], input_types={}, "
        "partial_variables={}, template='{q}'), additional_kwargs={})"
    )


def test_equality() -> None:
    a = HumanMessagePromptTemplate.from_template("{q}")
    assert a == HumanMessagePromptTemplate.from_template("{q}")
    assert a != AIMessagePromptTemplate.from_template("{q}")
    assert hash(a) == hash(HumanMessagePromptTemplate.from_template("{q}"))


def test_message_template_plus_makes_a_chat_prompt() -> None:
    chat = SystemMessagePromptTemplate.from_template("Be {x}") + "{q}"
    assert isinstance(chat, ChatPromptTemplate)
    assert chat.format_messages(x="brief", q="hi") == [
        SystemMessage("Be brief"),
        HumanMessage("hi"),
    ]


# ---- MessagesPlaceholder -------------------------------------------------------------
def test_placeholder_required() -> None:
    placeholder = MessagesPlaceholder("history")
    assert placeholder.input_variables == ["history"]
    assert placeholder.format_messages(history=[HumanMessage("a")]) == [HumanMessage("a")]
    with pytest.raises(PromptVariableError) as info:
        placeholder.format_messages()
    assert str(info.value) == (
        "missing variable(s) ['history'] for MessagesPlaceholder with input_variables "
        "['history']; got []. Pass them in the input dict or with .partial()."
    )


def test_placeholder_optional() -> None:
    placeholder = MessagesPlaceholder("history", optional=True)
    assert placeholder.input_variables == []
    assert placeholder.format_messages() == []
    assert placeholder.format_messages(history=None) == []
    assert placeholder.format_messages(history=[("ai", "x")]) == [AIMessage("x")]


def test_placeholder_coerces_message_likes() -> None:
    placeholder = MessagesPlaceholder(variable_name="history")
    assert placeholder.format_messages(
        history=[
            ("system", "You are an AI assistant."),
            "Hello!",
            {"role": "assistant", "content": "Hi"},
            HumanMessage("x"),
        ]
    ) == [
        SystemMessage("You are an AI assistant."),
        HumanMessage("Hello!"),
        AIMessage("Hi"),
        HumanMessage("x"),
    ]
    value = ChatPromptValue(messages=[HumanMessage("from a prompt value")])
    assert placeholder.format_messages(history=value) == [HumanMessage("from a prompt value")]
    assert placeholder.format_messages(history=(HumanMessage("t"),)) == [HumanMessage("t")]


def test_placeholder_bad_values() -> None:
    placeholder = MessagesPlaceholder("history")
    with pytest.raises(
        ValueError,
        match="variable 'history' of MessagesPlaceholder should be a list of messages, "
        "got str: 'hello'",
    ):
        placeholder.format_messages(history="hello")
    with pytest.raises(ValueError, match="should be a list of messages, got NoneType"):
        placeholder.format_messages(history=None)
    with pytest.raises(
        TypeError,
        match="variable 'history' of MessagesPlaceholder: cannot convert message at index 1",
    ):
        placeholder.format_messages(history=[HumanMessage("ok"), 42])
    with pytest.raises(ValueError, match=r"variable 'history' of MessagesPlaceholder: .*index 0"):
        placeholder.format_messages(history=[("human", "a", "b")])


def test_placeholder_n_messages() -> None:
    placeholder = MessagesPlaceholder("history", n_messages=1)
    assert placeholder.format_messages(history=[("system", "s"), ("human", "Hello!")]) == [
        HumanMessage("Hello!")
    ]
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="n_messages must be a positive int or None"):
            MessagesPlaceholder("h", n_messages=bad)  # type: ignore[arg-type]


def test_placeholder_validation_repr_and_pretty() -> None:
    with pytest.raises(TypeError, match="variable_name must be a non-empty str"):
        MessagesPlaceholder("")
    assert repr(MessagesPlaceholder("h")) == "MessagesPlaceholder(variable_name='h')"
    assert repr(MessagesPlaceholder("h", optional=True, n_messages=2)) == (
        "MessagesPlaceholder(variable_name='h', optional=True, n_messages=2)"
    )
    assert (
        MessagesPlaceholder("h")
        .pretty_repr()
        .endswith("Messages Placeholder " + "=" * 29 + "\n\n{h}")
    )
    assert MessagesPlaceholder("h") == MessagesPlaceholder("h")
    assert MessagesPlaceholder("h") != MessagesPlaceholder("h", optional=True)
