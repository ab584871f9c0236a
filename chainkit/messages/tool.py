"""Tool calls and tool results: the ``ToolCall`` dict family and ``ToolMessage``.

An AI message asks for tools with ``ToolCall`` dicts (``ToolCallChunk`` pieces while streaming,
``InvalidToolCall`` when the arguments do not parse); a ``ToolMessage`` carries the result back,
tied to the call by ``tool_call_id``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, Union
from uuid import UUID

from typing_extensions import NotRequired, TypedDict

from chainkit.messages._merge import merge_obj
from chainkit.messages.base import BaseMessage, BaseMessageChunk


class ToolCall(TypedDict):
    """A request from the model to call a tool.

    Example:
        >>> tool_call(name="search", args={"q": "weather"}, id="call_1")
        {'name': 'search', 'args': {'q': 'weather'}, 'id': 'call_1', 'type': 'tool_call'}
    """

    name: str
    """The tool's name."""
    args: dict[str, Any]
    """The arguments, parsed from the model's JSON."""
    id: Union[str, None]
    """The provider's call id; a ``ToolMessage`` answers it by ``tool_call_id``."""
    type: NotRequired[Literal["tool_call"]]


class ToolCallChunk(TypedDict):
    """A streamed piece of a tool call; pieces with the same ``index`` merge.

    Example:
        >>> tool_call_chunk(name="search", args='{"q": ', index=0)
        {'name': 'search', 'args': '{"q": ', 'id': None, 'index': 0, 'type': 'tool_call_chunk'}
    """

    name: Union[str, None]
    """The tool's name (usually only in the first piece)."""
    args: Union[str, None]
    """A piece of the arguments' JSON text."""
    id: Union[str, None]
    """The provider's call id (usually only in the first piece)."""
    index: Union[int, None]
    """Which call of the message this piece belongs to."""
    type: NotRequired[Literal["tool_call_chunk"]]


class InvalidToolCall(TypedDict):
    """A tool call whose arguments did not parse as a JSON object.

    Example:
        >>> invalid_tool_call(name="search", args="{oops", id="call_1", error="bad JSON")
        {'name': 'search', 'args': '{oops', 'id': 'call_1', 'error': 'bad JSON', 'type': 'invalid_tool_call'}
    """  # noqa: E501

    name: Union[str, None]
    """The tool's name."""
    args: Union[str, None]
    """The raw arguments text."""
    id: Union[str, None]
    """The provider's call id."""
    error: Union[str, None]
    """What went wrong, if known."""
    type: NotRequired[Literal["invalid_tool_call"]]
    index: NotRequired[Union[int, str]]
    """Which call of a streamed message this was."""
    extras: NotRequired[dict[str, Any]]
    """Provider-specific data."""


def tool_call(*, name: str, args: dict[str, Any], id: Union[str, None]) -> ToolCall:
    """Make a :class:`ToolCall` (with its ``type`` set)."""
    return ToolCall(name=name, args=args, id=id, type="tool_call")


def tool_call_chunk(
    *,
    name: Union[str, None] = None,
    args: Union[str, None] = None,
    id: Union[str, None] = None,
    index: Union[int, None] = None,
) -> ToolCallChunk:
    """Make a :class:`ToolCallChunk` (with its ``type`` set)."""
    return ToolCallChunk(name=name, args=args, id=id, index=index, type="tool_call_chunk")


def invalid_tool_call(
    *,
    name: Union[str, None] = None,
    args: Union[str, None] = None,
    id: Union[str, None] = None,
    error: Union[str, None] = None,
) -> InvalidToolCall:
    """Make an :class:`InvalidToolCall` (with its ``type`` set)."""
    return InvalidToolCall(name=name, args=args, id=id, error=error, type="invalid_tool_call")


def default_tool_parser(
    raw_tool_calls: Sequence[dict[str, Any]],
) -> tuple[list[ToolCall], list[InvalidToolCall]]:
    """Parse OpenAI-style tool calls (``{"id", "function": {"name", "arguments"}}``).

    Calls without a ``function`` are skipped; arguments that are not a JSON object make an
    :class:`InvalidToolCall`.

    Example:
        >>> default_tool_parser([{"id": "1", "function": {"name": "f", "arguments": '{"a": 1}'}}])
        ([{'name': 'f', 'args': {'a': 1}, 'id': '1', 'type': 'tool_call'}], [])
    """
    calls: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    for raw in raw_tool_calls:
        function = raw.get("function")
        if not isinstance(function, dict):
            continue
        name, arguments, call_id = function.get("name"), function.get("arguments"), raw.get("id")
        try:
            args = json.loads(arguments) if arguments else {}
        except (json.JSONDecodeError, TypeError, RecursionError) as error:
            message = f"arguments are not valid JSON: {error}"
            invalid.append(invalid_tool_call(name=name, args=arguments, id=call_id, error=message))
            continue
        if isinstance(args, dict):
            calls.append(tool_call(name=name or "", args=args, id=call_id))
        else:
            message = f"arguments must be a JSON object, got {type(args).__name__}"
            invalid.append(invalid_tool_call(name=name, args=arguments, id=call_id, error=message))
    return calls, invalid


