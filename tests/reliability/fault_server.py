"""A loopback HTTP/1.1 server that misbehaves on purpose, for the reliability suite.

It is written on asyncio's raw transport (`asyncio.Protocol`), not on an HTTP framework, so
that it can do what a real server or proxy sometimes does and a framework never would: reset
the connection before or in the middle of an answer, stop without the end of the body, send
a body one byte at a time, or never answer at all.

A test gives the server a *plan*: one `Act` per expected request, or a function from the
request to an `Act`. The server runs its own event loop in a daemon thread, so the same server
serves the sync and the async clients, and it counts what a test needs to judge the client:

- ``open_connections``: TCP connections the client still holds open (server side);
- ``in_flight`` / ``peak_in_flight``: requests being answered now, and the most at once;
- ``closed_at``: when each connection was closed by the client (for "closes within 100 ms").

Example:
    >>> with FaultServer() as server:
    ...     server.plan(Act.sse([{"choices": [{"delta": {"content": "hi"}}]}, "[DONE]"]))
    ...     ChatOpenAI(base_url=server.url + "/v1", api_key="k").invoke("hi")
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Act", "FaultServer", "Request", "anthropic_sse", "openai_sse"]


@dataclass
class Request:
    """One request as the server read it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    raw: bytes
    #: ``time.monotonic()`` when the whole request had arrived.
    received_at: float = 0.0
    #: The number of the connection it came on (see `FaultServer.closed_at_by_conn`).
    conn: int = 0

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Act:
    """What the server does with one request.

    Attributes:
        status: HTTP status of the answer.
        headers: Extra response headers.
        chunks: The body, in the pieces the server writes (each written separately).
        delay: Seconds before each piece (a slow or trickling server).
        first_delay: Seconds before the status line (a slow server, or a retry test).
        chunked: Use ``Transfer-Encoding: chunked`` (else ``Content-Length``).
        reset_before_headers: Reset (TCP RST) the connection instead of answering.
        never_answer: Read the request, then send nothing until the client leaves.
        reset_after: Reset the connection after writing this many pieces (``None``: don't).
        close_after: Close (FIN) after writing all pieces, without ending the body.
        hang_after: After writing all pieces, send nothing more until the client leaves.
    """

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    chunks: list[bytes] = field(default_factory=list)
    delay: float = 0.0
    first_delay: float = 0.0
    chunked: bool = True
    reset_before_headers: bool = False
    never_answer: bool = False
    reset_after: int | None = None
    close_after: bool = False
    hang_after: bool = False

    @classmethod
    def json(cls, body: Any, status: int = 200, **kwargs: Any) -> Act:
        headers = {"content-type": "application/json", **kwargs.pop("headers", {})}
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return cls(status, headers, [data], chunked=False, **kwargs)

    @classmethod
    def text(cls, body: str | bytes, status: int = 200, **kwargs: Any) -> Act:
        headers = {"content-type": "text/plain", **kwargs.pop("headers", {})}
        data = body.encode() if isinstance(body, str) else body
        return cls(status, headers, [data], chunked=False, **kwargs)

    @classmethod
    def sse(cls, pieces: Iterable[bytes | str], **kwargs: Any) -> Act:
        """An event stream from ready-made SSE pieces (see `openai_sse`, `anthropic_sse`)."""
        headers = {"content-type": "text/event-stream", **kwargs.pop("headers", {})}
        data = [p.encode() if isinstance(p, str) else p for p in pieces]
        return cls(200, headers, data, **kwargs)


def openai_sse(texts: Sequence[str], *, done: bool = True, usage: bool = True) -> list[bytes]:
    """OpenAI chat-completion chunk events, one SSE piece per text, then ``[DONE]``."""
    out = []
    for text in texts:
        event = {"id": "c1", "model": "m", "choices": [{"index": 0, "delta": {"content": text}}]}
        out.append(f"data: {json.dumps(event)}\n\n".encode())
    if done:
        final = {"id": "c1", "model": "m",
                 "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        out.append(f"data: {json.dumps(final)}\n\n".encode())
        if usage:
            usage_event = {"id": "c1", "model": "m", "choices": [], "usage": {
                "prompt_tokens": 1, "completion_tokens": len(texts),
                "total_tokens": 1 + len(texts)}}
            out.append(f"data: {json.dumps(usage_event)}\n\n".encode())
        out.append(b"data: [DONE]\n\n")
    return out


def anthropic_sse(texts: Sequence[str], *, done: bool = True) -> list[bytes]:
    """Anthropic Messages API stream events for ``texts``, ending with ``message_stop``."""

    def ev(name: str, data: dict[str, Any]) -> bytes:
        return f"event: {name}\ndata: {json.dumps({'type': name, **data})}\n\n".encode()

    out = [
        ev("message_start", {"message": {"id": "msg_1", "model": "claude",
                                         "usage": {"input_tokens": 1, "output_tokens": 0}}}),
        ev("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}),
    ]
    out += [
        ev("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": t}})
        for t in texts
    ]
    if done:
        out += [
            ev("content_block_stop", {"index": 0}),
            ev("message_delta", {"delta": {"stop_reason": "end_turn"},
                                 "usage": {"output_tokens": len(texts)}}),
            ev("message_stop", {}),
        ]
    return out


