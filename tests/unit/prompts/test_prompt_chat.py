"""ChatPromptTemplate: construction from every accepted shape, formatting, composition."""

from __future__ import annotations

from typing import Any

import pytest

from chainkit.messages import AIMessage, ChatMessage, HumanMessage, SystemMessage, ToolMessage
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


def test_quickstart() -> None:
    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "You are a helpful AI bot. Your name is {name}."),
            ("human", "Hello, how are you doing?"),
            ("ai", "I'm doing well, thanks!"),
            ("human", "{user_input}"),
        ]
    )
    assert prompt.input_variables == ["name", "user_input"]
    value = prompt.invoke({"name": "Bob", "user_input": "What is your name?"})
    assert value == ChatPromptValue(
        messages=[
            SystemMessage("You are a helpful AI bot. Your name is Bob."),
            HumanMessage("Hello, how are you doing?"),
            AIMessage("I'm doing well, thanks!"),
            HumanMessage("What is your name?"),
        ]
    )


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("system", SystemMessage("hi x")),
        ("human", HumanMessage("hi x")),
        ("user", HumanMessage("hi x")),
        ("ai", AIMessage("hi x")),
        ("assistant", AIMessage("hi x")),
        ("System", SystemMessage("hi x")),
        ("developer", SystemMessage("hi x", additional_kwargs={"__openai_role__": "developer"})),
        ("critic", ChatMessage("hi x", role="critic")),
        ("narrator", ChatMessage("hi x", role="narrator")),
    ],
)
def test_role_tuples(role: str, expected: Any) -> None:
    prompt = ChatPromptTemplate.from_messages([(role, "hi {v}")])
    assert prompt.format_messages(v="x") == [expected]


def test_every_accepted_shape() -> None:
    literal = SystemMessage("literal {not_a_var}")
    nested = ChatPromptTemplate.from_messages([("ai", "nested {n}")])
    prompt = ChatPromptTemplate.from_messages(
        [
            literal,  # a message is kept as it is, braces and all
            "{plain}",  # a str is a human template
            ("placeholder", "{history}"),  # optional placeholder
            MessagesPlaceholder("required_history"),
            HumanMessagePromptTemplate.from_template("{t}"),
            (AIMessagePromptTemplate, "{cls}"),  # (template class, template)
            {"role": "user", "content": "{d}"},  # dict
            ("human", [{"type": "text", "text": "{block}"}]),  # list content
            nested,
        ]
    )
    assert prompt.input_variables == ["block", "cls", "d", "n", "plain", "required_history", "t"]
    assert prompt.optional_variables == ["history"]
    messages = prompt.format_messages(
        plain="p", required_history=[("ai", "r")], t="t", cls="c", d="d", block="b", n="n"
    )
    assert messages == [
        literal,
        HumanMessage("p"),
        AIMessage("r"),
        HumanMessage("t"),
        AIMessage("c"),
        HumanMessage("d"),
        HumanMessage([{"type": "text", "text": "b"}]),
        AIMessage("nested n"),
    ]
    assert messages[0] is literal
    assert isinstance(prompt[0], SystemMessage)
    assert isinstance(prompt[1], HumanMessagePromptTemplate)
    assert isinstance(prompt[2], MessagesPlaceholder) and prompt[2].optional
    assert prompt[-1] is nested


def test_constructor_is_from_messages() -> None:
    a = ChatPromptTemplate([("system", "{a}"), ("human", "{b}")])
    b = ChatPromptTemplate.from_messages([("system", "{a}"), ("human", "{b}")])
    assert a == b


BAD_SHAPES = [
    (
        (1, 2),
        TypeError,
        r"message 1: the role of a \(role, template\) pair must be a str .* got int: 1",
    ),
    (
        ("human", "a", "b"),
        ValueError,
        r"message 1: expected a \(role, template\) pair, got a 3-tuple",
    ),
    (("human",), ValueError, r"message 1: expected a \(role, template\) pair, got a 1-tuple"),
    (
        ("human", 5),
        TypeError,
        r"message 1: the template of a \(role, template\) pair must be a str",
    ),
    (42, TypeError, r"message 1: cannot use int 42; expected a \(role, template\) tuple"),
    (None, TypeError, r"message 1: cannot use NoneType None"),
    (
        {"role": "user"},
        ValueError,
        r"message 1: a dict must have exactly the keys 'role' and 'content'",
    ),
    (("sytem", "x"), ValueError, r"message 1: unknown role 'sytem'; did you mean 'system'\?"),
    (("usr", "x"), ValueError, r"did you mean 'user'\?"),
    (("tool", "x"), ValueError, r"role 'tool' needs more than text; pass a ToolMessage"),
    (
        ("placeholder", "history"),
        ValueError,
        r"a placeholder template must be a variable name in braces",
    ),
    (("placeholder", "{a.b}"), ValueError, r"a placeholder template must be a variable name"),
    (("placeholder", ["{h}", "yes"]), ValueError, r"a placeholder is \('placeholder'"),
    (
        (ChatMessagePromptTemplate, "x"),
        TypeError,
        r"for a custom role write \(role_name, template\)",
    ),
    ((HumanMessage, "x"), TypeError, r"must be a str such as 'human' or a message template class"),
    (("human", "{x.y}"), ValueError, r"unsafe f-string field \{x.y\}"),
]


