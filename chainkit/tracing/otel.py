"""OpenTelemetry export: every run becomes a span, following the GenAI semantic conventions.

Install the ``chainkit[otel]`` extra (opentelemetry-api and -sdk), configure a tracer provider
as usual, then either pass `OTelExporter()` as a callback or call `enable_otel()` once.

Span shapes:

- a chat model run: span ``chat {model}``, kind CLIENT, with ``gen_ai.operation.name=chat``,
  ``gen_ai.provider.name`` (and the older ``gen_ai.system``), ``gen_ai.request.model``,
  ``gen_ai.request.temperature`` / ``max_tokens`` / ``top_p`` / ``top_k`` / ``seed`` /
  ``stop_sequences`` / ``frequency_penalty`` / ``presence_penalty``, ``server.address`` /
  ``server.port`` (from the base URL), and at the end ``gen_ai.response.model``,
  ``gen_ai.response.id``, ``gen_ai.response.finish_reasons``, ``gen_ai.usage.input_tokens``,
  ``gen_ai.usage.output_tokens``;
- a tool run: ``execute_tool {name}`` with ``gen_ai.operation.name=execute_tool`` and
  ``gen_ai.tool.name``;
- any other run: a span named after the run, kind INTERNAL.

Every span carries ``chainkit.run.id``, ``chainkit.run.type`` and its tags; spans nest as the
runs do, and a root run's span is a child of whatever span is current (your web request).
A failed run sets status ERROR, ``error.type`` and records the exception. Message content is
not exported unless ``capture_content=True`` (then ``gen_ai.input.messages`` /
``gen_ai.output.messages`` for models, ``chainkit.inputs`` / ``chainkit.outputs`` otherwise,
as JSON with secrets masked).
"""

from __future__ import annotations

import sys
from typing import Any
from urllib.parse import urlsplit

from chainkit.tracing.context import (
    MODEL_RUN_TYPES,
    Run,
    add_global_listener,
    remove_global_listener,
)
from chainkit.tracing.store.rows import model_name
from chainkit.tracing.store.serialize import dumps, to_jsonable

try:
    from opentelemetry import trace
    from opentelemetry.trace import SpanKind, Status, StatusCode
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "OpenTelemetry export needs the 'otel' extra: pip install 'chainkit[otel]' "
        f"({exc.name} is missing)"
    ) from None

__all__ = ["OTelExporter", "disable_otel", "enable_otel"]

_PROVIDERS = {"openai-chat": "openai", "anthropic-chat": "anthropic", "llamacpp": "llama_cpp"}
_REQUEST_PARAMS = {
    "temperature": "gen_ai.request.temperature",
    "max_tokens": "gen_ai.request.max_tokens",
    "max_output_tokens": "gen_ai.request.max_tokens",
    "top_p": "gen_ai.request.top_p",
    "top_k": "gen_ai.request.top_k",
    "seed": "gen_ai.request.seed",
    "frequency_penalty": "gen_ai.request.frequency_penalty",
    "presence_penalty": "gen_ai.request.presence_penalty",
}
_CONTENT_CHARS = 16 * 1024


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, bool, int, float))


