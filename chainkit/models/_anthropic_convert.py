"""Anthropic Messages API wire format: request bodies, responses and the stream decoder.

Pure data in, data out, like ``_openai_convert``. The mapping:

- System messages become the top-level ``system`` prompt; every other message becomes a
  ``user``/``assistant`` turn of content blocks, consecutive same-role turns merged (a reply
  with several tool calls is answered by one user turn holding every ``tool_result``).
- An `AIMessage`'s text and ``tool_calls`` become ``text`` and ``tool_use`` blocks; a
  `ToolMessage` becomes a ``tool_result`` block (``is_error`` when its status is "error").
- Replies: text blocks join into ``content`` (a str); ``tool_use`` blocks become
  ``tool_calls``. ``stop_reason`` is the ``finish_reason`` of ``generation_info``.
- Usage: ``input_tokens`` counts cached tokens too (``input_token_details`` says how many
  were read from or written to the cache), as in LangChain.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chainkit.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    SystemMessage,
    ToolCall,
    ToolMessage,
    UsageMetadata,
    tool_call,
    tool_call_chunk,
)
from chainkit.models._tool_convert import convert_to_openai_function
from chainkit.models.http import ServerErrorEvent
from chainkit.models.http.sse import SSEEvent
from chainkit.models.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

__all__ = [
    "AnthropicStreamDecoder",
    "convert_to_anthropic_tool",
    "messages_to_anthropic",
    "parse_message",
    "tool_choice_param",
    "usage_to_metadata",
]

#: The HTTP status Anthropic documents for each error type (also used for stream events).
ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}


def convert_to_anthropic_tool(tool: Any) -> dict[str, Any]:
    """``{"name", "description", "input_schema"}`` for any tool `bind_tools` accepts."""
    function = convert_to_openai_function(tool)
    out = {"name": function["name"], "input_schema": function.get("parameters") or {}}
    if function.get("description"):
        out["description"] = function["description"]
    return out


def tool_choice_param(choice: Any, names: Sequence[str]) -> Any:
    """Anthropic's ``tool_choice``: ``"auto"``, ``"any"``/``"required"``, ``"none"``, a tool
    name or ``True`` (the only tool) become the matching dict; a dict passes through.

    Raises:
        ValueError: The choice names no offered tool, or ``True`` with several tools.
    """
    if choice is None or isinstance(choice, Mapping):
        return choice
    if choice is True:
        if len(names) != 1:
            raise ValueError(
                f"tool_choice=True forces the single tool, but {len(names)} tools are offered "
                f"({names}); name one tool, or use 'any'"
            )
        choice = names[0]
    if choice in ("auto", "any", "none"):
        return {"type": choice}
    if choice == "required":
        return {"type": "any"}
    if isinstance(choice, str) and choice in names:
        return {"type": "tool", "name": choice}
    raise ValueError(
        f"tool_choice {choice!r} names no offered tool; valid: 'auto', 'any', 'required', "
        f"'none', or one of {list(names)}"
    )


def messages_to_anthropic(
    messages: Sequence[BaseMessage],
) -> tuple[str | list[dict[str, Any]] | None, list[dict[str, Any]]]:
    """``(system, messages)`` for a request body.

    Raises:
        ValueError: A message has no Anthropic role (e.g. a ChatMessage with role "critic").
    """
    system: list[dict[str, Any]] = []
    turns: list[dict[str, Any]] = []
    for message in messages:
        if isinstance(message, SystemMessage):
            system.extend(_blocks(message.content))
            continue
        role, blocks = _turn(message)
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    for turn in turns:
        content = turn["content"]
        if len(content) == 1 and content[0].get("type") == "text" and len(content[0]) == 2:
            turn["content"] = content[0]["text"]  # the compact form for plain text
    if not system:
        return None, turns
    if all(b.get("type") == "text" and len(b) == 2 for b in system):
        return "\n\n".join(b["text"] for b in system), turns
    return system, turns


def _turn(message: BaseMessage) -> tuple[str, list[dict[str, Any]]]:
    if isinstance(message, ToolMessage):
        result: dict[str, Any] = {
            "type": "tool_result",
            "tool_use_id": message.tool_call_id,
            "content": message.content if isinstance(message.content, str)
            else _blocks(message.content),
        }
        if getattr(message, "status", None) == "error":
            result["is_error"] = True
        return "user", [result]
    if isinstance(message, AIMessage):
        blocks = [b for b in _blocks(message.content) if b.get("type") != "tool_use"]
        blocks += [
            {"type": "tool_use", "id": c["id"], "name": c["name"], "input": c["args"]}
            for c in message.tool_calls
        ]
        return "assistant", blocks or [{"type": "text", "text": ""}]
    role = message.role if isinstance(message, ChatMessage) else message.type
    role = {"human": "user", "ai": "assistant"}.get(role, role)
    if role not in ("user", "assistant"):
        raise ValueError(
            f"cannot send {type(message).__name__} with role {role!r} to Anthropic: roles are "
            f"'user' and 'assistant' (plus system messages, sent as the system prompt)"
        )
    return role, _blocks(message.content)


def _blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    blocks = []
    for block in content:
        if isinstance(block, str):
            blocks.append({"type": "text", "text": block})
        elif block.get("type") == "image_url":
            blocks.append(_image_block(block))
        else:
            blocks.append({k: v for k, v in block.items() if k != "index"})
    return blocks


def _image_block(block: Mapping[str, Any]) -> dict[str, Any]:
    """An OpenAI ``image_url`` block as an Anthropic ``image`` block."""
    image = block.get("image_url")
    url = image.get("url") if isinstance(image, Mapping) else image
    if isinstance(url, str) and url.startswith("data:") and ";base64," in url:
        media_type, _, data = url[5:].partition(";base64,")
        return {"type": "image", "source": {"type": "base64", "media_type": media_type,
                                            "data": data}}
    return {"type": "image", "source": {"type": "url", "url": url}}


def usage_to_metadata(usage: Mapping[str, Any] | None) -> UsageMetadata | None:
    """``usage_metadata`` from Anthropic's ``usage`` (``None`` stays ``None``)."""
    if not usage:
        return None
    cache_read = int(usage.get("cache_read_input_tokens") or 0)
    cache_creation = int(usage.get("cache_creation_input_tokens") or 0)
    input_tokens = int(usage.get("input_tokens") or 0) + cache_read + cache_creation
    output_tokens = int(usage.get("output_tokens") or 0)
    out = UsageMetadata(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=input_tokens + output_tokens,
    )
    if "cache_read_input_tokens" in usage or "cache_creation_input_tokens" in usage:
        out["input_token_details"] = {"cache_read": cache_read, "cache_creation": cache_creation}
    return out