@pytest.mark.parametrize(("bad", "error", "message"), BAD_SHAPES)
def test_bad_shapes_name_the_position(bad: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        ChatPromptTemplate.from_messages([("system", "ok"), bad])


def test_messages_must_be_a_list() -> None:
    with pytest.raises(TypeError, match="needs a list of messages, got str"):
        ChatPromptTemplate.from_messages("hello")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="needs a list of messages, got HumanMessage"):
        ChatPromptTemplate(HumanMessage("hi"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown template_format 'xml'"):
        ChatPromptTemplate([], template_format="xml")  # type: ignore[arg-type]


def test_placeholder_tuple_forms() -> None:
    required = ChatPromptTemplate.from_messages([("placeholder", ["{h}", False])])
    assert required.input_variables == ["h"]
    assert required.optional_variables == []
    with pytest.raises(PromptVariableError, match=r"\['h'\]"):
        required.invoke({})
    optional = ChatPromptTemplate.from_messages([("placeholder", ("{h}", True))])
    assert optional.invoke({}).messages == []


def test_optional_placeholder_like_langchain() -> None:
    prompt = ChatPromptTemplate.from_messages(
        [("system", "You are a helpful AI bot."), ("placeholder", "{conversation}")]
    )
    assert prompt.input_variables == []
    assert prompt.optional_variables == ["conversation"]
    assert prompt.partial_variables == {"conversation": []}
    assert prompt.invoke({}).messages == [SystemMessage("You are a helpful AI bot.")]
    value = prompt.invoke(
        {"conversation": [("human", "Hi!"), ("ai", "How can I assist you today?")]}
    )
    assert value.messages[1:] == [HumanMessage("Hi!"), AIMessage("How can I assist you today?")]


def test_optional_variables_survive_partial_and_add() -> None:
    prompt = ChatPromptTemplate.from_messages(
        [("placeholder", "{h}"), ("human", "{q}"), ("ai", "{a}")]
    )
    assert prompt.partial(a="x").optional_variables == ["h"]
    assert (prompt + "{z}").optional_variables == ["h"]
    filled = prompt.partial(h=[("human", "earlier")], a="x")
    assert filled.optional_variables == ["h"]
    assert filled.invoke("now").messages == [
        HumanMessage("earlier"),
        HumanMessage("now"),
        AIMessage("x"),
    ]
    assert filled.invoke({"q": "now", "h": []}).messages == [HumanMessage("now"), AIMessage("x")]


def test_required_placeholder_missing() -> None:
    prompt = ChatPromptTemplate.from_messages(
        [("system", "s"), MessagesPlaceholder("history"), ("human", "{question}")]
    )
    with pytest.raises(PromptVariableError) as info:
        prompt.invoke({"question": "q"})
    assert str(info.value) == (
        "missing variable(s) ['history'] for ChatPromptTemplate with input_variables "
        "['history', 'question']; got ['question']. Pass them in the input dict or with "
        ".partial()."
    )


def test_single_variable_accepts_a_bare_value() -> None:
    prompt = ChatPromptTemplate.from_messages(
        [("system", "You are a helpful AI bot."), ("placeholder", "{history}"), ("human", "{q}")]
    )
    assert prompt.invoke("Hello, there!").messages == [
        SystemMessage("You are a helpful AI bot."),
        HumanMessage("Hello, there!"),
    ]


def test_bad_input_type() -> None:
    prompt = ChatPromptTemplate.from_messages([("system", "{a}"), ("human", "{b}")])
    with pytest.raises(
        TypeError,
        match=r"ChatPromptTemplate expects a dict of its input variables \['a', 'b'\] as "
        r"input, got list: \['x'\]",
    ):
        prompt.invoke(["x"])  # type: ignore[arg-type]


def test_extra_variables_are_ignored() -> None:
    prompt = ChatPromptTemplate.from_messages([("human", "{a}")])
    assert prompt.invoke({"a": 1, "b": 2}).messages == [HumanMessage("1")]


def test_format_and_format_prompt() -> None:
    prompt = ChatPromptTemplate.from_messages([("system", "Be {x}."), ("human", "{q}")])
    assert prompt.format(x="brief", q="hi") == "System: Be brief.\nHuman: hi"
    assert prompt.format_prompt(x="brief", q="hi") == ChatPromptValue(
        messages=[SystemMessage("Be brief."), HumanMessage("hi")]
    )


async def test_async_formatting() -> None:
    prompt = ChatPromptTemplate.from_messages([("human", "{q}")])
    assert await prompt.aformat_messages(q="a") == [HumanMessage("a")]
    assert await prompt.aformat_prompt(q="a") == ChatPromptValue(messages=[HumanMessage("a")])
    assert await prompt.aformat(q="a") == "Human: a"


def test_from_template() -> None:
    prompt = ChatPromptTemplate.from_template("Tell me about {topic}")
    assert len(prompt) == 1
    assert isinstance(prompt[0], HumanMessagePromptTemplate)
    assert prompt.format_messages(topic="owls") == [HumanMessage("Tell me about owls")]
    jinja = ChatPromptTemplate.from_template("{{ t }}", template_format="jinja2")
    assert jinja.format_messages(t="x") == [HumanMessage("x")]


def test_partial() -> None:
    template = ChatPromptTemplate.from_messages(
        [
            ("system", "You are an AI assistant named {name}."),
            ("human", "Hi I'm {user}"),
            ("ai", "Hi there, {user}, I'm {name}."),
            ("human", "{input}"),
        ]
    )
    partial = template.partial(user="Lucy", name=lambda: "R2D2")
    assert partial.input_variables == ["input"]
    assert partial.format_messages(input="hello") == [
        SystemMessage("You are an AI assistant named R2D2."),
        HumanMessage("Hi I'm Lucy"),
        AIMessage("Hi there, Lucy, I'm R2D2."),
        HumanMessage("hello"),
    ]
    assert partial.invoke("hello") == partial.format_prompt(input="hello")
    assert template.input_variables == ["input", "name", "user"]


def test_partial_fills_a_placeholder() -> None:
    prompt = ChatPromptTemplate.from_messages([MessagesPlaceholder("h"), ("human", "{q}")])
    partial = prompt.partial(h=[("ai", "earlier")])
    assert partial.input_variables == ["q"]
    assert partial.invoke("now").messages == [AIMessage("earlier"), HumanMessage("now")]


def test_declared_input_variables() -> None:
    ChatPromptTemplate([("human", "{a}")], input_variables=["a"])
    with pytest.raises(ValueError, match=r"input_variables \['b'\] do not match .* \['a'\]"):
        ChatPromptTemplate([("human", "{a}")], input_variables=["b"])


def test_add() -> None:
    base = ChatPromptTemplate.from_messages([("system", "Be {x}.")]).partial(x="brief")
    other = ChatPromptTemplate.from_messages([("ai", "{y}")])
    for combined, expected_tail in [
        (base + other, [AIMessage("Y")]),
        (base + HumanMessage("lit"), [HumanMessage("lit")]),
        (base + AIMessagePromptTemplate.from_template("{y}"), [AIMessage("Y")]),
        (base + [("human", "{y}"), "{y}"], [HumanMessage("Y"), HumanMessage("Y")]),  # noqa: RUF005
        (base + "{y}", [HumanMessage("Y")]),
        (base + MessagesPlaceholder("m"), [HumanMessage("M")]),
    ]:
        assert isinstance(combined, ChatPromptTemplate)
        assert combined.partial_variables == {"x": "brief"}
        messages = combined.format_messages(y="Y", m=[HumanMessage("M")])
        assert messages == [SystemMessage("Be brief."), *expected_tail]
    with pytest.raises(TypeError):
        base + 3  # type: ignore[operator]


def test_empty_prompt_is_truthy_and_renders_nothing() -> None:
    empty = ChatPromptTemplate([])
    assert len(empty) == 0
    assert bool(empty)
    assert empty.invoke({}).messages == []


def test_getitem_len_iter() -> None:
    prompt = ChatPromptTemplate.from_messages([("system", "{a}"), ("human", "{b}"), ("ai", "{c}")])
    assert len(prompt) == 3
    assert isinstance(prompt[0], SystemMessagePromptTemplate)
    sliced = prompt[1:]
    assert isinstance(sliced, ChatPromptTemplate)
    assert sliced.input_variables == ["b", "c"]
    assert list(prompt) == list(prompt.messages)


def test_pretty_repr() -> None:
    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "You are {role}."),
            ("placeholder", "{history}"),
            ("human", "{q}"),
            AIMessage("ok"),
        ]
    )
    bar = "================================"
    assert prompt.pretty_repr() == (
        f"{bar} System Message {bar}\n\nYou are {{role}}.\n\n"
        f"============================= Messages Placeholder =============================\n\n"
        "{history}\n\n"
        f"{bar} Human Message =================================\n\n{{q}}\n\n"
        f"================================== Ai Message ==================================\n\nok"
    )
    assert "\x1b[1m" in prompt.pretty_repr(html=True)


