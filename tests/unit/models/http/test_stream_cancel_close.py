"""An async model stream that is stopped lets go of its HTTP response before it returns.

A consumer cancelled at any await point of a stream (waiting for the answer's headers,
between two body pieces, in the sleep before a retry), or a stream closed early with
``aclose()``, must leave no response open by the time ``await task`` (or ``aclose()``)
returns: not a loop turn later, when the event loop finalizes an abandoned generator, and
not when the garbage collector breaks a cycle.

The answers come from a ``MockTransport`` whose every wait is ``asyncio.sleep(0)`` or an
event the test controls, so each case is deterministic: the sweep cancels after 0, 1, 2, ...
loop turns and so lands on every await point in turn, and the gated tests stop the answer at
a named point and cancel there.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import pytest

from chainkit.models import ChatAnthropic, ChatOpenAI
from chainkit.models.http import transport as transport_module
from chainkit.models.http._lib import httpx

PROVIDERS = ("openai", "anthropic")
PIECES = 6


def _openai_pieces(n: int) -> list[bytes]:
    out = [
        f"data: {json.dumps({'choices': [{'index': 0, 'delta': {'content': f'{i} '}}]})}\n\n"
        for i in range(n)
    ]
    return [p.encode() for p in [*out, "data: [DONE]\n\n"]]


def _anthropic_pieces(n: int) -> list[bytes]:
    def event(name: str, data: dict[str, Any]) -> bytes:
        return f"event: {name}\ndata: {json.dumps({'type': name, **data})}\n\n".encode()

    usage = {"input_tokens": 1, "output_tokens": 0}
    return [
        event("message_start", {"message": {"id": "m1", "model": "c", "usage": usage}}),
        event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}),
        *(
            event("content_block_delta",
                  {"index": 0, "delta": {"type": "text_delta", "text": f"{i} "}})
            for i in range(n)
        ),
        event("content_block_stop", {"index": 0}),
        event("message_delta", {"delta": {"stop_reason": "end_turn"},
                                "usage": {"output_tokens": n}}),
        event("message_stop", {}),
    ]


class _Body(httpx.AsyncByteStream):
    """A body that yields the loop before each piece and may stop at a gate."""

    def __init__(self, server: Server, pieces: list[bytes]) -> None:
        self._server = server
        self._pieces = pieces
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for i, piece in enumerate(self._pieces):
            await self._server.gate(f"piece {i}")
            yield piece

    async def aclose(self) -> None:
        self.closed = True


class Server:
    """Answers every request with ``status`` and ``pieces`` through a ``MockTransport``.

    ``stop_at`` names the point where the answer waits until the test lets it go
    (``"headers"``, ``"piece 0"``, ``"piece 3"``...); ``reached`` is set when it gets
    there. Every other point yields the loop once.
    """

    def __init__(
        self, pieces: list[bytes], status: int = 200, headers: dict[str, str] | None = None,
        stop_at: str | None = None,
    ) -> None:
        self.pieces = pieces
        self.status = status
        self.headers = {"content-type": "text/event-stream", **(headers or {})}
        self.stop_at = stop_at
        self.reached = asyncio.Event()
        self._release = asyncio.Event()
        self.bodies: list[_Body] = []
        self.requests = 0

    @property
    def open_responses(self) -> int:
        return sum(not body.closed for body in self.bodies)

    async def gate(self, point: str) -> None:
        if point == self.stop_at:
            self.reached.set()
            await self._release.wait()
        else:
            await asyncio.sleep(0)

    async def _handle(self, request: Any) -> Any:
        self.requests += 1
        await self.gate("headers")
        body = _Body(self, self.pieces)
        self.bodies.append(body)
        return httpx.Response(self.status, headers=self.headers, stream=body)

    def client(self) -> Any:
        return httpx.AsyncClient(transport=httpx.MockTransport(self._handle))


def _model(provider: str, server: Server) -> Any:
    if provider == "openai":
        return ChatOpenAI(model="m", api_key="k", base_url="http://test/v1", max_retries=2,
                          http_async_client=server.client())
    return ChatAnthropic(model="c", api_key="k", base_url="http://test", max_retries=2,
                         http_async_client=server.client())


def _answer(provider: str, n: int = PIECES) -> list[bytes]:
    return _openai_pieces(n) if provider == "openai" else _anthropic_pieces(n)


async def _consume(model: Any, seen: list[str]) -> None:
    async for chunk in model.astream("hi"):
        seen.append(chunk.content)


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_cancel_at_any_await_point_closes_the_response_before_the_task_ends(
    provider: str,
) -> None:
    turns = 0
    while True:
        server = Server(_answer(provider))
        seen: list[str] = []
        task = asyncio.ensure_future(_consume(_model(provider, server), seen))
        for _ in range(turns):
            await asyncio.sleep(0)
        if task.done():
            break  # the whole stream ran before the cancel: every await point was tried
        await _cancel(task)
        assert server.open_responses == 0, f"cancelled after {turns} turns: a response is open"
        assert server.requests <= 1
        turns += 1
        assert turns < 500, "the stream never finished: the sweep cannot cover it"
    await task  # the uncancelled run finished normally
    assert "".join(seen) == "".join(f"{i} " for i in range(PIECES))
    assert server.open_responses == 0
    assert turns > PIECES  # headers, every piece and the end were each a cancel point


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_cancel_during_a_retry_sleep_leaves_nothing_open(
    provider: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sleeping = asyncio.Event()

    async def asleep(delay: float) -> None:
        assert delay == 10.0  # the server's retry-after-ms
        sleeping.set()
        await asyncio.Event().wait()  # the cancel lands here

    monkeypatch.setattr(transport_module, "_asleep", asleep)
    error = b'{"error": {"message": "busy"}}'
    server = Server([error], status=503,
                    headers={"content-type": "application/json", "retry-after-ms": "10000"})
    task = asyncio.ensure_future(_consume(_model(provider, server), []))
    await asyncio.wait_for(sleeping.wait(), 5.0)
    assert server.open_responses == 0  # the 503 was read whole and closed before the sleep
    await _cancel(task)
    assert server.requests == 1
    assert server.open_responses == 0


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("point", ["headers", "piece 0", "piece 1", "piece 4"])
async def test_a_cancel_at_a_gated_point_closes_the_response(provider: str, point: str) -> None:
    server = Server(_answer(provider), stop_at=point)
    task = asyncio.ensure_future(_consume(_model(provider, server), []))
    await asyncio.wait_for(server.reached.wait(), 5.0)
    assert server.open_responses == (0 if point == "headers" else 1)
    await _cancel(task)
    assert server.open_responses == 0
    assert len(server.bodies) == (0 if point == "headers" else 1)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_closing_a_stream_early_closes_its_response_at_once(provider: str) -> None:
    server = Server(_answer(provider))
    model = _model(provider, server)
    stream = model.astream("hi")
    await stream.__anext__()
    assert server.open_responses == 1
    await stream.aclose()
    assert server.open_responses == 0  # at once, not a loop turn later

    with pytest.raises(ValueError, match="consumer failed"):
        async with aclosing(model.astream("hi")) as chunks:
            async for _ in chunks:
                raise ValueError("consumer failed")
    assert server.open_responses == 0
