"""Figure 5: hostile prompt templates are refused, or stopped within 1 s and 1 MiB.

A prompt template may come from a config file, a prompt hub or a user. f-string templates
must refuse anything beyond plain ``{name}`` fields (attribute and index access, nested or
huge format specs, conversions, positional fields) when they are built. jinja2 templates run
in chainkit's sandbox: escapes through ``__class__``/``__globals__``/``attr()``/``format`` are
refused, and resource payloads (huge ranges, repetitions, widths, concatenations, joins) stop
with the template error, in under 1 s, without producing or holding more than about 1 MiB.

Every payload is formatted with values that hold a secret (the canary key) behind an
attribute, an item and ``__dict__``: no rendering may contain it.
"""

from __future__ import annotations

import time
import tracemalloc
from typing import Any

import jinja2
import pytest

from chainkit.prompts import ChatPromptTemplate, PromptTemplate
from tests.reliability.canary import CANARY, leaks

MIB = 1 << 20
#: Memory a refused or stopped payload may allocate at its peak. Text is held to 1 MiB
#: (1 Mi characters); lists to 1 Mi items, which as Python objects take several MiB.
PEAK_LIMIT = 16 * MIB


class Secretive:
    """A value that holds the key behind an attribute, an item, and its instance dict."""

    def __init__(self) -> None:
        self.secret = CANARY
        self._private = CANARY

    def __getitem__(self, key: Any) -> str:
        return CANARY

    def __str__(self) -> str:
        return "secretive"


F_STRING_PAYLOADS = [
    # attribute access
    "{x.__class__}", "{x.__init__.__globals__}", "{x.__class__.__mro__}", "{x.secret}",
    "{x._private}", "{x.__dict__}", "{x.__init__.__globals__[CANARY]}", "{x.a.b.c.d}",
    # index access
    "{x[0]}", "{x[secret]}", "{x[__class__]}", "{x['a']}", "{x[0][0]}", "{x[-1]}",
    "{x.__globals__[os]}",
    # nested format specs
    "{x:{y}}", "{x:{y}{z}}", "{x:{y.__class__}}", "{x:>{y}}", "{x:{{}}}", "{x:{y:{z}}}",
    # huge widths and precisions
    "{x:>999999999}", "{x:99999999}", "{x:.999999999}", "{x:0999999999}",
    "{x:,>100000}", "{n:%99999Y}", "{n:.100000f}", "{n:>10001}",
    # conversions
    "{x!r}", "{x!s}", "{x!a}", "{x!r:>10}", "{x!z}",
    # positional fields
    "{}", "{0}", "{0.__class__}", "{1}", "{} {}", "{0[0]}",
    # malformed
    "{x", "x}", "{x}}", "{ x }", "{x.}", "{x[}", "{x[0}", "{x!}", "{x:",
    "{" * 10_000, "{\x00}",
    # huge names
    "{" + "a" * 100_000 + "}", "{" + "a." * 50_000 + "a}", "{" + "a" * 100_000 + ":>5}",
]

JINJA2_PAYLOADS = [
    # sandbox escapes
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ x.__class__ }}",
    "{{ x.__init__.__globals__ }}",
    "{{ x._private }}",
    "{{ x.__dict__ }}",
    "{{ x|attr('__class__') }}",
    "{{ x|attr('__dict__') }}",
    "{{ (''|attr('format'))('{0.__class__}', x) }}",
    "{{ '{0.__class__.__mro__}'.format(x) }}",
    "{{ '{0._private}'.format(x) }}",
    "{{ '{0.__init__.__globals__}'.format(x) }}",
    "{{ cycler.__init__.__globals__.os }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ lipsum.__globals__ }}",
    "{{ self.__init__.__globals__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ range.__self__ }}",
    "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{{ ().__class__.__bases__[0] }}",
    "{{ x.__reduce_ex__(2) }}",
    "{{ {}.update(a=1) }}",
    "{% set l = [] %}{{ l.append(1) }}",
    "{{ config }}",
    "{{ request.application.__globals__ }}",
    # resources
    "{{ range(10**9)|list }}",
    "{% for i in range(10**9) %}{% endfor %}",
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{{ 'a' * 10**9 }}",
    "{{ [1] * 10**9 }}",
    "{{ 9 ** 9 ** 9 }}",
    "{{ 10 ** 10 ** 10 }}",
    "{{ 'x'|center(10**9) }}",
    "{{ 'x'|indent(10**9) }}",
    "{{ 'x'|indent('a' * 10**6) }}",
    "{{ '%999999999s' % 'x' }}",
    "{{ '{:>999999999}'.format('x') }}",
    "{{ 'x'.ljust(10**9) }}",
    "{{ 'x'.zfill(10**9) }}",
    "{{ 'x'.center(10**9) }}",
    "{{ ('a' * 1000).replace('a', 'a' * 10000) }}",
    "{{ ('a' * 1000)|replace('a', 'a' * 10000) }}",
    "{% for i in range(100000) %}{{ 'aaaaaaaaaaaaaaaaaaaa' }}{% endfor %}",
    "{{ ('a' * 1000000) ~ ('a' * 1000000) }}",
    "{{ ('a' * 1000000) + ('a' * 1000000) }}",
    "{% set a = 'x' * 1000000 %}{% set a = a ~ a %}{% set a = a ~ a %}{% set a = a ~ a %}"
    "{% set a = a ~ a %}{% set a = a ~ a %}{% set a = a ~ a %}{{ a|length }}",
    "{% set a = 'x' * 1000000 %}{% set a = a + a %}{% set a = a + a %}{% set a = a + a %}"
    "{% set a = a + a %}{% set a = a + a %}{% set a = a + a %}{{ a|length }}",
    "{{ (['x' * 1000000] * 1000)|join }}",
    "{{ (['x' * 1000000] * 1000)|join|length }}",
    "{{ range(100000)|batch(10**9)|list }}",
    "{{ range(100000)|slice(10**9)|list }}",
    "{{ 'x'|wordwrap(10**9) }}",
    "{{ 'x'|truncate(10**9) }}",
    "{{ (range(100000)|list) * 100000 }}",
    "{{ ('%s' * 1000) % ((('x' * 1000000),) * 1000) }}",
    "{{ ('{0}' * 1000).format('x' * 1000000) }}",
    "{{ ('{a}' * 1000).format_map({'a': 'x' * 1000000}) }}",
    "{{ ''.join(['x' * 1000000] * 1000) }}",
    "{{ ([['x'] * 100000] * 1000)|sum(start=[]) }}",
    "{% set l = range(100000)|list %}{% set l = l + l %}{% set l = l + l %}{% set l = l + l %}"
    "{% set l = l + l %}{% set l = l + l %}{{ l|length }}",
]


