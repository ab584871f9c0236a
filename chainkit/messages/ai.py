"""Messages from the model: ``AIMessage``, ``AIMessageChunk`` and token usage.

An AI message's ``tool_calls`` are always parsed dicts. Legacy input (raw OpenAI
``additional_kwargs["tool_calls"]``) is parsed on construction; a chunk derives its
``tool_calls`` from its ``tool_call_chunks`` (when first read, so merging a stream stays linear)
so an aggregated stream reads like a full message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union, cast

from pydantic import Field, WrapSerializer
from typing_extensions import NotRequired, TypedDict

from chainkit.messages._derived_calls import (
    DERIVED_FIELDS,
    dump_tool_calls,
    install_derived_tool_calls,
    pending_tool_calls,
    resolve_tool_calls,
)
from chainkit.messages._merge import merge_lists
from chainkit.messages.base import BaseMessage, BaseMessageChunk, MessageContent
from chainkit.messages.tool import (
    InvalidToolCall,
    ToolCall,
    ToolCallChunk,
    default_tool_chunk_parser,
    default_tool_parser,
    tool_call_chunk,
)

if TYPE_CHECKING:
    from pydantic.main import TupleGenerator


class InputTokenDetails(TypedDict, total=False):
    """A breakdown of input tokens; the keys present depend on the provider."""

    audio: int
    """Audio input tokens."""
    cache_creation: int
    """Input tokens written to the provider's cache."""
    cache_read: int
    """Input tokens read from the provider's cache."""


class OutputTokenDetails(TypedDict, total=False):
    """A breakdown of output tokens; the keys present depend on the provider."""

    audio: int
    """Audio output tokens."""
    reasoning: int
    """Reasoning tokens the model produced but did not return as text."""


class UsageMetadata(TypedDict):
    """Token counts for one model call, the same shape for every provider.

    Example:
        >>> add_usage({"input_tokens": 1, "output_tokens": 2, "total_tokens": 3},
        ...           {"input_tokens": 0, "output_tokens": 4, "total_tokens": 4})
        {'input_tokens': 1, 'output_tokens': 6, 'total_tokens': 7}
    """

    input_tokens: int
    """Input (prompt) tokens."""
    output_tokens: int
    """Output (completion) tokens."""
    total_tokens: int
    """Input plus output tokens."""
    input_token_details: NotRequired[InputTokenDetails]
    """Where the input tokens went."""
    output_token_details: NotRequired[OutputTokenDetails]
    """Where the output tokens went."""


def add_usage(
    left: Union[UsageMetadata, None], right: Union[UsageMetadata, None]
) -> UsageMetadata:
    """Add two usages key by key, details included; ``None`` counts as zero."""
    if left is None and right is None:
        return UsageMetadata(input_tokens=0, output_tokens=0, total_tokens=0)
    if left is None or right is None:
        return cast(UsageMetadata, left if right is None else right)
    return cast(UsageMetadata, _add_counts(left, right))


def _add_counts(left: Mapping[str, Any], right: Mapping[str, Any]) -> dict[str, Any]:
    total = dict(left)
    for key, value in right.items():
        if isinstance(value, Mapping):
            total[key] = _add_counts(total.get(key) or {}, value)
        else:
            total[key] = (total.get(key) or 0) + (value or 0)
    return total


class AIMessage(BaseMessage):
    """A message from the model, with any tool calls and token usage.

    Example:
        >>> AIMessage("J'adore la programmation.")
        AIMessage(content="J'adore la programmation.")
        >>> AIMessage("hi", usage_metadata={"input_tokens": 1, "output_tokens": 2,
        ...                                 "total_tokens": 3})
        AIMessage(content='hi', usage_metadata={'input_tokens': 1, 'output_tokens': 2, 'total_tokens': 3})
    """  # noqa: E501

    type: Literal["ai"] = "ai"
    """Always ``"ai"``."""

    tool_calls: list[ToolCall] = Field(default_factory=list)
    """The tool calls the model asked for."""

    invalid_tool_calls: list[InvalidToolCall] = Field(default_factory=list)
    """Tool calls whose arguments did not parse."""

    usage_metadata: Union[UsageMetadata, None] = None
    """Token counts for the call that produced this message, if the provider reported them."""

    def __init__(self, content: MessageContent, **kwargs: Any) -> None:
        """Build an AI message; ``content`` may be passed positionally."""
        kwargs["content"] = content
        self.__pydantic_validator__.validate_python(kwargs, self_instance=self)
        self._init_tool_calls()

    def _init_tool_calls(self) -> None:
        values = self.__dict__  # plain reads: a chunk's class serves these fields by descriptor
        if values["tool_calls"] or values["invalid_tool_calls"]:
            _set_types(values["tool_calls"], "tool_call")
            _set_types(values["invalid_tool_calls"], "invalid_tool_call")
        elif raw := self.additional_kwargs.get("tool_calls"):
            self.tool_calls, self.invalid_tool_calls = default_tool_parser(raw)

    def pretty_repr(self, html: bool = False) -> str:
        """The base pretty form, then the tool calls and their arguments."""
        lines = [super().pretty_repr(html=html).strip()]
        for heading, calls in (
            ("Tool Calls:", self.tool_calls),
            ("Invalid Tool Calls:", self.invalid_tool_calls),
        ):
            if calls:
                lines.append(heading)
                for call in calls:
                    lines.extend(_format_tool_call(call))
        return "\n".join(lines).strip()


def _set_types(calls: Sequence[Any], type_: str) -> None:
    # Calls are validated copies owned by the message, so filling in the tag is safe.
    for call in calls:
        call.setdefault("type", type_)


