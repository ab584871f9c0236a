"""Fake chat models for tests and examples: scripted replies, no model, no network.

- `FakeListChatModel`: replies with ``responses`` in turn; streams character by character.
- `GenericFakeChatModel`: replies with the next message of an iterator; streams word by
  word (whitespace kept as separate chunks), tool calls in the final chunk.
- `ParrotFakeChatModel`: replies with the last input message's content.

Like real providers they report token usage (one token per whitespace-separated word),
``finish_reason='stop'`` and ``llm_output={'token_usage': ..., 'model_name': 'fake'}``. Their
async paths run inline (no worker thread): there is no I/O to wait for.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from typing import Any, Union

from chainkit.messages import AIMessage, AIMessageChunk, BaseMessage, UsageMetadata
from chainkit.models.base import BaseChatModel
from chainkit.models.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

__all__ = [
    "FakeListChatModel",
    "FakeListChatModelError",
    "GenericFakeChatModel",
    "ParrotFakeChatModel",
]

_MODEL_NAME = "fake"
_STOP = {"finish_reason": "stop"}


class FakeListChatModelError(Exception):
    """Raised by `FakeListChatModel` at chunk ``error_on_chunk_number`` of a stream."""


def _count(text: str) -> int:
    return len(text.split())


def _usage(messages: Sequence[BaseMessage], reply: BaseMessage) -> UsageMetadata:
    prompt = sum(_count(m.text) for m in messages)
    completion = _count(reply.text)
    total = prompt + completion
    return {"input_tokens": prompt, "output_tokens": completion, "total_tokens": total}


def _result(messages: Sequence[BaseMessage], reply: AIMessage) -> ChatResult:
    """Fill in usage and metadata, as a real provider reports them."""
    usage = reply.usage_metadata or _usage(messages, reply)
    message = reply.model_copy(
        update={
            "usage_metadata": usage,
            "response_metadata": {**_STOP, "model_name": _MODEL_NAME, **reply.response_metadata},
        }
    )
    token_usage = {
        "prompt_tokens": usage["input_tokens"],
        "completion_tokens": usage["output_tokens"],
        "total_tokens": usage["total_tokens"],
    }
    return ChatResult(
        generations=[ChatGeneration(message=message, generation_info=dict(_STOP))],
        llm_output={"token_usage": token_usage, "model_name": _MODEL_NAME},
    )


def _chunks(
    result: ChatResult, pieces: Sequence[Union[str, list[Any]]]
) -> list[ChatGenerationChunk]:
    """The reply of ``result`` as chunks with ``pieces`` of content; the last one carries the
    usage, metadata, tool calls and ``chunk_position='last'``."""
    reply = result.generations[0].message
    assert isinstance(reply, AIMessage)  # built by _result
    pieces = list(pieces) or [""]
    chunks = [
        ChatGenerationChunk(message=AIMessageChunk(piece, id=reply.id)) for piece in pieces[:-1]
    ]
    last = AIMessageChunk(
        pieces[-1],
        id=reply.id,
        additional_kwargs=reply.additional_kwargs,
        response_metadata=reply.response_metadata,
        tool_calls=reply.tool_calls,
        invalid_tool_calls=reply.invalid_tool_calls,
        usage_metadata=reply.usage_metadata,
        chunk_position="last",
    )
    chunks.append(ChatGenerationChunk(message=last, generation_info=dict(_STOP)))
    return chunks


class FakeListChatModel(BaseChatModel):
    """Replies with each of ``responses`` in turn (cycling); streams one character per chunk.

    Args:
        responses: The replies, in order.
        sleep: Seconds to wait before each streamed chunk.
        i: The index of the next reply.
        error_on_chunk_number: Raise `FakeListChatModelError` at this chunk of a stream.

    Example:
        >>> chat = FakeListChatModel(responses=["Hello!", "Bye."])
        >>> chat.invoke("hi").content
        'Hello!'
        >>> [c.content for c in chat.stream("hi")]
        ['B', 'y', 'e', '.']
    """

    i: int = 0
    sleep: float | None = None
    error_on_chunk_number: int | None = None

    def __init__(
        self,
        *,
        responses: Sequence[str],
        sleep: float | None = None,
        i: int = 0,
        error_on_chunk_number: int | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        if isinstance(responses, str) or not responses:
            raise ValueError(
                f"responses must be a non-empty list of strings, got {responses!r:.80}"
            )
        self.responses = list(responses)
        if sleep is not None:
            self.sleep = sleep
        if i:
            self.i = i
        if error_on_chunk_number is not None:
            self.error_on_chunk_number = error_on_chunk_number
        self._lock = threading.Lock()

    @property
    def _llm_type(self) -> str:
        return "fake-list-chat-model"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": _MODEL_NAME, "responses": self.responses}

    def _next_reply(self, messages: list[BaseMessage]) -> ChatResult:
        with self._lock:  # batch calls from several threads each get their own reply
            text = self.responses[self.i % len(self.responses)]
            self.i = (self.i + 1) % len(self.responses)
        return _result(messages, AIMessage(text))

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> ChatResult:
        return self._next_reply(messages)

    async def _agenerate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> ChatResult:
        return self._next_reply(messages)

    def _reply_chunks(self, messages: list[BaseMessage]) -> list[ChatGenerationChunk]:
        result = self._next_reply(messages)
        return _chunks(result, list(result.generations[0].message.text))

    def _check(self, index: int) -> None:
        if index == self.error_on_chunk_number:
            raise FakeListChatModelError(f"fake error at chunk {index}")

    def _stream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> Iterator[ChatGenerationChunk]:
        for index, chunk in enumerate(self._reply_chunks(messages)):
            if self.sleep is not None:
                time.sleep(self.sleep)
            self._check(index)
            yield chunk

    async def _astream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AsyncIterator[ChatGenerationChunk]:
        for index, chunk in enumerate(self._reply_chunks(messages)):
            if self.sleep is not None:
                await asyncio.sleep(self.sleep)
            self._check(index)
            yield chunk


class GenericFakeChatModel(BaseChatModel):
    """Replies with the next of ``messages`` (AIMessages or strings); streams word by word.

    Streaming splits the content on whitespace, keeping each whitespace character as its own
    chunk (``re.split(r"(\\s)", content)``), as LangChain's fake does; tool calls and
    ``additional_kwargs`` arrive in the final chunk.

    Args:
        messages: An iterator (or iterable) of replies; use ``itertools.cycle`` to repeat.

    Example:
        >>> chat = GenericFakeChatModel(messages=iter(["hello world"]))
        >>> [c.content for c in chat.stream("hi")]
        ['hello', ' ', 'world']
    """

    def __init__(
        self, *, messages: Iterable[Union[AIMessage, str]], name: str | None = None
    ) -> None:
        super().__init__(name=name)
        self.messages = iter(messages)
        self._lock = threading.Lock()

    @property
    def _llm_type(self) -> str:
        return "generic-fake-chat-model"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": _MODEL_NAME}

    def _next_reply(self, messages: list[BaseMessage]) -> ChatResult:
        with self._lock:
            try:
                reply = next(self.messages)
            except StopIteration:
                raise ValueError(
                    "GenericFakeChatModel has no more replies: its messages iterator is "
                    "exhausted (pass itertools.cycle([...]) to repeat replies)"
                ) from None
        if isinstance(reply, str):
            reply = AIMessage(reply)
        elif not isinstance(reply, AIMessage):
            raise TypeError(
                f"GenericFakeChatModel replies must be AIMessage or str, got "
                f"{type(reply).__name__} {reply!r:.60}"
            )
        return _result(messages, reply)

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> ChatResult:
        return self._next_reply(messages)

    async def _agenerate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> ChatResult:
        return self._next_reply(messages)

    def _stream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> Iterator[ChatGenerationChunk]:
        result = self._next_reply(messages)
        content = result.generations[0].message.content
        pieces = re.split(r"(\s)", content) if isinstance(content, str) else [content]
        yield from _chunks(result, pieces)

    async def _astream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AsyncIterator[ChatGenerationChunk]:
        for chunk in self._stream(messages, stop=stop, **kwargs):
            yield chunk


class ParrotFakeChatModel(BaseChatModel):
    """Replies with the content of the last input message.

    Example:
        >>> ParrotFakeChatModel().invoke([("system", "Be brief."), ("human", "hi")]).content
        'hi'
    """

    @property
    def _llm_type(self) -> str:
        return "parrot-fake-chat-model"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": _MODEL_NAME}

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> ChatResult:
        if not messages:
            raise ValueError("ParrotFakeChatModel needs at least one message to repeat")
        return _result(messages, AIMessage(messages[-1].content))

    async def _agenerate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> ChatResult:
        return self._generate(messages, stop=stop, **kwargs)