def token_usage(usage: UsageMetadata | None) -> dict[str, int] | None:
    """``llm_output["token_usage"]`` in the common ``prompt/completion/total`` form."""
    if usage is None:
        return None
    return {
        "prompt_tokens": usage["input_tokens"],
        "completion_tokens": usage["output_tokens"],
        "total_tokens": usage["total_tokens"],
    }


def parse_message(data: Any, default_model: str) -> ChatResult:
    """A `ChatResult` from a non-streaming ``message`` body.

    Raises:
        ValueError: The body is not a message (the caller reports it as a bad answer).
    """
    if not isinstance(data, Mapping) or not isinstance(data.get("content"), list):
        raise ValueError(f"expected a message object with 'content', got {data!r:.200}")
    texts: list[str] = []
    calls: list[ToolCall] = []
    for block in data["content"]:
        if block.get("type") == "text":
            texts.append(block.get("text", ""))
        elif block.get("type") == "tool_use":
            calls.append(tool_call(name=block["name"], args=block.get("input") or {},
                                   id=block.get("id")))
    usage = usage_to_metadata(data.get("usage"))
    model = data.get("model") or default_model
    info = {"finish_reason": data.get("stop_reason")}
    metadata = {
        "id": data.get("id"), "model": model, "model_name": model,
        "stop_reason": data.get("stop_reason"), "stop_sequence": data.get("stop_sequence"),
        "usage": dict(data.get("usage") or {}),
    }
    message = AIMessage(
        "".join(texts), tool_calls=calls, usage_metadata=usage, response_metadata=metadata
    )
    llm_output: dict[str, Any] = {"model_name": model}
    if usage is not None:
        llm_output = {"token_usage": token_usage(usage), **llm_output}
    return ChatResult(
        generations=[ChatGeneration(message=message, generation_info=info)],
        llm_output=llm_output,
    )