#: Seconds the server waits between its last piece and a reset (see `_reset_after_read`).
RESET_GRACE = 0.03

_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
            404: "Not Found", 422: "Unprocessable Entity", 429: "Too Many Requests",
            500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
            504: "Gateway Timeout"}


class _Connection(asyncio.Protocol):
    """One client connection: reads requests (keep-alive), answers each by its `Act`."""

    def __init__(self, server: FaultServer) -> None:
        self.server = server
        self.number = 0
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.task: asyncio.Task[None] | None = None
        self.lost = asyncio.Event()
        self.can_write = asyncio.Event()
        self.can_write.set()

    # ---- asyncio.Protocol ---------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # asyncio sets TCP_NODELAY only when the socket's proto is IPPROTO_TCP, which an
            # accepted socket's is not; without it every keep-alive answer waits ~40 ms for
            # the client's delayed ACK (Nagle), as no real server's does.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server._opened(self)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.task is None or self.task.done():
            self._next_request()

    def eof_received(self) -> bool | None:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.can_write.set()
        self.lost.set()
        self.server._closed(self)

    def pause_writing(self) -> None:
        self.can_write.clear()

    def resume_writing(self) -> None:
        self.can_write.set()

    # ---- requests ------------------------------------------------------------------------
    def _next_request(self) -> None:
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0:
            return
        head = self.buffer[:head_end].decode("latin-1")
        lines = head.split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        end = head_end + 4 + length
        if len(self.buffer) < end:
            return
        raw, self.buffer = self.buffer[:end], self.buffer[end:]
        request = Request(
            method, path, headers, raw[head_end + 4:], raw, time.monotonic(), self.number
        )
        self.task = asyncio.get_running_loop().create_task(self._answer(request))

    async def _answer(self, request: Request) -> None:
        server = self.server
        act = server._act_for(request)
        server._begin()
        try:
            await self._perform(act)
        except (ConnectionError, OSError):
            pass
        finally:
            server._end()
        if self.buffer and self.transport is not None and not self.transport.is_closing():
            self._next_request()

    async def _perform(self, act: Act) -> None:
        t = self.transport
        assert t is not None
        if act.first_delay and await self._wait_lost(act.first_delay):
            return
        if act.reset_before_headers:
            self._reset()
            return
        if act.never_answer:
            await self.lost.wait()
            return
        headers = {"server": "fault", **act.headers}
        if act.chunked:
            headers["transfer-encoding"] = "chunked"
        else:
            headers["content-length"] = str(sum(len(c) for c in act.chunks))
        head = f"HTTP/1.1 {act.status} {_REASONS.get(act.status, 'Status')}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        t.write(head.encode("latin-1"))
        for i, piece in enumerate(act.chunks):
            if act.reset_after is not None and i == act.reset_after:
                await self._reset_after_read(i)
                return
            if act.delay and await self._wait_lost(act.delay):
                return
            if t.is_closing():
                return
            t.write(b"%x\r\n%s\r\n" % (len(piece), piece) if act.chunked else piece)
            if not self.can_write.is_set():
                await self.can_write.wait()
        if act.reset_after is not None:
            await self._reset_after_read(len(act.chunks))
            return
        if act.close_after:
            t.close()
            return
        if act.hang_after:
            await self.lost.wait()
            return
        if act.chunked and not t.is_closing():
            t.write(b"0\r\n\r\n")

    async def _wait_lost(self, seconds: float) -> bool:
        """Sleep ``seconds``; True if the client left meanwhile."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.lost.wait(), seconds)
        return self.lost.is_set()

    async def _reset_after_read(self, written: int) -> None:
        # A reset discards what the client has received but not yet read; give it a moment
        # to read the pieces already sent, so that "reset after N pieces" means N were read.
        if written:
            await self._wait_lost(RESET_GRACE)
        self._reset()

    def _reset(self) -> None:
        t = self.transport
        if t is None or t.is_closing():
            return
        sock = t.get_extra_info("socket")
        if sock is not None:
            # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        t.abort()


class FaultServer:
    """The misbehaving server (see the module docstring). Use as a context manager.

    Args:
        default: The `Act` for requests when the plan is empty (``None``: a 500 that says so,
            and the request is counted in ``unplanned``).
    """

    def __init__(self, default: Act | Callable[[Request], Act] | None = None) -> None:
        self.default = default
        self.requests: list[Request] = []
        self.unplanned = 0
        self.open_connections = 0
        self.connections_total = 0
        self.in_flight = 0
        self.peak_in_flight = 0
        self.closed_at: list[float] = []
        #: Connection number -> ``time.monotonic()`` when the client closed it.
        self.closed_at_by_conn: dict[int, float] = {}
        self._plan: deque[Act | Callable[[Request], Act]] = deque()
        self._lock = threading.Lock()
        self._conns: set[_Connection] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.AbstractServer | None = None
        self.port = 0

    # ---- lifecycle ---------------------------------------------------------------------------
    def start(self) -> FaultServer:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", 0))
            sock.listen(4096)
            self.port = sock.getsockname()[1]
            self._server = loop.run_until_complete(
                loop.create_server(lambda: _Connection(self), sock=sock)
            )
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name="fault-server", daemon=True)
        self._thread.start()
        ready.wait(5)
        return self

    def stop(self) -> None:
        loop, server = self._loop, self._server
        if loop is None or server is None:
            return

        async def shutdown() -> None:
            server.close()
            for conn in list(self._conns):
                if conn.transport is not None:
                    conn.transport.abort()
            for task in [c.task for c in self._conns if c.task is not None]:
                task.cancel()
            await asyncio.sleep(0)
            loop.stop()

        asyncio.run_coroutine_threadsafe(shutdown(), loop)
        if self._thread is not None:
            self._thread.join(5)
        self._loop = None

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ---- plans -------------------------------------------------------------------------------
    def plan(self, *acts: Act | Callable[[Request], Act]) -> None:
        """Answer the next requests with ``acts``, in order (replacing any unused plan)."""
        with self._lock:
            self._plan = deque(acts)
            self.unplanned = 0

    @property
    def pending(self) -> int:
        """Planned acts not used yet."""
        return len(self._plan)

    def reset_counters(self) -> None:
        with self._lock:
            self.requests.clear()
            self.peak_in_flight = self.in_flight
            self.closed_at.clear()
            self.closed_at_by_conn.clear()

    def wait_closed(self, timeout: float = 2.0) -> int:
        """Wait until the client has closed every connection; return how many stay open."""
        end = time.monotonic() + timeout
        while self.open_connections and time.monotonic() < end:
            time.sleep(0.002)
        return self.open_connections

    async def await_closed(self, timeout: float = 2.0) -> int:
        """Async `wait_closed` (does not block the caller's event loop)."""
        end = time.monotonic() + timeout
        while self.open_connections and time.monotonic() < end:
            await asyncio.sleep(0.002)
        return self.open_connections

    # ---- called on the server's loop ----------------------------------------------------------
    def _act_for(self, request: Request) -> Act:
        with self._lock:
            self.requests.append(request)
            item = self._plan.popleft() if self._plan else self.default
            if item is None:
                self.unplanned += 1
        if item is None:
            return Act.json({"error": {"message": "unplanned request"}}, status=500)
        return item(request) if callable(item) else item

    def _opened(self, conn: _Connection) -> None:
        with self._lock:
            self._conns.add(conn)
            self.open_connections += 1
            self.connections_total += 1
            conn.number = self.connections_total

    def _closed(self, conn: _Connection) -> None:
        with self._lock:
            self._conns.discard(conn)
            self.open_connections -= 1
            now = time.monotonic()
            self.closed_at.append(now)
            self.closed_at_by_conn[conn.number] = now

    def _begin(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def _end(self) -> None:
        with self._lock:
            self.in_flight -= 1


def _numbered(chunks: int, delay: float) -> Callable[[Request], Act]:
    """Acts for the load test: ``stream-<s>`` gets ``chunks`` events ``"<s>:<i>;"``."""

    def act(request: Request) -> Act:
        stream = request.json()["messages"][-1]["content"].partition("-")[2]
        n = int(stream)
        # Streams start and pace a little apart, as real answers do, so that they do not
        # all finish in the same instant: 0.7 to 1.3 times ``delay``, 1.0 on average, so that
        # ``streams / delay`` is the rate offered in all while every stream runs.
        return Act.sse(openai_sse([f"{stream}:{i};" for i in range(chunks)]),
                       delay=delay * (0.7 + 0.1 * (n % 7)), first_delay=(n % 10) * 0.01)

    return act


def main(argv: Sequence[str]) -> None:
    """``fault_server.py numbered CHUNKS DELAY``: serve numbered streams until stdin closes;
    print ``PORT <n>`` once listening, and answer each ``stats`` line on stdin with
    ``open <n> peak <n> requests <n>``."""
    import sys

    mode, chunks, delay = argv
    assert mode == "numbered", f"unknown mode {mode!r}"
    with FaultServer(default=_numbered(int(chunks), float(delay))) as server:
        print(f"PORT {server.port}", flush=True)
        for line in sys.stdin:
            if line.strip() == "stats":
                print(f"open {server.open_connections} peak {server.peak_in_flight} "
                      f"requests {len(server.requests)}", flush=True)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
