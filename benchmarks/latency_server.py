"""A loopback OpenAI-compatible server that answers after a fixed latency.

It stands in for a remote model API in benchmarks: each request waits ``--latency-ms``
(default 50 ms) and then answers ``POST /v1/chat/completions`` with a short, fixed reply, either
as one JSON body or, with ``"stream": true``, as server-sent events ending in ``data: [DONE]``.
``GET /v1/models`` lists one model. The reply's content is the last user message's first words,
so a caller can check that answers come back in the right order.

It is written on bare ``asyncio`` streams (HTTP/1.1, keep-alive, ``Content-Length`` requests
only) so that it costs far less CPU per request than the clients it measures. It only binds to
loopback addresses.

Example:
    $ python benchmarks/latency_server.py --port 8765 --latency-ms 50
    listening on http://127.0.0.1:8765/v1 (latency 50 ms)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

LOOPBACK = ("127.0.0.1", "localhost", "::1")
MODEL = "latency-test"


def _reply_text(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return " ".join(content.split()[:8]) or "ok"
    return "ok"


def _usage() -> dict[str, int]:
    return {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}


def completion(body: dict[str, Any]) -> bytes:
    """The non-streaming JSON answer."""
    return json.dumps(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": MODEL,
            "system_fingerprint": "fp_bench",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": _reply_text(body)},
                    "finish_reason": "stop",
                }
            ],
            "usage": _usage(),
        }
    ).encode()


def stream_events(body: dict[str, Any]) -> Iterator[bytes]:
    """The streaming answer, one SSE event per word, usage last when asked for."""
    base = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "model": MODEL}
    words = _reply_text(body).split(" ")
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
    deltas += [{"content": (" " if i else "") + w} for i, w in enumerate(words)]
    for delta in deltas:
        chunk = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
        yield b"data: " + json.dumps(chunk).encode() + b"\n\n"
    last = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    yield b"data: " + json.dumps(last).encode() + b"\n\n"
    if (body.get("stream_options") or {}).get("include_usage"):
        yield b"data: " + json.dumps({**base, "choices": [], "usage": _usage()}).encode() + b"\n\n"
    yield b"data: [DONE]\n\n"


class LatencyServer:
    """The server; ``latency`` is in seconds.

    Example:
        >>> server = LatencyServer(latency=0.05)
        >>> port = server.start_in_thread()   # doctest: +SKIP
    """

    def __init__(self, latency: float = 0.05, host: str = "127.0.0.1", port: int = 0) -> None:
        if host not in LOOPBACK:
            raise ValueError(f"host must be a loopback address {LOOPBACK}, got {host!r}")
        self.latency, self.host, self.port = latency, host, port
        self.requests = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None

    async def serve(self, ready: threading.Event | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        self._server = await asyncio.start_server(self._handle, self.host, self.port, backlog=1024)
        self.port = self._server.sockets[0].getsockname()[1]
        if ready is not None:
            ready.set()
        async with self._server:
            with contextlib.suppress(asyncio.CancelledError):
                await self._server.serve_forever()

    def start_in_thread(self) -> int:
        """Serve from a daemon thread; return the port."""
        ready = threading.Event()
        threading.Thread(target=lambda: asyncio.run(self.serve(ready)), daemon=True).start()
        ready.wait(10)
        return self.port

    def stop(self) -> None:
        if self._loop is not None and self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (line.partition(":") for line in lines[1:] if line)
                }
                raw = await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests += 1
                await self._respond(method, path, raw, writer)
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    async def _respond(
        self, method: str, path: str, raw: bytes, writer: asyncio.StreamWriter
    ) -> None:
        if method == "GET" and path.rstrip("/").endswith("/models"):
            body = json.dumps({"object": "list", "data": [{"id": MODEL, "object": "model"}]})
            writer.write(_head(200, "application/json", len(body)) + body.encode())
            return
        if method != "POST" or not path.rstrip("/").endswith("/chat/completions"):
            msg = json.dumps({"error": {"message": f"no route {method} {path}"}}).encode()
            writer.write(_head(404, "application/json", len(msg)) + msg)
            return
        request = json.loads(raw or b"{}")
        await asyncio.sleep(self.latency)
        if not request.get("stream"):
            out = completion(request)
            writer.write(_head(200, "application/json", len(out)) + out)
            return
        writer.write(_head(200, "text/event-stream", None))
        for event in stream_events(request):
            writer.write(b"%x\r\n%s\r\n" % (len(event), event))
        writer.write(b"0\r\n\r\n")
        await writer.drain()


def _head(status: int, content_type: str, length: int | None) -> bytes:
    reason = {200: "OK", 404: "Not Found"}[status]
    size = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    return (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n{size}\r\n"
        "Connection: keep-alive\r\n\r\n"
    ).encode()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", choices=LOOPBACK)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    args = parser.parse_args(argv)
    server = LatencyServer(args.latency_ms / 1000, args.host, args.port)

    async def run() -> None:
        ready = threading.Event()
        task = asyncio.ensure_future(server.serve(ready))
        while not ready.is_set():
            await asyncio.sleep(0.01)
        print(f"listening on http://{server.host}:{server.port}/v1 "
              f"(latency {args.latency_ms:g} ms)", flush=True)
        await task

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
    sys.exit(0)


if __name__ == "__main__":
    main()
