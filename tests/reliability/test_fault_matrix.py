"""Figure 1: the fault matrix. Every fault a real server, proxy or network produces, sync and
async, 20 repetitions each, through the public `ChatOpenAI` / `ChatAnthropic` API over a real
loopback socket. Each repetition must end in exactly the expected outcome: the text, or the
typed error with the right retry count, partial text and chunks seen.

Every repetition also checks that no request is left checked out of the connection pool, and
the ``server`` fixture checks that no connection is left open once the model is closed. The
API key is a canary: it must never appear in an error, a note, or a log line (figure 7).
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest

from chainkit.models import ChatAnthropic, ChatOpenAI
from chainkit.models.http import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    StreamInterruptedError,
    UnprocessableEntityError,
)
from chainkit.models.http import transport as transport_module
from tests.reliability.canary import CANARY, assert_key_only_in_auth, assert_no_canary
from tests.reliability.conftest import pool_active
from tests.reliability.fault_server import Act, FaultServer, anthropic_sse, openai_sse

REPS = 20
TEXTS = ["Hel", "lo", ", wor", "ld"]
FIFTY = [f"t{i} " for i in range(60)]
#: Model settings for the matrix: tiny backoff, so a case with retries stays fast.
FAST = {"max_retries": 2, "backoff_base": 0.001, "backoff_max": 0.002, "timeout": 5.0}


# ---- outcomes -------------------------------------------------------------------------------
@dataclass
class Outcome:
    text: str | None = None
    seen: list[str] = field(default_factory=list)
    error: BaseException | None = None
    elapsed: float = 0.0
    requests: int = 0
    waits: list[float] = field(default_factory=list)


def expect_text(text: str, requests: int) -> Callable[[Outcome], None]:
    def check(o: Outcome) -> None:
        assert o.error is None, f"expected {text!r}, got {o.error!r}"
        assert o.text == text
        assert o.requests == requests, f"expected {requests} request(s), got {o.requests}"

    return check


def expect_error(
    cls: type[BaseException], requests: int, *, exact: bool = True,
    extra: Callable[[Outcome], None] | None = None,
) -> Callable[[Outcome], None]:
    def check(o: Outcome) -> None:
        assert o.error is not None, f"expected {cls.__name__}, got text {o.text!r}"
        if exact:
            assert type(o.error) is cls, f"expected {cls.__name__}, got {o.error!r}"
        else:
            assert isinstance(o.error, cls), f"expected {cls.__name__}, got {o.error!r}"
        assert o.requests == requests, f"expected {requests} request(s), got {o.requests}"
        if extra is not None:
            extra(o)

    return check


def expect_interrupted(seen: list[str], cause: type[BaseException]) -> Callable[[Outcome], None]:
    """A stream that failed after delivering ``seen``: typed error with that partial text,
    one request (never retried), and the consumer saw exactly those chunks."""

    def extra(o: Outcome) -> None:
        assert isinstance(o.error, StreamInterruptedError)
        assert o.seen == seen, f"consumer saw {o.seen[:5]}... ({len(o.seen)} chunks)"
        assert o.error.partial_text == "".join(seen)
        assert isinstance(o.error.__cause__, cause), repr(o.error.__cause__)

    return expect_error(StreamInterruptedError, 1, extra=extra)


def waits_are(predicate: Callable[[list[float]], bool], what: str) -> Callable[[Outcome], None]:
    def check(o: Outcome) -> None:
        assert predicate(o.waits), f"retry waits {o.waits} are not {what}"

    return check


def both(*checks: Callable[[Outcome], None]) -> Callable[[Outcome], None]:
    def check(o: Outcome) -> None:
        for c in checks:
            c(o)

    return check


# ---- the cases ---------------------------------------------------------------------------------
def ok_json() -> Act:
    return Act.json({"id": "c1", "model": "m", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
    ], "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})


def ok_stream() -> Act:
    return Act.sse(openai_sse(TEXTS))


def status(code: int, body: Any = None, **headers: str) -> Act:
    body = body if body is not None else {"error": {"message": f"status {code}", "type": "x"}}
    return Act.json(body, status=code, headers=headers)


def http_date(seconds_from_now: float) -> str:
    return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)


@dataclass
class Case:
    kind: str  # "invoke" or "stream"
    acts: Callable[[], list[Act]]
    check: Callable[[Outcome], None]
    provider: str = "openai"
    settings: dict[str, Any] = field(default_factory=dict)
    refused: bool = False  # connect to a port where nothing listens

    @property
    def timed(self) -> bool:
        return "read_timeout" in self.settings or self.settings.get("timeout") == SILENCE


LOADING = {"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}
OPENAI_ERROR_EVENT = (
    b'data: {"error": {"message": "bad thing", "type": "invalid_request_error"}}\n\n'
)
OPENAI_SERVER_ERROR_EVENT = b'data: {"error": {"message": "oops", "type": "server_error"}}\n\n'
ANTHROPIC_OVERLOADED = (
    b'event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", '
    b'"message": "Overloaded"}}\n\n'
)
SILENCE = 0.3  # seconds: read timeout / total timeout for the trickle cases
#: The timed cases run their repetitions in waves of this many concurrent calls (each still
#: timed on its own), so 20 repetitions cost 4 timeouts of wall time, not 20.
WAVE = 5
TIMED = {"max_retries": 0}


def _refused_note(o: Outcome) -> None:
    assert "connection failed" in str(o.error)


def _too_large(o: Outcome) -> None:
    notes = getattr(o.error, "__notes__", [])
    assert any("max_retry_after" in n for n in notes), notes
    assert o.waits == []


def _within(low: float, high: float) -> Callable[[Outcome], None]:
    def check(o: Outcome) -> None:
        took = o.elapsed
        assert low <= took <= high, f"timed out after {took:.3f} s, expected {low}..{high} s"

    return check


def _over_cap(o: Outcome) -> None:
    assert "size limit" in str(o.error), str(o.error)


CAP = 1 << 20  # the size cap the cases below set (1 MiB)
SSE_CRLF = [p.replace(b"\n", b"\r\n") for p in openai_sse(TEXTS)]
UNICODE = ["é", "😀 ", "naïve ", "日本語"]


def _split_utf8() -> list[bytes]:
    body = b"".join(openai_sse(UNICODE))
    # Split inside every multi-byte character: each piece ends one byte into a character.
    return [body[i:i + 3] for i in range(0, len(body), 3)]


MULTILINE = (
    b'data: {"id": "c1", "model": "m",\ndata:  "choices": [{"index": 0, "delta": '
    b'{"content": "multi"}}]}\n\n'
)
CASES: dict[str, Case] = {
    # --- 429 and Retry-After -------------------------------------------------------------
    "429-retry-after-seconds": Case(
        "invoke", lambda: [status(429, **{"retry-after": "0.02"}), ok_json()],
        both(expect_text("ok", 2), waits_are(lambda w: w == [0.02], "[0.02]"))),
    "429-retry-after-ms": Case(
        "invoke", lambda: [status(429, **{"retry-after-ms": "20"}), ok_json()],
        both(expect_text("ok", 2), waits_are(lambda w: w == [0.02], "[0.02]"))),
    "429-retry-after-http-date": Case(
        "invoke", lambda: [status(429, **{"retry-after": http_date(1)}), ok_json()],
        both(expect_text("ok", 2), waits_are(lambda w: len(w) == 1 and 0 <= w[0] <= 2.0,
                                             "one wait of 0..2 s"))),
    "429-retry-after-too-large": Case(
        "invoke", lambda: [status(429, **{"retry-after": "3600"})],
        expect_error(RateLimitError, 1, extra=_too_large)),
    "429-retry-after-garbage": Case(
        "invoke", lambda: [status(429, **{"retry-after": "soon, maybe"}), ok_json()],
        both(expect_text("ok", 2), waits_are(lambda w: len(w) == 1 and w[0] <= 0.002,
                                             "one backoff wait"))),
    "429-stream": Case(
        "stream", lambda: [status(429, **{"retry-after-ms": "1"}), ok_stream()],
        expect_text("Hello, world", 2)),
    # --- 5xx: retried -----------------------------------------------------------------------
    **{
        f"{code}-retried": Case("invoke", lambda code=code: [status(code), ok_json()],
                                expect_text("ok", 2))
        for code in (500, 502, 503, 504)
    },
    "503-stream-retried": Case("stream", lambda: [status(503), ok_stream()],
                               expect_text("Hello, world", 2)),
    "503-exhausted": Case("invoke", lambda: [status(503)] * 3,
                          expect_error(InternalServerError, 3)),
    "llamacpp-503-loading-model": Case(
        "invoke", lambda: [status(503, LOADING), status(503, LOADING), ok_json()],
        expect_text("ok", 3)),
    # --- 4xx: typed, never retried ------------------------------------------------------------
    **{
        f"{code}-not-retried-{kind}": Case(kind, lambda code=code: [status(code)],
                                           expect_error(cls, 1))
        for code, cls in ((400, BadRequestError), (401, AuthenticationError),
                          (403, PermissionDeniedError), (404, NotFoundError),
                          (422, UnprocessableEntityError))
        for kind in ("invoke", "stream")
    },
    # --- connections ------------------------------------------------------------------------
    "connection-refused": Case("invoke", lambda: [], both(
        expect_error(APIConnectionError, 0, extra=_refused_note)), refused=True),
    "reset-before-headers": Case(
        "invoke", lambda: [Act(reset_before_headers=True), ok_json()], expect_text("ok", 2)),
    "reset-before-headers-stream": Case(
        "stream", lambda: [Act(reset_before_headers=True), ok_stream()],
        expect_text("Hello, world", 2)),
    "reset-mid-body-invoke": Case(
        "invoke", lambda: [Act(200, {"content-type": "application/json"},
                               [b'{"id": "c1", "choi', b'ces": []}'], reset_after=1), ok_json()],
        expect_text("ok", 2)),
    "reset-after-0-chunks": Case(
        "stream", lambda: [Act.sse(openai_sse(TEXTS), reset_after=0), ok_stream()],
        expect_text("Hello, world", 2)),
    "reset-after-1-chunk": Case(
        "stream", lambda: [Act.sse(openai_sse(TEXTS), reset_after=1)],
        expect_interrupted(TEXTS[:1], APIConnectionError)),
    "reset-after-50-chunks": Case(
        "stream", lambda: [Act.sse(openai_sse(FIFTY), reset_after=50)],
        expect_interrupted(FIFTY[:50], APIConnectionError)),
    "stream-without-terminator": Case(
        "stream", lambda: [Act.sse(openai_sse(TEXTS, done=False))],
        expect_interrupted(TEXTS, APIConnectionError)),
    "stream-closed-mid-body": Case(
        "stream", lambda: [Act.sse(openai_sse(TEXTS, done=False), close_after=True)],
        expect_interrupted(TEXTS, APIConnectionError)),
    "stream-without-terminator-nothing-delivered": Case(
        "stream", lambda: [Act.sse([b": nothing\n\n"]), ok_stream()],
        expect_text("Hello, world", 2)),
    # --- error events inside a 200 stream -----------------------------------------------------
    "openai-error-event-first": Case(
        "stream", lambda: [Act.sse([OPENAI_ERROR_EVENT])], expect_error(BadRequestError, 1)),
    "openai-server-error-event-first-retried": Case(
        "stream", lambda: [Act.sse([OPENAI_SERVER_ERROR_EVENT]), ok_stream()],
        expect_text("Hello, world", 2)),
    "openai-error-event-mid-stream": Case(
        "stream", lambda: [Act.sse([*openai_sse(TEXTS, done=False)[:2], OPENAI_ERROR_EVENT])],
        expect_interrupted(TEXTS[:2], BadRequestError)),
    "anthropic-error-event-first-retried": Case(
        "stream", lambda: [Act.sse([ANTHROPIC_OVERLOADED]), Act.sse(anthropic_sse(TEXTS))],
        expect_text("Hello, world", 2), provider="anthropic"),
    "anthropic-error-event-mid-stream": Case(
        "stream",
        lambda: [Act.sse([*anthropic_sse(TEXTS, done=False)[:4], ANTHROPIC_OVERLOADED])],
        expect_interrupted(TEXTS[:2], InternalServerError), provider="anthropic"),
    "anthropic-ok": Case("stream", lambda: [Act.sse(anthropic_sse(TEXTS))],
                         expect_text("Hello, world", 1), provider="anthropic"),
    # --- SSE edge cases -------------------------------------------------------------------------
    "sse-crlf": Case("stream", lambda: [Act.sse(SSE_CRLF)], expect_text("Hello, world", 1)),
    "sse-comments": Case(
        "stream",
        lambda: [Act.sse([b": ping\n\n", *[b": keep-alive\n" + p for p in openai_sse(TEXTS)]])],
        expect_text("Hello, world", 1)),
    "sse-multiline-data": Case(
        "stream", lambda: [Act.sse([MULTILINE, b"data: [DONE]\n\n"])], expect_text("multi", 1)),
    "sse-utf8-split": Case(
        "stream", lambda: [Act.sse(_split_utf8())], expect_text("".join(UNICODE), 1)),
    "sse-one-byte-pieces": Case(
        "stream", lambda: [Act.sse([bytes([b]) for b in b"".join(openai_sse(TEXTS))])],
        expect_text("Hello, world", 1)),
    # --- bad bodies ------------------------------------------------------------------------------
    "non-json-200": Case("invoke", lambda: [Act.text("<html>proxy error</html>")],
                         expect_error(APIResponseValidationError, 1)),
    "non-json-event": Case("stream", lambda: [Act.sse([b"data: <html>\n\n"])],
                           expect_error(APIResponseValidationError, 1)),
    "event-json-not-an-object": Case("stream", lambda: [Act.sse([b"data: [1, 2]\n\n"])],
                                     expect_error(APIResponseValidationError, 1)),
    "event-wrong-shape": Case(
        "stream", lambda: [Act.sse([b'data: {"choices": [{"delta": "x"}]}\n\n'])],
        expect_error(APIResponseValidationError, 1)),
    "event-wrong-shape-mid-stream": Case(
        "stream", lambda: [Act.sse([*openai_sse(TEXTS, done=False)[:2],
                                    b'data: {"choices": 5}\n\n'])],
        expect_interrupted(TEXTS[:2], APIResponseValidationError)),
    "anthropic-event-wrong-shape": Case(
        "stream", lambda: [Act.sse([b'event: content_block_delta\ndata: {"delta": 3}\n\n'])],
        expect_error(APIResponseValidationError, 1), provider="anthropic"),
    "json-but-not-a-completion": Case("invoke", lambda: [Act.json({"hello": "world"})],
                                      expect_error(APIResponseValidationError, 1)),
    "over-size-cap-invoke": Case(
        "invoke", lambda: [Act.json(b"[" + b"1," * CAP + b"1]")],
        expect_error(APIResponseValidationError, 1, extra=_over_cap),
        settings={"max_response_bytes": CAP}),
    "over-size-cap-stream": Case(
        "stream", lambda: [Act.sse([b": " + b"x" * 4096 + b"\n"] * 300)],
        expect_error(APIResponseValidationError, 1, extra=_over_cap),
        settings={"max_response_bytes": CAP}),
    # --- silence and trickles: timeouts fire on time, never a hang ------------------------------
    "never-sends-headers": Case(
        "invoke", lambda: [Act(never_answer=True)],
        expect_error(APITimeoutError, 1, extra=_within(SILENCE, SILENCE * 1.1)),
        settings={**TIMED, "read_timeout": SILENCE}),
    "silent-after-headers": Case(
        "stream", lambda: [Act.sse([b": hi\n\n"], hang_after=True)],
        expect_error(APITimeoutError, 1, extra=_within(SILENCE, SILENCE * 1.1)),
        settings={**TIMED, "read_timeout": SILENCE}),
    "trickling-comments": Case(
        "stream", lambda: [Act.sse([b": ."] * 1000, delay=0.005)],
        expect_error(APITimeoutError, 1, extra=_within(SILENCE, SILENCE * 1.1)),
        settings={**TIMED, "timeout": SILENCE}),
}


# ---- running one call ----------------------------------------------------------------------
def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = int(s.getsockname()[1])
    s.close()
    return port


def make_model(case: Case, server: FaultServer) -> Any:
    settings = {**FAST, **case.settings}
    cap = settings.pop("max_response_bytes", None)
    host = f"http://127.0.0.1:{closed_port()}" if case.refused else server.url
    if case.provider == "anthropic":
        model = ChatAnthropic(model="claude", api_key=CANARY, base_url=host, **settings)
    else:
        model = ChatOpenAI(model="m", api_key=CANARY, base_url=host + "/v1", **settings)
    if cap is not None:
        model._transport.max_response_bytes = cap
    return model


def run_sync(model: Any, kind: str) -> Outcome:
    o = Outcome()
    start = time.monotonic()
    try:
        if kind == "invoke":
            o.text = model.invoke("hi").content
        else:
            for chunk in model.stream("hi"):
                if chunk.content:
                    o.seen.append(chunk.content)
            o.text = "".join(o.seen)
    except Exception as exc:
        o.error = exc
    o.elapsed = time.monotonic() - start
    return o


async def run_async(model: Any, kind: str) -> Outcome:
    o = Outcome()
    start = time.monotonic()
    try:
        if kind == "invoke":
            o.text = (await model.ainvoke("hi")).content
        else:
            async for chunk in model.astream("hi"):
                if chunk.content:
                    o.seen.append(chunk.content)
            o.text = "".join(o.seen)
    except Exception as exc:
        o.error = exc
    o.elapsed = time.monotonic() - start
    return o


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record every retry wait; the waits still happen (capped at 50 ms to stay fast)."""
    recorded: list[float] = []
    real_sleep, real_asleep = transport_module._sleep, transport_module._asleep

    def sleep(delay: float) -> None:
        recorded.append(delay)
        real_sleep(min(delay, 0.05))

    async def asleep(delay: float) -> None:
        recorded.append(delay)
        await real_asleep(min(delay, 0.05))

    monkeypatch.setattr(transport_module, "_sleep", sleep)
    monkeypatch.setattr(transport_module, "_asleep", asleep)
    return recorded


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="chainkit")
    caplog.set_level(logging.DEBUG, logger="httpx")
    caplog.set_level(logging.DEBUG, logger="httpcore")
    caplog.set_level(logging.DEBUG, logger="httpx2")
    caplog.set_level(logging.DEBUG, logger="httpcore2")
    return caplog


