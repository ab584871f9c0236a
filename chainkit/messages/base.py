"""The message base classes: ``BaseMessage``, ``BaseMessageChunk`` and content merging.

Messages are pydantic models, built several times per chain call, so construction stays on
pydantic's compiled path: no ``model_validator`` runs for the common message types, and the
positional-content ``__init__`` hands its arguments straight to the schema validator.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from functools import cache
from typing import Any, TypeAlias, Union

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import Self

from chainkit.messages._merge import merge_dicts, merge_lists

MessageContent: TypeAlias = Union[str, list[Union[str, dict[str, Any]]]]
"""A message's content: a string, or a list of strings and content-block dicts."""

_REQUIRED = object()
# Ids made up by a framework (LangChain's "run-"/"lc_run-" run ids, "lc_" auto ids) rather
# than issued by the provider; a merged chunk keeps a provider id when any chunk has one.
_AUTO_ID_PREFIXES = ("run-", "lc_")


class BaseMessage(BaseModel):
    """The base of every message: content plus metadata.

    Subclasses fix ``type``; content may be given positionally.

    Example:
        >>> from chainkit.messages import HumanMessage
        >>> HumanMessage("hi") == HumanMessage(content="hi")
        True
        >>> HumanMessage("hi", id="m1")
        HumanMessage(content='hi', id='m1')
    """

    # defer_build: a class builds its pydantic schema on first use, not at import (the
    # fourteen message classes cost ~120 ms to build eagerly).
    model_config = ConfigDict(extra="allow", defer_build=True)

    content: MessageContent
    """The text, or a list of strings and content blocks (``{"type": "text", ...}``, images...)."""

    additional_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Provider payload that has no field of its own (e.g. a raw ``function_call``)."""

    response_metadata: dict[str, Any] = Field(default_factory=dict)
    """Response headers, logprobs, model name, finish reason and the like."""

    type: str
    """The message type, unique per class; it tags the message when serialised."""

    name: Union[str, None] = None
    """An optional name for the author of the message."""

    id: Union[str, None] = Field(default=None, coerce_numbers_to_str=True)
    """An optional unique identifier, ideally the one the provider issued."""

    def __init__(self, content: MessageContent, **kwargs: Any) -> None:
        """Build a message; ``content`` may be passed positionally.

        Raises:
            pydantic.ValidationError: A field has a value of the wrong type.
        """
        # Straight to the compiled validator: BaseModel.__init__ would only add a call. Classes
        # that declare fields repeat this signature under TYPE_CHECKING, or pydantic's
        # dataclass_transform would make content keyword-only for type checkers.
        kwargs["content"] = content
        self.__pydantic_validator__.validate_python(kwargs, self_instance=self)

    @property
    def text(self) -> str:
        """The text of the message: the content string, or its text parts joined."""
        content = self.content
        if isinstance(content, str):
            return content
        parts: list[str] = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif part.get("type") == "text" and isinstance(part.get("text"), str):
                parts.append(part["text"])
        return "".join(parts)

    def pretty_repr(self, html: bool = False) -> str:
        """A title bar, then the content, for reading in a terminal or notebook.

        Args:
            html: Bold the title with ANSI codes.
        """
        title = get_msg_title_repr(self.type.title() + " Message", bold=html)
        if self.name is not None:
            title += f"\nName: {self.name}"
        if isinstance(self.content, str):
            body = self.content
        else:
            body = "\n\n".join(filter(None, map(_format_content_block, self.content)))
        return f"{title}\n\n{body}"

    def pretty_print(self) -> None:
        """Print :meth:`pretty_repr` (bold titles in an interactive session)."""
        print(self.pretty_repr(html=hasattr(sys, "ps2")))

    def _repr_html_(self) -> str:
        """Notebook display: a role-labelled bubble (see `chainkit.notebook.display`)."""
        from chainkit.notebook.display import message_html  # the notebook layer loads on use

        return message_html(self)

    def __repr_args__(self) -> Iterator[tuple[Union[str, None], Any]]:
        # Like LangChain's quickstart output: content, then only what differs from a default.
        values = self.__dict__
        yield "content", values["content"]
        for name, default in _repr_defaults(type(self)).items():
            value = values.get(name)
            if default is _REQUIRED or value != default:
                yield name, value
        if self.__pydantic_extra__:
            yield from self.__pydantic_extra__.items()


@cache
def _repr_defaults(cls: type[BaseMessage]) -> dict[str, Any]:
    """Each shown field but ``content`` of ``cls``, with its default (or ``_REQUIRED``)."""
    return {
        name: field.get_default(call_default_factory=True)
        if not field.is_required()
        else _REQUIRED
        for name, field in cls.model_fields.items()
        if name != "content" and field.repr
    }


def _format_content_block(block: Union[str, dict[str, Any]]) -> str:
    if isinstance(block, str):
        return block
    block_type = block.get("type", "unknown")
    if block_type == "text":
        return str(block.get("text", ""))
    return f"[{block_type}]"


def get_msg_title_repr(title: str, *, bold: bool = False) -> str:
    """Center ``title`` in an 80-column bar of ``=``.

    Example:
        >>> get_msg_title_repr("Human Message")
        '================================ Human Message ================================='
    """
    padded = f" {title} "
    left = "=" * ((80 - len(padded)) // 2)
    right = left + "=" if len(padded) % 2 else left
    if bold:
        padded = f"\033[1m{padded}\033[0m"
    return f"{left}{padded}{right}"


def merge_content(first: MessageContent, *others: MessageContent) -> MessageContent:
    """Concatenate streamed message contents.

    Strings concatenate; lists merge with :func:`merge_lists` (blocks with the same ``index``
    merge); a string after a list extends the list's trailing string or is appended.

    Example:
        >>> merge_content("Hel", "lo")
        'Hello'
        >>> merge_content([{"index": 0, "type": "text", "text": "Hel"}],
        ...               [{"index": 0, "type": "text", "text": "lo"}])
        [{'index': 0, 'type': 'text', 'text': 'Hello'}]
    """
    merged = first
    for content in others:
        if isinstance(merged, str):
            merged = merged + content if isinstance(content, str) else [merged, *content]
        elif isinstance(content, list):
            merged = merge_lists(merged, content) or []
        elif merged and isinstance(merged[-1], str):
            merged = [*merged[:-1], merged[-1] + content]
        elif content:
            merged = [*merged, content]
    return merged


class BaseMessageChunk(BaseMessage):
    """A piece of a streamed message; ``+`` joins pieces of the same type.

    Example:
        >>> from chainkit.messages import AIMessageChunk
        >>> AIMessageChunk("Hello") + AIMessageChunk(" world")
        AIMessageChunk(content='Hello world')
        >>> AIMessageChunk("a") + [AIMessageChunk("b"), AIMessageChunk("c")]
        AIMessageChunk(content='abc')
    """

    def __add__(self, other: Union[BaseMessageChunk, Sequence[BaseMessageChunk]]) -> Self:
        """Merge this chunk with one chunk, or with a list of chunks in order.

        Raises:
            TypeError: ``other`` holds something other than a chunk of this message type, or
                (for chat, function and tool chunks) a chunk with another role, name or
                tool call id.
        """
        if isinstance(other, BaseMessageChunk):
            others: Sequence[BaseMessageChunk] = (other,)
        elif isinstance(other, (list, tuple)):
            others = other
        else:
            return NotImplemented
        for chunk in others:
            if not isinstance(chunk, BaseMessageChunk) or chunk.type != self.type:
                msg = (
                    f"cannot add {type(self).__name__} and {type(chunk).__name__}: "
                    f"only chunks of the same message type merge"
                )
                raise TypeError(msg)
        return type(self)(**self._merged_fields(others))

    def _merged_fields(self, others: Sequence[BaseMessageChunk]) -> dict[str, Any]:
        """The constructor arguments of ``self`` merged with ``others``; subclasses extend it."""
        return {
            "content": merge_content(self.content, *(o.content for o in others)),
            "additional_kwargs": merge_dicts(
                self.additional_kwargs, *(o.additional_kwargs for o in others)
            ),
            "response_metadata": merge_dicts(
                self.response_metadata, *(o.response_metadata for o in others)
            ),
            "type": self.type,
            "name": next((o.name for o in (self, *others) if o.name is not None), None),
            "id": _merged_id([self.id, *(o.id for o in others)]),
        }

    def _incompatible(self, other: BaseMessageChunk, field: str) -> TypeError:
        """The error for adding chunks whose ``field`` (a role, name or call id) differs."""
        mine, theirs = getattr(self, field), getattr(other, field, None)
        return TypeError(
            f"cannot add {type(self).__name__}({field}={mine!r}) and "
            f"{type(other).__name__}({field}={theirs!r}): their {field}s differ"
        )


def _merged_id(ids: Sequence[Union[str, None]]) -> Union[str, None]:
    """The first provider-issued id, else the first id at all."""
    present = [i for i in ids if i]
    for id_ in present:
        if not id_.startswith(_AUTO_ID_PREFIXES):
            return id_
    return present[0] if present else None


__all__ = [
    "BaseMessage",
    "BaseMessageChunk",
    "MessageContent",
    "get_msg_title_repr",
    "merge_content",
]
