"""HTTPTransport under injected faults: every case ends in a successful retry or the right
typed error, sync and async alike, with no response left open."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from chainkit.models.http import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    BadRequestError,
    HTTPTransport,
    InternalServerError,
    RateLimitError,
    RetryPolicy,
    ServerErrorEvent,
    SSEEvent,
    StreamInterruptedError,
)
from chainkit.models.http import transport as transport_module
from chainkit.models.http._lib import httpx
from chainkit.models.http.testing import Reply, ScriptedServer

OK = {"answer": 42}
FAST = RetryPolicy(2, backoff_base=0.001, backoff_max=0.002)


class TextDecoder:
    """A minimal provider decoder: ``{"t": text}`` events, ``[DONE]`` ends, ``{"error"}`` fails."""

    terminator = "data: [DONE]"

    def __init__(self) -> None:
        self.done = False
        self.parts: list[str] = []

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def feed(self, event: SSEEvent) -> list[str]:
        if event.data == "[DONE]":
            self.done = True
            return []
        data = event.json()
        if "error" in data:
            raise ServerErrorEvent(data["error"].get("status", 500), data)
        self.parts.append(data["t"])
        return [data["t"]]


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the transport's retry waits instead of sleeping."""
    recorded: list[float] = []

    async def asleep(delay: float) -> None:
        recorded.append(delay)

    monkeypatch.setattr(transport_module, "_sleep", recorded.append)
    monkeypatch.setattr(transport_module, "_asleep", asleep)
    return recorded


def make(server: ScriptedServer, mode: str, **kwargs: Any) -> HTTPTransport:
    kwargs.setdefault("retry", FAST)
    client = {"http_client": server.client()} if mode == "sync" else {
        "http_async_client": server.async_client()
    }
    return HTTPTransport("Test", "http://test.local/v1", headers={"x-k": "v"}, **client, **kwargs)


def post(t: HTTPTransport, mode: str, body: dict[str, Any] | None = None) -> Any:
    if mode == "sync":
        return t.post("/chat", body or {"q": 1})
    return asyncio.run(t.apost("/chat", body or {"q": 1}))


def stream(t: HTTPTransport, mode: str, limit: int | None = None) -> list[str]:
    if mode == "sync":
        out = []
        for item in t.stream("/chat", {"q": 1}, TextDecoder):
            out.append(item)
            if limit is not None and len(out) >= limit:
                break
        return out

    async def collect() -> list[str]:
        out = []
        it = t.astream("/chat", {"q": 1}, TextDecoder)
        async for item in it:
            out.append(item)
            if limit is not None and len(out) >= limit:
                break
        await it.aclose()  # type: ignore[attr-defined]
        return out

    return asyncio.run(collect())


def events(*texts: str, done: bool = True) -> list[bytes]:
    out = [f"data: {json.dumps({'t': t})}\n\n".encode() for t in texts]
    return [*out, b"data: [DONE]\n\n"] if done else out


# ---- JSON requests -----------------------------------------------------------------------
def test_post_returns_json_and_sends_headers(mode):
    server = ScriptedServer(Reply.json(OK))
    assert post(make(server, mode), mode, {"hello": "wörld"}) == OK
    request = server.requests[0]
    assert request.method == "POST"
    assert str(request.url) == "http://test.local/v1/chat"
    assert request.headers["x-k"] == "v"
    assert request.headers["content-type"] == "application/json"
    assert server.bodies() == [{"hello": "wörld"}]
    assert server.open_responses == 0


@pytest.mark.parametrize(("header", "wait"), [("0", 0.0), ("1", 1.0)])
def test_429_honours_retry_after(mode, waits, header, wait):
    server = ScriptedServer(Reply.json({}, 429, headers={"retry-after": header}), Reply.json(OK))
    assert post(make(server, mode), mode) == OK
    assert waits == [wait]
    assert len(server.requests) == 2
    assert server.open_responses == 0


def test_429_without_retry_after_backs_off(mode, waits):
    server = ScriptedServer(Reply.json({}, 429), Reply.json({}, 429), Reply.json(OK))
    assert post(make(server, mode), mode) == OK
    assert len(waits) == 2 and all(0 < w <= 0.002 for w in waits)
    assert server.open_responses == 0


