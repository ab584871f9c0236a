"""Safe template formatting: f-strings parsed once into pieces, jinja2 in a sandbox.

Prompt templates often come from somewhere other than the code that formats them (a config
file, a prompt hub, a user). Python's ``str.format`` follows ``{x.attr}`` and ``{x[key]}``
into the values it is given, which can leak secrets (``{x.__init__.__globals__}``), and a
format spec like ``{x:>999999999}`` allocates a gigabyte. So an f-string template here is
parsed once, at construction, into ``(literal, variable, spec)`` pieces, and only plain
variable names are accepted. Rendering looks each variable up in the values dict and formats
it with ``format(value, spec)``: it never reads an attribute or an item of a value.

jinja2 templates always compile in chainkit's sandbox (see ``_jinja``); jinja2 is imported
only when a jinja2 template is built.

Example:
    >>> template = compile_template("Hello {name:>8}!", "f-string")
    >>> template.variables
    ('name',)
    >>> template.render({"name": "Ada"})
    'Hello      Ada!'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from string import Formatter
from typing import Any, Literal, Protocol

PromptTemplateFormat = Literal["f-string", "jinja2"]
"""The template syntaxes a prompt accepts."""

TEMPLATE_FORMATS: tuple[str, ...] = ("f-string", "jinja2")

#: The largest width or precision an f-string format spec may ask for.
MAX_FORMAT_WIDTH = 10_000

_DIGITS = re.compile(r"\d+")
_parse = Formatter().parse


class CompiledTemplate(Protocol):
    """A template compiled once; ``render`` fills it from a dict of values."""

    @property
    def template(self) -> str:
        """The template source."""
        ...

    @property
    def variables(self) -> tuple[str, ...]:
        """The variables the template reads, sorted."""
        ...

    def render(self, values: Mapping[str, Any]) -> str:
        """Fill the template; every variable in ``variables`` must be in ``values``."""
        ...


def _short(template: str, limit: int = 200) -> str:
    text = repr(template)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def _refuse(template: str, field: str, why: str) -> ValueError:
    if len(field) > 80:  # a field can be as long as the template: keep the message readable
        field = field[:77] + "..."
    return ValueError(f"unsafe f-string field {{{field}}} in template {_short(template)}: {why}")


def format_spec_problem(spec: str) -> str | None:
    """Why ``spec`` is unsafe (a nested field, or a width/precision over the limit), or None.

    Every run of digits in the spec counts, so both ``>99999`` and strftime-style
    ``%99999Y`` are caught.
    """
    if "{" in spec or "}" in spec:
        return "nested fields in a format spec ({x:{width}}) are not allowed"
    for digits in _DIGITS.findall(spec):
        if int(digits) > MAX_FORMAT_WIDTH:
            return f"format spec width/precision {digits} is over the limit {MAX_FORMAT_WIDTH}"
    return None


def check_format_spec(spec: str, template: str, field: str) -> None:
    """Refuse an unsafe format spec (see `format_spec_problem`).

    Raises:
        ValueError: The spec is unsafe; the message names the template and the field.
    """
    problem = format_spec_problem(spec)
    if problem is not None:
        raise _refuse(template, field, problem)


def _check_field(template: str, name: str, conversion: str | None, spec: str) -> None:
    shown = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
    if name == "" or name.isdigit():
        raise _refuse(
            template,
            shown,
            "positional fields ({} and {0}) are not allowed; name the variable, e.g. {question}",
        )
    if not name.isidentifier():
        if "." in name or "[" in name:
            why = (
                "attribute and index access ({x.attr}, {x[0]}) is not allowed; "
                "only plain variable names like {name}"
            )
        else:
            why = (
                "only plain variable names like {name} are allowed; "
                "to write a literal brace, double it: {{ and }}"
            )
        raise _refuse(template, shown, why)
    if conversion is not None:
        raise _refuse(template, shown, "conversions (!r, !s, !a) are not allowed")
    check_format_spec(spec, template, shown)


class FStringTemplate:
    """An f-string (``str.format`` syntax) template, checked and split once into pieces.

    Only ``{name}`` and ``{name:spec}`` fields are accepted (spec widths up to
    ``MAX_FORMAT_WIDTH``); ``{{`` and ``}}`` write literal braces. Instances are immutable.

    Example:
        >>> FStringTemplate("{greeting}, {name}! {{literal}}").render(
        ...     {"greeting": "Hi", "name": "Ada"})
        'Hi, Ada! {literal}'
        >>> FStringTemplate("{x.__class__}")
        Traceback (most recent call last):
        ...
        ValueError: unsafe f-string field {x.__class__} in template '{x.__class__}': attribute and index access ({x.attr}, {x[0]}) is not allowed; only plain variable names like {name}
    """  # noqa: E501

    __slots__ = ("_pieces", "_tail", "template", "variables")

    template: str
    variables: tuple[str, ...]
    _pieces: tuple[tuple[str, str, str], ...]
    _tail: str

    def __init__(self, template: str) -> None:
        if not isinstance(template, str):
            raise TypeError(
                f"an f-string template must be a str, got {type(template).__name__}: "
                f"{template!r:.80}"
            )
        try:
            parsed = list(_parse(template))
        except ValueError as error:
            raise ValueError(
                f"invalid f-string template {_short(template)}: {error}; "
                "to write a literal brace, double it: {{ and }}"
            ) from None
        pieces: list[tuple[str, str, str]] = []
        tail = ""
        for literal, name, spec, conversion in parsed:
            if name is None:
                tail += literal
                continue
            _check_field(template, name, conversion, spec or "")
            pieces.append((tail + literal, name, spec or ""))
            tail = ""
        set_ = object.__setattr__
        set_(self, "template", template)
        set_(self, "variables", tuple(sorted({name for _, name, _ in pieces})))
        set_(self, "_pieces", tuple(pieces))
        set_(self, "_tail", tail)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; build a new one instead")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; build a new one instead")

    def __repr__(self) -> str:
        return f"FStringTemplate({self.template!r})"

    def render(self, values: Mapping[str, Any]) -> str:
        """Fill the template from ``values`` (a ``KeyError`` if a variable is missing).

        Each value is formatted with ``format(value, spec)``, as ``str.format`` would; a
        spec is re-checked here, so no path renders an unchecked one.
        """
        # Prompts have few fields: growing one str in place beats building a list to join.
        out = ""
        for literal, name, spec in self._pieces:
            value = values[name]
            if spec:
                check_format_spec(spec, self.template, f"{name}:{spec}")
                out += literal + format(value, spec)
            elif type(value) is str:
                out += literal + value
            else:
                out += literal + format(value, "")
        return out + self._tail


def compile_template(template: str, template_format: str = "f-string") -> CompiledTemplate:
    """Check and compile ``template`` once.

    Args:
        template: The template text.
        template_format: ``"f-string"`` or ``"jinja2"``.

    Raises:
        ValueError: The format is unknown, or the template is invalid or unsafe.
        ImportError: ``template_format="jinja2"`` and jinja2 is not installed.
    """
    if template_format == "f-string":
        return FStringTemplate(template)
    if template_format == "jinja2":
        from chainkit.prompts._jinja import Jinja2Template

        return Jinja2Template(template)
    if template_format == "mustache":
        raise ValueError(
            f"template_format 'mustache' is not supported; valid formats: {list(TEMPLATE_FORMATS)}"
        )
    raise ValueError(
        f"unknown template_format {template_format!r}; valid formats: {list(TEMPLATE_FORMATS)}"
    )


def get_template_variables(template: str, template_format: str = "f-string") -> list[str]:
    """The sorted variable names of ``template`` (checking it as `compile_template` does).

    Example:
        >>> get_template_variables("{b} and {a} and {b}")
        ['a', 'b']
    """
    return list(compile_template(template, template_format).variables)


def format_template(template: str, template_format: str = "f-string", /, **values: Any) -> str:
    """Check, compile and fill ``template`` in one call (parses every time; prefer a
    `PromptTemplate` for repeated use).

    Raises:
        KeyError: A variable is missing from ``values``.
        ValueError: The template is invalid or unsafe.

    Example:
        >>> format_template("{a} + {b}", a=1, b=2)
        '1 + 2'
    """
    return compile_template(template, template_format).render(values)


__all__ = [
    "MAX_FORMAT_WIDTH",
    "TEMPLATE_FORMATS",
    "CompiledTemplate",
    "FStringTemplate",
    "PromptTemplateFormat",
    "check_format_spec",
    "compile_template",
    "format_spec_problem",
    "format_template",
    "get_template_variables",
]
