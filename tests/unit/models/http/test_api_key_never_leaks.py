"""A canary API key must never show up in errors, reprs, run records, logs or tracebacks,
for every kind of failure, even when a server echoes the key back."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import traceback
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from chainkit.models import ChatAnthropic, ChatOpenAI
from chainkit.models.http import APIError
from chainkit.models.http._lib import httpx
from chainkit.models.http.testing import Reply, ScriptedServer

CANARY = "sk-canary-7f3a9b1c5d2e8f40"


class _Recorder:
    def __init__(self) -> None:
        self.runs: list[Any] = []

    def on_run_start(self, run: Any) -> None:
        self.runs.append(run)


class _EchoHandler(BaseHTTPRequestHandler):
    """Answers 401 quoting every request header back in its body (a badly behaved server)."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        body = json.dumps({"error": {"message": f"bad key; you sent {dict(self.headers)}",
                                     "type": "authentication_error"}}).encode()
        self.send_response(401)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def echo_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def assert_clean(exc: BaseException, caplog: pytest.LogCaptureFixture) -> None:
    texts = [str(exc), repr(exc), repr(exc.args), "".join(traceback.format_exception(exc))]
    if isinstance(exc, APIError):
        texts += [repr(getattr(exc, "body", None)), repr(vars(exc))]
        response = getattr(exc, "response", None)
        if response is not None:
            texts += [response.text, repr(response.headers)]
    for record in caplog.records:
        texts += [record.getMessage(), repr(record.args), logging.Formatter().format(record)]
    for text in texts:
        assert CANARY not in text, text


def openai(url: str, **kwargs: Any) -> ChatOpenAI:
    return ChatOpenAI(model="m", api_key=CANARY, base_url=url + "/v1", max_retries=1,
                      backoff_base=0.001, **kwargs)


def anthropic(url: str, **kwargs: Any) -> ChatAnthropic:
    return ChatAnthropic(model="m", api_key=CANARY, base_url=url, max_retries=1,
                         backoff_base=0.001, **kwargs)


MAKERS: dict[str, Callable[..., Any]] = {"openai": openai, "anthropic": anthropic}


@pytest.fixture(params=["openai", "anthropic"])
def make(request: pytest.FixtureRequest) -> Callable[..., Any]:
    return MAKERS[str(request.param)]


@pytest.fixture(autouse=True)
def _debug_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)


@pytest.mark.parametrize("mode", ["invoke", "ainvoke", "stream", "astream"])
def test_echoing_server_over_real_sockets(make, echo_url, caplog, mode):
    model = make(echo_url)
    with pytest.raises(APIError) as info:
        if mode == "invoke":
            model.invoke("hi")
        elif mode == "stream":
            list(model.stream("hi"))
        elif mode == "ainvoke":
            asyncio.run(model.ainvoke("hi"))
        else:
            async def run() -> None:
                async for _ in model.astream("hi"):
                    pass
            asyncio.run(run())
    assert getattr(info.value, "status_code", None) == 401
    assert "***" in str(info.value)  # the echoed key was there, and was scrubbed
    assert_clean(info.value, caplog)
    model.close()


def test_connection_refused_and_retry_logs(make, caplog):
    model = make("http://127.0.0.1:9")  # nothing listens on the discard port
    with pytest.raises(APIError) as info:
        model.invoke("hi")
    assert any("retrying" in r.getMessage() for r in caplog.records)
    assert_clean(info.value, caplog)


@pytest.mark.parametrize(
    "reply",
    [
        Reply(fail_before=httpx.ReadTimeout("timed out")),
        Reply(200, [b"{broken"]),
        Reply.json({"error": {"message": f"key {CANARY} is revoked"}}, 403),
        Reply.json({"error": {"message": f"slow down {CANARY}"}}, 429,
                   headers={"retry-after": "999"}),
    ],
)
def test_scripted_failures(make, caplog, reply):
    server = ScriptedServer(reply, reply)
    model = make("http://x.test", http_client=server.client())
    with pytest.raises(APIError) as info:
        model.invoke("hi")
    assert_clean(info.value, caplog)


def test_interrupted_stream_and_error_events(caplog):
    leak = {"error": {"message": f"internal failure for {CANARY}", "type": "server_error"}}
    events = [{"choices": [{"index": 0, "delta": {"content": "Hi"}}]}, leak]
    server = ScriptedServer(Reply.sse(events))
    model = openai("http://x.test", http_client=server.client())
    with pytest.raises(APIError) as info:
        list(model.stream("hi"))
    assert_clean(info.value, caplog)
    assert info.value.__cause__ is not None
    assert CANARY not in repr(vars(info.value.__cause__))


def test_model_repr_params_and_run_records(make):
    server = ScriptedServer(handler=lambda request: Reply.json({}, 500))
    model = make("http://x.test", http_client=server.client())
    recorder = _Recorder()
    with pytest.raises(APIError):
        model.invoke("hi", {"callbacks": [recorder]})
    texts = [repr(model), str(model), repr(model._identifying_params),
             repr(model._run_extra({})), repr(model._transport)]
    texts += [repr({name: getattr(run, name, None) for name in type(run).__slots__})
              for run in recorder.runs]
    assert recorder.runs
    for text in texts:
        assert CANARY not in text, text
