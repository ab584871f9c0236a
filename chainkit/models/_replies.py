"""How the chat model base finishes a provider's replies, and turns replies into streams.

- `finish_result`: every reply gets an id (``run-<run id>``) and its ``generation_info``
  copied into ``response_metadata``.
- `StreamTail`: the same for streamed chunks, plus the final ``chunk_position="last"`` chunk
  when the provider did not mark one.
- `message_to_chunk` / `result_to_chunk`: a whole reply as the single chunk of a stream.
- `generate_from_stream` / `agenerate_from_stream`: a stream aggregated into a `ChatResult`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, cast
from uuid import UUID

from chainkit.messages import (
    AIMessageChunk,
    BaseMessage,
    BaseMessageChunk,
    message_chunk_to_message,
)
from chainkit.models.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from chainkit.runnables.config import RunnableConfig
from chainkit.tracing.context import ParentRun, uuid7_str


def run_id_of(config: RunnableConfig | None) -> UUID | None:
    """This call's run id when observed (the observed driver passes the run as parent)."""
    if config is None:
        return None
    parent = config.get("callbacks")
    return parent.run.id if isinstance(parent, ParentRun) else None


def _set_id(message: BaseMessage, value: str) -> None:
    # A str for a str-typed field needs no validation: skip pydantic's __setattr__, which
    # costs about a microsecond, on a path taken once per streamed chunk.
    message.__dict__["id"] = value
    message.__pydantic_fields_set__.add("id")


def finish_result(result: ChatResult, run_id: UUID | None) -> None:
    """Give each reply an id and copy ``generation_info`` into its ``response_metadata``."""
    for index, generation in enumerate(result.generations):
        message = generation.message
        if message.id is None:
            rid = run_id or uuid7_str()
            _set_id(message, f"run-{rid}" if index == 0 else f"run-{rid}-{index}")
        if generation.generation_info:
            message.response_metadata = {
                **generation.generation_info,
                **message.response_metadata,
            }


class StreamTail:
    """Stamps streamed chunks with the run's message id and metadata, and supplies the
    ``chunk_position="last"`` chunk when the provider did not mark its final chunk."""

    __slots__ = ("_config", "_id", "_last")

    def __init__(self, config: RunnableConfig | None) -> None:
        self._config = config
        self._id: str | None = None
        self._last: BaseMessageChunk | None = None

    @property
    def message_id(self) -> str:
        if self._id is None:
            self._id = f"run-{run_id_of(self._config) or uuid7_str()}"
        return self._id

    def see(self, chunk: ChatGenerationChunk) -> AIMessageChunk:
        message = chunk.message
        if message.id is None:
            _set_id(message, self.message_id)
        if chunk.generation_info:
            message.response_metadata = {**chunk.generation_info, **message.response_metadata}
        self._last = message
        return cast(AIMessageChunk, message)

    def last_chunk(self) -> AIMessageChunk | None:
        last = self._last
        if last is not None and getattr(last, "chunk_position", None) == "last":
            return None
        content: str | list[Any] = (
            [] if last is not None and isinstance(last.content, list) else ""
        )
        return AIMessageChunk(content, chunk_position="last", id=self.message_id)


def message_to_chunk(message: BaseMessage) -> AIMessageChunk:
    """A whole reply as the single, final chunk of a stream."""
    if isinstance(message, AIMessageChunk):
        if message.chunk_position == "last":
            return message
        return message.model_copy(update={"chunk_position": "last"})
    data = {k: v for k, v in message.__dict__.items() if k not in ("type", "content")}
    data.update(message.__pydantic_extra__ or {})
    return AIMessageChunk(message.content, chunk_position="last", **data)


def result_to_chunk(result: ChatResult) -> ChatGenerationChunk:
    if not result.generations:
        raise ValueError("the chat model returned no generations")
    generation = result.generations[0]
    return ChatGenerationChunk(
        message=message_to_chunk(generation.message),
        generation_info=generation.generation_info,
    )


def _aggregate(chunks: list[ChatGenerationChunk]) -> ChatResult:
    if not chunks:
        raise ValueError("the chat model's stream ended without yielding any chunk")
    merged = chunks[0] + chunks[1:] if len(chunks) > 1 else chunks[0]
    message = message_chunk_to_message(merged.message)
    return ChatResult(
        generations=[ChatGeneration(message=message, generation_info=merged.generation_info)]
    )


def generate_from_stream(stream: Iterator[ChatGenerationChunk]) -> ChatResult:
    """Aggregate a provider's ``_stream`` into the `ChatResult` its ``_generate`` would give."""
    return _aggregate(list(stream))


async def agenerate_from_stream(stream: AsyncIterator[ChatGenerationChunk]) -> ChatResult:
    """Async `generate_from_stream`."""
    return _aggregate([chunk async for chunk in stream])
