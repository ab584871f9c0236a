"""f-string templates: parsed once, plain names only, never touching a value's attributes."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainkit.prompts import ChatPromptTemplate, HumanMessagePromptTemplate, PromptTemplate
from chainkit.prompts.formatting import (
    MAX_FORMAT_WIDTH,
    FStringTemplate,
    compile_template,
    format_template,
    get_template_variables,
)

# (template, the field the error must name)
UNSAFE = [
    ("{x.__class__}", "{x.__class__}"),
    ("{x[0]}", "{x[0]}"),
    ("{x.__init__.__globals__}", "{x.__init__.__globals__}"),
    ("{x.__class__.__mro__[1].__subclasses__}", "{x.__class__.__mro__[1].__subclasses__}"),
    ("{x[secret]}", "{x[secret]}"),
    ("{x.api_key}", "{x.api_key}"),
    ("{}", "{}"),
    ("{0}", "{0}"),
    ("{1.real}", "{1.real}"),
    ("{x!r}", "{x!r}"),
    ("{x!s}", "{x!s}"),
    ("{x!a}", "{x!a}"),
    ("{x:{y}}", "{x:{y}}"),
    ("{x:>{width}}", "{x:>{width}}"),
    ("{x:>99999999}", "{x:>99999999}"),
    ("{x:.99999999f}", "{x:.99999999f}"),
    ("{x:099999999d}", "{x:099999999d}"),
    ("{x:%99999Y}", "{x:%99999Y}"),
    ("{ x }", "{ x }"),
    ('{"a": 1}', '{"a": 1}'),
    ("{x-y}", "{x-y}"),
    ("ok {a} then {b.__dict__}", "{b.__dict__}"),
]


@pytest.mark.parametrize(("template", "field"), UNSAFE)
def test_unsafe_fields_are_refused_at_construction(template: str, field: str) -> None:
    with pytest.raises(ValueError) as info:
        FStringTemplate(template)
    message = str(info.value)
    assert f"unsafe f-string field {field}" in message
    assert repr(template) in message  # names the template


@pytest.mark.parametrize(("template", "field"), UNSAFE)
def test_unsafe_fields_are_refused_by_every_template_class(template: str, field: str) -> None:
    for build in (
        PromptTemplate.from_template,
        HumanMessagePromptTemplate.from_template,
        lambda t: ChatPromptTemplate.from_messages([("system", t)]),
        ChatPromptTemplate.from_template,
    ):
        with pytest.raises(ValueError, match="unsafe f-string field"):
            build(template)


def test_refusal_messages_explain_the_rule() -> None:
    with pytest.raises(ValueError, match=r"attribute and index access .* is not allowed"):
        FStringTemplate("{x.y}")
    with pytest.raises(ValueError, match=r"positional fields .* name the variable"):
        FStringTemplate("{}")
    with pytest.raises(ValueError, match=r"conversions \(!r, !s, !a\) are not allowed"):
        FStringTemplate("{x!r}")
    with pytest.raises(ValueError, match="nested fields in a format spec"):
        FStringTemplate("{x:{y}}")
    with pytest.raises(ValueError, match="width/precision 99999999 is over the limit 10000"):
        FStringTemplate("{x:>99999999}")
    with pytest.raises(ValueError, match=r"literal brace, double it: \{\{ and \}\}"):
        FStringTemplate('{"a": 1}')


@pytest.mark.parametrize("template", ["{", "}", "a } b", "{x", "{x!}", "{x!rr}"])
def test_malformed_templates_are_refused(template: str) -> None:
    with pytest.raises(ValueError, match=r"invalid f-string template|unsafe f-string field"):
        FStringTemplate(template)


def test_non_str_template_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="must be a str, got int"):
        FStringTemplate(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must be a str, got list"):
        PromptTemplate(["a"])  # type: ignore[arg-type]


def test_simple_format_specs_work_like_str_format() -> None:
    for template, value in [
        ("{x:>10}", "abc"),
        ("{x:<6}|", "ab"),
        ("{x:^9}", "mid"),
        ("{x:.2f}", 3.14159),
        ("{x:,}", 1234567),
        ("{x:08.3f}", -1.5),
        ("{x:*^{}}".replace("{}", "12"), "c"),
        ("{x:%Y-%m-%d}", __import__("datetime").date(2024, 5, 17)),
        (f"{{x:>{MAX_FORMAT_WIDTH}}}", "edge"),
    ]:
        assert FStringTemplate(template).render({"x": value}) == template.format(x=value)


def test_escaped_braces_and_literals() -> None:
    t = FStringTemplate("{{literal}} {a}{{ and }} {b}!")
    assert t.variables == ("a", "b")
    assert t.render({"a": 1, "b": [2]}) == "{literal} 1{ and } [2]!"
    assert FStringTemplate("no fields").render({}) == "no fields"
    assert FStringTemplate("").render({}) == ""


def test_variables_are_sorted_and_unique() -> None:
    assert get_template_variables("{b} {a} {b} {c:>3}") == ["a", "b", "c"]
    assert compile_template("{z}{y}", "f-string").variables == ("y", "z")


def test_format_template_one_shot() -> None:
    assert format_template("{a}+{b}", a=1, b=2) == "1+2"
    with pytest.raises(ValueError, match="unsafe"):
        format_template("{a.b}", a=1)


def test_unknown_template_format() -> None:
    with pytest.raises(
        ValueError, match=r"unknown template_format 'xml'; valid formats: \['f-string', 'jinja2'\]"
    ):
        compile_template("x", "xml")
    with pytest.raises(ValueError, match="'mustache' is not supported"):
        PromptTemplate("{x}", template_format="mustache")  # type: ignore[arg-type]


class Spy:
    """Records every attribute lookup made on an instance."""

    def __init__(self) -> None:
        object.__setattr__(self, "seen", [])

    def __getattribute__(self, name: str) -> Any:
        object.__getattribute__(self, "seen").append(name)
        return object.__getattribute__(self, name)

    def __getattr__(self, name: str) -> Any:
        object.__getattribute__(self, "seen").append(f"missing:{name}")
        raise AttributeError(name)

    def __getitem__(self, key: Any) -> Any:
        object.__getattribute__(self, "seen").append(f"item:{key}")
        raise KeyError(key)

    def __format__(self, spec: str) -> str:
        return f"<spy{spec}>"


def test_rendering_never_reads_attributes_or_items_of_values() -> None:
    spy = Spy()
    prompt = PromptTemplate.from_template("a {x} b {x:>8} c")
    assert prompt.format(x=spy) == "a <spy> b <spy>8> c"
    chat = ChatPromptTemplate.from_messages([("system", "{x}"), ("human", "{x}")])
    chat.invoke({"x": spy})
    assert object.__getattribute__(spy, "seen") == []


def test_unsafe_template_never_touches_the_value() -> None:
    spy = Spy()
    with pytest.raises(ValueError):
        PromptTemplate.from_template("{x.secret}").format(x=spy)
    assert object.__getattribute__(spy, "seen") == []


def test_compiled_template_is_immutable() -> None:
    t = FStringTemplate("{x}")
    with pytest.raises(AttributeError, match="immutable"):
        t._pieces = (("", "x.__class__", ""),)  # type: ignore[misc]
    with pytest.raises(AttributeError, match="immutable"):
        t.template = "{x.__class__}"  # type: ignore[misc]
    with pytest.raises(AttributeError, match="immutable"):
        del t._tail


def test_specs_are_rechecked_at_render_and_names_are_only_dict_keys() -> None:
    t = FStringTemplate("{x:>5}")
    # Forcing unsafe pieces past the immutability guard still cannot render them.
    object.__setattr__(t, "_pieces", (("", "x", ">999999999"),))
    with pytest.raises(ValueError, match="over the limit"):
        t.render({"x": 1})
    object.__setattr__(t, "_pieces", (("", "x.__class__", ""),))
    with pytest.raises(KeyError):  # a plain dict lookup of the odd name, no attribute access
        t.render({"x": Spy()})


def test_missing_value_is_a_key_error_at_the_low_level() -> None:
    with pytest.raises(KeyError):
        FStringTemplate("{x}").render({})


def test_repr() -> None:
    assert repr(FStringTemplate("{a}")) == "FStringTemplate('{a}')"


_names = st.sampled_from(["a", "b", "topic", "x1", "über"])
_literals = st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=8)
_specs = st.sampled_from(["", ">5", "<3", "^7", ".2", "*>4"])


@given(st.lists(st.tuples(_literals, _names, _specs), max_size=6), _literals)
def test_safe_templates_render_exactly_like_str_format(
    pieces: list[tuple[str, str, str]], tail: str
) -> None:
    template = "".join(
        lit + "{" + name + (":" + spec if spec else "") + "}" for lit, name, spec in pieces
    )
    template += tail + "{{}}"
    values = {"a": "A", "b": 2.5, "topic": "owls", "x1": 7.25, "über": "ü"}
    compiled = FStringTemplate(template)
    assert compiled.render(values) == template.format(**values)
    assert list(compiled.variables) == sorted({name for _, name, _ in pieces})
