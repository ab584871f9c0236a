"""Tools as OpenAI function definitions: from pydantic models, typed functions or JSON schemas.

Every provider offers tools in its own wire format, but they all start from the same
definition ``{"name", "description", "parameters": <JSON schema>}``, built here once:

- a pydantic model class: its name, docstring and fields;
- a function with type hints: its name, the first paragraph of its docstring, and its
  parameters (described from a Google-style ``Args:`` section);
- a TypedDict class;
- a dict: an OpenAI tool (``{"type": "function", "function": {...}}``), a function definition
  (``{"name", "parameters"}``), an Anthropic tool (``{"name", "input_schema"}``) or a JSON
  schema with a ``title``;
- a tool object with ``name``, ``description`` and ``args_schema`` (LangChain's ``BaseTool``).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, get_type_hints

from pydantic import BaseModel, Field, create_model

from chainkit.models.structured import convert_to_json_schema

__all__ = ["convert_to_openai_function", "convert_to_openai_tool", "tool_names"]

_ARG_LINE = re.compile(r"^\s{2,}(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")


def convert_to_openai_tool(tool: Any) -> dict[str, Any]:
    """``{"type": "function", "function": {"name", "description", "parameters"}}``.

    Example:
        >>> def get_weather(city: str) -> str:
        ...     '''Current weather in a city.'''
        >>> convert_to_openai_tool(get_weather)["function"]["parameters"]
        {'properties': {'city': {'type': 'string'}}, 'required': ['city'], 'type': 'object'}
    """
    if isinstance(tool, Mapping) and tool.get("type") == "function" and "function" in tool:
        return {"type": "function", "function": dict(tool["function"])}
    return {"type": "function", "function": convert_to_openai_function(tool)}


def convert_to_openai_function(tool: Any) -> dict[str, Any]:
    """``{"name", "description", "parameters"}`` for any supported tool (see the module doc).

    Raises:
        TypeError: ``tool`` is none of the supported kinds.
        ValueError: The definition has no name.
    """
    if isinstance(tool, Mapping):
        if tool.get("type") == "function" and isinstance(tool.get("function"), Mapping):
            return dict(tool["function"])
        if "name" in tool and ("parameters" in tool or "input_schema" in tool):
            out = {k: v for k, v in tool.items() if k != "input_schema"}
            out.setdefault("parameters", tool.get("input_schema") or {})
            return out
        schema = convert_to_json_schema(tool)
        return _from_schema(schema, None, tool)
    if isinstance(tool, type) and issubclass(tool, BaseModel):
        return _from_schema(tool.model_json_schema(), tool.__name__, tool)
    if isinstance(tool, type):  # a TypedDict (convert_to_json_schema rejects other classes)
        return _from_schema(convert_to_json_schema(tool), tool.__name__, tool)
    args_schema = getattr(tool, "args_schema", None)
    name = getattr(tool, "name", None)
    if args_schema is not None and isinstance(name, str):
        schema = convert_to_json_schema(args_schema)
        schema.pop("title", None)
        schema.pop("description", None)
        description = getattr(tool, "description", "") or ""
        return {"name": name, "description": description, "parameters": _rm_titles(schema)}
    if inspect.isfunction(tool) or inspect.ismethod(tool):
        return _from_function(tool)
    raise TypeError(
        f"cannot offer {type(tool).__name__} {tool!r:.60} as a tool: expected a pydantic model "
        f"class, a function with type hints, a TypedDict, a JSON schema / OpenAI tool dict, "
        f"or a tool object with name and args_schema"
    )


def tool_names(tools: Sequence[Mapping[str, Any]]) -> list[str]:
    """The names of OpenAI tool dicts, in order."""
    return [t["function"]["name"] for t in tools]


def _from_schema(schema: dict[str, Any], default_name: str | None, tool: Any) -> dict[str, Any]:
    schema = dict(schema)
    name = schema.pop("title", None) or default_name
    if not name:
        raise ValueError(
            f"tool {tool!r:.60} has no name: give the JSON schema a 'title', or pass "
            f"{{'name': ..., 'parameters': {{...}}}}"
        )
    description = schema.pop("description", "") or ""
    return {"name": name, "description": description, "parameters": _rm_titles(schema)}


def _from_function(fn: Callable[..., Any]) -> dict[str, Any]:
    description, arg_docs = _parse_docstring(inspect.getdoc(fn) or "")
    hints = get_type_hints(fn, include_extras=True)
    fields: dict[str, Any] = {}
    for pname, param in inspect.signature(fn).parameters.items():
        if pname in ("self", "cls") or param.kind in (
            inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD
        ):
            continue
        default = param.default if param.default is not inspect.Parameter.empty else ...
        fields[pname] = (hints.get(pname, Any), Field(default, description=arg_docs.get(pname)))
    model = create_model(fn.__name__, **fields)
    schema = model.model_json_schema()
    schema.pop("title", None)
    return {"name": fn.__name__, "description": description, "parameters": _rm_titles(schema)}


def _parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """The first paragraph, and ``{arg: description}`` from a Google-style ``Args:`` section."""
    paragraphs = doc.strip().split("\n\n")
    description = " ".join(paragraphs[0].split()) if paragraphs and paragraphs[0] else ""
    if description.rstrip(":") in ("Args", "Arguments"):
        description = ""
    args: dict[str, str] = {}
    in_args = False
    current: str | None = None
    for line in doc.splitlines():
        stripped = line.strip()
        if stripped in ("Args:", "Arguments:"):
            in_args, current = True, None
            continue
        if not in_args:
            continue
        if stripped.endswith(":") and not line.startswith(" "):
            break  # the next section (Returns:, Raises:...)
        match = _ARG_LINE.match(line)
        if match and len(line) - len(line.lstrip()) <= 4:
            current = match.group(1).lstrip("*")
            args[current] = match.group(2).strip()
        elif current and stripped:
            args[current] = f"{args[current]} {stripped}".strip()
    return description, args


def _rm_titles(schema: Any, in_properties: bool = False) -> Any:
    """Drop pydantic's generated ``title`` keys (noise to a model), keeping properties that
    happen to be named ``title``."""
    if isinstance(schema, dict):
        return {
            k: _rm_titles(v, k == "properties")
            for k, v in schema.items()
            if in_properties or k != "title" or not isinstance(v, str)
        }
    if isinstance(schema, list):
        return [_rm_titles(v) for v in schema]
    return schema
