"""What every HTTP chat model shares: its transport's lifecycle, request plumbing and checks.

`HTTPChatModel` gives a provider ``close``/``aclose``, the ``with`` / ``async with`` forms,
and ``_generate``/``_stream`` (and async twins) that post the provider's request body and parse
its answer. A provider supplies only its wire format: ``_path``, ``_body(...)``,
``_parse(data, model_name)`` and a stream decoder, and builds its `HTTPTransport` once in
``__init__``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from types import TracebackType
from typing import Any, ClassVar

from pydantic import SecretStr
from typing_extensions import Self

from chainkit.messages import BaseMessage
from chainkit.models.base import BaseChatModel
from chainkit.models.http import APIResponseValidationError, HTTPTransport
from chainkit.models.http._describe import safe_url
from chainkit.models.outputs import ChatGenerationChunk, ChatResult

__all__ = ["HTTPChatModel", "check_number", "resolve_secret", "set_if"]


class HTTPChatModel(BaseChatModel):
    """A chat model that talks to an HTTP API through one pooled `HTTPTransport`.

    Example:
        >>> with ChatOpenAI(model="m", base_url="http://127.0.0.1:8080/v1") as chat:
        ...     chat.invoke("hi")  # doctest: +SKIP
    """

    _transport: HTTPTransport
    _path: ClassVar[str]
    """The endpoint, relative to the base URL (``/chat/completions``, ``/v1/messages``)."""
    _params: dict[str, Any]
    """Request parameters set on the model (None-valued ones left out)."""
    _new_decoder: Callable[[], Any]
    """Makes the stream decoder for one response."""
    model_name: str
    stop: list[str] | None

    # ---- what a provider supplies ------------------------------------------------------
    def _body(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any],
        stream: bool,
    ) -> dict[str, Any]:
        raise NotImplementedError

    @staticmethod
    def _parse(data: Any, default_model: str) -> ChatResult:
        raise NotImplementedError

    @property
    def _custom_base_url(self) -> str | None:
        """The base URL the user configured, if any (shown in invocation params)."""
        return None

    # ---- shared -------------------------------------------------------------------------
    def _set_params(self, params: dict[str, Any], model_kwargs: dict[str, Any] | None) -> None:
        self._params = {k: v for k, v in params.items() if v is not None}
        self._params.update(model_kwargs or {})

    @property
    def model(self) -> str:
        """The model name (LangChain's ``model`` alias of ``model_name``)."""
        return self.model_name

    @property
    def base_url(self) -> str:
        """The API root requests go to."""
        return self._transport.base_url

    @property
    def _identifying_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"model_name": self.model_name, **self._params}
        if self.stop:
            params["stop"] = self.stop
        if self._custom_base_url:
            params["base_url"] = safe_url(self._custom_base_url)
        return params

    def _result(self, data: Any) -> ChatResult:
        try:
            return self._parse(data, self.model_name)
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            raise self._transport.error(
                APIResponseValidationError, safe_url(self._transport.base_url + self._path),
                f"returned an unexpected answer ({exc})",
            ) from None

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> ChatResult:
        body = self._body(messages, stop, kwargs, stream=False)
        return self._result(self._transport.post(self._path, body))

    async def _agenerate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> ChatResult:
        body = self._body(messages, stop, kwargs, stream=False)
        return self._result(await self._transport.apost(self._path, body))

    # Both hand back the transport's own generator instead of re-yielding from it: one
    # generator frame less for every chunk. The caller (``_iter``/``_aiter``) closes it.
    def _stream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> Iterator[ChatGenerationChunk]:
        body = self._body(messages, stop, kwargs, stream=True)
        return self._transport.stream(self._path, body, self._new_decoder)

    def _astream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AsyncIterator[ChatGenerationChunk]:
        body = self._body(messages, stop, kwargs, stream=True)
        return self._transport.astream(self._path, body, self._new_decoder)

    # ---- lifecycle ----------------------------------------------------------------------
    def close(self) -> None:
        """Close the pooled HTTP connections (a later call opens new ones)."""
        self._transport.close()

    async def aclose(self) -> None:
        """Async `close`."""
        await self._transport.aclose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def resolve_secret(value: str | SecretStr | None, env_var: str) -> SecretStr | None:
    """``value``, else the environment variable ``env_var``, as a `SecretStr` (or None)."""
    if value is None:
        value = os.environ.get(env_var) or None
    if value is None or isinstance(value, SecretStr):
        return value
    if not isinstance(value, str):
        raise TypeError(f"api_key must be a str or SecretStr, got {type(value).__name__}")
    return SecretStr(value)


def check_number(name: str, value: float | None, low: float, high: float | None) -> None:
    """Raise ``ValueError`` unless ``value`` is None or a number in ``[low, high]``."""
    if value is None:
        return
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and low <= value
    if ok and high is not None:
        ok = value <= high
    if not ok:
        bound = f"from {low:g} to {high:g}" if high is not None else f">= {low:g}"
        raise ValueError(f"{name} must be a number {bound} or None, got {value!r}")


def set_if(obj: object, **values: Any) -> None:
    """Set the values that are not None. Only non-default settings become instance
    attributes, so a model's repr lists just those."""
    for key, value in values.items():
        if value is not None:
            setattr(obj, key, value)
