"""`ChatOpenAI`: OpenAI's chat completions API, and every server that speaks it.

The wire format lives in ``_openai_convert``; HTTP (pooling, timeouts, retries, SSE, typed
errors) in ``chainkit.models.http``. This module holds the settings and wires the two.

Structured output against OpenAI-compatible servers:
    The default method, ``"json_schema"``, sends OpenAI's
    ``response_format={"type": "json_schema", "json_schema": {...}}``. Some compatible servers
    reject it — llama-cpp-python's server answers 500 "Input should be 'text' or
    'json_object'" — but accept ``{"type": "json_object", "schema": {...}}`` and constrain
    the output to the schema with a grammar. So the first json_schema request of a model is
    sent without retrying errors that mention ``response_format``; if the server rejects it
    that way (400, 422 or 5xx), the request is sent once more as ``json_object`` + ``schema``
    and the model remembers to do so for all later calls. A server that accepts json_schema
    is remembered too, and never probed again.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import aclosing
from functools import partial
from typing import Any

from pydantic import SecretStr

from chainkit.messages import BaseMessage
from chainkit.models._http_chat import HTTPChatModel, check_number, resolve_secret, set_if
from chainkit.models._openai_convert import (
    OpenAIStreamDecoder,
    messages_to_openai,
    parse_completion,
    tool_choice_param,
)
from chainkit.models._tool_convert import convert_to_openai_tool, tool_names
from chainkit.models.base import LanguageModelInput
from chainkit.models.http import (
    APIError,
    APIStatusError,
    HTTPTransport,
    RetryPolicy,
)
from chainkit.models.outputs import ChatGenerationChunk, ChatResult
from chainkit.models.structured import StructuredMethod
from chainkit.runnables.base import Runnable

__all__ = ["DEFAULT_BASE_URL", "ChatOpenAI"]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
_PATH = "/chat/completions"
_SCHEMA_NAME = re.compile(r"[^a-zA-Z0-9_-]")


class _SchemaProbeRetry(RetryPolicy):
    """The transport's policy, except that a rejected ``response_format`` is not retried."""

    __slots__ = ()

    def delay(self, attempt: int, error: APIError) -> float | None:
        if _rejects_response_format(error):
            return None
        return super().delay(attempt, error)


def _rejects_response_format(error: BaseException) -> bool:
    if not isinstance(error, APIStatusError):
        return False
    if error.status_code not in (400, 422) and error.status_code < 500:
        return False
    text = str(error)
    return "response_format" in text or "json_schema" in text


