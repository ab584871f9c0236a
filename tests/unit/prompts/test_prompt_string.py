"""PromptTemplate: string prompts."""

from __future__ import annotations

import itertools

import pytest

from chainkit.prompts import PromptTemplate, PromptVariableError, StringPromptValue


def test_from_template_infers_sorted_variables() -> None:
    prompt = PromptTemplate.from_template("Tell me a {adjective} joke about {content}.")
    assert prompt.input_variables == ["adjective", "content"]
    assert prompt.template == "Tell me a {adjective} joke about {content}."
    assert prompt.template_format == "f-string"
    assert prompt.format(adjective="funny", content="chickens") == (
        "Tell me a funny joke about chickens."
    )


def test_constructor_forms() -> None:
    positional = PromptTemplate("Hi {name}")
    keyword = PromptTemplate(template="Hi {name}", input_variables=["name"])
    assert positional == keyword
    assert positional.input_variables == ["name"]
    assert PromptTemplate.from_template("Tell me a joke").input_variables == []


def test_declared_input_variables_must_match() -> None:
    with pytest.raises(
        ValueError, match=r"not in the template: \['x'\]; used but not listed: \['b'\]"
    ):
        PromptTemplate("{a}{b}", input_variables=["a", "x"])
    with pytest.raises(TypeError, match="a list of names, got a str"):
        PromptTemplate("{a}", input_variables="a")
    # LangChain style: partial names may be listed too.
    prompt = PromptTemplate("{a}{b}", input_variables=["a", "b"], partial_variables={"a": 1})
    assert prompt.input_variables == ["b"]


def test_format_prompt_and_invoke_return_string_prompt_values() -> None:
    prompt = PromptTemplate.from_template("Tell me a joke about {topic}")
    expected = StringPromptValue(text="Tell me a joke about owls")
    assert prompt.format_prompt(topic="owls") == expected
    assert prompt.invoke({"topic": "owls"}) == expected
    assert prompt.invoke("owls") == expected  # one variable: a bare value is wrapped


async def test_async_twins() -> None:
    prompt = PromptTemplate.from_template("{a}!")
    assert await prompt.aformat(a=1) == "1!"
    assert await prompt.aformat_prompt(a=1) == StringPromptValue(text="1!")
    assert await prompt.ainvoke({"a": 1}) == StringPromptValue(text="1!")
    assert await prompt.ainvoke(1) == StringPromptValue(text="1!")


def test_extra_variables_are_ignored() -> None:
    prompt = PromptTemplate.from_template("{a}")
    assert prompt.format(a=1, b=2) == "1"
    assert prompt.invoke({"a": 1, "unused": object()}).text == "1"


def test_bad_input_type_names_the_type_and_variables() -> None:
    prompt = PromptTemplate.from_template("{a} {b}")
    with pytest.raises(
        TypeError,
        match=r"PromptTemplate expects a dict of its input variables \['a', 'b'\] as input, "
        r"got str: 'hello'",
    ):
        prompt.invoke("hello")
    with pytest.raises(TypeError, match=r"got NoneType.*no input variables: pass \{\}"):
        PromptTemplate.from_template("static").invoke(None)
    assert PromptTemplate.from_template("static").invoke({}).text == "static"


def test_invoke_accepts_any_mapping() -> None:
    from types import MappingProxyType

    prompt = PromptTemplate.from_template("{a}")
    assert prompt.invoke(MappingProxyType({"a": 5})).text == "5"  # type: ignore[arg-type]


def test_partial_with_values_and_callables() -> None:
    counter = itertools.count(1)
    prompt = PromptTemplate.from_template("{date} {who}: {msg}")
    partial = prompt.partial(date=lambda: f"day{next(counter)}", who="ada")
    assert partial.input_variables == ["msg"]
    assert partial.partial_variables["who"] == "ada"
    assert partial.format(msg="hi") == "day1 ada: hi"
    assert partial.invoke("yo").text == "day2 ada: yo"
    # A supplied value wins over the partial, and the callable is not called for it.
    assert partial.format(msg="x", date="today") == "today ada: x"
    assert partial.format(msg="x") == "day3 ada: x"
    # The original is unchanged.
    assert prompt.input_variables == ["date", "msg", "who"]
    # Partials stack.
    assert partial.partial(msg="m").format() == "day4 ada: m"


