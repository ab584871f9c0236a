"""OpenAI chat-completions wire format: request bodies, responses and the stream decoder.

Pure data in, data out: nothing here does I/O, so `ChatOpenAI` only wires these functions
to the transport. Metadata lands where LangChain puts it:

- ``generation_info``: ``finish_reason`` (and ``logprobs`` when sent);
- ``AIMessage.response_metadata``: ``token_usage``, ``model_name``, ``system_fingerprint``,
  ``id``, ``finish_reason``;
- ``AIMessage.usage_metadata``: input/output/total tokens with cache and reasoning details,
  or ``None`` when the server reported no usage (never zeros);
- ``ChatResult.llm_output``: ``token_usage`` (when reported), ``model_name``,
  ``system_fingerprint`` (when sent).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chainkit.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    UsageMetadata,
    default_tool_parser,
    message_to_openai_dict,
    tool_call_chunk,
)
from chainkit.models.http import ServerErrorEvent
from chainkit.models.http.sse import SSEEvent
from chainkit.models.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

__all__ = [
    "OpenAIStreamDecoder",
    "messages_to_openai",
    "parse_completion",
    "tool_choice_param",
    "usage_to_metadata",
]

# Status codes for the error types OpenAI (and compatible servers) put in stream error events.
_ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "rate_limit_error": 429,
    "rate_limit_exceeded": 429,
    "tokens": 429,
    "requests": 429,
    "insufficient_quota": 429,
}


def messages_to_openai(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """The ``messages`` array of a request."""
    return [message_to_openai_dict(m) for m in messages]


def tool_choice_param(choice: Any, names: Sequence[str]) -> Any:
    """OpenAI's ``tool_choice`` for LangChain's spellings.

    ``"auto"``/``"none"``/``"required"`` pass through; ``"any"`` is ``"required"``; ``True``
    forces the only tool; a tool name forces that tool; a dict passes through.

    Raises:
        ValueError: The choice names no offered tool, or ``True`` with several tools.
    """
    if choice is None or isinstance(choice, Mapping):
        return choice
    if choice is True:
        if len(names) != 1:
            raise ValueError(
                f"tool_choice=True forces the single tool, but {len(names)} tools are offered "
                f"({names}); name one tool, or use 'required'/'any'"
            )
        choice = names[0]
    if choice == "any":
        return "required"
    if choice in ("auto", "none", "required"):
        return choice
    if isinstance(choice, str):
        if choice not in names:
            raise ValueError(
                f"tool_choice {choice!r} names no offered tool; valid: 'auto', 'none', "
                f"'required', 'any', or one of {names}"
            )
        return {"type": "function", "function": {"name": choice}}
    raise ValueError(
        f"tool_choice must be a str, bool or dict, got {type(choice).__name__} {choice!r:.60}"
    )


def usage_to_metadata(usage: Mapping[str, Any] | None) -> UsageMetadata | None:
    """``usage_metadata`` from OpenAI's ``usage`` (``None`` stays ``None``)."""
    if not usage:
        return None
    input_tokens = int(usage.get("prompt_tokens") or 0)
    output_tokens = int(usage.get("completion_tokens") or 0)
    total = usage.get("total_tokens")
    out = UsageMetadata(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=int(total) if total is not None else input_tokens + output_tokens,
    )
    prompt_details = usage.get("prompt_tokens_details")
    if prompt_details:
        details = _details(prompt_details, ("audio", "audio_tokens"),
                           ("cache_read", "cached_tokens"))
        if details:
            out["input_token_details"] = details  # type: ignore[typeddict-item]
    completion_details = usage.get("completion_tokens_details")
    if completion_details:
        details = _details(completion_details, ("audio", "audio_tokens"),
                           ("reasoning", "reasoning_tokens"))
        if details:
            out["output_token_details"] = details  # type: ignore[typeddict-item]
    return out


def _details(raw: Mapping[str, Any], *names: tuple[str, str]) -> dict[str, int]:
    return {ours: raw[theirs] for ours, theirs in names if raw.get(theirs) is not None}


def _common_metadata(data: Mapping[str, Any], default_model: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"model_name": data.get("model") or default_model}
    if data.get("system_fingerprint"):
        meta["system_fingerprint"] = data["system_fingerprint"]
    return meta