def _format_tool_call(call: Union[ToolCall, InvalidToolCall]) -> list[str]:
    lines = [f"  {call.get('name', 'Tool')} ({call.get('id')})", f" Call ID: {call.get('id')}"]
    if error := call.get("error"):
        lines.append(f"  Error: {error}")
    lines.append("  Args:")
    args = call.get("args")
    if isinstance(args, dict):
        lines.extend(f"    {key}: {value}" for key, value in args.items())
    elif isinstance(args, str):
        lines.append(f"    {args}")
    return lines


class AIMessageChunk(AIMessage, BaseMessageChunk):
    """A streamed piece of an :class:`AIMessage`.

    ``tool_calls`` are derived from ``tool_call_chunks``: arguments that parse as (a prefix of)
    a JSON object make a tool call, anything else an invalid one. The parse happens when the
    calls are first read (or compared, printed, dumped), so ``+`` costs the same however long
    the arguments so far are. Adding chunks merges content, tool call chunks (by ``index``),
    metadata and usage.

    Example:
        >>> first = AIMessageChunk("", tool_call_chunks=[
        ...     tool_call_chunk(name="search", args='{"q": "wea', id="call_1", index=0)])
        >>> full = first + AIMessageChunk("", tool_call_chunks=[
        ...     tool_call_chunk(args='ther"}', index=0)])
        >>> full.tool_calls
        [{'name': 'search', 'args': {'q': 'weather'}, 'id': 'call_1', 'type': 'tool_call'}]
    """

    type: Literal["AIMessageChunk"] = "AIMessageChunk"  # type: ignore[assignment]
    """Always ``"AIMessageChunk"``."""

    if TYPE_CHECKING:  # keeps content positional for type checkers; see BaseMessage.__init__
        def __init__(self, content: MessageContent, **kwargs: Any) -> None: ...

    # Redeclared to dump a still-unparsed value (see _derived_calls) as its parsed list.
    tool_calls: Annotated[list[ToolCall], WrapSerializer(dump_tool_calls)] = Field(
        default_factory=list
    )
    """The tool calls, derived from ``tool_call_chunks``."""

    invalid_tool_calls: Annotated[
        list[InvalidToolCall], WrapSerializer(dump_tool_calls)
    ] = Field(default_factory=list)
    """Derived tool calls whose arguments did not parse."""

    tool_call_chunks: list[ToolCallChunk] = Field(default_factory=list)
    """The streamed pieces of tool calls in this chunk."""

    chunk_position: Union[Literal["last"], None] = None
    """``"last"`` on the final chunk of a stream."""

    def _init_tool_calls(self) -> None:
        values = self.__dict__
        if not values["tool_call_chunks"]:
            raw = self.additional_kwargs.get("tool_calls")
            if raw and not (values["tool_calls"] or values["invalid_tool_calls"]):
                self.tool_call_chunks = default_tool_chunk_parser(raw)
            else:
                super()._init_tool_calls()
                if values["tool_calls"] or values["invalid_tool_calls"]:
                    self.tool_call_chunks = _chunks_of_calls(
                        values["tool_calls"], values["invalid_tool_calls"]
                    )
                return
        _set_types(self.tool_call_chunks, "tool_call_chunk")
        # Parsed on first read (see _derived_calls): merging a stream stays linear.
        values["tool_calls"], values["invalid_tool_calls"] = pending_tool_calls(
            self.tool_call_chunks
        )
        self.__pydantic_fields_set__.update(DERIVED_FIELDS)

    # The rest of pydantic's ways to hand out the instance dict: parse pending calls first.
    def __iter__(self) -> TupleGenerator:
        """Yield ``(field, value)`` pairs, as pydantic models do."""
        resolve_tool_calls(self.__dict__)
        return super().__iter__()

    def __getstate__(self) -> dict[Any, Any]:
        resolve_tool_calls(self.__dict__)
        return super().__getstate__()

    def _merged_fields(self, others: Sequence[BaseMessageChunk]) -> dict[str, Any]:
        fields = super()._merged_fields(others)
        chunks = [cast(AIMessageChunk, o) for o in others]  # the type tag matched
        merged = merge_lists(self.tool_call_chunks, *(c.tool_call_chunks for c in chunks)) or []
        fields["tool_call_chunks"] = [
            tool_call_chunk(
                name=piece.get("name"),
                args=piece.get("args"),
                id=piece.get("id"),
                index=piece.get("index"),
            )
            for piece in merged
        ]
        usage = self.usage_metadata
        for chunk in chunks:
            if chunk.usage_metadata is not None:
                usage = add_usage(usage, chunk.usage_metadata)
        fields["usage_metadata"] = usage
        positions = (self.chunk_position, *(c.chunk_position for c in chunks))
        fields["chunk_position"] = "last" if "last" in positions else None
        return fields


def _chunks_of_calls(
    calls: Sequence[ToolCall], invalid: Sequence[InvalidToolCall]
) -> list[ToolCallChunk]:
    chunks = [
        tool_call_chunk(name=c["name"], args=json.dumps(c["args"]), id=c["id"]) for c in calls
    ]
    chunks += [tool_call_chunk(name=c["name"], args=c["args"], id=c["id"]) for c in invalid]
    return chunks


install_derived_tool_calls(AIMessageChunk)


def add_ai_message_chunks(left: AIMessageChunk, *others: AIMessageChunk) -> AIMessageChunk:
    """Merge AI message chunks in order; the same as ``left + list(others)``."""
    return left + list(others)


__all__ = [
    "AIMessage",
    "AIMessageChunk",
    "InputTokenDetails",
    "OutputTokenDetails",
    "UsageMetadata",
    "add_ai_message_chunks",
    "add_usage",
]
