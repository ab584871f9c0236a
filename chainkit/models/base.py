"""`BaseChatModel`: every chat model's public behaviour, written once over a provider's hooks.

A provider implements LangChain's hooks and nothing else:

- ``_generate(messages, stop=None, **kw) -> ChatResult`` (required, unless ``_stream`` is given)
- ``_stream(messages, stop=None, **kw) -> Iterator[ChatGenerationChunk]`` (optional)
- ``_agenerate`` / ``_astream`` (optional: only where the async path does I/O differently)
- ``_llm_type`` and ``_identifying_params`` (names and parameters for run records)
- ``bind_tools`` and ``_structured_output_kwargs`` (optional: tool calling, structured output)

Which hooks a provider class defines is decided once, when the class is created
(``__init_subclass__``), and the missing ones are derived: a provider without ``_stream``
streams one chunk made from ``_generate``; without ``_agenerate`` the sync call runs in a
worker thread; without ``_astream`` a sync ``_stream`` is iterated in a worker thread that
feeds the event loop, so a sync-only provider never blocks the loop (``iterate_in_thread``).

The base turns any `LanguageModelInput` into messages (`convert_to_messages`), gives every
reply an id (``run-<run id>``), copies ``generation_info`` into ``response_metadata``, and
ends every stream with a chunk marked ``chunk_position="last"`` (helpers in ``_replies.py``).

The module is one idea, the chat model's public surface, and runs a little over 500 lines
because LangChain's ``generate``/``agenerate`` batch API lives here beside the Runnable hooks.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any, ClassVar, TypeAlias, Union, cast
from uuid import UUID

from chainkit.messages import (
    AIMessage,
    AIMessageChunk,
    AnyMessage,
    BaseMessage,
    MessageLikeRepresentation,
    convert_to_messages,
)
from chainkit.models._params import SECRET_NAME, redacted, sum_counts
from chainkit.models._replies import (
    StreamTail,
    agenerate_from_stream,
    finish_result,
    generate_from_stream,
    message_to_chunk,
    result_to_chunk,
    run_id_of,
)
from chainkit.models.outputs import ChatGenerationChunk, ChatResult, LLMResult, RunInfo
from chainkit.models.structured import StructuredMethod, build_structured_output
from chainkit.prompts.values import ChatPromptValue, PromptValue, StringPromptValue
from chainkit.runnables._sync import iterate_in_thread
from chainkit.runnables.base import Runnable, gather_limited
from chainkit.runnables.config import RunnableConfig
from chainkit.tracing import context as _ctx

__all__ = [
    "BaseChatModel",
    "LanguageModelInput",
    "agenerate_from_stream",
    "generate_from_stream",
]

LanguageModelInput: TypeAlias = Union[PromptValue, str, Sequence[MessageLikeRepresentation]]
"""What a chat model accepts: a PromptValue, a string (one human message) or message-likes.