class AnthropicStreamDecoder:
    """Push decoder: Messages API stream events in, `ChatGenerationChunk`s out.

    ``text_delta`` and ``input_json_delta`` are yielded as they arrive (tool calls as
    ``tool_call_chunks`` indexed by content block); usage from ``message_start`` and
    ``message_delta`` is yielded with the stop reason at ``message_stop``, in one final chunk
    marked ``chunk_position="last"``. ``ping`` is ignored; ``error`` raises `ServerErrorEvent`.

    Example:
        >>> d = AnthropicStreamDecoder("claude")
        >>> event = SSEEvent("content_block_delta",
        ...                  '{"index": 0, "delta": {"type": "text_delta", "text": "Hi"}}')
        >>> [c.text for c in d.feed(event)]
        ['Hi']
    """

    terminator = "event: message_stop"

    def __init__(self, default_model: str) -> None:
        self.done = False
        self._model = default_model
        self._parts: list[str] = []
        self._message: dict[str, Any] = {}
        self._usage: dict[str, Any] = {}
        self._stop: dict[str, Any] = {}

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def feed(self, event: SSEEvent) -> list[ChatGenerationChunk]:
        kind = event.event
        if kind == "ping":
            return []
        data = event.json()
        if kind == "message" and isinstance(data, Mapping):
            kind = str(data.get("type", "message"))  # servers that omit "event:" lines
        if kind == "error":
            error = data.get("error", data) if isinstance(data, Mapping) else {}
            raise ServerErrorEvent(ERROR_STATUS.get(str(error.get("type")), 500), data)
        if kind == "message_start":
            self._message = dict(data.get("message") or {})
            self._usage = dict(self._message.get("usage") or {})
        elif kind == "content_block_start":
            block = data.get("content_block") or {}
            if block.get("type") == "tool_use":
                piece = tool_call_chunk(name=block.get("name"), args="", id=block.get("id"),
                                        index=data.get("index"))
                return [ChatGenerationChunk(message=AIMessageChunk("", tool_call_chunks=[piece]))]
            if block.get("type") == "text" and block.get("text"):
                return [self._text(block["text"])]
        elif kind == "content_block_delta":
            delta = data.get("delta") or {}
            if delta.get("type") == "text_delta" and delta.get("text"):
                return [self._text(delta["text"])]
            if delta.get("type") == "input_json_delta" and delta.get("partial_json"):
                piece = tool_call_chunk(args=delta["partial_json"], index=data.get("index"))
                return [ChatGenerationChunk(message=AIMessageChunk("", tool_call_chunks=[piece]))]
        elif kind == "message_delta":
            self._stop.update(data.get("delta") or {})
            self._usage.update(data.get("usage") or {})
        elif kind == "message_stop":
            self.done = True
            return [self._last()]
        return []

    def _text(self, text: str) -> ChatGenerationChunk:
        self._parts.append(text)
        return ChatGenerationChunk(message=AIMessageChunk(text))

    def _last(self) -> ChatGenerationChunk:
        model = self._message.get("model") or self._model
        info = {"finish_reason": self._stop.get("stop_reason")}
        metadata = {
            "id": self._message.get("id"), "model": model, "model_name": model,
            "stop_reason": self._stop.get("stop_reason"),
            "stop_sequence": self._stop.get("stop_sequence"), "usage": self._usage,
        }
        message = AIMessageChunk(
            "", usage_metadata=usage_to_metadata(self._usage), response_metadata=metadata,
            chunk_position="last",
        )
        return ChatGenerationChunk(message=message, generation_info=info)

