"""Typed errors for HTTP model providers, keyed by HTTP status, each saying whether a retry helps.

The tree::

    APIError                          provider, method, url; is_retryable
    ├── APIStatusError                the server answered with an error status
    │   │                             (status_code, response, body, request_id)
    │   ├── BadRequestError           400
    │   ├── AuthenticationError       401
    │   ├── PermissionDeniedError     403
    │   ├── NotFoundError             404
    │   ├── ConflictError             409   retryable
    │   ├── UnprocessableEntityError  422
    │   ├── RateLimitError            429   retryable
    │   └── InternalServerError       >=500 retryable (also Anthropic's 529 "overloaded")
    ├── APIConnectionError            no (complete) answer: refused, reset, closed   retryable
    │   ├── APITimeoutError           the total or the read timeout ran out           retryable
    │   └── StreamInterruptedError    a stream failed after it delivered content
    │                                 (partial_text); never retried by the transport
    └── APIResponseValidationError    a 2xx answer that is not the JSON/SSE expected

Other statuses (408, 413, 418, ...) raise a plain `APIStatusError`; 408 is retryable.

Messages name the provider, the method and URL (scheme, host and path only: a query string
or user info may hold secrets), the status and the server's own message. The API key is never
part of an error: the transport scrubs every secret it knows from the server's text before it
builds the error (a misbehaving server might echo the key back), and errors keep a small
`ErrorResponse` rather than the HTTP library's response, whose request still holds the
authorization header.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

RETRYABLE_STATUS = frozenset({408, 409, 429})


class ErrorResponse:
    """The parts of an error response worth keeping: status, headers, body text.

    Example:
        >>> ErrorResponse(429, {"retry-after": "1"}, '{"error": {"message": "slow down"}}').json()
        {'error': {'message': 'slow down'}}
    """

    __slots__ = ("headers", "status_code", "text")

    def __init__(self, status_code: int, headers: Mapping[str, str], text: str) -> None:
        self.status_code = status_code
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.text = text

    def json(self) -> Any:
        """The body parsed as JSON (raises `json.JSONDecodeError` if it is not JSON)."""
        return json.loads(self.text)

    def __repr__(self) -> str:
        return f"<ErrorResponse [{self.status_code}]>"


class APIError(Exception):
    """Base class of every error a provider's HTTP API call raises.

    Example:
        >>> try:
        ...     model.invoke("hi")  # doctest: +SKIP
        ... except APIError as exc:
        ...     if not exc.is_retryable:
        ...         raise
    """

    #: Whether the same request may succeed if sent again.
    is_retryable: bool = False

    def __init__(
        self, message: str, *, provider: str = "", method: str = "", url: str = ""
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.method = method
        self.url = url

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class APIStatusError(APIError):
    """The server answered with an error status (4xx/5xx, or an error event inside a stream).

    Example:
        >>> try:
        ...     model.invoke("hi")  # doctest: +SKIP
        ... except APIStatusError as exc:
        ...     print(exc.status_code, exc.request_id, exc.body)
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        response: ErrorResponse | None = None,
        body: Any = None,
        request_id: str | None = None,
        provider: str = "",
        method: str = "",
        url: str = "",
    ) -> None:
        super().__init__(message, provider=provider, method=method, url=url)
        self.status_code = status_code
        self.response = response
        #: The error body: parsed JSON when the server sent JSON, else its text.
        self.body = body
        self.request_id = request_id
        self.is_retryable = status_code in RETRYABLE_STATUS or status_code >= 500


class BadRequestError(APIStatusError):
    """400: the request is malformed or names an unsupported option."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing, wrong or revoked."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not use this model or endpoint."""


class NotFoundError(APIStatusError):
    """404: unknown model or URL (check ``model`` and ``base_url``)."""


class ConflictError(APIStatusError):
    """409: the server hit a conflicting concurrent change; retrying helps."""


class UnprocessableEntityError(APIStatusError):
    """422: the request is well-formed but its values are rejected."""


class RateLimitError(APIStatusError):
    """429: too many requests or tokens; retried after ``Retry-After``."""


class InternalServerError(APIStatusError):
    """5xx (and Anthropic's 529 "overloaded"): the server failed; retrying helps."""


class APIConnectionError(APIError):
    """No complete answer arrived: connection refused, reset or closed early."""

    is_retryable = True


class APITimeoutError(APIConnectionError):
    """The total timeout or the read timeout (between streamed bytes) ran out."""


class StreamInterruptedError(APIConnectionError):
    """A streamed answer failed after it had delivered content.

    The chunks already yielded stay valid; ``partial_text`` holds their text. The cause
    (``__cause__``) says why: a dropped connection, a missing end-of-stream marker, or an
    error event sent by the server. The transport never retries such a stream, since a retry
    would repeat content the caller has already seen.

    Example:
        >>> try:
        ...     for chunk in model.stream("Tell me a story"):  # doctest: +SKIP
        ...         print(chunk.content, end="")
        ... except StreamInterruptedError as exc:
        ...     save_draft(exc.partial_text)
    """

    is_retryable = False

    def __init__(
        self, message: str, *, partial_text: str = "", provider: str = "", method: str = "",
        url: str = "",
    ) -> None:
        super().__init__(message, provider=provider, method=method, url=url)
        self.partial_text = partial_text


class APIResponseValidationError(APIError):
    """A successful status whose body is not what the API documents (bad JSON, no choices)."""


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status_code: int) -> type[APIStatusError]:
    """The error class for an HTTP status: a named subclass, or `APIStatusError` itself."""
    if status_code >= 500:
        return InternalServerError
    return _STATUS_CLASSES.get(status_code, APIStatusError)


__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "ErrorResponse",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "StreamInterruptedError",
    "UnprocessableEntityError",
    "status_error_class",
]