At run time anything with a ``to_messages()`` method is accepted as a PromptValue."""

# The same, spelled so that pydantic can write a JSON schema for it (``get_input_schema``).
_INPUT_SCHEMA_TYPE: Any = Union[
    StringPromptValue,
    ChatPromptValue,
    str,
    list[Union[AnyMessage, str, tuple[str, str], dict[str, Any]]],
]


class BaseChatModel(Runnable[LanguageModelInput, AIMessage]):
    """The base class of chat models: messages in, an `AIMessage` (or its chunks) out.

    Subclasses are plain classes taking keyword arguments in ``__init__``; they implement
    ``_generate`` (and optionally ``_stream``, ``_agenerate``, ``_astream``).

    Example:
        >>> from chainkit.messages import AIMessage
        >>> from chainkit.models import ChatGeneration, ChatResult
        >>> class Echo(BaseChatModel):
        ...     def _generate(self, messages, stop=None, **kwargs):
        ...         reply = AIMessage(messages[-1].text)
        ...         return ChatResult(generations=[ChatGeneration(message=reply)])
        >>> Echo().invoke("hello").content
        'hello'
        >>> [chunk.content for chunk in Echo().stream("hello")]
        ['hello']
    """

    run_type: ClassVar[str] = "chat_model"

    #: Stream even from ``invoke`` (aggregating the chunks), if the provider has ``_stream``.
    streaming: bool = False
    #: Never stream: ``stream`` yields one chunk made from a full ``invoke``.
    disable_streaming: bool = False

    # Which hooks the concrete class defines; set once per class in ``__init_subclass__``.
    _native_generate: ClassVar[bool] = False
    _native_stream: ClassVar[bool] = False
    _native_agenerate: ClassVar[bool] = False
    _native_astream: ClassVar[bool] = False

    def __init__(self, *, name: str | None = None, disable_streaming: bool = False) -> None:
        """Set the options every chat model has; providers add their own keyword arguments.

        Args:
            name: The name of this model's runs (default: the class name).
            disable_streaming: Make ``stream`` yield one chunk from a full call.
        """
        # Only what differs from the class defaults is stored, so reprs stay short.
        if name is not None:
            self.name = name
        if disable_streaming:
            self.disable_streaming = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        base = BaseChatModel
        cls._native_generate = cls._generate is not base._generate
        cls._native_stream = cls._stream is not base._stream
        cls._native_agenerate = cls._agenerate is not base._agenerate
        cls._native_astream = cls._astream is not base._astream

    # ---- provider hooks ---------------------------------------------------------------
    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> ChatResult:
        """Generate a reply to ``messages``. Providers implement this (or ``_stream``)."""
        if self._native_stream:
            return generate_from_stream(self._stream(messages, stop=stop, **kwargs))
        raise NotImplementedError(
            f"{type(self).__name__} implements neither _generate nor _stream; a chat model "
            f"must implement at least one of them"
        )

    async def _agenerate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> ChatResult:
        """Async `_generate`. Default: a native ``_astream`` aggregated, else ``_generate``
        in a worker thread so a sync provider does not block the event loop."""
        if self._native_astream and not self._native_generate:
            return await agenerate_from_stream(self._astream(messages, stop=stop, **kwargs))
        return await asyncio.to_thread(self._generate, messages, stop, **kwargs)

    def _stream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> Iterator[ChatGenerationChunk]:
        """Stream a reply. Default: one chunk holding the whole ``_generate`` reply."""
        yield result_to_chunk(self._generate(messages, stop=stop, **kwargs))

    async def _astream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AsyncIterator[ChatGenerationChunk]:
        """Async `_stream`. Default: a sync ``_stream`` iterated in a worker thread, else one
        chunk from ``_agenerate``."""
        if self._native_stream:
            it = iterate_in_thread(lambda: self._stream(messages, stop=stop, **kwargs))
            try:
                async for chunk in it:
                    yield chunk
            finally:
                await it.aclose()
        else:
            yield result_to_chunk(await self._agenerate(messages, stop=stop, **kwargs))

    @property
    def _llm_type(self) -> str:
        """A short name of the provider (``"openai-chat"``, ``"llamacpp"``...) for run records."""
        return type(self).__name__

    @property
    def _identifying_params(self) -> dict[str, Any]:
        """The parameters that identify this model (model name, temperature...).

        Default: every public, non-secret attribute holding plain data.
        """
        return {
            k: v
            for k, v in self._repr_params().items()
            if isinstance(v, (str, int, float, bool, list, tuple, dict))
            and not SECRET_NAME.search(k)
        }

    def _combine_llm_outputs(self, llm_outputs: list[dict[str, Any] | None]) -> dict[str, Any]:
        """Combine the ``llm_output`` of several calls: ``token_usage`` summed key by key
        (nested counts too), every other key from the first output that has it."""
        combined: dict[str, Any] = {}
        usage: dict[str, Any] | None = None
        for output in llm_outputs:
            if not output:
                continue
            for key, value in output.items():
                if key == "token_usage":
                    if isinstance(value, Mapping):
                        usage = sum_counts(usage or {}, value)
                elif key not in combined:
                    combined[key] = value
        if usage is not None:
            return {"token_usage": usage, **combined}
        return combined

    # ---- Runnable hooks ---------------------------------------------------------------
    def _call(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AIMessage:
        result = self._chat_result(convert_to_messages(input), stop, kwargs)
        return self._reply(result, config)

    async def _acall(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AIMessage:
        result = await self._achat_result(convert_to_messages(input), stop, kwargs)
        return self._reply(result, config)

    def _chat_result(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> ChatResult:
        """One full reply: from ``_generate``, or the aggregated stream if ``streaming``."""
        if self.streaming and self._native_stream:
            return generate_from_stream(self._stream(messages, stop=stop, **kwargs))
        return self._generate(messages, stop=stop, **kwargs)

    async def _achat_result(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> ChatResult:
        if self.streaming and (self._native_stream or self._native_astream):
            return await agenerate_from_stream(self._astream(messages, stop=stop, **kwargs))
        return await self._agenerate(messages, stop=stop, **kwargs)

    def _iter(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> Iterator[AIMessageChunk]:
        messages = convert_to_messages(input)
        if self.disable_streaming:
            reply = self._call(messages, config, stop=stop, **kwargs)
            yield message_to_chunk(reply)
            return
        tail = StreamTail(config)
        it = self._stream(messages, stop=stop, **kwargs)
        try:
            for chunk in it:
                yield tail.see(chunk)
        finally:
            # Closing early (the consumer stopped) must reach the provider's iterator at once.
            close = getattr(it, "close", None)
            if close is not None:
                close()
        if (last := tail.last_chunk()) is not None:
            yield last

    async def _aiter(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[AIMessageChunk]:
        messages = convert_to_messages(input)
        if self.disable_streaming:
            reply = await self._acall(messages, config, stop=stop, **kwargs)
            yield message_to_chunk(reply)
            return
        tail = StreamTail(config)
        it = self._astream(messages, stop=stop, **kwargs)
        try:
            async for chunk in it:
                yield tail.see(chunk)
        finally:
            aclose = getattr(it, "aclose", None)
            if aclose is not None:
                await aclose()
        if (last := tail.last_chunk()) is not None:
            yield last

    def _run_extra(self, kwargs: Mapping[str, Any]) -> dict[str, Any] | None:
        params = {**self._identifying_params, "_type": self._llm_type}
        # A per-call stop overrides the model's own; an absent one must not erase it.
        params.update({k: v for k, v in kwargs.items() if v is not None or k != "stop"})
        params.setdefault("stop", None)
        return {"invocation_params": params, "options": {"stop": params["stop"]}, "batch_size": 1}

    def _reply(self, result: ChatResult, config: RunnableConfig | None) -> AIMessage:
        if not result.generations:
            raise ValueError(
                f"{type(self).__name__} returned no generations; a chat model's _generate "
                f"must return a ChatResult with at least one ChatGeneration"
            )
        finish_result(result, run_id_of(config))
        return cast(AIMessage, result.generations[0].message)

    # ---- LangChain's batch-of-prompts API -----------------------------------------------
    def __call__(
        self,
        messages: LanguageModelInput,
        stop: list[str] | None = None,
        callbacks: Any = None,
        **kwargs: Any,
    ) -> BaseMessage:
        """Reply to ``messages``: ``chat([HumanMessage("hi")])`` is ``chat.invoke([...])``."""
        config: RunnableConfig | None = {"callbacks": callbacks} if callbacks else None
        return self.invoke(messages, config, stop=stop, **kwargs)

    def generate(
        self,
        messages: Sequence[LanguageModelInput],
        stop: list[str] | None = None,
        callbacks: Any = None,
        *,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        run_name: str | None = None,
        **kwargs: Any,
    ) -> LLMResult:
        """Reply to several prompts (each a list of message-likes), one after another.

        Returns:
            An `LLMResult` with one list of generations per prompt, the providers' outputs
            combined in ``llm_output`` (``token_usage`` summed) and one `RunInfo` per prompt.

        Example:
            >>> from chainkit.models import FakeListChatModel
            >>> chat = FakeListChatModel(responses=["a", "b"])
            >>> result = chat.generate([["hi"], ["hello"]])
            >>> [g[0].text for g in result.generations]
            ['a', 'b']
        """
        prompts = self._check_prompts(messages)
        config = _generate_config(callbacks, tags, metadata, run_name)
        parts = [self._generate_one(p, config, stop, kwargs) for p in prompts]
        return self._llm_result(parts)

    async def agenerate(
        self,
        messages: Sequence[LanguageModelInput],
        stop: list[str] | None = None,
        callbacks: Any = None,
        *,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        run_name: str | None = None,
        **kwargs: Any,
    ) -> LLMResult:
        """Async `generate`: the prompts run concurrently."""
        prompts = self._check_prompts(messages)
        config = _generate_config(callbacks, tags, metadata, run_name)
        coros = [self._agenerate_one(p, config, stop, kwargs) for p in prompts]
        return self._llm_result(await gather_limited(coros, None))

    def _generate_one(
        self,
        prompt: LanguageModelInput,
        config: RunnableConfig | None,
        stop: list[str] | None,
        kwargs: dict[str, Any],
    ) -> tuple[ChatResult, UUID]:
        run = self._start_prompt_run(prompt, config, stop, kwargs)
        try:
            result = self._chat_result(convert_to_messages(prompt), stop, kwargs)
        except BaseException as exc:
            if run is not None:
                _ctx.end_run(run, error=exc)
            raise
        return self._end_prompt_run(run, result)

    async def _agenerate_one(
        self,
        prompt: LanguageModelInput,
        config: RunnableConfig | None,
        stop: list[str] | None,
        kwargs: dict[str, Any],
    ) -> tuple[ChatResult, UUID]:
        run = self._start_prompt_run(prompt, config, stop, kwargs)
        try:
            result = await self._achat_result(convert_to_messages(prompt), stop, kwargs)
        except BaseException as exc:
            if run is not None:
                _ctx.end_run(run, error=exc)
            raise
        return self._end_prompt_run(run, result)

    def _start_prompt_run(
        self,
        prompt: Any,
        config: RunnableConfig | None,
        stop: list[str] | None,
        kwargs: dict[str, Any],
    ) -> _ctx.Run | None:
        if config is None and not _ctx.global_listeners:
            return None
        return _ctx.start_run(
            (config or {}).get("callbacks"),
            name=self.get_name(),
            run_type=self.run_type,
            inputs=prompt,
            config=cast("dict[str, Any] | None", config),
            extra=self._run_extra({"stop": stop, **kwargs}),
        )

    def _end_prompt_run(self, run: _ctx.Run | None, result: ChatResult) -> tuple[ChatResult, UUID]:
        run_id = run.id if run is not None else _ctx.uuid7()
        if not result.generations:
            error = ValueError(f"{type(self).__name__} returned no generations")
            if run is not None:
                _ctx.end_run(run, error=error)
            raise error
        finish_result(result, run_id)
        if run is not None:
            _ctx.end_run(run, result.generations[0].message)
        return result, run_id

    def _llm_result(self, parts: list[tuple[ChatResult, UUID]]) -> LLMResult:
        return LLMResult(
            generations=[list(result.generations) for result, _ in parts],
            llm_output=self._combine_llm_outputs([result.llm_output for result, _ in parts]),
            run=[RunInfo(run_id=run_id) for _, run_id in parts],
        )

    @staticmethod
    def _check_prompts(messages: Sequence[LanguageModelInput]) -> list[LanguageModelInput]:
        if isinstance(messages, (str, BaseMessage)) or not isinstance(messages, Sequence):
            raise TypeError(
                f"generate() takes a list of prompts (each a list of messages), got "
                f"{type(messages).__name__} {messages!r:.60}; for one prompt use "
                f"generate([messages]) or invoke(messages)"
            )
        return list(messages)

    # ---- tools and structured output ----------------------------------------------------
    def bind_tools(
        self, tools: Sequence[Any], **kwargs: Any
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Return this model with ``tools`` offered on every call (providers implement it).

        Raises:
            NotImplementedError: This model does not support tool calling.
        """
        raise NotImplementedError(
            f"{type(self).__name__} does not support tool calling (bind_tools); use a model "
            f"that does, such as ChatOpenAI, ChatAnthropic or ChatLlamaCpp"
        )

    def _structured_output_kwargs(
        self, json_schema: dict[str, Any], method: StructuredMethod, **kwargs: Any
    ) -> dict[str, Any]:
        """The call kwargs that make this provider answer with JSON matching ``json_schema``.

        Providers that support structured output implement this (e.g. OpenAI's
        ``response_format``); ``with_structured_output`` binds the kwargs and adds a parser.
        Extra keyword arguments of ``with_structured_output`` (e.g. ``strict=True``) arrive
        in ``kwargs``. Raise ``ValueError`` for a ``method`` the provider cannot do.

        Raises:
            NotImplementedError: This model does not support structured output.
        """
        raise NotImplementedError(
            f"{type(self).__name__} does not support structured output "
            f"(with_structured_output); use a model that does, such as ChatOpenAI or "
            f"ChatLlamaCpp"
        )

    def with_structured_output(
        self,
        schema: Any,
        *,
        method: StructuredMethod = "json_schema",
        include_raw: bool = False,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, Any]:
        """Return a runnable whose output is ``schema``-shaped data instead of a message.

        Args:
            schema: A pydantic model class (output: an instance), or a TypedDict class or JSON
                schema dict (output: a dict).
            method: How the provider is asked for JSON: ``"json_schema"`` (constrained
                decoding/response format), ``"function_calling"`` (a forced tool call) or
                ``"json_mode"``.
            include_raw: Output ``{"raw": AIMessage, "parsed": ..., "parsing_error": ...}``
                and never raise for unparsable output.

        Example:
            >>> from pydantic import BaseModel
            >>> class Joke(BaseModel):
            ...     setup: str
            ...     punchline: str
            >>> structured = chat.with_structured_output(Joke)  # doctest: +SKIP
            >>> structured.invoke("Tell me a joke about cats")  # doctest: +SKIP
            Joke(setup='...', punchline='...')
        """
        return build_structured_output(
            self, schema, method=method, include_raw=include_raw, **kwargs
        )

    # ---- identity -------------------------------------------------------------------
    @property
    def InputType(self) -> Any:  # LangChain's public name
        return _INPUT_SCHEMA_TYPE

    @property
    def OutputType(self) -> Any:  # LangChain's public name
        return AIMessage

    def _repr_params(self) -> dict[str, Any]:
        """Public instance attributes that differ from the class default (None omitted)."""
        cls = type(self)
        return {
            k: v
            for k, v in vars(self).items()
            if not k.startswith("_") and v is not None and getattr(cls, k, _MISSING) != v
        }

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={redacted(k, v)}" for k, v in self._repr_params().items())
        return f"{type(self).__name__}({args})"


_MISSING = object()


def _generate_config(
    callbacks: Any, tags: list[str] | None, metadata: dict[str, Any] | None, run_name: str | None
) -> RunnableConfig | None:
    if not callbacks and not _ctx.global_listeners:
        return None
    config: RunnableConfig = {}
    if callbacks:
        config["callbacks"] = callbacks
    if tags:
        config["tags"] = tags
    if metadata:
        config["metadata"] = metadata
    if run_name:
        config["run_name"] = run_name
    return config
