"""jinja2 templates: compiled once, always sandboxed, with size limits."""

from __future__ import annotations

import subprocess
import sys

import pytest
from jinja2.exceptions import SecurityError, UndefinedError

from chainkit.prompts import ChatPromptTemplate, PromptTemplate
from chainkit.prompts._jinja import MAX_OUTPUT_CHARS, Jinja2Template, TemplateLimitError


def test_import_does_not_load_jinja2() -> None:
    code = (
        "import sys, chainkit.prompts as p\n"
        "p.ChatPromptTemplate.from_messages([('human', '{q}')]).invoke({'q': 1})\n"
        "assert 'jinja2' not in sys.modules, 'jinja2 was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_renders_and_finds_variables() -> None:
    prompt = PromptTemplate.from_template(
        "{% for item in items %}- {{ item }}\n{% endfor %}{{ who|upper }}", template_format="jinja2"
    )
    assert prompt.input_variables == ["items", "who"]
    assert prompt.format(items=["a", "b"], who="ada") == "- a\n- b\nADA"
    assert prompt.template_format == "jinja2"
    assert "template_format='jinja2'" in repr(prompt)


def test_loop_variables_and_globals_are_not_inputs() -> None:
    t = Jinja2Template("{% set n = 2 %}{% for i in range(n) %}{{ loop.index }}{{ x }}{% endfor %}")
    assert t.variables == ("x",)
    assert t.render({"x": "!"}) == "1!2!"


def test_chat_prompt_with_jinja2() -> None:
    prompt = ChatPromptTemplate.from_messages(
        [("system", "You are {{ role }}."), ("human", "{{ q }}")], template_format="jinja2"
    )
    assert prompt.input_variables == ["q", "role"]
    assert (
        prompt.invoke({"role": "terse", "q": "hi"}).to_string()
        == "System: You are terse.\nHuman: hi"
    )


def test_missing_variable_is_reported_before_rendering() -> None:
    prompt = PromptTemplate.from_template("{{ a }} {{ b }}", template_format="jinja2")
    with pytest.raises(KeyError, match=r"missing variable\(s\) \['b'\]"):
        prompt.format(a=1)


def test_undefined_attribute_is_strict() -> None:
    prompt = PromptTemplate.from_template("{{ a.nope }}", template_format="jinja2")
    with pytest.raises(UndefinedError):
        prompt.format(a={"x": 1})


def test_syntax_error_is_a_value_error_naming_the_template() -> None:
    with pytest.raises(ValueError, match=r"invalid jinja2 template '\{% for x in %\}'"):
        PromptTemplate.from_template("{% for x in %}", template_format="jinja2")


SANDBOXED = [
    "{{ x.__class__.__mro__ }}",
    "{{ ''.__class__ }}",
    "{{ x|attr('__class__') }}",
    "{{ x.__init__.__globals__ }}",
    "{{ (1).__class__.__base__.__subclasses__() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ namespace.__init__ }}",
    "{{ self.__init__ }}",
    "{{ x.append(1) }}",
    "{{ x.pop() }}",
]


@pytest.mark.parametrize("template", SANDBOXED)
def test_sandbox_refuses_internals_and_mutation(template: str) -> None:
    prompt = PromptTemplate.from_template(template, template_format="jinja2")
    values = {name: [1, 2] for name in prompt.input_variables}
    with pytest.raises(SecurityError):
        prompt.format(**values)


LIMITS = [
    ("{% for i in range(10**9) %}{% endfor %}", "at most 100000 per range"),
    (
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "more than 1000000 range",
    ),
    ("{{ 'a' * 10**9 }}", "over the limit"),
    ("{{ [0] * 10**9 }}", "over the limit"),
    ("{{ 10 ** (10 ** 6) }}", "bits"),
    ("{{ (10 ** 5000) * (10 ** 50000) }}", "bits"),
    ("{{ 2 ** 999999 }}", "bits"),
    ("{{ '%0999999999d' % 1 }}", "over the limit 10000"),
    ("{{ '{:>999999999}'.format(1) }}", "over the limit 10000"),
    ("{{ '{:{}}'.format(1, 999999999) }}", "nested fields"),
    ("{{ 'a'|center(999999999) }}", "center width"),
    ("{{ 'a'|indent(999999999) }}", "indent width"),
    ("{{ '%999999999s'|format(1) }}", "over the limit 10000"),
    ("{{ 'a'.center(999999999) }}", "str.center width"),
    ("{{ 'a'.ljust(999999999) }}", "str.ljust width"),
    ("{{ 'a'.zfill(999999999) }}", "str.zfill width"),
    ("{{ [1]|batch(999999999, 'x')|list }}", "batch size"),
    ("{{ ('a' * 1000000)|replace('a', 'aaaa') }}", "replace"),
    ("{{ ('a' * 1000000).replace('a', 'aaaa') }}", "replace"),
    ("{% for i in range(100000) %}{{ 'x' * 20 }}{% endfor %}", "rendered template is over"),
]


@pytest.mark.parametrize(("template", "message"), LIMITS)
def test_size_limits(template: str, message: str) -> None:
    prompt = PromptTemplate.from_template(template, template_format="jinja2")
    with pytest.raises(TemplateLimitError, match=message) as info:
        prompt.format()
    # One error type for both kinds of handler.
    assert isinstance(info.value, SecurityError)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "template", ["{% include 'x.txt' %}", "{% import 'x' as m %}", "{% extends 'base' %}"]
)
def test_no_template_loading(template: str) -> None:
    prompt = PromptTemplate.from_template(template, template_format="jinja2")
    with pytest.raises(TypeError, match="no loader"):
        prompt.format()


def test_lipsum_is_not_a_global() -> None:
    prompt = PromptTemplate.from_template("{{ lipsum(100000) }}", template_format="jinja2")
    assert prompt.input_variables == ["lipsum"]  # only a variable of that name, if supplied


def test_output_just_under_the_cap_is_fine() -> None:
    t = Jinja2Template("{{ x }}")
    assert len(t.render({"x": "a" * MAX_OUTPUT_CHARS})) == MAX_OUTPUT_CHARS
    with pytest.raises(TemplateLimitError):
        t.render({"x": "a" * (MAX_OUTPUT_CHARS + 1)})


def test_ordinary_use_of_limited_features_still_works() -> None:
    prompt = PromptTemplate.from_template(
        "{{ '-' * 3 }}{{ 2 ** 10 }}{{ '%05d' % 7 }}{{ 'ab'|center(6) }}"
        "{{ '{:>4}'.format(1) }}{{ 'x'.zfill(3) }}{{ 'aa'|replace('a', 'b') }}"
        "{% for i in range(3) %}{{ i }}{% endfor %}",
        template_format="jinja2",
    )
    assert prompt.format() == "---102400007  ab     100xbb012"


def test_range_budget_is_per_render() -> None:
    t = Jinja2Template("{% for i in range(100000) %}{% endfor %}ok")
    for _ in range(20):  # 2,000,000 items over 20 renders: each render has its own budget
        assert t.render({}) == "ok"