def default_tool_chunk_parser(raw_tool_calls: Sequence[dict[str, Any]]) -> list[ToolCallChunk]:
    """Parse streamed OpenAI-style tool call deltas into :class:`ToolCallChunk` s.

    Example:
        >>> default_tool_chunk_parser([{"index": 0, "function": {"name": "f", "arguments": ""}}])
        [{'name': 'f', 'args': '', 'id': None, 'index': 0, 'type': 'tool_call_chunk'}]
    """
    chunks: list[ToolCallChunk] = []
    for raw in raw_tool_calls:
        function = raw.get("function")
        function = function if isinstance(function, dict) else {}
        chunks.append(
            tool_call_chunk(
                name=function.get("name"),
                args=function.get("arguments"),
                id=raw.get("id"),
                index=raw.get("index"),
            )
        )
    return chunks


def _coerce_tool_content(content: Any) -> Any:
    # Tools return anything; the model needs text or content blocks.
    if isinstance(content, str):
        return content
    if isinstance(content, (list, tuple)):
        return [part if isinstance(part, (str, dict)) else str(part) for part in content]
    return str(content)


class ToolMessage(BaseMessage):
    """The result of a tool call, sent back to the model.

    Content that is neither text nor a list of blocks is turned into text; ``artifact`` holds
    output meant for the program, not the model.

    Example:
        >>> ToolMessage(42, tool_call_id="call_1")
        ToolMessage(content='42', tool_call_id='call_1')
    """

    tool_call_id: str
    """The id of the :class:`ToolCall` this message answers."""

    type: Literal["tool"] = "tool"
    """Always ``"tool"``."""

    artifact: Any = None
    """Full tool output kept for the program (e.g. raw data) and not sent to the model."""

    status: Literal["success", "error"] = "success"
    """Whether the tool ran successfully."""

    def __init__(self, content: Any, **kwargs: Any) -> None:
        """Build a tool message; ``content`` may be any value and ``tool_call_id`` a UUID or int."""
        call_id = kwargs.get("tool_call_id")
        if isinstance(call_id, (UUID, int, float)):
            kwargs["tool_call_id"] = str(call_id)
        super().__init__(_coerce_tool_content(content), **kwargs)


class ToolMessageChunk(ToolMessage, BaseMessageChunk):
    """A streamed piece of a :class:`ToolMessage`.

    Example:
        >>> ToolMessageChunk("a", tool_call_id="1") + ToolMessageChunk("b", tool_call_id="1")
        ToolMessageChunk(content='ab', tool_call_id='1')
    """

    type: Literal["ToolMessageChunk"] = "ToolMessageChunk"  # type: ignore[assignment]
    """Always ``"ToolMessageChunk"``."""

    if TYPE_CHECKING:  # keeps content positional for type checkers; see BaseMessage.__init__
        def __init__(self, content: Any, **kwargs: Any) -> None: ...

    def _merged_fields(self, others: Sequence[BaseMessageChunk]) -> dict[str, Any]:
        fields = super()._merged_fields(others)
        artifact, status = self.artifact, self.status
        for other in others:
            if not isinstance(other, ToolMessageChunk) or other.tool_call_id != self.tool_call_id:
                raise self._incompatible(other, "tool_call_id")
            artifact = merge_obj(artifact, other.artifact)
            status = "error" if "error" in (status, other.status) else "success"
        fields.update(tool_call_id=self.tool_call_id, artifact=artifact, status=status)
        return fields


__all__ = [
    "InvalidToolCall",
    "ToolCall",
    "ToolCallChunk",
    "ToolMessage",
    "ToolMessageChunk",
    "default_tool_chunk_parser",
    "default_tool_parser",
    "invalid_tool_call",
    "tool_call",
    "tool_call_chunk",
]
