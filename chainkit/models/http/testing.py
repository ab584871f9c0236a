"""Scripted HTTP servers for tests: canned replies and injected faults, no network.

`ScriptedServer` answers each request with the next `Reply` of its script (or calls a
function of the request), through the HTTP library's ``MockTransport``. A reply can fail
before its headers, stop mid-body, or trickle its body slowly; the server records every
request and counts responses still open, so a test can assert that none leaked.

Example:
    >>> from chainkit.models import ChatOpenAI
    >>> answer = {"choices": [{"message": {"content": "Hi!"}, "finish_reason": "stop"}]}
    >>> server = ScriptedServer(Reply(429, headers={"retry-after": "0"}), Reply.json(answer))
    >>> chat = ChatOpenAI(model="m", base_url="http://test/v1", http_client=server.client())
    >>> chat.invoke("hello").content  # the 429 is retried once
    'Hi!'
    >>> len(server.requests), server.open_responses
    (2, 0)
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from typing import Any

from chainkit.models.http._lib import httpx

__all__ = ["Reply", "ScriptedServer", "sse_body"]


class Reply:
    """One scripted answer.

    Args:
        status: HTTP status.
        chunks: The body, as the pieces the network delivers.
        headers: Response headers.
        fail_before: An exception raised instead of answering (e.g. ``httpx.ConnectError``).
        fail_after: An exception raised after the body's pieces (a connection reset mid-body).
        delay: Seconds to wait before each piece (a slow, trickling server).
    """

    def __init__(
        self,
        status: int = 200,
        chunks: Iterable[bytes] = (),
        *,
        headers: Mapping[str, str] | None = None,
        fail_before: BaseException | None = None,
        fail_after: BaseException | None = None,
        delay: float = 0.0,
    ) -> None:
        self.status = status
        self.chunks = list(chunks)
        self.headers = dict(headers or {})
        self.fail_before = fail_before
        self.fail_after = fail_after
        self.delay = delay

    @classmethod
    def json(cls, body: Any, status: int = 200, **kwargs: Any) -> Reply:
        """A JSON answer."""
        headers = {"content-type": "application/json", **kwargs.pop("headers", {})}
        return cls(status, [json.dumps(body).encode()], headers=headers, **kwargs)

    @classmethod
    def sse(cls, events: Iterable[Any], **kwargs: Any) -> Reply:
        """An SSE answer, one network piece per event (see `sse_body`)."""
        headers = {"content-type": "text/event-stream", **kwargs.pop("headers", {})}
        return cls(200, sse_body(events), headers=headers, **kwargs)


def sse_body(events: Iterable[Any]) -> list[bytes]:
    """SSE pieces: a ``bytes``/``str`` item is sent as is; a dict as ``data: <json>``; a
    ``(event, dict)`` pair as ``event: <event>`` plus its data."""
    out = []
    for item in events:
        if isinstance(item, bytes):
            out.append(item)
        elif isinstance(item, str):
            out.append(item.encode())
        elif isinstance(item, tuple):
            name, data = item
            out.append(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
        else:
            out.append(f"data: {json.dumps(item)}\n\n".encode())
    return out


class _Body(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body that can trickle or break, and reports when it is closed."""

    def __init__(self, reply: Reply, server: ScriptedServer) -> None:
        self._reply = reply
        self._server = server
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._reply.chunks:
            if self._reply.delay:
                time.sleep(self._reply.delay)
            yield chunk
        if self._reply.fail_after is not None:
            raise self._reply.fail_after

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._reply.chunks:
            if self._reply.delay:
                await asyncio.sleep(self._reply.delay)
            yield chunk
        if self._reply.fail_after is not None:
            raise self._reply.fail_after

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._server._closed()

    async def aclose(self) -> None:
        self.close()


class ScriptedServer:
    """Answers requests from a script of `Reply` objects, or from a function.

    Args:
        *replies: Answers, in order; a request beyond the script fails the test loudly.
        handler: Instead of a script, a function from the request to a `Reply`.
    """

    def __init__(self, *replies: Reply, handler: Callable[[Any], Reply] | None = None) -> None:
        self._replies = list(replies)
        self._handler = handler
        self._lock = threading.Lock()
        self.requests: list[Any] = []
        self.opened = 0
        self.closed = 0

    @property
    def open_responses(self) -> int:
        """Responses handed out and not yet closed (0 after a well-behaved client is done)."""
        return self.opened - self.closed

    def bodies(self) -> list[Any]:
        """The JSON bodies of the requests so far."""
        return [json.loads(r.content) for r in self.requests]

    def client(self, **kwargs: Any) -> Any:
        """A sync client whose requests this server answers."""
        return httpx.Client(transport=httpx.MockTransport(self._handle), **kwargs)

    def async_client(self, **kwargs: Any) -> Any:
        """An async client whose requests this server answers."""
        return httpx.AsyncClient(transport=httpx.MockTransport(self._handle), **kwargs)

    def _handle(self, request: Any) -> Any:
        request.read()
        with self._lock:
            self.requests.append(request)
            if self._handler is not None:
                reply = self._handler(request)
            elif self._replies:
                reply = self._replies.pop(0)
            else:
                raise AssertionError(
                    f"ScriptedServer got request {len(self.requests)} but its script is done"
                )
        if reply.fail_before is not None:
            raise reply.fail_before
        with self._lock:
            self.opened += 1
        return httpx.Response(reply.status, headers=reply.headers, stream=_Body(reply, self))

    def _closed(self) -> None:
        with self._lock:
            self.closed += 1
