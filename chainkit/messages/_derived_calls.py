"""A chunk's ``tool_calls``, derived from its ``tool_call_chunks`` when first read.

A tool call streamed in N argument pieces builds N merged chunks, each holding all the
arguments so far. Parsing them as each chunk is built costs O(N) per piece, O(N^2) per stream,
though usually only the last chunk's calls are read. So a chunk stores two
:class:`PendingToolCalls` in place of its ``tool_calls`` and ``invalid_tool_calls`` lists:

- the :class:`DerivedToolCalls` descriptors on the chunk class parse on first read and store
  the lists in the instance;
- a pending value compares and prints as its list, so equality and repr of the model (which
  read the instance dict) need no parse step of their own;
- :func:`dump_tool_calls` / :func:`dump_invalid_tool_calls` serialise it as its list;
- whatever else hands out the instance dict calls :func:`resolve_tool_calls` first.

Example:
    >>> from chainkit.messages.tool import tool_call_chunk
    >>> calls, invalid = pending_tool_calls([
    ...     tool_call_chunk(name="f", args='{"a": [1, 2', id="1"),
    ...     tool_call_chunk(name="g", args="oops", id="2")])
    >>> calls
    [{'name': 'f', 'args': {'a': [1, 2]}, 'id': '1', 'type': 'tool_call'}]
    >>> invalid == [{'name': 'g', 'args': 'oops', 'id': '2', 'error': None,
    ...              'type': 'invalid_tool_call'}]
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Union

from pydantic import SerializerFunctionWrapHandler

from chainkit.messages._partial_json import parse_partial_json
from chainkit.messages.tool import (
    InvalidToolCall,
    ToolCall,
    ToolCallChunk,
    invalid_tool_call,
    tool_call,
)

_Piece = tuple[Union[str, None], Union[str, None], Union[str, None]]
_Parsed = tuple[list[ToolCall], list[InvalidToolCall]]
# The derived fields, in the order of ``_Parse.lists()``.
DERIVED_FIELDS = ("tool_calls", "invalid_tool_calls")


class _Parse:
    """The tool calls of some tool call chunks, parsed once, on first use.

    Holds a snapshot of the chunks' names, arguments and ids (strings, so later edits to the
    chunk dicts do not show): the result is what parsing when the message was built would
    have given. One belongs to one message and its shallow copies (which share their lists
    anyway); merging chunks makes a new one, so ``a + b1`` and ``a + b2`` never share.
    """

    __slots__ = ("_parsed", "_pieces")

    def __init__(self, chunks: Sequence[ToolCallChunk]) -> None:
        self._pieces: list[_Piece] = [(c["name"], c["args"], c["id"]) for c in chunks]
        self._parsed: Union[_Parsed, None] = None

    def lists(self) -> _Parsed:
        if self._parsed is None:
            self._parsed = parse_tool_call_chunks(self._pieces)
        return self._parsed


class PendingToolCalls:
    """Stands in for a chunk's ``tool_calls`` or ``invalid_tool_calls`` until first read.

    Compares and prints as the list it stands for (parsing it if needed).
    """

    __slots__ = ("_parse", "_position")

    def __init__(self, parse: _Parse, position: int) -> None:
        self._parse = parse
        self._position = position

    def value(self) -> list[Any]:
        """The parsed list (the same list object on every call)."""
        return self._parse.lists()[self._position]

    def __eq__(self, other: object) -> bool:
        if type(other) is PendingToolCalls:
            other = other.value()
        return self.value() == other

    def __repr__(self) -> str:
        return repr(self.value())


def pending_tool_calls(
    chunks: Sequence[ToolCallChunk],
) -> tuple[PendingToolCalls, PendingToolCalls]:
    """Pending ``tool_calls`` and ``invalid_tool_calls`` for ``chunks``, parsed together.

    Raises:
        KeyError: A chunk lacks ``name``, ``args`` or ``id`` (as parsing would).
    """
    parse = _Parse(chunks)
    return PendingToolCalls(parse, 0), PendingToolCalls(parse, 1)


def parse_tool_call_chunks(pieces: Sequence[_Piece]) -> _Parsed:
    """Parse ``(name, args, id)`` pieces: partial JSON objects make tool calls, else invalid.

    Example:
        >>> parse_tool_call_chunks([("f", '{"a": 1', "1"), ("g", "[1]", "2")])
        ([{'name': 'f', 'args': {'a': 1}, 'id': '1', 'type': 'tool_call'}], \
[{'name': 'g', 'args': '[1]', 'id': '2', 'error': None, 'type': 'invalid_tool_call'}])
    """
    calls: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    for name, text, call_id in pieces:
        try:
            args = parse_partial_json(text) if text else {}
        except ValueError:
            args = None
        if isinstance(args, dict):
            calls.append(tool_call(name=name or "", args=args, id=call_id))
        else:
            invalid.append(invalid_tool_call(name=name, args=text, id=call_id))
    return calls, invalid


def resolve_tool_calls(values: dict[str, Any]) -> None:
    """Replace pending tool calls in an instance dict with their lists."""
    for name in DERIVED_FIELDS:
        value = values.get(name)
        if type(value) is PendingToolCalls:
            values[name] = value.value()


def dump_tool_calls(value: Any, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
    """Serialise a chunk's ``tool_calls`` or ``invalid_tool_calls``, pending or not."""
    # No return annotation: pydantic would take it for the field's serialisation JSON schema.
    return handler(value.value() if type(value) is PendingToolCalls else value)


class DerivedToolCalls:
    """The descriptor for ``tool_calls`` / ``invalid_tool_calls`` on a chunk class.

    Reading returns the stored list, storing a pending one's list first. Writing stores the
    value (pydantic's ``__setattr__`` writes the instance dict itself, so both ways agree).
    """

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __get__(self, instance: Any, owner: Union[type, None] = None) -> Any:
        if instance is None:
            # Look like an absent class attribute, as pydantic fields are: pydantic reads the
            # class attributes of a subclass as field defaults.
            raise AttributeError(self._name)
        values = instance.__dict__
        try:
            value = values[self._name]
        except KeyError:
            raise AttributeError(self._name) from None
        if type(value) is PendingToolCalls:
            value = values[self._name] = value.value()
        return value

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__[self._name] = value


def install_derived_tool_calls(cls: type) -> None:
    """Put the :class:`DerivedToolCalls` descriptors on a chunk class, once it is built.

    (In the class body pydantic would take them for field defaults.)
    """
    for name in DERIVED_FIELDS:
        setattr(cls, name, DerivedToolCalls(name))


__all__ = [
    "DERIVED_FIELDS",
    "DerivedToolCalls",
    "PendingToolCalls",
    "dump_tool_calls",
    "install_derived_tool_calls",
    "parse_tool_call_chunks",
    "pending_tool_calls",
    "resolve_tool_calls",
]