def test_repr() -> None:
    prompt = ChatPromptTemplate.from_messages(
        [("system", "You are {role}"), ("placeholder", "{h}")]
    )
    assert repr(prompt) == (
        "ChatPromptTemplate(input_variables=['role'], optional_variables=['h'], "
        "input_types={'h': list[AnyMessage]}, partial_variables={'h': []}, "
        "messages=[SystemMessagePromptTemplate(prompt=PromptTemplate(input_variables=['role'], "
        "input_types={}, partial_variables={}, template='You are {role}'), "
        "additional_kwargs={}), MessagesPlaceholder(variable_name='h', optional=True)])"
    )


def test_input_schema() -> None:
    prompt = ChatPromptTemplate.from_messages(
        [("system", "{role}"), ("placeholder", "{history}"), MessagesPlaceholder("docs")]
    )
    schema = prompt.get_input_schema()
    json_schema = schema.model_json_schema()
    assert json_schema["required"] == ["docs", "role"]
    assert json_schema["properties"]["role"] == {"title": "Role", "type": "string"}
    assert json_schema["properties"]["docs"]["type"] == "array"
    assert json_schema["properties"]["history"]["default"] is None
    parsed = schema.model_validate({"role": "r", "docs": [{"type": "human", "content": "x"}]})
    assert parsed.docs == [HumanMessage("x")]  # type: ignore[attr-defined]
    assert prompt.InputType.__required_keys__ == frozenset({"docs", "role"})
    assert prompt.InputType.__optional_keys__ == frozenset({"history"})
    assert prompt.OutputType is ChatPromptValue
    assert prompt.get_output_schema() is ChatPromptValue


