"""OpenTelemetry export: spans per run, nested as the run tree, GenAI attributes on model spans,
errors as span status; checked with the SDK's in-memory exporter."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import chainkit.tracing.context as ctx
from chainkit.models.http.testing import Reply, ScriptedServer
from chainkit.models.openai import ChatOpenAI
from chainkit.prompts import ChatPromptTemplate
from chainkit.runnables import RunnableLambda
from chainkit.tracing.otel import OTelExporter, disable_otel, enable_otel


@pytest.fixture
def spans() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    yield provider, memory
    disable_otel()


def _by_name(memory: InMemorySpanExporter) -> dict[str, Any]:
    return {s.name: s for s in memory.get_finished_spans()}


def test_chain_spans_nest_and_model_span_has_genai_attributes(
    spans: tuple[TracerProvider, InMemorySpanExporter], chain: Any
) -> None:
    provider, memory = spans
    assert chain.invoke({"x": "y"}, {"callbacks": [OTelExporter(provider)]}) == "hello world"
    got = _by_name(memory)
    assert set(got) == {"RunnableSequence", "ChatPromptTemplate", "chat fake", "StrOutputParser"}
    root = got["RunnableSequence"]
    assert root.parent is None
    for name in ("ChatPromptTemplate", "chat fake", "StrOutputParser"):
        assert got[name].parent.span_id == root.context.span_id
        assert got[name].context.trace_id == root.context.trace_id
    model = got["chat fake"]
    assert model.kind == SpanKind.CLIENT and root.kind == SpanKind.INTERNAL
    attrs = dict(model.attributes)
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.provider.name"] == "generic-fake-chat-model"
    assert attrs["gen_ai.usage.input_tokens"] == 2 and attrs["gen_ai.usage.output_tokens"] == 2
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert attrs["gen_ai.response.model"] == "fake"
    assert attrs["chainkit.run.type"] == "chat_model"
    assert "gen_ai.input.messages" not in attrs  # content is opt-in
    assert model.start_time >= root.start_time and model.end_time <= root.end_time


def test_openai_request_attributes_and_content_capture(
    spans: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    provider, memory = spans
    body = {"id": "chatcmpl-42", "object": "chat.completion", "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "finish_reason": "length",
                         "message": {"role": "assistant", "content": "Bonjour"}}],
            "usage": {"prompt_tokens": 9, "completion_tokens": 1, "total_tokens": 10}}
    server = ScriptedServer(Reply.json(body))
    model = ChatOpenAI(model="gpt-4o-mini", temperature=0.2, max_tokens=5,
                       base_url="http://llm.test:8080/v1", api_key="sk-secretsecret123",
                       http_client=server.client())
    prompt = ChatPromptTemplate.from_messages([("system", "Translate"), ("human", "{t}")])
    enable_otel(provider, capture_content=True)
    chain = prompt | model.bind(stop=["\n"])
    assert ctx.global_listeners and chain.invoke({"t": "Hello"}).content == "Bonjour"
    span = _by_name(memory)["chat gpt-4o-mini"]
    attrs = dict(span.attributes)
    assert attrs["gen_ai.provider.name"] == "openai" == attrs["gen_ai.system"]
    assert attrs["gen_ai.request.model"] == "gpt-4o-mini"
    assert attrs["gen_ai.request.temperature"] == 0.2 and attrs["gen_ai.request.max_tokens"] == 5
    assert attrs["gen_ai.request.stop_sequences"] == ("\n",)
    assert attrs["server.address"] == "llm.test" and attrs["server.port"] == 8080
    assert attrs["gen_ai.response.model"] == "gpt-4o-mini-2024-07-18"
    assert attrs["gen_ai.response.finish_reasons"] == ("length",)
    assert attrs["gen_ai.response.id"] == "chatcmpl-42"
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (9, 1)
    assert '"role":"system"' in attrs["gen_ai.input.messages"]
    assert '"content":"Bonjour"' in attrs["gen_ai.output.messages"]
    assert "sk-secretsecret123" not in str(attrs)
    disable_otel()
    assert ctx.global_listeners == ()


def test_errors_set_status_and_root_joins_the_current_span(
    spans: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    provider, memory = spans

    def boom(x: Any) -> Any:
        raise ValueError("bad input")

    exporter = OTelExporter(provider)
    outer = provider.get_tracer("app")
    with outer.start_as_current_span("http request") as request_span, pytest.raises(ValueError):
        RunnableLambda(boom, name="boom").invoke(1, {"callbacks": [exporter]})
    got = _by_name(memory)
    span = got["boom"]
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes["error.type"] == "ValueError"
    assert span.events[0].name == "exception"
    assert span.parent.span_id == request_span.get_span_context().span_id


async def test_async_runs_export_too(
    spans: tuple[TracerProvider, InMemorySpanExporter], chain: Any
) -> None:
    provider, memory = spans
    enable_otel(provider)
    assert await chain.ainvoke({"x": "y"}) == "hello world"
    assert len(memory.get_finished_spans()) == 4