def test_429_with_huge_retry_after_fails_fast(mode, waits):
    body = {"error": {"message": "quota exhausted", "type": "insufficient_quota"}}
    server = ScriptedServer(Reply.json(body, 429, headers={"retry-after": "86400"}))
    with pytest.raises(RateLimitError) as info:
        post(make(server, mode), mode)
    assert waits == []
    assert len(server.requests) == 1
    assert "insufficient_quota: quota exhausted" in str(info.value)
    assert "asked to wait 86400 s" in info.value.__notes__[0]
    assert server.open_responses == 0


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_retried_then_succeeds(mode, waits, status):
    server = ScriptedServer(Reply.json({"error": "down"}, status), Reply.json(OK))
    assert post(make(server, mode), mode) == OK
    assert len(waits) == 1
    assert server.open_responses == 0


def test_5xx_after_all_retries_raises_the_typed_error(mode, waits):
    server = ScriptedServer(*(Reply.json({"error": "down"}, 503) for _ in range(3)))
    with pytest.raises(InternalServerError, match=r"503 Service Unavailable.*: down"):
        post(make(server, mode), mode)
    assert len(server.requests) == 3 and len(waits) == 2
    assert server.open_responses == 0


def test_4xx_is_not_retried(mode, waits):
    server = ScriptedServer(Reply.json({"error": {"message": "bad 'temperature'"}}, 400))
    with pytest.raises(BadRequestError, match=r"400 Bad Request for POST "
                       r"http://test.local/v1/chat: bad 'temperature'"):
        post(make(server, mode), mode)
    assert waits == [] and server.open_responses == 0