def test_jinja2_chat_prompt_is_safe_too() -> None:
    prompt = ChatPromptTemplate.from_messages(
        [("human", "{{ x.__class__ }}")], template_format="jinja2"
    )
    from jinja2.exceptions import SecurityError

    with pytest.raises(SecurityError):
        prompt.invoke({"x": 1})


def test_literal_messages_and_tool_messages_pass_through() -> None:
    tool = ToolMessage("42", tool_call_id="call_1")
    prompt = ChatPromptTemplate.from_messages([tool, ("human", "{q}")])
    assert prompt.invoke("go").messages == [tool, HumanMessage("go")]


def test_templates_are_reusable_and_not_mutated() -> None:
    prompt = ChatPromptTemplate.from_messages([("human", "{q}")])
    first = prompt.invoke({"q": 1})
    second = prompt.invoke({"q": 2})
    assert first.messages == [HumanMessage("1")]
    assert second.messages == [HumanMessage("2")]
    inputs = {"q": 3}
    prompt.invoke(inputs)
    assert inputs == {"q": 3}


def test_templates_are_immutable() -> None:
    prompt = ChatPromptTemplate.from_messages([("human", "{q}")])
    with pytest.raises(TypeError, match=r"immutable; use `prompt = prompt \+ \[message\]`"):
        prompt.append(("ai", "x"))
    with pytest.raises(TypeError, match="immutable"):
        prompt.extend([("ai", "x")])
    with pytest.raises(AttributeError):
        prompt.messages = ()  # type: ignore[misc]
    with pytest.raises(AttributeError):
        prompt.messages.append(("ai", "x"))  # type: ignore[attr-defined]
    assert isinstance(prompt.messages, tuple)
    string = PromptTemplate.from_template("{a}")
    with pytest.raises(AttributeError):
        string.template = "{b}"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        string.template_format = "jinja2"  # type: ignore[misc]


def test_equality() -> None:
    a = ChatPromptTemplate.from_messages([("human", "{q}")])
    assert a == ChatPromptTemplate.from_messages([("user", "{q}")])
    assert a != ChatPromptTemplate.from_messages([("ai", "{q}")])
    assert hash(a) == hash(ChatPromptTemplate.from_messages([("human", "{q}")]))


def test_string_prompt_in_chat_via_prompt_attribute() -> None:
    inner = PromptTemplate.from_template("{a}")
    prompt = ChatPromptTemplate.from_messages([SystemMessagePromptTemplate(prompt=inner)])
    assert prompt.messages[0].prompt is inner  # type: ignore[union-attr]
