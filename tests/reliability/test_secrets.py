"""Figure 7: the API key never leaks.

Every client gets the canary key ``sk-CANARY-<uuid>``. Then, with DEBUG logging on for the
``chainkit``, ``httpx``/``httpcore`` (and ``httpx2``/``httpcore2``) loggers: successful calls,
every error path (including a server that echoes the key back in its body and headers), the
``repr``/``str`` of every public class that takes a key and of everything built from it
(bindings, retries, fallbacks, tools, structured output, chains, graphs, drawings), run
records, ``astream_events``/``astream_log`` output, and the local trace store's files. Zero
occurrences of the key or a piece of it. In the requests the server saw, the key appears only
in the authentication header. (The fault matrix runs with the canary key too.)
"""

from __future__ import annotations

import inspect
import logging
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import chainkit
import chainkit.models
from chainkit.models import ChatAnthropic, ChatOpenAI
from chainkit.models.http import APIError
from chainkit.parsers import StrOutputParser
from chainkit.prompts import ChatPromptTemplate
from chainkit.runnables import RunnableParallel
from tests.reliability.canary import CANARY, assert_key_only_in_auth, assert_no_canary
from tests.reliability.fault_server import Act, FaultServer, anthropic_sse, openai_sse

LOGGERS = ("chainkit", "httpx", "httpcore", "httpx2", "httpcore2")
ECHO = {"error": {"message": f"Incorrect API key provided: {CANARY}", "type": "auth",
                  "key": CANARY}}


class Weather(BaseModel):
    """Weather in a city."""

    city: str


def get_weather(city: str) -> str:
    """Current weather in a city."""
    return "sunny"


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def check_logs(logs: pytest.LogCaptureFixture) -> None:
    """No log line of chainkit or httpx shows the key. httpcore's DEBUG trace prints the
    response headers as received, so a server that echoes the key in a response header is
    shown there (outside chainkit's control); it never prints request headers."""
    for record in logs.records:
        message = record.getMessage()
        if record.name.startswith("httpcore") and "receive_response_headers" in message:
            continue
        assert_no_canary([message, repr(record.args)])


def models(server: FaultServer) -> list[Any]:
    return [
        ChatOpenAI(model="m", api_key=CANARY, base_url=server.url + "/v1", max_retries=1,
                   backoff_base=0.001, backoff_max=0.001),
        ChatAnthropic(model="c", api_key=CANARY, base_url=server.url, max_retries=1,
                      backoff_base=0.001, backoff_max=0.001),
    ]


def ok_answer(provider: str) -> Act:
    if provider == "anthropic":
        return Act.json({"id": "msg", "type": "message", "role": "assistant", "model": "c",
                         "content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn",
                         "usage": {"input_tokens": 1, "output_tokens": 1}})
    return Act.json({"id": "c", "model": "m", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}
    ]})


def provider_of(model: Any) -> str:
    return "anthropic" if isinstance(model, ChatAnthropic) else "openai"


def derived(model: Any) -> list[Any]:
    """Everything a user builds around a model, and its views."""
    prompt = ChatPromptTemplate.from_messages([("human", "{q}")])
    chain = prompt | model | StrOutputParser()
    built = [
        model, model._transport, model.bind(stop=["x"]), model.with_retry(),
        model.with_fallbacks([model]), model.with_config(tags=["t"]),
        model.bind_tools([get_weather]), model.with_structured_output(Weather), chain,
        RunnableParallel(a=model, b=chain),
    ]
    views: list[Any] = []
    for thing in built:
        views += [repr(thing), str(thing)]
        if hasattr(thing, "get_graph"):
            graph = thing.get_graph()
            views += [graph.draw_ascii(), graph.draw_mermaid(), repr(graph)]
    views += [model._identifying_params, model._run_extra({}), vars(model)]
    if hasattr(model, "model_dump"):
        views.append(model.model_dump())
    return views


def public_classes_taking_a_key() -> list[type]:
    found: dict[str, type] = {}
    for module in (chainkit, chainkit.models):
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name, None)
            if not inspect.isclass(obj):
                continue
            try:
                parameters = inspect.signature(obj).parameters
            except (TypeError, ValueError):  # TypedDicts and builtins
                continue
            if "api_key" in parameters:
                found[name] = obj
    return list(found.values())


def test_every_public_class_with_a_key_hides_it(server: FaultServer) -> None:
    classes = public_classes_taking_a_key()
    assert {ChatOpenAI, ChatAnthropic} <= set(classes)
    for cls in classes:
        instance = cls(api_key=CANARY, base_url=server.url)
        assert_no_canary([repr(instance), str(instance), *derived(instance)])
        instance.close()


