"""`PromptTemplate`: a template that renders to one string (`StringPromptValue`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from typing_extensions import Self

from chainkit.prompts.base import BasePromptTemplate
from chainkit.prompts.formatting import CompiledTemplate, PromptTemplateFormat, compile_template
from chainkit.prompts.values import StringPromptValue


@lru_cache(maxsize=512)
def cached_template(template: str, template_format: str) -> CompiledTemplate:
    """`compile_template`, memoised: compiled templates are immutable, so copies made by
    `partial` or `+` share one (a jinja2 compile costs milliseconds)."""
    return compile_template(template, template_format)


def highlight(text: str) -> str:
    """``text`` in bold yellow (ANSI), how pretty reprs mark variables when ``html=True``."""
    return f"\x1b[33;1m\x1b[1;3m{text}\x1b[0m"


class PromptTemplate(BasePromptTemplate[StringPromptValue]):
    """A string prompt: an f-string (default) or sandboxed jinja2 template.

    ``input_variables`` are read from the template (sorted); f-string templates accept only
    plain ``{name}`` fields (with an optional simple format spec), see
    `chainkit.prompts.formatting`.

    Args:
        template: The template text.
        input_variables: Optional; if given it must list exactly the template's variables.
        template_format: ``"f-string"`` or ``"jinja2"``.
        partial_variables: Variables filled in ahead of time: values or zero-argument
            callables.
        input_types: Types of non-string variables, for the input schema.
        validate_template: Accepted for LangChain compatibility; templates are always
            validated.

    Example:
        >>> prompt = PromptTemplate.from_template("Tell me a joke about {topic}")
        >>> prompt.input_variables
        ['topic']
        >>> prompt.invoke({"topic": "owls"})
        StringPromptValue(text='Tell me a joke about owls')
        >>> prompt.format(topic="cats")
        'Tell me a joke about cats'
    """

    __slots__ = ("_compiled", "_template", "_template_format")

    def __init__(
        self,
        template: str,
        input_variables: Sequence[str] | None = None,
        template_format: PromptTemplateFormat = "f-string",
        partial_variables: Mapping[str, Any] | None = None,
        *,
        input_types: Mapping[str, Any] | None = None,
        validate_template: bool = False,
    ) -> None:
        if not isinstance(template, str):
            raise TypeError(
                f"PromptTemplate template must be a str, got {type(template).__name__}: "
                f"{template!r:.80}"
            )
        compiled = cached_template(template, template_format)
        self._template = template
        self._template_format: PromptTemplateFormat = template_format
        self._compiled = compiled
        partials = dict(partial_variables or {})
        if input_variables is not None:
            _check_declared(template, input_variables, compiled.variables, partials)
        self._init_variables(compiled.variables, (), partials, input_types)

    @property
    def template(self) -> str:
        """The template text (read-only: a template is compiled once; build a new one)."""
        return self._template

    @property
    def template_format(self) -> PromptTemplateFormat:
        """``"f-string"`` or ``"jinja2"`` (read-only)."""
        return self._template_format

    @classmethod
    def from_template(
        cls,
        template: str,
        *,
        template_format: PromptTemplateFormat = "f-string",
        partial_variables: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Self:
        """Build a template from its text; the variables are read from it.

        Example:
            >>> PromptTemplate.from_template("{a} and {b}", partial_variables={"a": 1}).format(b=2)
            '1 and 2'
        """
        return cls(
            template,
            template_format=template_format,
            partial_variables=partial_variables,
            **kwargs,
        )

    # ---- formatting -------------------------------------------------------------------
    def _render(self, values: Mapping[str, Any]) -> str:
        """Render values that were checked by a caller (merging this template's partials)."""
        if self.partial_variables:
            values = self._merge_partial_and_user_variables(values)
        return self._compiled.render(values)

    def _format_values(self, values: dict[str, Any]) -> StringPromptValue:
        return StringPromptValue(self._compiled.render(values))

    def format(self, **kwargs: Any) -> str:
        """Fill the template.

        Raises:
            PromptVariableError: A variable is missing (a ``KeyError``).
        """
        return self._compiled.render(self._values(kwargs))

    def _rebuild(self, partial_variables: dict[str, Any]) -> PromptTemplate:
        return PromptTemplate(
            self.template,
            template_format=self.template_format,
            partial_variables=partial_variables,
            input_types=self.input_types,
        )

    def partial(self, **kwargs: Any) -> PromptTemplate:
        """A copy with some variables filled in (values or zero-argument callables).

        Example:
            >>> PromptTemplate.from_template("{a}{b}").partial(a="x").input_variables
            ['b']
        """
        return self._rebuild({**self.partial_variables, **kwargs})

    # ---- composition ------------------------------------------------------------------
    def __add__(self, other: Any) -> PromptTemplate:
        """Concatenate two templates (or a template and a string) of the same format.

        Raises:
            ValueError: The formats differ, or both templates fill the same partial.
        """
        if isinstance(other, str):
            other = PromptTemplate(other, template_format=self.template_format)
        if not isinstance(other, PromptTemplate):
            return NotImplemented
        if other.template_format != self.template_format:
            raise ValueError(
                f"cannot add a {other.template_format!r} template to a "
                f"{self.template_format!r} template; both must have the same template_format"
            )
        both = self.partial_variables.keys() & other.partial_variables.keys()
        if both:
            raise ValueError(
                f"cannot add templates that both fill partial variable(s) {sorted(both)}"
            )
        return PromptTemplate(
            self.template + other.template,
            template_format=self.template_format,
            partial_variables={**self.partial_variables, **other.partial_variables},
            input_types={**self.input_types, **other.input_types},
        )

    # ---- schema and display -----------------------------------------------------------
    @property
    def OutputType(self) -> Any:
        return StringPromptValue

    def pretty_repr(self, html: bool = False) -> str:
        """The template with each input variable shown as ``{name}`` (partials filled).

        Example:
            >>> PromptTemplate.from_template("Hi {name}").pretty_repr()
            'Hi {name}'
        """
        dummies = {name: "{" + name + "}" for name in self.input_variables}
        if html:
            dummies = {name: highlight(text) for name, text in dummies.items()}
        return self._compiled.render(self._merge_partial_and_user_variables(dummies))

    def __repr__(self) -> str:
        fields = [*self._repr_fields(), f"template={self.template!r}"]
        if self.template_format != "f-string":
            fields.append(f"template_format={self.template_format!r}")
        return f"{type(self).__name__}({', '.join(fields)})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, PromptTemplate)
        return (
            self.template == other.template
            and self.template_format == other.template_format
            and self.partial_variables == other.partial_variables
            and self.input_types == other.input_types
        )

    def __hash__(self) -> int:
        return hash((type(self), self.template, self.template_format))


def _check_declared(
    template: str, declared: Sequence[str], found: Sequence[str], partials: Mapping[str, Any]
) -> None:
    if isinstance(declared, str):
        raise TypeError(f"input_variables must be a list of names, got a str: {declared!r}")
    declared_set = set(declared) - partials.keys()
    found_set = set(found) - partials.keys()
    if declared_set != found_set:
        raise ValueError(
            f"input_variables {sorted(declared_set)} do not match the variables of template "
            f"{template!r:.200}: not in the template: {sorted(declared_set - found_set)}; used "
            f"but not listed: {sorted(found_set - declared_set)}. Leave input_variables out to "
            "infer them."
        )


__all__ = ["PromptTemplate"]