@pytest.mark.parametrize(
    "fault",
    [
        httpx.ConnectError("[Errno 111] Connection refused"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ReadError("[Errno 104] Connection reset by peer"),
    ],
)
def test_connection_reset_before_headers_is_retried(mode, waits, fault):
    server = ScriptedServer(Reply(fail_before=fault), Reply.json(OK))
    assert post(make(server, mode), mode) == OK
    assert len(waits) == 1


def test_connection_errors_exhausting_retries(mode, waits):
    fault = httpx.ConnectError("[Errno 111] Connection refused")
    server = ScriptedServer(*(Reply(fail_before=fault) for _ in range(3)))
    with pytest.raises(APIConnectionError) as info:
        post(make(server, mode), mode)
    assert type(info.value) is APIConnectionError
    assert str(info.value) == (
        "Test API connection failed (ConnectError: [Errno 111] Connection refused) "
        "for POST http://test.local/v1/chat"
    )
    assert isinstance(info.value.__cause__, httpx.ConnectError)


def test_timeout_error_from_the_http_library(mode, waits):
    server = ScriptedServer(Reply(fail_before=httpx.ReadTimeout("timed out")), Reply.json(OK))
    assert post(make(server, mode), mode) == OK
    server = ScriptedServer(*(Reply(fail_before=httpx.ConnectTimeout("slow")) for _ in range(3)))
    with pytest.raises(APITimeoutError, match="request timed out"):
        post(make(server, mode), mode)


def test_body_cut_mid_way_is_retried(mode, waits):
    cut = Reply(200, [b'{"answer": '], fail_after=httpx.ReadError("reset"))
    server = ScriptedServer(cut, Reply.json(OK))
    assert post(make(server, mode), mode) == OK
    assert server.open_responses == 0


def test_invalid_json_is_a_validation_error_not_retried(mode, waits):
    server = ScriptedServer(Reply(200, [b"<html>oops</html>"]))
    with pytest.raises(APIResponseValidationError, match=r"returned invalid JSON.*oops"):
        post(make(server, mode), mode)
    assert len(server.requests) == 1 and server.open_responses == 0


def test_slow_trickle_hits_the_total_timeout(mode):
    server = ScriptedServer(Reply(200, [b" "] * 200, delay=0.02))
    t = make(server, mode, timeout=0.2, retry=RetryPolicy(0))
    start = time.monotonic()
    with pytest.raises(APITimeoutError, match=r"timed out after 0.2 s total"):
        post(t, mode)
    assert time.monotonic() - start < 1.5
    assert server.open_responses == 0


# ---- streams -------------------------------------------------------------------------------
def test_stream_yields_items_and_closes(mode):
    server = ScriptedServer(Reply.sse(events("Hel", "lo")))
    assert stream(make(server, mode), mode) == ["Hel", "lo"]
    assert server.open_responses == 0


def test_stream_error_status_before_content_is_retried(mode, waits):
    server = ScriptedServer(Reply.json({"error": "busy"}, 503), Reply.sse(events("ok")))
    assert stream(make(server, mode), mode) == ["ok"]
    assert len(waits) == 1 and server.open_responses == 0


def test_stream_reset_before_content_is_retried(mode, waits):
    broken = Reply(200, [b": hello\n\n"], fail_after=httpx.ReadError("reset"))
    server = ScriptedServer(broken, Reply.sse(events("ok")))
    assert stream(make(server, mode), mode) == ["ok"]
    assert server.open_responses == 0


def test_stream_reset_after_content_raises_interrupted_with_partial_text(mode, waits):
    broken = Reply(200, events("Once", " upon", done=False), fail_after=httpx.ReadError("reset"))
    server = ScriptedServer(broken)
    t = make(server, mode)
    got: list[str] = []

    def consume() -> None:
        if mode == "sync":
            got.extend(t.stream("/chat", {}, TextDecoder))
        else:
            async def run() -> None:
                async for item in t.astream("/chat", {}, TextDecoder):
                    got.append(item)
            asyncio.run(run())

    with pytest.raises(StreamInterruptedError) as info:
        consume()
    assert got == ["Once", " upon"]
    assert info.value.partial_text == "Once upon"
    assert not info.value.is_retryable
    assert isinstance(info.value.__cause__, APIConnectionError)
    assert "failed after delivering content" in str(info.value)
    assert len(server.requests) == 1 and waits == []
    assert server.open_responses == 0


def test_stream_without_terminator_is_never_a_complete_answer(mode, waits):
    server = ScriptedServer(Reply.sse(events("Hel", done=False)))
    with pytest.raises(StreamInterruptedError) as info:
        stream(make(server, mode), mode)
    assert info.value.partial_text == "Hel"
    assert "stream ended before its end marker (data: [DONE])" in str(info.value.__cause__)
    assert len(server.requests) == 1


def test_empty_stream_without_terminator_is_retried_then_fails(mode, waits):
    server = ScriptedServer(*(Reply.sse([b": nothing\n\n"]) for _ in range(3)))
    with pytest.raises(APIConnectionError, match="ended before its end marker"):
        stream(make(server, mode), mode)
    assert len(server.requests) == 3 and server.open_responses == 0


def test_error_event_before_content_is_typed_and_retried(mode, waits):
    overloaded = {"error": {"status": 529, "type": "overloaded_error", "message": "Overloaded"}}
    server = ScriptedServer(Reply.sse([overloaded]), Reply.sse(events("ok")))
    assert stream(make(server, mode), mode) == ["ok"]
    assert len(waits) == 1

    server = ScriptedServer(Reply.sse([{"error": {"status": 400, "message": "bad"}}]))
    with pytest.raises(BadRequestError, match="error event in the stream"):
        stream(make(server, mode), mode)


def test_error_event_after_content_raises_interrupted(mode, waits):
    overloaded = {"error": {"status": 529, "type": "overloaded_error", "message": "Overloaded"}}
    server = ScriptedServer(Reply.sse([*events("Hi", done=False), overloaded]))
    with pytest.raises(StreamInterruptedError) as info:
        stream(make(server, mode), mode)
    assert info.value.partial_text == "Hi"
    cause = info.value.__cause__
    assert isinstance(cause, InternalServerError) and cause.status_code == 529
    assert "overloaded_error: Overloaded" in str(info.value)


def test_invalid_json_event_is_a_validation_error(mode, waits):
    server = ScriptedServer(Reply.sse([b"data: {not json\n\n"]))
    with pytest.raises(APIResponseValidationError, match="invalid JSON in a stream event"):
        stream(make(server, mode), mode)
    assert len(server.requests) == 1


def test_consumer_stopping_early_closes_the_response(mode):
    server = ScriptedServer(Reply.sse(events("a", "b", "c")))
    assert stream(make(server, mode), mode, limit=1) == ["a"]
    assert server.open_responses == 0


def test_slow_stream_hits_the_total_timeout(mode):
    trickle = Reply(200, [b"data: {\"t\": \"x\"}\n\n"] + [b": ."] * 200, delay=0.02)
    server = ScriptedServer(trickle)
    t = make(server, mode, timeout=0.2, retry=RetryPolicy(0))
    with pytest.raises(StreamInterruptedError) as info:
        stream(t, mode)
    assert isinstance(info.value.__cause__, APITimeoutError)
    assert server.open_responses == 0


def test_bytes_after_the_end_marker_are_drained_and_ignored(mode):
    server = ScriptedServer(Reply.sse([*events("a"), b"data: {\"t\": \"late\"}\n\n"]))
    assert stream(make(server, mode), mode) == ["a"]
    assert server.open_responses == 0


# ---- clients and lifecycle ----------------------------------------------------------------
def test_own_client_is_created_lazily_and_closed():
    t = HTTPTransport("Test", "http://127.0.0.1:9/v1", timeout=1)
    assert t.clients._client is None
    client = t.clients.sync()
    assert client is t.clients.sync()
    t.close()
    assert client.is_closed and t.clients._client is None
    t.close()  # twice is fine


def test_each_event_loop_gets_its_own_async_client_closed_with_the_loop():
    t = HTTPTransport("Test", "http://127.0.0.1:9/v1")

    async def get() -> Any:
        return t.clients.async_()

    first, second = asyncio.run(get()), asyncio.run(get())
    assert first is not second
    assert first.is_closed and second.is_closed  # closed as asyncio.run shut the loop down
    assert len(t.clients._aclients) <= 1  # entries of closed loops are dropped

    async def same_loop() -> bool:
        return t.clients.async_() is t.clients.async_()

    assert asyncio.run(same_loop())

    async def close() -> None:
        client = t.clients.async_()
        await t.aclose()
        assert client.is_closed

    asyncio.run(close())


def test_user_client_is_used_but_never_closed(mode):
    server = ScriptedServer(Reply.json(OK))
    t = make(server, mode)
    post(t, mode)
    t.close()
    clients = t.clients
    user_client = clients._user_client if mode == "sync" else clients._user_async_client
    assert not user_client.is_closed


def test_invalid_timeouts_are_rejected():
    with pytest.raises(ValueError, match="timeout must be a positive number of seconds or None, "
                       "got 0"):
        HTTPTransport("Test", "http://x", timeout=0)
    with pytest.raises(ValueError, match=r"read_timeout .* got -1"):
        HTTPTransport("Test", "http://x", read_timeout=-1)


def test_repr_shows_no_secrets():
    t = HTTPTransport("Test", "http://u:pw@x/v1?key=s", headers={"authorization": "Bearer s"})
    assert repr(t) == "HTTPTransport('Test', 'http://x/v1')"


# ---- real sockets: the read timeout and the total timeout -------------------------------------
@pytest.fixture
def slow_server() -> Iterator[tuple[int, dict[str, Any]]]:
    """A loopback server that sends headers, then the body per its settings: ``gap`` seconds
    between one-byte pieces (0 = never send any)."""
    settings: dict[str, Any] = {"gap": 0.0}
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Content-Length: 1000\r\n\r\n")
                while not stop.is_set():
                    if settings["gap"] == 0:
                        time.sleep(0.02)
                        continue
                    time.sleep(settings["gap"])
                    try:
                        conn.sendall(b" ")
                    except OSError:
                        break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], settings
    stop.set()
    thread.join(5)
    listener.close()


def test_read_timeout_on_a_silent_server(mode, slow_server):
    port, _ = slow_server
    t = HTTPTransport("Test", f"http://127.0.0.1:{port}", timeout=10, read_timeout=0.2,
                      retry=RetryPolicy(0))
    start = time.monotonic()
    with pytest.raises(APITimeoutError, match="request timed out"):
        post(t, mode)
    assert time.monotonic() - start < 2
    t.close()


def test_total_timeout_on_a_trickling_server(mode, slow_server):
    port, settings = slow_server
    settings["gap"] = 0.05  # always within the read timeout
    t = HTTPTransport("Test", f"http://127.0.0.1:{port}", timeout=0.4, read_timeout=5,
                      retry=RetryPolicy(0))
    start = time.monotonic()
    with pytest.raises(APITimeoutError, match=r"timed out after 0.4 s total"):
        post(t, mode)
    assert 0.35 < time.monotonic() - start < 2
    t.close()