def test_calls_and_error_paths_never_show_the_key(
    server: FaultServer, logs: pytest.LogCaptureFixture
) -> None:
    errors: list[BaseException] = []
    for model in models(server):
        provider = provider_of(model)
        stream_ok = Act.sse(anthropic_sse(["a", "b"]) if provider == "anthropic"
                            else openai_sse(["a", "b"]))
        plans = [
            [ok_answer(provider)], [stream_ok],
            [Act.json(ECHO, status=401, headers={"x-echo": CANARY})],
            [Act.json(ECHO, status=400, headers={"www-authenticate": f"Bearer {CANARY}"})],
            [Act.json(ECHO, status=500), Act.json(ECHO, status=503)],
            [Act.text(f"<html>{CANARY}</html>")],
            [Act.sse([f"data: {{\"error\": {{\"message\": \"{CANARY}\"}}}}\n\n".encode()]),
             Act.sse([f"event: error\ndata: {{\"error\": {{\"type\": \"x\", \"message\": "
                      f"\"{CANARY}\"}}}}\n\n".encode()])],
            [Act.sse([b"data: {not json " + CANARY.encode() + b"\n\n"])],
            [Act(reset_before_headers=True), Act(reset_before_headers=True)],
        ]
        for plan in plans:
            for call in ("invoke", "stream"):
                server.plan(*plan)
                try:
                    if call == "invoke":
                        model.invoke("hi")
                    else:
                        list(model.stream("hi"))
                except APIError as exc:
                    errors.append(exc)
                server.plan()
        model.close()
    assert len(errors) > 20
    assert_no_canary(errors)
    for exc in errors:
        response = getattr(exc, "response", None)
        if response is not None:
            assert_no_canary([response.text, repr(response.headers)])
        assert_no_canary(repr(getattr(exc, "body", None)))
    check_logs(logs)
    openai_requests = [r for r in server.requests if r.path.startswith("/v1/chat")]
    anthropic_requests = [r for r in server.requests if r.path == "/v1/messages"]
    assert openai_requests and anthropic_requests
    assert_key_only_in_auth(openai_requests, "openai")
    assert_key_only_in_auth(anthropic_requests, "anthropic")


async def test_run_records_events_and_logs_never_show_the_key(
    server: FaultServer, logs: pytest.LogCaptureFixture
) -> None:
    runs: list[Any] = []

    class Recorder:
        def on_run_start(self, run: Any) -> None:
            runs.append(run)

        def on_run_end(self, run: Any) -> None:
            runs.append(run)

    for model in models(server):
        provider = provider_of(model)
        chain = ChatPromptTemplate.from_messages([("human", "{q}")]) | model | StrOutputParser()
        stream_ok = Act.sse(anthropic_sse(["a", "b"]) if provider == "anthropic"
                            else openai_sse(["a", "b"]))
        server.plan(ok_answer(provider), stream_ok, stream_ok)
        await chain.ainvoke({"q": "hi"}, {"callbacks": [Recorder()]})
        events = [e async for e in chain.astream_events({"q": "hi"}, version="v2")]
        patches = [p async for p in chain.astream_log({"q": "hi"})]
        assert_no_canary([repr(events), repr(patches)])
        await model.aclose()
    assert runs
    assert_no_canary([
        repr(r.__class__) + repr([getattr(r, s, None) for s in r.__slots__]) for r in runs
    ])
    check_logs(logs)


def test_trace_store_file_never_holds_the_key(server: FaultServer, tmp_path: Path) -> None:
    store_module = pytest.importorskip("chainkit.tracing.store")
    store = store_module.TraceStore(tmp_path / "traces.db")
    try:
        for model in models(server):
            provider = provider_of(model)
            chain = ChatPromptTemplate.from_messages([("human", "{q}")]) | model
            server.plan(ok_answer(provider), Act.json(ECHO, status=401))
            chain.invoke({"q": "hi"}, {"callbacks": [store]})
            with pytest.raises(APIError):
                chain.invoke({"q": "hi"}, {"callbacks": [store]})
            model.close()
        assert store.flush()
    finally:
        store.close()
    files = list(tmp_path.iterdir())
    assert files, "the store wrote nothing"
    for path in files:
        data = path.read_bytes()
        assert data, path
        assert_no_canary(data.decode("latin-1"))