def _judge(case: Case, o: Outcome, model: Any, server: FaultServer, before: int,
           waits: list[float], rep: int) -> None:
    o.requests = len(server.requests) - before
    o.waits = list(waits)
    waits.clear()
    try:
        case.check(o)
    except AssertionError as exc:
        raise AssertionError(f"repetition {rep}: {exc}") from exc
    assert server.pending == 0, f"repetition {rep}: {server.pending} planned answer(s) unused"
    assert pool_active(model) == 0, f"repetition {rep}: a request is still checked out"
    if o.error is not None:
        assert_no_canary(o.error)


def _judge_wave(case: Case, outcomes: list[Outcome], model: Any, server: FaultServer,
                before: int, rep: int) -> None:
    """Timed cases: each call of a wave made one request and timed out on time."""
    assert len(server.requests) - before == len(outcomes)
    for o in outcomes:
        o.requests = 1
        try:
            case.check(o)
        except AssertionError as exc:
            raise AssertionError(f"wave at repetition {rep}: {exc}") from exc
        assert o.error is not None
        assert_no_canary(o.error)
    assert server.pending == 0
    assert pool_active(model) == 0, f"wave at repetition {rep}: a request is still checked out"


def _warm_up(case: Case, server: FaultServer) -> None:
    # The first call also creates the HTTP client; time only the calls after it.
    server.plan(*[ok_json() if case.kind == "invoke" else ok_stream()] * WAVE)


