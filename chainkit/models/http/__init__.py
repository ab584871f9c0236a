"""The HTTP transport shared by every HTTP chat model provider.

- `HTTPTransport` (``transport``): one pooled client per model, total and read timeouts,
  retries, SSE streams decoded by a provider's push decoder.
- `RetryPolicy` (``retry``): when to retry, and the backoff (``Retry-After`` honoured).
- `SSEDecoder` / `SSEEvent` (``sse``): the server-sent events push decoder.
- Typed errors (``errors``), keyed by HTTP status, each with ``is_retryable``.

Example:
    >>> from chainkit.models.http import RateLimitError
    >>> try:
    ...     chat.invoke("hi")  # doctest: +SKIP
    ... except RateLimitError as exc:
    ...     print(exc.status_code, exc.request_id)
"""

from chainkit.models.http._stream import EventDecoder, ServerErrorEvent
from chainkit.models.http.errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ErrorResponse,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    StreamInterruptedError,
    UnprocessableEntityError,
)
from chainkit.models.http.retry import RetryPolicy, retry_after
from chainkit.models.http.sse import SSEDecoder, SSEEvent
from chainkit.models.http.transport import HTTPTransport

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
    "EventDecoder",
    "HTTPTransport",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RetryPolicy",
    "SSEDecoder",
    "SSEEvent",
    "ServerErrorEvent",
    "StreamInterruptedError",
    "UnprocessableEntityError",
    "retry_after",
]
