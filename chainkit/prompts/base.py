"""`BasePromptTemplate`: what every prompt template shares.

A prompt is a cheap, pure `Runnable` (``run_type="prompt"``, ``inline=True``): ``invoke``
takes a dict of variables (or, when the template has exactly one input variable, a bare
value) and returns a `PromptValue`. Everything a call needs is computed at construction: the
set of required variables, the partial values split into constants and zero-argument
callables, the name to wrap a bare value under. A call then merges partials (only if there
are any), checks the required names with one set comparison and renders.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Optional, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field, create_model
from typing_extensions import NotRequired, TypedDict

from chainkit.messages import AnyMessage
from chainkit.prompts.errors import PromptVariableError
from chainkit.prompts.values import PromptValue
from chainkit.runnables.base import Runnable
from chainkit.runnables.config import RunnableConfig

PV = TypeVar("PV", bound=PromptValue, covariant=True)

_SCHEMA_CONFIG = ConfigDict(populate_by_name=True)


class BasePromptTemplate(Runnable[dict[str, Any], PV]):
    """The shared part of `PromptTemplate` and `ChatPromptTemplate`.

    Subclasses call `_init_variables` in ``__init__`` and implement `_format_values` (render
    already merged and checked values into a prompt value), `format`, `_rebuild` (a copy with
    other partials) and `pretty_repr`.

    Attributes:
        input_variables: The variables a call must supply, sorted (partials excluded).
        optional_variables: Variables a call may supply (optional message placeholders).
        partial_variables: Values (or zero-argument callables) filled in ahead of time.
        input_types: Types of variables that are not strings (message placeholders).

    Example:
        >>> from chainkit.prompts import PromptTemplate
        >>> prompt = PromptTemplate.from_template("{greeting}, {name}!")
        >>> prompt.partial(greeting="Hello").invoke({"name": "Ada"}).to_string()
        'Hello, Ada!'
    """

    run_type: ClassVar[str] = "prompt"
    inline: ClassVar[bool] = True

    __slots__ = (
        "_dynamic_partials",
        "_input_schema",
        "_input_type",
        "_required",
        "_single_variable",
        "_static_partials",
        "input_types",
        "input_variables",
        "optional_variables",
        "partial_variables",
    )

    input_variables: list[str]
    optional_variables: list[str]
    partial_variables: dict[str, Any]
    input_types: dict[str, Any]

    def _init_variables(
        self,
        variables: Iterable[str],
        optional_variables: Iterable[str] = (),
        partial_variables: Mapping[str, Any] | None = None,
        input_types: Mapping[str, Any] | None = None,
    ) -> None:
        partials = dict(partial_variables or {})
        for key in partials:
            if not isinstance(key, str):
                raise TypeError(
                    f"partial variable names must be str, got {type(key).__name__}: {key!r}"
                )
        self.partial_variables = partials
        self.input_variables = sorted(set(variables) - partials.keys())
        self.optional_variables = sorted(set(optional_variables) - set(self.input_variables))
        self.input_types = dict(input_types or {})
        self._required = frozenset(self.input_variables)
        self._static_partials = {k: v for k, v in partials.items() if not callable(v)}
        self._dynamic_partials = tuple((k, v) for k, v in partials.items() if callable(v))
        self._single_variable = self.input_variables[0] if len(self.input_variables) == 1 else None
        # Schemas are built on first use (callers that never ask pay nothing).
        self._input_schema: type[BaseModel] | None = None
        self._input_type: Any = None

    # ---- values ---------------------------------------------------------------------
    def _merge_partial_and_user_variables(self, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """``kwargs`` over the partials (callables are called only if not overridden)."""
        if not self.partial_variables:
            return kwargs if type(kwargs) is dict else dict(kwargs)
        values = {**self._static_partials, **kwargs}
        for key, func in self._dynamic_partials:
            if key not in kwargs:
                values[key] = func()
        return values

    def _values(self, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """Merge partials, then check that every input variable is present."""
        values = self._merge_partial_and_user_variables(kwargs)
        if not values.keys() >= self._required:
            raise self._missing(values, kwargs)
        return values

    def _missing(self, values: Mapping[str, Any], given: Mapping[str, Any]) -> PromptVariableError:
        return PromptVariableError(
            self._required - values.keys(), self.input_variables, given, self.get_name()
        )

    def _coerce_input(self, input: Any) -> Mapping[str, Any]:
        if type(input) is dict or isinstance(input, Mapping):
            return input
        if self._single_variable is not None:
            return {self._single_variable: input}
        raise TypeError(
            f"{self.get_name()} expects a dict of its input variables {self.input_variables} "
            f"as input, got {type(input).__name__}: {input!r:.80}"
            + ("" if self.input_variables else " (it has no input variables: pass {})")
        )

    def _format_values(self, values: dict[str, Any]) -> PV:
        raise NotImplementedError

    # ---- Runnable hook ----------------------------------------------------------------
    def _call(self, input: Any, config: RunnableConfig | None, **kwargs: Any) -> PV:
        return self._format_values(self._values(self._coerce_input(input)))

    # ---- LangChain's formatting API ---------------------------------------------------------
    def format(self, **kwargs: Any) -> str:
        """Fill the template and return the prompt as a string."""
        return self.format_prompt(**kwargs).to_string()

    async def aformat(self, **kwargs: Any) -> str:
        """Async `format` (formatting is pure CPU work, so it runs inline)."""
        return self.format(**kwargs)

    def format_prompt(self, **kwargs: Any) -> PV:
        """Fill the template and return the prompt value.

        Raises:
            PromptVariableError: An input variable is missing (a ``KeyError``).
        """
        return self._format_values(self._values(kwargs))

    async def aformat_prompt(self, **kwargs: Any) -> PV:
        """Async `format_prompt` (runs inline)."""
        return self.format_prompt(**kwargs)

    def partial(self, **kwargs: Any) -> Any:
        """A copy with some variables filled in now: values, or zero-argument callables
        called at every format (e.g. the current date)."""
        return self._rebuild({**self.partial_variables, **kwargs})

    def _rebuild(self, partial_variables: dict[str, Any]) -> Any:
        raise NotImplementedError

    # ---- display ----------------------------------------------------------------------
    def pretty_repr(self, html: bool = False) -> str:
        """A readable rendering of the template, variables shown as ``{name}``."""
        raise NotImplementedError

    def pretty_print(self) -> None:
        """Print `pretty_repr` (highlighted when Python runs interactively)."""
        print(self.pretty_repr(html=hasattr(sys, "ps2")))

    def _repr_fields(self) -> list[str]:
        fields = [f"input_variables={self.input_variables!r}"]
        if self.optional_variables:
            fields.append(f"optional_variables={self.optional_variables!r}")
        types = ", ".join(f"{k!r}: {_type_repr(v)}" for k, v in self.input_types.items())
        fields.append(f"input_types={{{types}}}")
        fields.append(f"partial_variables={self.partial_variables!r}")
        return fields

    # ---- schemas ----------------------------------------------------------------------
    @property
    def InputType(self) -> Any:
        """A TypedDict of the input variables (optional ones not required)."""
        if self._input_type is None:
            fields = {v: self.input_types.get(v, str) for v in self.input_variables}
            for name in self.optional_variables:
                fields[name] = NotRequired[self.input_types.get(name, str)]
            self._input_type = cast(Any, TypedDict)("PromptInput", fields)
        return self._input_type

    def get_input_schema(self, config: RunnableConfig | None = None) -> type[BaseModel]:
        """A pydantic model named ``PromptInput`` with one field per variable.

        Variables are ``str`` unless ``input_types`` says otherwise (message placeholders
        take lists of messages); optional variables default to ``None``.
        """
        if self._input_schema is None:
            fields: dict[str, Any] = {}
            for index, name in enumerate([*self.input_variables, *self.optional_variables]):
                type_ = self.input_types.get(name, str)
                required = name in self._required
                default: Any = ... if required else None
                if not required:
                    type_ = Optional[type_]
                key = name if _usable_field_name(name) else f"field_{index}"
                fields[key] = (type_, Field(default, alias=name) if key != name else default)
            self._input_schema = create_model("PromptInput", __config__=_SCHEMA_CONFIG, **fields)
        return self._input_schema

    def get_output_schema(self, config: RunnableConfig | None = None) -> type[BaseModel]:
        """The prompt value class this template returns (a pydantic model)."""
        return cast(type[BaseModel], self.OutputType)


def _type_repr(type_: Any) -> str:
    # The message union is long; show it by its exported name.
    return "list[AnyMessage]" if type_ == list[AnyMessage] else repr(type_)


def _usable_field_name(name: str) -> bool:
    """Whether ``name`` can be a pydantic field name as it is (else it becomes an alias)."""
    return name.isidentifier() and not name.startswith("_") and not hasattr(BaseModel, name)


__all__ = ["BasePromptTemplate"]
