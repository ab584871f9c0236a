"""`ChatAnthropic`: Anthropic's Messages API (``POST /v1/messages``).

The wire format lives in ``_anthropic_convert``; HTTP (pooling, timeouts, retries, SSE,
typed errors, Anthropic's ``overloaded_error`` included) in ``chainkit.models.http``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from pydantic import SecretStr

from chainkit.messages import BaseMessage
from chainkit.models._anthropic_convert import (
    AnthropicStreamDecoder,
    convert_to_anthropic_tool,
    messages_to_anthropic,
    parse_message,
    tool_choice_param,
)
from chainkit.models._http_chat import HTTPChatModel, check_number, resolve_secret, set_if
from chainkit.models.base import LanguageModelInput
from chainkit.models.http import HTTPTransport, RetryPolicy
from chainkit.models.structured import StructuredMethod, build_structured_output
from chainkit.runnables.base import Runnable

__all__ = ["ANTHROPIC_VERSION", "DEFAULT_BASE_URL", "ChatAnthropic"]

DEFAULT_BASE_URL = "https://api.anthropic.com"
ANTHROPIC_VERSION = "2023-06-01"
_PATH = "/v1/messages"


class ChatAnthropic(HTTPChatModel):
    """Chat with Anthropic's Claude models.

    Args:
        model: Model name, e.g. ``"claude-3-5-haiku-latest"`` (``model_name=`` works too).
        api_key: API key; default ``$ANTHROPIC_API_KEY``. Required for api.anthropic.com.
            Kept as a `SecretStr`: never in reprs, run records or errors.
        base_url: API root; default ``$ANTHROPIC_BASE_URL``, else ``https://api.anthropic.com``.
        max_tokens: The reply's length limit (the API requires one; default 1024).
        temperature, top_p, top_k, stop: Sampling settings, sent when not None.
        timeout: Total seconds for one attempt, streaming included (``None``: no limit).
        read_timeout: Seconds to wait for the next bytes of an answer (default: ``timeout``).
        max_retries: Retries after connection errors, timeouts, 408, 409, 429, 5xx and 529
            ("overloaded").
        backoff_base, backoff_max: Exponential backoff between retries, in seconds.
        max_retry_after: The longest ``Retry-After`` honoured; a longer one fails at once.
        default_headers: Extra headers for every request (e.g. ``anthropic-beta``).
        model_kwargs: Extra body parameters for every request (``{"metadata": {...}}``).
        streaming: Let ``invoke`` stream internally and aggregate.
        http_client, http_async_client: ``httpx``/``httpx2`` clients to use instead of the
            model's own pooled ones (the caller closes them).

    Example:
        >>> from chainkit.models import ChatAnthropic
        >>> chat = ChatAnthropic(model="claude-3-5-haiku-latest", max_tokens=256)
        >>> chat.invoke([("system", "Be brief."), ("human", "Hi!")])  # doctest: +SKIP
        AIMessage(content='Hello!', ...)
    """

    model_name: str = "claude-3-5-haiku-latest"
    anthropic_api_key: SecretStr | None = None
    anthropic_api_url: str | None = None
    max_tokens: int = 1024
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    stop: list[str] | None = None
    timeout: float | None = 60.0
    read_timeout: float | None = None
    max_retries: int = 2
    default_headers: dict[str, str] | None = None
    model_kwargs: dict[str, Any] | None = None

    def __init__(
        self,
        model: str | None = None,
        api_key: str | SecretStr | None = None,
        base_url: str | None = None,
        max_tokens: int = 1024,
        temperature: float | None = None,
        top_p: float | None = None,
        top_k: int | None = None,
        stop: str | Sequence[str] | None = None,
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
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
            raise ValueError(f"max_tokens must be a positive int, got {max_tokens!r}")
        check_number("temperature", temperature, 0.0, 1.0)
        check_number("top_p", top_p, 0.0, 1.0)
        check_number("top_k", top_k, 1, None)
        self.model_name = resolved
        set_if(self, anthropic_api_key=resolve_secret(api_key, "ANTHROPIC_API_KEY"))
        set_if(self, anthropic_api_url=base_url or os.environ.get("ANTHROPIC_BASE_URL") or None)
        if max_tokens != type(self).max_tokens:
            self.max_tokens = max_tokens
        set_if(self, temperature=temperature, top_p=top_p, top_k=top_k, read_timeout=read_timeout)
        if stop is not None:
            self.stop = [stop] if isinstance(stop, str) else list(stop)
        if timeout != type(self).timeout:
            self.timeout = timeout
        if max_retries != type(self).max_retries:
            self.max_retries = max_retries
        if default_headers:
            self.default_headers = dict(default_headers)
        if model_kwargs:
            self.model_kwargs = dict(model_kwargs)
        if streaming:
            self.streaming = True
        secret = self.anthropic_api_key.get_secret_value() if self.anthropic_api_key else ""
        base = (self.anthropic_api_url or DEFAULT_BASE_URL).rstrip("/")
        self._missing_key = not secret and base == DEFAULT_BASE_URL
        headers = {"anthropic-version": ANTHROPIC_VERSION, **(self.default_headers or {})}
        if secret:
            headers["x-api-key"] = secret
        self._transport = HTTPTransport(
            "Anthropic", base, headers=headers, secrets=[secret] if secret else [],
            timeout=self.timeout, read_timeout=self.read_timeout,
            retry=RetryPolicy(self.max_retries, backoff_base=backoff_base,
                              backoff_max=backoff_max, max_retry_after=max_retry_after),
            http_client=http_client, http_async_client=http_async_client,
        )
        params = {"max_tokens": self.max_tokens, "temperature": self.temperature,
                  "top_p": self.top_p, "top_k": self.top_k}
        self._set_params(params, self.model_kwargs)
        self._new_decoder = partial(AnthropicStreamDecoder, self.model_name)

    @property
    def _llm_type(self) -> str:
        return "anthropic-chat"

    @property
    def _custom_base_url(self) -> str | None:
        return self.anthropic_api_url

    _path = _PATH
    _parse = staticmethod(parse_message)

    # ---- requests ---------------------------------------------------------------------
    def _body(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any],
        stream: bool,
    ) -> dict[str, Any]:
        if self._missing_key:
            raise ValueError(
                "Anthropic API key missing: pass api_key=... or set the ANTHROPIC_API_KEY "
                f"environment variable (needed for {DEFAULT_BASE_URL})"
            )
        system, turns = messages_to_anthropic(messages)
        body: dict[str, Any] = {"model": self.model_name, "messages": turns, **self._params}
        if system is not None:
            body["system"] = system
        stop = stop if stop is not None else self.stop
        if stop:
            body["stop_sequences"] = stop
        if kwargs:
            body.update(kwargs)
        if stream:
            body["stream"] = True
        return body

    # ---- tools and structured output ------------------------------------------------------
    def bind_tools(
        self,
        tools: Sequence[Any],
        *,
        tool_choice: str | bool | dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, Any]:
        """Offer ``tools`` (pydantic models, typed functions, JSON schemas, tool objects).

        Args:
            tool_choice: ``"auto"``, ``"any"``/``"required"``, ``"none"``, a tool name,
                ``True`` (the only tool), or an Anthropic ``tool_choice`` dict.

        Example:
            >>> def get_weather(city: str) -> str:
            ...     '''Current weather in a city.'''
            >>> chat.bind_tools([get_weather]).invoke("Weather in Paris?").tool_calls
            ...  # doctest: +SKIP
            [{'name': 'get_weather', 'args': {'city': 'Paris'}, 'id': 'toolu_01', ...}]
        """
        specs = [convert_to_anthropic_tool(tool) for tool in tools]
        extra: dict[str, Any] = {"tools": specs}
        if tool_choice is not None and tool_choice is not False:
            extra["tool_choice"] = tool_choice_param(tool_choice, [s["name"] for s in specs])
        return self.bind(**extra, **kwargs)

    def with_structured_output(
        self,
        schema: Any,
        *,
        method: StructuredMethod = "function_calling",
        include_raw: bool = False,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, Any]:
        """Structured output through a forced tool call (Anthropic has no JSON mode).

        ``method="json_schema"`` is accepted and done the same way, so code written for
        other providers' default runs unchanged.

        Raises:
            ValueError: ``method="json_mode"``.
        """
        if method == "json_mode":
            raise ValueError(
                "ChatAnthropic has no JSON mode; use method='function_calling' (the default) "
                "or 'json_schema' (done as a forced tool call too)"
            )
        if method == "json_schema":
            method = "function_calling"
        return build_structured_output(
            self, schema, method=method, include_raw=include_raw, **kwargs
        )

    def _structured_output_kwargs(
        self, json_schema: dict[str, Any], method: StructuredMethod, **kwargs: Any
    ) -> dict[str, Any]:
        if kwargs:
            raise TypeError(
                f"with_structured_output() got unexpected keyword argument(s) {sorted(kwargs)} "
                f"for ChatAnthropic; valid: none"
            )
        tool = convert_to_anthropic_tool(json_schema)
        return {"tools": [tool], "tool_choice": {"type": "tool", "name": tool["name"]}}