@pytest.mark.parametrize("name", list(CASES))
def test_fault_matrix_sync(
    name: str, server: FaultServer, waits: list[float], debug_logs: pytest.LogCaptureFixture
) -> None:
    case = CASES[name]
    with make_model(case, server) as model:
        if case.timed:
            _warm_up(case, server)
            with ThreadPoolExecutor(WAVE) as pool:
                list(pool.map(lambda _: run_sync(model, case.kind), range(WAVE)))
                for rep in range(0, REPS, WAVE):
                    server.plan(*[a for _ in range(WAVE) for a in case.acts()])
                    before = len(server.requests)
                    outcomes = list(pool.map(lambda _: run_sync(model, case.kind), range(WAVE)))
                    _judge_wave(case, outcomes, model, server, before, rep)
        else:
            for rep in range(REPS):
                server.plan(*case.acts())
                before = len(server.requests)
                o = run_sync(model, case.kind)
                _judge(case, o, model, server, before, waits, rep)
    assert server.wait_closed() == 0
    assert_no_canary(debug_logs.text)
    assert_key_only_in_auth(server.requests, case.provider)


@pytest.mark.parametrize("name", list(CASES))
async def test_fault_matrix_async(
    name: str, server: FaultServer, waits: list[float], debug_logs: pytest.LogCaptureFixture
) -> None:
    case = CASES[name]
    async with make_model(case, server) as model:
        if case.timed:
            _warm_up(case, server)
            await asyncio.gather(*[run_async(model, case.kind) for _ in range(WAVE)])
            for rep in range(0, REPS, WAVE):
                server.plan(*[a for _ in range(WAVE) for a in case.acts()])
                before = len(server.requests)
                outcomes = await asyncio.gather(
                    *[run_async(model, case.kind) for _ in range(WAVE)]
                )
                _judge_wave(case, list(outcomes), model, server, before, rep)
        else:
            for rep in range(REPS):
                server.plan(*case.acts())
                before = len(server.requests)
                o = await run_async(model, case.kind)
                _judge(case, o, model, server, before, waits, rep)
    assert await server.await_closed() == 0
    assert_no_canary(debug_logs.text)
    assert_key_only_in_auth(server.requests, case.provider)


def test_matrix_covers_the_issue() -> None:
    """The matrix holds every fault the reliability issue lists (a guard against edits)."""
    needed = [
        "429-retry-after-seconds", "429-retry-after-ms", "429-retry-after-http-date",
        "429-retry-after-too-large", "429-retry-after-garbage", "500-retried", "502-retried",
        "503-retried", "504-retried", "llamacpp-503-loading-model", "400-not-retried-invoke",
        "401-not-retried-invoke", "403-not-retried-invoke", "404-not-retried-invoke",
        "422-not-retried-invoke", "connection-refused", "reset-before-headers",
        "reset-after-0-chunks", "reset-after-1-chunk", "reset-after-50-chunks",
        "stream-without-terminator", "openai-error-event-mid-stream",
        "anthropic-error-event-mid-stream", "sse-crlf", "sse-comments", "sse-multiline-data",
        "sse-utf8-split", "non-json-200", "trickling-comments", "never-sends-headers",
        "over-size-cap-invoke",
    ]
    assert not [n for n in needed if n not in CASES]