def attempt(build: Any, render: Any) -> tuple[str | None, BaseException | None, float, int]:
    """Build and render twice: timed alone, then under ``tracemalloc`` (which slows Python
    down many times) for the peak allocation. Returns (output, error, seconds, peak bytes)."""

    def once() -> tuple[str | None, BaseException | None]:
        try:
            return render(build()), None
        except (ValueError, KeyError, TypeError, jinja2.TemplateError) as exc:
            return None, exc

    start = time.perf_counter()
    output, error = once()
    elapsed = time.perf_counter() - start
    tracemalloc.start()
    try:
        once()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return output, error, elapsed, peak


class PrivateSecret:
    """For jinja2, where ``x.name`` legitimately reads an item or a public attribute of the
    data a template is given: the key sits only where the sandbox must refuse to look."""

    def __init__(self) -> None:
        self._private = CANARY

    def method(self) -> str:
        return "ok"

    def __str__(self) -> str:
        return "private"


def values_for(template: PromptTemplate) -> dict[str, Any]:
    jinja = template.template_format == "jinja2"
    default = PrivateSecret if jinja else Secretive
    special: dict[str, Any] = {"x": default(), "n": 3.5, "y": 5, "z": "z"}
    return {name: special.get(name, default()) for name in template.input_variables}


def _judge(payload: str, output: str | None, error: BaseException | None, elapsed: float,
           peak: int) -> None:
    shown = payload[:60]
    assert elapsed < 1.0, f"{shown!r} ran {elapsed:.2f} s"
    assert peak < PEAK_LIMIT, f"{shown!r} allocated {peak / MIB:.1f} MiB at its peak"
    if error is not None:
        assert not leaks(str(error)), f"{shown!r}: the error shows the secret"
        assert len(str(error)) < 2000, f"{shown!r}: a {len(str(error))}-char error message"
    else:
        assert output is not None
        assert len(output) <= MIB, f"{shown!r} produced {len(output)} chars"
        assert not leaks(output), f"{shown!r} rendered the secret"


@pytest.mark.parametrize("payload", F_STRING_PAYLOADS, ids=range(len(F_STRING_PAYLOADS)))
def test_hostile_f_string(payload: str) -> None:
    output, error, elapsed, peak = attempt(
        lambda: PromptTemplate.from_template(payload),
        lambda t: t.format(**values_for(t)),
    )
    _judge(payload, output, error, elapsed, peak)
    hostile = any(mark in payload for mark in (".", "[", "!", "{}", "{0", "{1", ":{", ":>9"))
    if hostile and len(payload) < 1000 and payload not in ("{x.}",):
        assert isinstance(error, ValueError), f"{payload!r} was not refused: {output!r:.80}"


def test_f_string_refusal_names_the_field() -> None:
    with pytest.raises(ValueError, match=r"unsafe f-string field \{x\.__class__\}"):
        PromptTemplate.from_template("Hi {x.__class__}")
    with pytest.raises(ValueError, match=r"over the limit"):
        ChatPromptTemplate.from_messages([("human", "{x:>999999999}")])


@pytest.mark.parametrize("payload", JINJA2_PAYLOADS, ids=range(len(JINJA2_PAYLOADS)))
def test_hostile_jinja2(payload: str) -> None:
    output, error, elapsed, peak = attempt(
        lambda: PromptTemplate.from_template(payload, template_format="jinja2"),
        lambda t: t.format(**values_for(t)),
    )
    _judge(payload, output, error, elapsed, peak)


def test_payload_counts() -> None:
    assert len(F_STRING_PAYLOADS) >= 40
    assert len(JINJA2_PAYLOADS) >= 30