class ChatOpenAI(HTTPChatModel):
    """Chat with OpenAI, or with any OpenAI-compatible server (llama.cpp, vLLM, Ollama...).

    Args:
        model: Model name (``model_name=`` is accepted too, as in LangChain).
        api_key: API key; default ``$OPENAI_API_KEY``. Required for api.openai.com, optional
            for other servers. Kept as a `SecretStr`: never in reprs, run records or errors.
        base_url: API root; default ``$OPENAI_BASE_URL``, else ``https://api.openai.com/v1``.
        temperature, max_tokens, top_p, stop, seed: Sampling settings, sent when not None.
        timeout: Total seconds for one attempt, streaming included (``None``: no limit).
        read_timeout: Seconds to wait for the next bytes of an answer (default: ``timeout``).
        max_retries: Retries after connection errors, timeouts, 408, 409, 429 and 5xx.
        backoff_base, backoff_max: Exponential backoff between retries, in seconds.
        max_retry_after: The longest ``Retry-After`` honoured; a longer one fails at once.
        default_headers: Extra headers for every request.
        model_kwargs: Extra body parameters for every request (``{"logprobs": True}``).
        streaming: Let ``invoke`` stream internally and aggregate.
        stream_usage: Ask for usage in streams (``stream_options.include_usage``).
        http_client, http_async_client: ``httpx``/``httpx2`` clients to use instead of the
            model's own pooled ones (the caller closes them).

    Example:
        >>> from chainkit.models import ChatOpenAI
        >>> local = ChatOpenAI(model="smollm2", base_url="http://127.0.0.1:8080/v1")
        >>> with ChatOpenAI(model="gpt-4o-mini", temperature=0) as chat:  # doctest: +SKIP
        ...     chat.invoke("Translate to French: I love programming.")
        AIMessage(content="J'adore la programmation.", ...)
    """

    model_name: str = "gpt-4o-mini"
    openai_api_key: SecretStr | None = None
    openai_api_base: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    top_p: float | None = None
    stop: list[str] | None = None
    seed: int | None = None
    timeout: float | None = 60.0
    read_timeout: float | None = None
    max_retries: int = 2
    default_headers: dict[str, str] | None = None
    model_kwargs: dict[str, Any] | None = None
    stream_usage: bool = True

    def __init__(
        self,
        model: str | None = None,
        api_key: str | SecretStr | None = None,
        base_url: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        top_p: float | None = None,
        stop: str | Sequence[str] | None = None,
        seed: int | None = None,
        timeout: float | None = 60.0,
        max_retries: int = 2,
        default_headers: Mapping[str, str] | None = None,
        model_kwargs: Mapping[str, Any] | None = None,
        *,
        model_name: str | None = None,
        read_timeout: float | None = None,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
        max_retry_after: float = 60.0,
        streaming: bool = False,
        stream_usage: bool = True,
        http_client: Any = None,
        http_async_client: Any = None,
        name: str | None = None,
        disable_streaming: bool = False,
    ) -> None:
        super().__init__(name=name, disable_streaming=disable_streaming)
        if model is not None and model_name is not None and model != model_name:
            raise ValueError(f"pass model= or model_name=, not both ({model!r}, {model_name!r})")
        resolved = model or model_name or type(self).model_name
        if not isinstance(resolved, str) or not resolved.strip():
            raise ValueError(f"model must be a non-empty model name, got {resolved!r}")
        check_number("temperature", temperature, 0.0, 2.0)
        check_number("top_p", top_p, 0.0, 1.0)
        if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
            raise ValueError(f"max_tokens must be a positive int or None, got {max_tokens!r}")
        self.model_name = resolved
        set_if(self, openai_api_key=resolve_secret(api_key, "OPENAI_API_KEY"))
        url = base_url or os.environ.get("OPENAI_BASE_URL") or os.environ.get("OPENAI_API_BASE")
        if url:
            self.openai_api_base = url
        set_if(self, temperature=temperature, max_tokens=max_tokens, top_p=top_p, seed=seed)
        if stop is not None:
            self.stop = [stop] if isinstance(stop, str) else list(stop)
        if timeout != type(self).timeout:
            self.timeout = timeout
        set_if(self, read_timeout=read_timeout)
        if max_retries != type(self).max_retries:
            self.max_retries = max_retries
        if default_headers:
            self.default_headers = dict(default_headers)
        if model_kwargs:
            self.model_kwargs = dict(model_kwargs)
        if streaming:
            self.streaming = True
        if not stream_usage:
            self.stream_usage = False
        self._setup(backoff_base, backoff_max, max_retry_after, http_client, http_async_client)

    def _setup(
        self, backoff_base: float, backoff_max: float, max_retry_after: float,
        http_client: Any, http_async_client: Any,
    ) -> None:
        """Everything a call needs that can be computed once."""
        secret = self.openai_api_key.get_secret_value() if self.openai_api_key else ""
        base = (self.openai_api_base or DEFAULT_BASE_URL).rstrip("/")
        self._missing_key = not secret and base == DEFAULT_BASE_URL
        headers = dict(self.default_headers or {})
        if secret:
            headers["authorization"] = f"Bearer {secret}"
        retry = {"backoff_base": backoff_base, "backoff_max": backoff_max,
                 "max_retry_after": max_retry_after}
        self._transport = HTTPTransport(
            "OpenAI", base, headers=headers, secrets=[secret] if secret else [],
            timeout=self.timeout, read_timeout=self.read_timeout,
            retry=RetryPolicy(self.max_retries, **retry),
            http_client=http_client, http_async_client=http_async_client,
        )
        self._probe_retry = _SchemaProbeRetry(self.max_retries, **retry)
        # None: unknown yet; True: the server takes json_schema; False: use json_object.
        self._json_schema_ok: bool | None = None
        params = {
            "temperature": self.temperature, "max_tokens": self.max_tokens,
            "top_p": self.top_p, "seed": self.seed,
        }
        self._set_params(params, self.model_kwargs)
        self._new_decoder = partial(OpenAIStreamDecoder, self.model_name)

    # ---- identity ---------------------------------------------------------------------
    @property
    def _llm_type(self) -> str:
        return "openai-chat"

    @property
    def _custom_base_url(self) -> str | None:
        return self.openai_api_base

    _path = _PATH
    _parse = staticmethod(parse_completion)

    # ---- requests ---------------------------------------------------------------------
    def _body(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any],
        stream: bool,
    ) -> dict[str, Any]:
        if self._missing_key:
            raise ValueError(
                "OpenAI API key missing: pass api_key=... or set the OPENAI_API_KEY environment "
                f"variable (needed for {DEFAULT_BASE_URL}; a local server given with base_url= "
                "needs none)"
            )
        body: dict[str, Any] = {"model": self.model_name, "messages": messages_to_openai(messages)}
        body.update(self._params)
        stop = stop if stop is not None else self.stop
        if stop:
            body["stop"] = stop
        if kwargs:
            body.update(kwargs)
        if stream:
            body["stream"] = True
            if self.stream_usage:
                body["stream_options"] = {"include_usage": True}
        if self._json_schema_ok is False:
            body = _as_json_object(body)
        return body

    def _probing(self, body: Mapping[str, Any]) -> bool:
        fmt = body.get("response_format")
        return (
            self._json_schema_ok is None
            and isinstance(fmt, Mapping)
            and fmt.get("type") == "json_schema"
        )

    def _fallback(self, body: dict[str, Any], error: APIStatusError) -> dict[str, Any]:
        """After the server rejected json_schema: remember it, and the body to send instead."""
        if not _rejects_response_format(error):
            raise error
        self._json_schema_ok = False
        return _as_json_object(body)

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> ChatResult:
        body = self._body(messages, stop, kwargs, stream=False)
        if self._probing(body):
            try:
                data = self._transport.post(_PATH, body, retry=self._probe_retry)
                self._json_schema_ok = True
            except APIStatusError as error:
                data = self._transport.post(_PATH, self._fallback(body, error))
        else:
            data = self._transport.post(_PATH, body)
        return self._result(data)

    async def _agenerate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> ChatResult:
        body = self._body(messages, stop, kwargs, stream=False)
        if self._probing(body):
            try:
                data = await self._transport.apost(_PATH, body, retry=self._probe_retry)
                self._json_schema_ok = True
            except APIStatusError as error:
                data = await self._transport.apost(_PATH, self._fallback(body, error))
        else:
            data = await self._transport.apost(_PATH, body)
        return self._result(data)

    # Without a probe both hand back the transport's own generator instead of re-yielding
    # from it (one generator frame less per chunk); the caller (``_iter``/``_aiter``)
    # closes it.
    def _stream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> Iterator[ChatGenerationChunk]:
        body = self._body(messages, stop, kwargs, stream=True)
        if self._probing(body):
            return self._probe_stream(body)
        return self._transport.stream(_PATH, body, self._new_decoder)

    def _probe_stream(self, body: dict[str, Any]) -> Iterator[ChatGenerationChunk]:
        # A rejected response_format fails before the first chunk, so nothing repeats.
        try:
            yield from self._transport.stream(
                _PATH, body, self._new_decoder, retry=self._probe_retry
            )
            self._json_schema_ok = True
            return
        except APIStatusError as error:
            body = self._fallback(body, error)
        yield from self._transport.stream(_PATH, body, self._new_decoder)

    def _astream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AsyncIterator[ChatGenerationChunk]:
        body = self._body(messages, stop, kwargs, stream=True)
        if self._probing(body):
            return self._aprobe_stream(body)
        return self._transport.astream(_PATH, body, self._new_decoder)

    async def _aprobe_stream(self, body: dict[str, Any]) -> AsyncIterator[ChatGenerationChunk]:
        # Each stream is closed with aclosing: a consumer that stops early must not leave
        # the HTTP response to the loop's generator finalizer.
        try:
            async with aclosing(self._transport.astream(
                _PATH, body, self._new_decoder, retry=self._probe_retry
            )) as probe:
                async for chunk in probe:
                    yield chunk
            self._json_schema_ok = True
            return
        except APIStatusError as error:
            body = self._fallback(body, error)
        async with aclosing(self._transport.astream(_PATH, body, self._new_decoder)) as it:
            async for chunk in it:
                yield chunk

    # ---- tools and structured output ------------------------------------------------------
    def bind_tools(
        self,
        tools: Sequence[Any],
        *,
        tool_choice: str | bool | dict[str, Any] | None = None,
        strict: bool | None = None,
        parallel_tool_calls: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, Any]:
        """Offer ``tools`` (pydantic models, typed functions, JSON schemas, tool objects).

        Args:
            tool_choice: ``"auto"``, ``"none"``, ``"required"``/``"any"``, a tool name,
                ``True`` (the only tool), or an OpenAI ``tool_choice`` dict.
            strict: Ask OpenAI to enforce each tool's schema exactly.
            parallel_tool_calls: Allow several calls in one reply (OpenAI's default: yes).

        Example:
            >>> def get_weather(city: str) -> str:
            ...     '''Current weather in a city.'''
            >>> chat.bind_tools([get_weather]).invoke("Weather in Paris?").tool_calls
            ...  # doctest: +SKIP
            [{'name': 'get_weather', 'args': {'city': 'Paris'}, 'id': 'call_1', ...}]
        """
        specs = [convert_to_openai_tool(tool) for tool in tools]
        if strict is not None:
            for spec in specs:
                spec["function"]["strict"] = strict
        extra: dict[str, Any] = {"tools": specs}
        if tool_choice is not None and tool_choice is not False:
            extra["tool_choice"] = tool_choice_param(tool_choice, tool_names(specs))
        if parallel_tool_calls is not None:
            extra["parallel_tool_calls"] = parallel_tool_calls
        return self.bind(**extra, **kwargs)

    def _structured_output_kwargs(
        self, json_schema: dict[str, Any], method: StructuredMethod, **kwargs: Any
    ) -> dict[str, Any]:
        strict = kwargs.pop("strict", None)
        if kwargs:
            raise TypeError(
                f"with_structured_output() got unexpected keyword argument(s) {sorted(kwargs)} "
                f"for ChatOpenAI; valid: strict"
            )
        name = _SCHEMA_NAME.sub("_", str(json_schema.get("title") or "output"))[:64]
        if method == "json_mode":
            return {"response_format": {"type": "json_object"}}
        if method == "function_calling":
            spec = convert_to_openai_tool(json_schema)
            if strict is not None:
                spec["function"]["strict"] = strict
            spec["function"]["name"] = name
            return {
                "tools": [spec],
                "tool_choice": {"type": "function", "function": {"name": name}},
            }
        schema_spec: dict[str, Any] = {"name": name, "schema": json_schema}
        if json_schema.get("description"):
            schema_spec["description"] = json_schema["description"]
        if strict is not None:
            schema_spec["strict"] = strict
        return {"response_format": {"type": "json_schema", "json_schema": schema_spec}}


def _as_json_object(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with OpenAI's json_schema response format rewritten as ``json_object`` plus
    ``schema`` (llama.cpp's form)."""
    fmt = body.get("response_format")
    if not isinstance(fmt, Mapping) or fmt.get("type") != "json_schema":
        return body
    schema = (fmt.get("json_schema") or {}).get("schema") or {}
    return {**body, "response_format": {"type": "json_object", "schema": schema}}