class OTelExporter:
    """Emits one OpenTelemetry span per run (a chainkit run listener; see the module doc).

    Args:
        tracer_provider: Where spans go (default: the global provider).
        capture_content: Also export inputs/outputs and messages (masked JSON).

    Example:
        >>> from opentelemetry.sdk.trace import TracerProvider
        >>> exporter = OTelExporter(TracerProvider())
        >>> chain.invoke({"q": "hi"}, {"callbacks": [exporter]})
    """

    def __init__(self, tracer_provider: Any = None, *, capture_content: bool = False) -> None:
        provider = tracer_provider if tracer_provider is not None else trace.get_tracer_provider()
        version = str(getattr(sys.modules.get("chainkit"), "__version__", ""))
        self._tracer = provider.get_tracer("chainkit", version or None)
        self.capture_content = capture_content
        self._spans: dict[Any, Any] = {}

    def on_run_start(self, run: Run) -> None:
        parent = self._spans.get(run.parent_run_id) if run.parent_run_id is not None else None
        context = trace.set_span_in_context(parent) if parent is not None else None
        attrs: dict[str, Any] = {"chainkit.run.id": str(run.id),
                                 "chainkit.run.type": run.run_type}
        if run.tags:
            attrs["chainkit.run.tags"] = [str(t) for t in run.tags]
        kind, name = SpanKind.INTERNAL, run.name
        if run.run_type in MODEL_RUN_TYPES:
            kind = SpanKind.CLIENT
            attrs.update(self._request_attrs(run))
            operation = "chat" if run.run_type == "chat_model" else "text_completion"
            model = attrs.get("gen_ai.request.model")
            name = f"{operation} {model}" if model else operation
            attrs["gen_ai.operation.name"] = operation
        elif run.run_type == "tool":
            attrs.update({"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": run.name})
            name = f"execute_tool {run.name}"
        self._spans[run.id] = self._tracer.start_span(
            name, context=context, kind=kind, attributes=attrs, start_time=run.start_ns
        )

    def on_run_end(self, run: Run) -> None:
        span = self._spans.pop(run.id, None)
        if span is None:
            return
        if run.run_type in MODEL_RUN_TYPES:
            for key, value in self._response_attrs(run).items():
                span.set_attribute(key, value)
        if self.capture_content:
            self._content(span, run)
        if run.error is not None:
            span.set_status(Status(StatusCode.ERROR, f"{type(run.error).__name__}"))
            span.set_attribute("error.type", type(run.error).__qualname__)
            span.record_exception(run.error)
        span.end(end_time=run.end_ns)

    # ---- attributes -----------------------------------------------------------------------
    @staticmethod
    def _request_attrs(run: Run) -> dict[str, Any]:
        params = run.extra.get("invocation_params") or {}
        llm_type = params.get("_type") if isinstance(params, dict) else None
        attrs: dict[str, Any] = {}
        if isinstance(llm_type, str):
            provider = _PROVIDERS.get(llm_type, llm_type)
            attrs["gen_ai.provider.name"] = provider
            attrs["gen_ai.system"] = provider
        model = model_name(run)
        if model:
            attrs["gen_ai.request.model"] = model
        if not isinstance(params, dict):
            return attrs
        for key, attr in _REQUEST_PARAMS.items():
            if _scalar(params.get(key)):
                attrs[attr] = params[key]
        stop = params.get("stop")
        if isinstance(stop, str):
            stop = [stop]
        if isinstance(stop, (list, tuple)) and stop and all(isinstance(s, str) for s in stop):
            attrs["gen_ai.request.stop_sequences"] = list(stop)
        base = params.get("base_url") or params.get("openai_api_base")
        if isinstance(base, str):
            parts = urlsplit(base)
            if parts.hostname:
                attrs["server.address"] = parts.hostname
                if parts.port:
                    attrs["server.port"] = parts.port
        return attrs

    @staticmethod
    def _response_attrs(run: Run) -> dict[str, Any]:
        attrs: dict[str, Any] = {}
        out = run.outputs
        meta = getattr(out, "response_metadata", None) or {}
        if isinstance(meta, dict):
            if isinstance(meta.get("model_name"), str):
                attrs["gen_ai.response.model"] = meta["model_name"]
            reason = meta.get("finish_reason") or meta.get("stop_reason")
            if isinstance(reason, str):
                attrs["gen_ai.response.finish_reasons"] = [reason]
            if isinstance(meta.get("id"), str):
                attrs["gen_ai.response.id"] = meta["id"]
        msg_id = getattr(out, "id", None)
        if "gen_ai.response.id" not in attrs and isinstance(msg_id, str) \
                and not msg_id.startswith(("run-", "lc_")):
            attrs["gen_ai.response.id"] = msg_id
        usage = run.usage or {}
        if isinstance(usage.get("input_tokens"), int):
            attrs["gen_ai.usage.input_tokens"] = usage["input_tokens"]
        if isinstance(usage.get("output_tokens"), int):
            attrs["gen_ai.usage.output_tokens"] = usage["output_tokens"]
        return attrs

    def _content(self, span: Any, run: Run) -> None:
        if run.run_type in MODEL_RUN_TYPES:
            messages = getattr(run.inputs, "messages", None) or run.inputs
            span.set_attribute("gen_ai.input.messages", _messages_json(messages))
            if run.outputs is not None:
                span.set_attribute("gen_ai.output.messages", _messages_json([run.outputs]))
            return
        for key, value in (("chainkit.inputs", run.inputs), ("chainkit.outputs", run.outputs)):
            text = dumps(value, max_chars=_CONTENT_CHARS)
            if text is not None:
                span.set_attribute(key, text)


def _messages_json(messages: Any) -> str:
    """Messages in the GenAI conventions' shape: ``[{"role", "parts": [{"type": "text",
    "content"}]}]`` (anything that is not a message list is exported as plain JSON)."""
    if not isinstance(messages, (list, tuple)):
        return dumps(messages, max_chars=_CONTENT_CHARS) or "null"
    roles = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}
    out = []
    for m in messages:
        kind = getattr(m, "type", None)
        content = getattr(m, "content", m)
        parts = ([{"type": "text", "content": content}] if isinstance(content, str)
                 else to_jsonable(content, max_chars=_CONTENT_CHARS))
        out.append({"role": roles.get(str(kind), str(kind)), "parts": parts})
    return dumps(out, max_chars=_CONTENT_CHARS) or "[]"


_installed: OTelExporter | None = None


def enable_otel(tracer_provider: Any = None, *, capture_content: bool = False) -> OTelExporter:
    """Export every run from now on as OpenTelemetry spans (replacing an earlier exporter)."""
    global _installed
    disable_otel()
    _installed = OTelExporter(tracer_provider, capture_content=capture_content)
    add_global_listener(_installed)
    return _installed


def disable_otel() -> None:
    """Stop the exporter installed by `enable_otel`."""
    global _installed
    if _installed is not None:
        remove_global_listener(_installed)
        _installed = None