def parse_completion(data: Any, default_model: str) -> ChatResult:
    """A `ChatResult` from a non-streaming ``chat.completion`` body.

    Raises:
        ValueError: The body has no ``choices`` (the caller reports it as a bad answer).
    """
    choices = data.get("choices") if isinstance(data, Mapping) else None
    if not isinstance(choices, list):
        raise ValueError(f"expected a chat.completion object with 'choices', got {data!r:.200}")
    usage = data.get("usage") or None
    usage_metadata = usage_to_metadata(usage)
    common = _common_metadata(data, default_model)
    response_id = data.get("id")
    generations = []
    for choice in choices:
        raw = choice.get("message") or {}
        info: dict[str, Any] = {"finish_reason": choice.get("finish_reason")}
        if choice.get("logprobs") is not None:
            info["logprobs"] = choice["logprobs"]
        metadata = {"token_usage": dict(usage), **common} if usage else dict(common)
        if response_id:
            metadata["id"] = response_id
        metadata.update(info)
        extra: dict[str, Any] = {}
        if raw.get("tool_calls"):
            calls, invalid = default_tool_parser(raw["tool_calls"])
            extra = {"additional_kwargs": {"tool_calls": raw["tool_calls"]},
                     "tool_calls": calls, "invalid_tool_calls": invalid}
        if raw.get("refusal"):
            extra.setdefault("additional_kwargs", {})["refusal"] = raw["refusal"]
        message = AIMessage(raw.get("content") or "", usage_metadata=usage_metadata,
                            response_metadata=metadata, **extra)
        generations.append(ChatGeneration(message=message, generation_info=info))
    llm_output = {"token_usage": dict(usage), **common} if usage else common
    return ChatResult(generations=generations, llm_output=llm_output)


class OpenAIStreamDecoder:
    """Push decoder: ``chat.completion.chunk`` events in, `ChatGenerationChunk`s out.

    Content and tool-call pieces are yielded as they arrive. ``finish_reason``, the model
    name and usage (sent in later events) are held back and yielded at ``data: [DONE]`` in
    one final chunk marked ``chunk_position="last"``, so the last chunk carries the usage.
    An ``{"error": ...}`` event raises `ServerErrorEvent`.

    Example:
        >>> d = OpenAIStreamDecoder("gpt-4o-mini")
        >>> [c.text for c in d.feed(SSEEvent(data='{"choices": [{"delta": {"content": "Hi"}}]}'))]
        ['Hi']
    """

    terminator = "data: [DONE]"

    def __init__(self, default_model: str) -> None:
        self.done = False
        self._model = default_model
        self._parts: list[str] = []
        self._meta: dict[str, Any] = {}
        self._info: dict[str, Any] = {}
        self._usage: UsageMetadata | None = None
        self._seen_calls: set[int] = set()

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def feed(self, event: SSEEvent) -> list[ChatGenerationChunk]:
        if event.data.strip() == "[DONE]":
            self.done = True
            return [self._last()]
        data = event.json()
        if event.event == "error" or (isinstance(data, Mapping) and data.get("error")):
            error = data.get("error", data) if isinstance(data, Mapping) else data
            raise ServerErrorEvent(_event_status(error), data)
        if not isinstance(data, Mapping):
            raise ValueError(f"expected a chunk object, got {event.data[:200]!r}")
        if not self._meta:
            self._meta = _common_metadata(data, self._model)
            if data.get("id"):
                self._meta["id"] = data["id"]
        elif data.get("system_fingerprint"):
            self._meta["system_fingerprint"] = data["system_fingerprint"]
        if data.get("usage"):
            self._usage = usage_to_metadata(data["usage"])
            self._meta["token_usage"] = dict(data["usage"])
        chunks = []
        for choice in data.get("choices") or ():
            if choice.get("index", 0) != 0:
                continue  # n > 1 is not streamed; the first choice is the answer
            chunk = self._delta(choice.get("delta") or {})
            if chunk is not None:
                chunks.append(ChatGenerationChunk(message=chunk))
            if choice.get("finish_reason"):
                self._info["finish_reason"] = choice["finish_reason"]
            if choice.get("logprobs") is not None:
                self._info["logprobs"] = choice["logprobs"]
        return chunks

    def _delta(self, delta: Mapping[str, Any]) -> AIMessageChunk | None:
        content = delta.get("content")
        raw_calls = delta.get("tool_calls")
        if not content and not raw_calls and not delta.get("refusal"):
            return None
        pieces = []
        for raw in raw_calls or ():
            index = raw.get("index", 0)
            function = raw.get("function") or {}
            # Some servers repeat the id and name on every piece; merging would join them.
            first = index not in self._seen_calls
            self._seen_calls.add(index)
            pieces.append(
                tool_call_chunk(
                    name=function.get("name") if first else None,
                    args=function.get("arguments"),
                    id=raw.get("id") if first else None,
                    index=index,
                )
            )
        if content:
            self._parts.append(content)
        extra = {"refusal": delta["refusal"]} if delta.get("refusal") else {}
        return AIMessageChunk(content or "", tool_call_chunks=pieces, additional_kwargs=extra)

    def _last(self) -> ChatGenerationChunk:
        info = dict(self._info) or {"finish_reason": None}
        meta = {**self._meta, **info}
        meta.setdefault("model_name", self._model)
        message = AIMessageChunk(
            "", usage_metadata=self._usage, response_metadata=meta, chunk_position="last"
        )
        return ChatGenerationChunk(message=message, generation_info=info)


def _event_status(error: Any) -> int:
    if isinstance(error, Mapping):
        code = error.get("code")
        if isinstance(code, int) or (isinstance(code, str) and code.isdigit()):
            return int(code)
        for key in ("type", "code"):
            status = _ERROR_STATUS.get(str(error.get(key)))
            if status is not None:
                return status
    return 500