def test_from_template_partial_variables() -> None:
    prompt = PromptTemplate.from_template("{a}-{b}", partial_variables={"b": "B"})
    assert prompt.input_variables == ["a"]
    assert prompt.format(a="A") == "A-B"


def test_add_templates_and_strings() -> None:
    a = PromptTemplate.from_template("{x} and ", partial_variables={"x": 1})
    b = PromptTemplate.from_template("{y}")
    joined = a + b
    assert joined.template == "{x} and {y}"
    assert joined.input_variables == ["y"]
    assert joined.format(y=2) == "1 and 2"
    assert (b + "!{z}").input_variables == ["y", "z"]
    with pytest.raises(ValueError, match="same template_format"):
        b + PromptTemplate.from_template("{{ z }}", template_format="jinja2")
    with pytest.raises(ValueError, match=r"both fill partial variable\(s\) \['x'\]"):
        a + a
    with pytest.raises(TypeError):
        b + 3  # type: ignore[operator]


def test_repr_like_langchain() -> None:
    prompt = PromptTemplate.from_template("Tell me a joke about {topic}")
    assert repr(prompt) == (
        "PromptTemplate(input_variables=['topic'], input_types={}, partial_variables={}, "
        "template='Tell me a joke about {topic}')"
    )


def test_pretty_repr_and_print(capsys: pytest.CaptureFixture[str]) -> None:
    prompt = PromptTemplate.from_template(
        "Hi {name}, it is {day}", partial_variables={"day": "Mon"}
    )
    assert prompt.pretty_repr() == "Hi {name}, it is Mon"
    assert "\x1b[" in prompt.pretty_repr(html=True)
    prompt.pretty_print()
    assert "Hi {name}" in capsys.readouterr().out


def test_run_type_inline_and_types() -> None:
    prompt = PromptTemplate.from_template("{a}")
    assert prompt.run_type == "prompt"
    assert prompt.inline is True
    assert prompt.OutputType is StringPromptValue
    assert prompt.get_output_schema() is StringPromptValue
    assert prompt.get_name() == "PromptTemplate"


def test_input_schema() -> None:
    prompt = PromptTemplate.from_template("{question} {context}", partial_variables={"context": ""})
    schema = prompt.get_input_schema()
    assert schema.__name__ == "PromptInput"
    assert schema.model_json_schema() == {
        "properties": {"question": {"title": "Question", "type": "string"}},
        "required": ["question"],
        "title": "PromptInput",
        "type": "object",
    }
    assert prompt.input_schema is schema  # built once
    assert prompt.get_input_jsonschema()["required"] == ["question"]
    assert prompt.InputType.__required_keys__ == frozenset({"question"})


def test_input_schema_with_awkward_names() -> None:
    prompt = PromptTemplate.from_template("{_private} {schema} {model_config} {ok}")
    schema = prompt.get_input_schema()
    props = schema.model_json_schema()["properties"]
    assert set(props) == {"_private", "schema", "model_config", "ok"}
    assert schema.model_validate({"_private": "a", "schema": "b", "model_config": "c", "ok": "d"})


def test_equality_and_hash() -> None:
    a = PromptTemplate.from_template("{x}")
    assert a == PromptTemplate.from_template("{x}")
    assert a != PromptTemplate.from_template("{y}")
    assert a != a.partial(x=1)
    assert hash(a) == hash(PromptTemplate.from_template("{x}"))
    assert len({a, PromptTemplate.from_template("{x}")}) == 1


def test_missing_variable_raises() -> None:
    with pytest.raises(PromptVariableError, match=r"\['topic'\]"):
        PromptTemplate.from_template("{topic}").format()
