"""Structured output: ``model.with_structured_output(schema)`` returns data, not a message.

The provider says how to ask for JSON matching a schema (its ``_structured_output_kwargs``,
e.g. OpenAI's ``response_format`` or llama.cpp's grammar); this module does the rest once for
every provider: turn the schema into JSON schema, bind the provider's kwargs, and parse the
reply into the schema's type.

- A pydantic model class gives instances of it (`PydanticOutputParser`).
- A TypedDict class or a JSON schema dict gives plain dicts (`JsonOutputParser`).
- ``method="function_calling"`` reads the first tool call's arguments (`ToolArgsParser`).

Streaming works through the parsers: ``structured.stream(...)`` yields partial values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeAlias

from pydantic import BaseModel, TypeAdapter, ValidationError
from typing_extensions import is_typeddict

from chainkit.messages import AIMessage, BaseMessage
from chainkit.parsers import JsonOutputParser, OutputParserException, PydanticOutputParser
from chainkit.runnables.base import Runnable
from chainkit.runnables.config import RunnableConfig

if TYPE_CHECKING:
    from chainkit.models.base import BaseChatModel

__all__ = [
    "StructuredMethod",
    "build_structured_output",
    "convert_to_json_schema",
]

StructuredMethod: TypeAlias = Literal["json_schema", "function_calling", "json_mode"]
"""How the provider is asked for JSON: a response schema, a forced tool call, or JSON mode."""

_METHODS = ("json_schema", "function_calling", "json_mode")


def convert_to_json_schema(schema: Any) -> dict[str, Any]:
    """The JSON schema of a pydantic model class, a TypedDict class or a schema dict.

    A dict may be a JSON schema, or an OpenAI function / tool definition
    (``{"name", "description", "parameters"}`` or ``{"type": "function", "function": {...}}``),
    whose name becomes the schema's ``title``.

    Raises:
        TypeError: ``schema`` is none of these.
        ValueError: A dict that is neither a JSON schema nor a function definition.

    Example:
        >>> from pydantic import BaseModel
        >>> class Joke(BaseModel):
        ...     punchline: str
        >>> convert_to_json_schema(Joke)["properties"]
        {'punchline': {'title': 'Punchline', 'type': 'string'}}
    """
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return schema.model_json_schema()
    if is_typeddict(schema):
        return TypeAdapter(schema).json_schema()
    if isinstance(schema, Mapping):
        return _dict_schema(schema)
    raise TypeError(
        f"cannot use {type(schema).__name__} {schema!r:.60} as an output schema: expected a "
        f"pydantic model class, a TypedDict class, or a JSON schema dict"
    )


def _dict_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    if schema.get("type") == "function" and isinstance(schema.get("function"), Mapping):
        schema = schema["function"]
    if "name" in schema and ("parameters" in schema or "input_schema" in schema):
        params = dict(schema.get("parameters") or schema.get("input_schema") or {})
        out: dict[str, Any] = {"title": schema["name"]}
        if schema.get("description"):
            out["description"] = schema["description"]
        return {**out, **params}
    if any(key in schema for key in ("properties", "type", "title", "$ref", "anyOf")):
        return dict(schema)
    raise ValueError(
        f"cannot read {dict(schema)!r:.80} as a JSON schema: expected a JSON schema "
        f"(with 'type'/'properties'/'title') or a function definition with 'name' and "
        f"'parameters'"
    )


def build_structured_output(
    model: BaseChatModel,
    schema: Any,
    *,
    method: StructuredMethod = "json_schema",
    include_raw: bool = False,
    **kwargs: Any,
) -> Runnable[Any, Any]:
    """``model.with_structured_output(schema, ...)``: see `BaseChatModel.with_structured_output`.

    Raises:
        ValueError: ``method`` is not one of the valid methods.
        NotImplementedError: The model does not support structured output.
    """
    if method not in _METHODS:
        raise ValueError(f"unknown structured output method {method!r}; valid: {list(_METHODS)}")
    json_schema = convert_to_json_schema(schema)
    extra = model._structured_output_kwargs(json_schema, method, **kwargs)
    pydantic_cls = schema if isinstance(schema, type) and issubclass(schema, BaseModel) else None
    parser: Runnable[Any, Any]
    if method == "function_calling":
        parser = ToolArgsParser(pydantic_cls)
    elif pydantic_cls is not None:
        parser = PydanticOutputParser(pydantic_object=pydantic_cls)
    else:
        parser = JsonOutputParser()
    bound: Runnable[Any, Any] = model.bind(**extra) if extra else model
    if include_raw:
        return bound | _WithRaw(parser)
    return bound | parser


class ToolArgsParser(Runnable[BaseMessage, Any]):
    """Read the first tool call's arguments of a reply, as a pydantic model instance or a dict.

    Used for ``method="function_calling"``; a reply without a tool call, or arguments that do
    not validate, raise `OutputParserException` (a ``ValueError``).

    Example:
        >>> reply = AIMessage("", tool_calls=[{"name": "f", "args": {"a": 1}, "id": "1"}])
        >>> ToolArgsParser(None).invoke(reply)
        {'a': 1}
    """

    run_type: ClassVar[str] = "parser"
    inline: ClassVar[bool] = True

    def __init__(self, pydantic_cls: type[BaseModel] | None) -> None:
        self.pydantic_cls = pydantic_cls

    def __repr__(self) -> str:
        target = self.pydantic_cls.__name__ if self.pydantic_cls else "dict"
        return f"{type(self).__name__}({target})"

    def _call(self, input: Any, config: RunnableConfig | None, **kwargs: Any) -> Any:
        calls = input.tool_calls if isinstance(input, AIMessage) else []
        if not calls:
            raise OutputParserException(
                f"expected the model to reply with a tool call, got {input!r:.200}",
                llm_output=input.text if isinstance(input, BaseMessage) else None,
            )
        args = calls[0]["args"]
        if self.pydantic_cls is None:
            return args
        try:
            return self.pydantic_cls.model_validate(args)
        except ValidationError as exc:
            raise OutputParserException(
                f"the tool call arguments do not match {self.pydantic_cls.__name__}: {exc}",
                llm_output=json.dumps(args, ensure_ascii=False, default=str),
            ) from exc


class _WithRaw(Runnable[BaseMessage, dict[str, Any]]):
    """``{"raw": message, "parsed": ..., "parsing_error": None | exception}``; never raises
    for a reply that fails to parse."""

    run_type: ClassVar[str] = "parser"
    inline: ClassVar[bool] = True

    def __init__(self, parser: Runnable[Any, Any]) -> None:
        self.parser = parser

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.parser!r})"

    def _call(self, input: Any, config: RunnableConfig | None, **kwargs: Any) -> dict[str, Any]:
        try:
            parsed = self.parser._call(input, config)
        except OutputParserException as exc:
            return {"raw": input, "parsed": None, "parsing_error": exc}
        return {"raw": input, "parsed": parsed, "parsing_error": None}
