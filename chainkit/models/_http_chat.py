"""What every HTTP chat model shares: its transport's lifecycle and settings checks.

`HTTPChatModel` gives a provider ``close``/``aclose`` and the ``with`` / ``async with``
forms; the provider builds its `HTTPTransport` once in ``__init__``.
"""

from __future__ import annotations

import os
from types import TracebackType
from typing import Any

from pydantic import SecretStr
from typing_extensions import Self

from chainkit.models.base import BaseChatModel
from chainkit.models.http import HTTPTransport

__all__ = ["HTTPChatModel", "check_number", "resolve_secret", "set_if"]


class HTTPChatModel(BaseChatModel):
    """A chat model that talks to an HTTP API through one pooled `HTTPTransport`.

    Example:
        >>> with ChatOpenAI(model="m", base_url="http://127.0.0.1:8080/v1") as chat:
        ...     chat.invoke("hi")  # doctest: +SKIP
    """

    _transport: HTTPTransport

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
