"""Conversions between messages and the shapes users and providers write them in.

- :func:`convert_to_messages` coerces message-likes: messages, strings, ``(role, content)``
  pairs, OpenAI- or LangChain-style dicts, and anything with a ``to_messages()`` method
  (a ``PromptValue``; duck typed, so this values layer never imports prompts).
- :func:`message_to_openai_dict`, :func:`openai_dict_to_message` and
  :func:`convert_to_openai_messages` speak OpenAI's chat-completions message format.
- :func:`get_buffer_string` and :func:`message_chunk_to_message` flatten messages.

Reading a dict is one function for both directions of use: a user's ``{"role": "user", ...}``
and a provider's reply parse the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, Protocol, TypeAlias, Union, overload

from pydantic import ValidationError

from chainkit.messages.ai import AIMessage
from chainkit.messages.base import BaseMessage, BaseMessageChunk, MessageContent
from chainkit.messages.chat import ChatMessage
from chainkit.messages.function import FunctionMessage
from chainkit.messages.human import HumanMessage
from chainkit.messages.system import SystemMessage
from chainkit.messages.tool import InvalidToolCall, ToolCall, ToolMessage, default_tool_parser

MessageLikeRepresentation: TypeAlias = Union[
    BaseMessage, list[str], tuple[str, str], str, dict[str, Any]
]
"""Anything :func:`convert_to_messages` turns into a message."""


class PromptValueLike(Protocol):
    """Anything that renders to messages, such as a ``PromptValue``."""

    def to_messages(self) -> list[BaseMessage]:
        """The messages this value stands for."""
        ...


_EXPECTED = (
    "expected a BaseMessage, str, (role, content) tuple or {'role': ..., 'content': ...} dict"
)
_ROLE_CLASSES: dict[str, type[BaseMessage]] = {
    "human": HumanMessage,
    "user": HumanMessage,
    "ai": AIMessage,
    "assistant": AIMessage,
    "system": SystemMessage,
    "developer": SystemMessage,
    "function": FunctionMessage,
    "tool": ToolMessage,
}
# Keys a role cannot do without, beyond content.
_REQUIRED_KEYS = {"function": "name", "tool": "tool_call_id"}
_DICT_KEYS_NOT_FIELDS = frozenset({"content", "type", "additional_kwargs"})


def convert_to_messages(
    messages: Union[Iterable[MessageLikeRepresentation], PromptValueLike, BaseMessage],
) -> list[BaseMessage]:
    """Coerce message-likes to a list of messages.

    Args:
        messages: A sequence of message-likes, or one ``str``, message, dict or PromptValue.

    Raises:
        TypeError: An item is of a type that cannot be a message (its index is named).
        ValueError: An item has the right type but the wrong shape (its index is named).

    Example:
        >>> convert_to_messages([("system", "Be brief."), "hi", {"role": "assistant",
        ...                      "content": "Hello!"}])
        [SystemMessage(content='Be brief.'), HumanMessage(content='hi'), AIMessage(content='Hello!')]
    """  # noqa: E501
    if isinstance(messages, str):
        return [HumanMessage(messages)]
    if isinstance(messages, BaseMessage):
        return [messages]
    to_messages = getattr(messages, "to_messages", None)
    if callable(to_messages):
        return list(to_messages())
    if isinstance(messages, Mapping):
        return [_convert_one(messages, 0)]
    if not isinstance(messages, Iterable):
        msg = (
            f"cannot convert {type(messages).__name__} {_short(messages)} to messages: expected "
            f"a sequence of messages or message-likes, a str, or a PromptValue"
        )
        raise TypeError(msg)
    return [_convert_one(item, index) for index, item in enumerate(messages)]


def _convert_one(value: Any, index: int) -> BaseMessage:
    if isinstance(value, BaseMessage):
        return value
    if isinstance(value, str):
        return HumanMessage(value)
    where = f"cannot convert message at index {index} to a message: "
    if isinstance(value, Mapping):
        return _message_from_dict(value, where)
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            msg = (
                f"{where}got {type(value).__name__} of length {len(value)} {_short(value)}; "
                f"expected a (role, content) pair"
            )
            raise ValueError(msg)
        role, content = value
        if not isinstance(role, str):
            msg = f"{where}the role of a (role, content) pair must be a str, got {_describe(role)}"
            raise TypeError(msg)
        return _message_from_role(role, content, {}, where)
    raise TypeError(f"{where}got {_describe(value)}; {_EXPECTED}")


def openai_dict_to_message(message: Mapping[str, Any]) -> BaseMessage:
    """Read an OpenAI-style (or LangChain-style ``{"type": ...}``) message dict.

    ``role`` maps user→human and assistant→AI, developer→system, anything unknown to a
    :class:`ChatMessage`; OpenAI ``tool_calls`` are parsed (bad JSON makes invalid tool calls).
    Keys that are not message fields go to ``additional_kwargs``.

    Raises:
        ValueError: ``role`` (or ``type``) or ``content`` is missing, or a field is invalid.

    Example:
        >>> openai_dict_to_message({"role": "assistant", "content": "", "tool_calls": [
        ...     {"id": "1", "type": "function",
        ...      "function": {"name": "f", "arguments": '{"x": 1}'}}]}).tool_calls
        [{'name': 'f', 'args': {'x': 1}, 'id': '1', 'type': 'tool_call'}]
    """
    return _message_from_dict(message, "cannot convert dict to a message: ")


def _message_from_dict(message: Mapping[str, Any], where: str) -> BaseMessage:
    role = message.get("role", message.get("type"))
    if role is None:
        msg = f"{where}dict has no 'role' key: {_short(message)}; expected {{'role': ..., 'content': ...}}"  # noqa: E501
        raise ValueError(msg)
    if not isinstance(role, str):
        raise TypeError(f"{where}the 'role' must be a str, got {_describe(role)}")
    cls = _ROLE_CLASSES.get(role, ChatMessage)
    if "content" not in message and not (cls is AIMessage and message.get("tool_calls")):
        msg = f"{where}dict has no 'content' key: {_short(message)}; expected {{'role': {role!r}, 'content': ...}}"  # noqa: E501
        raise ValueError(msg)
    fields: dict[str, Any] = {}
    extra: dict[str, Any] = dict(message.get("additional_kwargs") or {})
    for key, value in message.items():
        if key == "role" or key in _DICT_KEYS_NOT_FIELDS:
            continue
        if key in cls.model_fields:
            fields[key] = value
        else:
            extra[key] = value
    if "role" in message and "type" in message:
        extra["type"] = message["type"]
    if extra:
        fields["additional_kwargs"] = extra
    if cls is AIMessage and fields.get("tool_calls"):
        _read_openai_tool_calls(fields)
    return _message_from_role(role, message.get("content") or "", fields, where)


def _read_openai_tool_calls(fields: dict[str, Any]) -> None:
    calls: list[ToolCall] = []
    invalid: list[InvalidToolCall] = list(fields.get("invalid_tool_calls") or [])
    for call in fields["tool_calls"]:
        if isinstance(call, Mapping) and "function" in call:
            parsed, bad = default_tool_parser([dict(call)])
            calls += parsed
            invalid += bad
        else:  # already a LangChain-style ToolCall
            calls.append(call)
    fields["tool_calls"] = calls
    if invalid:
        fields["invalid_tool_calls"] = invalid


def _message_from_role(
    role: str, content: Any, fields: dict[str, Any], where: str
) -> BaseMessage:
    cls = _ROLE_CLASSES.get(role, ChatMessage)
    if cls is ChatMessage:
        fields["role"] = role
    elif role == "developer":
        fields["additional_kwargs"] = {
            **fields.get("additional_kwargs", {}),
            "__openai_role__": "developer",
        }
    if not isinstance(content, (str, list)) and cls is not ToolMessage:
        msg = f"{where}content must be a str or a list of content blocks, got {_describe(content)}"
        raise TypeError(msg)
    required = _REQUIRED_KEYS.get(role)
    if required is not None and fields.get(required) is None:
        msg = (
            f"{where}a {role!r} message needs a {required!r}; "
            f"write it as {{'role': {role!r}, 'content': ..., {required!r}: ...}}"
        )
        raise ValueError(msg)
    try:
        return cls(content, **fields)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in error.errors()[:3]
        )
        msg = f"{where}invalid {cls.__name__}: {problems}"
        raise ValueError(msg) from error


def _describe(value: Any) -> str:
    return f"{type(value).__name__} {_short(value)}"


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def message_to_openai_dict(message: BaseMessage) -> dict[str, Any]:
    """Write a message as an OpenAI chat-completions message dict.

    Raises:
        ValueError: The message has no OpenAI role (a plain ``BaseMessage``).

    Example:
        >>> message_to_openai_dict(AIMessage("", tool_calls=[
        ...     {"name": "f", "args": {"x": 1}, "id": "1"}]))
        {'role': 'assistant', 'content': '', 'tool_calls': [{'id': '1', 'type': 'function', 'function': {'name': 'f', 'arguments': '{"x": 1}'}}]}
    """  # noqa: E501
    out: dict[str, Any] = {"role": _openai_role(message), "content": message.content}
    if message.name:
        out["name"] = message.name
    if isinstance(message, AIMessage):
        calls = [
            _openai_tool_call(c["id"], c["name"], json.dumps(c["args"], ensure_ascii=False))
            for c in message.tool_calls
        ]
        calls += [
            _openai_tool_call(c["id"], c["name"], c["args"]) for c in message.invalid_tool_calls
        ]
        if calls:
            out["tool_calls"] = calls
        elif "function_call" in message.additional_kwargs:
            out["function_call"] = message.additional_kwargs["function_call"]
        if refusal := message.additional_kwargs.get("refusal"):
            out["refusal"] = refusal
    elif isinstance(message, ToolMessage):
        out["tool_call_id"] = message.tool_call_id
    return out


def _openai_role(message: BaseMessage) -> str:
    if isinstance(message, HumanMessage):
        return "user"
    if isinstance(message, AIMessage):
        return "assistant"
    if isinstance(message, SystemMessage):
        return str(message.additional_kwargs.get("__openai_role__", "system"))
    if isinstance(message, ToolMessage):
        return "tool"
    if isinstance(message, FunctionMessage):
        return "function"
    if isinstance(message, ChatMessage):
        return message.role
    msg = (
        f"cannot write {type(message).__name__} (type {message.type!r}) as an OpenAI message: "
        f"expected a Human, AI, System, Tool, Function or Chat message"
    )
    raise ValueError(msg)


def _openai_tool_call(id_: Any, name: Any, arguments: Any) -> dict[str, Any]:
    return {"id": id_, "type": "function", "function": {"name": name, "arguments": arguments}}


@overload
def convert_to_openai_messages(  # type: ignore[overload-overlap]  # a str is a Sequence too
    messages: Union[BaseMessage, dict[str, Any], str],
    *,
    text_format: Literal["string", "block"] = "string",
) -> dict[str, Any]: ...
@overload
def convert_to_openai_messages(
    messages: Union[Sequence[MessageLikeRepresentation], PromptValueLike],
    *,
    text_format: Literal["string", "block"] = "string",
) -> list[dict[str, Any]]: ...
def convert_to_openai_messages(
    messages: Union[
        MessageLikeRepresentation, Sequence[MessageLikeRepresentation], PromptValueLike
    ],
    *,
    text_format: Literal["string", "block"] = "string",
) -> Union[dict[str, Any], list[dict[str, Any]]]:
    """Convert message-likes to OpenAI message dicts, like LangChain's function.

    Args:
        messages: One message-like (gives one dict) or a sequence of them (gives a list).
        text_format: ``"string"`` joins all-text content into one string; ``"block"`` makes
            every content a list of blocks.

    Example:
        >>> convert_to_openai_messages([("system", "Be brief."), "hi"])
        [{'role': 'system', 'content': 'Be brief.'}, {'role': 'user', 'content': 'hi'}]
        >>> convert_to_openai_messages("hi", text_format="block")
        {'role': 'user', 'content': [{'type': 'text', 'text': 'hi'}]}
    """
    if text_format not in ("string", "block"):
        raise ValueError(f"text_format must be 'string' or 'block', got {text_format!r}")
    single = isinstance(messages, (BaseMessage, dict, str))
    dicts = []
    for message in convert_to_messages(messages):
        out = message_to_openai_dict(message)
        out["content"] = _format_content(message.content, text_format)
        dicts.append(out)
    return dicts[0] if single else dicts


def _format_content(
    content: MessageContent, text_format: Literal["string", "block"]
) -> MessageContent:
    if isinstance(content, str):
        if text_format == "string":
            return content
        return [{"type": "text", "text": content}] if content else []
    if text_format == "string" and all(
        isinstance(part, str) or part.get("type") == "text" for part in content
    ):
        return "\n".join(part if isinstance(part, str) else part["text"] for part in content)
    return [{"type": "text", "text": part} if isinstance(part, str) else part for part in content]


def get_buffer_string(
    messages: Sequence[BaseMessage],
    human_prefix: str = "Human",
    ai_prefix: str = "AI",
    *,
    message_separator: str = "\n",
) -> str:
    """Render messages as a ``"Role: text"`` transcript, one message per line.

    Raises:
        ValueError: A message is of a type without a role (a plain ``BaseMessage``).

    Example:
        >>> get_buffer_string([HumanMessage("hi"), AIMessage("Hello!")])
        'Human: hi\\nAI: Hello!'
    """
    lines = []
    for message in messages:
        line = f"{_buffer_role(message, human_prefix, ai_prefix)}: {message.text}"
        if isinstance(message, AIMessage):
            if message.tool_calls:
                line += f"{message.tool_calls}"
            elif "function_call" in message.additional_kwargs:
                line += f"{message.additional_kwargs['function_call']}"
        lines.append(line)
    return message_separator.join(lines)


def _buffer_role(message: BaseMessage, human_prefix: str, ai_prefix: str) -> str:
    if isinstance(message, HumanMessage):
        return human_prefix
    if isinstance(message, AIMessage):
        return ai_prefix
    if isinstance(message, ChatMessage):
        return message.role
    for cls, role in ((SystemMessage, "System"), (FunctionMessage, "Function"),
                      (ToolMessage, "Tool")):
        if isinstance(message, cls):
            return role
    msg = f"cannot name the role of {type(message).__name__} (type {message.type!r}): {message!r}"
    raise ValueError(msg)


def message_chunk_to_message(chunk: BaseMessage) -> BaseMessage:
    """Turn a chunk (e.g. an aggregated stream) into its full message class.

    Non-chunks are returned as they are.

    Example:
        >>> from chainkit.messages import AIMessageChunk
        >>> message_chunk_to_message(AIMessageChunk("Hello"))
        AIMessage(content='Hello')
    """
    if not isinstance(chunk, BaseMessageChunk):
        return chunk
    # A chunk class's first non-chunk message base is its message class (AIMessageChunk ->
    # AIMessage), as in LangChain.
    target = next(
        c for c in type(chunk).__mro__
        if issubclass(c, BaseMessage) and not issubclass(c, BaseMessageChunk)
    )
    # getattr, not the dict's values: an AI chunk's tool calls are parsed on first read.
    data = {
        k: getattr(chunk, k)
        for k in chunk.__dict__
        if k not in ("tool_call_chunks", "chunk_position")
    }
    if not target.model_fields["type"].is_required():
        del data["type"]
    data.update(chunk.__pydantic_extra__ or {})
    return target(**data)

__all__ = [
    "MessageLikeRepresentation",
    "PromptValueLike",
    "convert_to_messages",
    "convert_to_openai_messages",
    "get_buffer_string",
    "message_chunk_to_message",
    "message_to_openai_dict",
    "openai_dict_to_message",
]
