"""One attempt at an SSE stream: bytes -> `SSEDecoder` -> the provider's push decoder -> items.

`StreamAttempt` holds the verdicts the transport's sync and async loops share: has content
been delivered (then a failure is a `StreamInterruptedError`, never retried), did the stream
reach its end marker (if not, it is not an answer), is an event an error (typed by status).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from chainkit.models.http.errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    StreamInterruptedError,
)
from chainkit.models.http.sse import SSEDecoder, SSEEvent

if TYPE_CHECKING:
    from chainkit.models.http.transport import HTTPTransport

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class ServerErrorEvent(Exception):
    """Raised by a provider's event decoder for an error event inside a 200 stream; the
    transport turns it into the typed error for ``status_code``.

    Example:
        >>> ServerErrorEvent(529, {"error": {"type": "overloaded_error"}}).status_code
        529
    """

    def __init__(self, status_code: int, body: Any) -> None:
        super().__init__(status_code)
        self.status_code = status_code
        self.body = body


class EventDecoder(Protocol[T_co]):
    """A provider's push decoder from SSE events to output items (e.g. message chunks).

    ``feed`` may raise `ServerErrorEvent`; invalid JSON (``json.JSONDecodeError``) becomes
    `APIResponseValidationError`. ``done`` turns True at the provider's end-of-stream event
    (``terminator`` names it for error messages); ``text`` is the text delivered so far.
    """

    done: bool
    terminator: str

    @property
    def text(self) -> str: ...

    def feed(self, event: SSEEvent) -> Sequence[T_co]: ...


class StreamAttempt(Generic[T]):
    """One attempt at a stream and its verdicts."""

    __slots__ = ("deadline", "decoder", "delivered", "received", "sse", "transport", "url")

    def __init__(self, transport: HTTPTransport, decoder: EventDecoder[T], url: str) -> None:
        self.transport = transport
        self.decoder = decoder
        self.url = url
        self.sse = SSEDecoder()
        self.delivered = False
        self.deadline = transport.deadline()
        self.received = 0  # body bytes so far, against ``transport.max_response_bytes``

    @property
    def done(self) -> bool:
        """Whether the provider's end marker arrived (the answer is complete)."""
        return self.decoder.done

    def feed(self, data: bytes) -> list[T]:
        """The items completed by ``data``; nothing once the end marker was seen (the rest
        of the body is only drained so that the connection can be reused)."""
        self.received += len(data)
        self.transport.check_size(self.received, self.url)
        if self.decoder.done:
            return []
        self.transport.check_deadline(self.deadline, self.url)
        return self._events(self.sse.feed(data))

    def end(self) -> list[T]:
        """The body ended: the last items, or an error if the end marker never came."""
        if self.decoder.done:
            return []
        items = self._events(self.sse.flush())
        if not self.decoder.done:
            raise self.transport.error(
                APIConnectionError, self.url,
                f"stream ended before its end marker ({self.decoder.terminator})",
            )
        return items

    def _events(self, events: list[SSEEvent]) -> list[T]:
        items: list[T] = []
        for event in events:
            if self.decoder.done:
                break
            try:
                items.extend(self.decoder.feed(event))
            except ServerErrorEvent as exc:
                raise self.transport.event_error(exc, self.url) from None
            except json.JSONDecodeError:
                raise self.transport.error(
                    APIResponseValidationError, self.url,
                    f"sent invalid JSON in a stream event: {event.data[:200]!r}",
                ) from None
            except (ValueError, TypeError, AttributeError, KeyError) as exc:
                # Valid JSON of the wrong shape ({"choices": 5}): a provider decoder reads
                # the documented shape, and anything else is a bad answer, not a crash.
                raise self.transport.error(
                    APIResponseValidationError, self.url,
                    f"sent an unexpected stream event ({type(exc).__name__}: {exc}): "
                    f"{event.data[:200]!r}",
                ) from None
        if items:
            self.delivered = True
        return items

    def interrupted(self, err: APIError) -> StreamInterruptedError:
        """The error for ``err`` striking after content was delivered."""
        provider = self.transport.provider
        return StreamInterruptedError(
            f"{provider} API stream for POST {self.url} failed after delivering content: "
            f"{err}",
            partial_text=self.decoder.text, provider=provider, method="POST", url=self.url,
        )
