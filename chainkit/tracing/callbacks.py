"""`HandlerListener`: feeds chainkit's run events to a LangChain-style callback handler.

A handler is any object with some of LangChain's callback methods (same names, same
signatures); subclassing `chainkit.tracing.BaseCallbackHandler` is optional. `HandlerListener`
maps each run event onto them by run type:

============  ======================  =================  =====================  ==============
run type      start                   stream chunk       end                    error
============  ======================  =================  =====================  ==============
chat_model    on_chat_model_start     on_llm_new_token   on_llm_end(LLMResult)  on_llm_error
              (else on_llm_start)
llm           on_llm_start            on_llm_new_token   on_llm_end(LLMResult)  on_llm_error
tool          on_tool_start           -                  on_tool_end            on_tool_error
retriever     on_retriever_start      -                  on_retriever_end       on_retriever_error
other         on_chain_start          -                  on_chain_end           on_chain_error
============  ======================  =================  =====================  ==============

Every call gets ``run_id``, ``parent_run_id`` and ``tags`` as keywords; starts also get
``metadata`` and ``name`` (and ``invocation_params`` for models). Custom events go to
``on_custom_event(name, data, run_id=..., tags=..., metadata=...)``.

Delivery. On a sync call, handlers run inline, in order; an ``async def`` method runs to
completion through `run_coroutine_sync`. On an async call the event loop is never blocked by a
handler: each call is queued, in order, and one background task delivers the queue, awaiting
``async def`` methods on the loop and running sync methods in the loop's default executor
(consecutive sync calls share one thread hop). The root ``ainvoke``/``astream`` waits for the
queue to empty before it returns, so afterwards every handler has seen every event. Queuing
keeps a slow handler from slowing the chain; the cost is one thread hop per burst of sync calls.

A handler that raises is logged and detached; the chain's result is unaffected.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import threading
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from chainkit.messages import BaseMessage, BaseMessageChunk, convert_to_messages, get_buffer_string
from chainkit.models.outputs import ChatGeneration, ChatGenerationChunk, LLMResult
from chainkit.tracing.context import MODEL_RUN_TYPES, PENDING, Run
from chainkit.tracing.handlers import AsyncCallbackHandler, BaseCallbackHandler

logger = logging.getLogger("chainkit.tracing")

__all__ = ["HandlerListener", "llm_result"]

# The attribute that makes a handler skip a method, LangChain's names.
_IGNORE_FLAG = {
    "on_llm_start": "ignore_llm",
    "on_llm_new_token": "ignore_llm",
    "on_llm_end": "ignore_llm",
    "on_llm_error": "ignore_llm",
    "on_chat_model_start": "ignore_chat_model",
    "on_chain_start": "ignore_chain",
    "on_chain_end": "ignore_chain",
    "on_chain_error": "ignore_chain",
    "on_tool_start": "ignore_agent",
    "on_tool_end": "ignore_agent",
    "on_tool_error": "ignore_agent",
    "on_retriever_start": "ignore_retriever",
    "on_retriever_end": "ignore_retriever",
    "on_retriever_error": "ignore_retriever",
    "on_custom_event": "ignore_custom_event",
}
_ERROR_METHOD = {
    "chat_model": "on_llm_error",
    "llm": "on_llm_error",
    "tool": "on_tool_error",
    "retriever": "on_retriever_error",
}
_END_METHOD = {"tool": "on_tool_end", "retriever": "on_retriever_end"}

_Call = tuple[Callable[..., Any], bool, tuple[Any, ...], dict[str, Any]]


# The base classes' do-nothing methods: a handler that inherits one is not called for it, so
# building its arguments (an LLMResult, message lists) is skipped, and a handler that only
# overrides ``on_llm_start`` gets chat model starts there, as in LangChain.
_NOOPS = frozenset(
    fn for cls in (BaseCallbackHandler, AsyncCallbackHandler) for fn in vars(cls).values()
    if inspect.isfunction(fn)
)


class HandlerListener:
    """Adapts one LangChain-style handler to chainkit's run events (see the module docstring).

    Made by `chainkit.tracing.context.start_run` for each handler in ``config["callbacks"]``;
    ``aio`` says the root call is async, so deliveries go through a background queue.

    Example:
        >>> listener = HandlerListener(MyHandler())   # usually made for you
    """

    __slots__ = ("_broken", "_fns", "_lock", "_loop", "_pending", "_task", "_thread", "handler")

    def __init__(self, handler: object, *, aio: bool = False) -> None:
        self.handler = handler
        # Which methods exist, and which are coroutine functions: read once per root call.
        self._fns: dict[str, tuple[Callable[..., Any], bool]] = {}
        for name, flag in _IGNORE_FLAG.items():
            fn = getattr(handler, name, None)
            if not callable(fn) or getattr(fn, "__func__", None) in _NOOPS:
                continue
            if getattr(handler, flag, False) is True:
                continue
            self._fns[name] = (fn, inspect.iscoroutinefunction(fn))
        self._loop: asyncio.AbstractEventLoop | None = None
        if aio:
            with contextlib.suppress(RuntimeError):  # no loop after all: deliver inline
                self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._pending: deque[_Call] = deque()
        self._lock = threading.Lock()
        self._task: asyncio.Task[None] | None = None
        self._broken = False

    def __repr__(self) -> str:
        return f"HandlerListener({self.handler!r})"

    # ---- run events -> handler methods ---------------------------------------------------
    def on_run_start(self, run: Run) -> None:
        kind = run.run_type
        kw: dict[str, Any] = {
            "run_id": run.id,
            "parent_run_id": run.parent_run_id,
            "tags": run.tags,
            "metadata": run.metadata,
            "name": run.name,
        }
        if kind in MODEL_RUN_TYPES:
            kw["invocation_params"] = run.extra.get("invocation_params")
            inputs = [] if run.inputs is PENDING else run.inputs
            if kind == "chat_model" and "on_chat_model_start" in self._fns:
                messages = [convert_to_messages(inputs)]
                self._send("on_chat_model_start", (run.serialized, messages), kw)
            elif "on_llm_start" in self._fns:
                self._send("on_llm_start", (run.serialized, [prompt_text(inputs)]), kw)
        elif kind == "tool":
            inputs = run.inputs
            kw["inputs"] = inputs if isinstance(inputs, dict) else None
            self._send("on_tool_start", (run.serialized, str(inputs)), kw)
        elif kind == "retriever":
            self._send("on_retriever_start", (run.serialized, run.inputs), kw)
        else:
            if kind != "chain":
                kw["run_type"] = kind
            # LangChain's placeholder for an input that is still streaming in.
            inputs = {"input": ""} if run.inputs is PENDING else run.inputs
            self._send("on_chain_start", (run.serialized, inputs), kw)

    def on_run_stream(self, run: Run, chunk: Any) -> None:
        if run.run_type not in MODEL_RUN_TYPES or "on_llm_new_token" not in self._fns:
            return
        if isinstance(chunk, BaseMessageChunk):
            token, gen = chunk.text, ChatGenerationChunk(message=chunk)
        else:
            token, gen = str(chunk), None
        kw = {"chunk": gen, "run_id": run.id, "parent_run_id": run.parent_run_id, "tags": run.tags}
        self._send("on_llm_new_token", (token,), kw)

    def on_run_end(self, run: Run) -> None:
        kind = run.run_type
        kw = {"run_id": run.id, "parent_run_id": run.parent_run_id, "tags": run.tags}
        if run.error is not None:
            self._send(_ERROR_METHOD.get(kind, "on_chain_error"), (run.error,), kw)
        elif kind in MODEL_RUN_TYPES:
            if "on_llm_end" in self._fns:
                self._send("on_llm_end", (llm_result(run),), kw)
        else:
            self._send(_END_METHOD.get(kind, "on_chain_end"), (run.outputs,), kw)

    def on_custom_event(self, run: Run, name: str, data: Any) -> None:
        kw = {"run_id": run.id, "tags": run.tags, "metadata": run.metadata}
        self._send("on_custom_event", (name, data), kw)

    # ---- delivery -----------------------------------------------------------------------
    def _send(self, method: str, args: tuple[Any, ...], kw: dict[str, Any]) -> None:
        entry = self._fns.get(method)
        if entry is None or self._broken:
            return
        fn, is_async = entry
        loop = self._loop
        if loop is None:
            # A sync call: deliver inline. An exception reaches the tracer, which detaches us.
            if is_async:
                _run_sync(fn(*args, **kw))
            else:
                fn(*args, **kw)
            return
        with self._lock:
            self._pending.append((fn, is_async, args, kw))
        if threading.get_ident() == self._thread:
            self._kick()
        else:
            try:
                loop.call_soon_threadsafe(self._kick)
            except RuntimeError:  # the loop has closed: nobody is left to deliver to
                self._broken = True

    def _kick(self) -> None:
        if self._task is None and self._loop is not None and not self._broken:
            self._task = self._loop.create_task(self._deliver())

    async def _deliver(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                with self._lock:
                    items = list(self._pending)
                    self._pending.clear()
                if not items:
                    return
                i = 0
                while i < len(items):
                    fn, is_async, args, kw = items[i]
                    if is_async:
                        await fn(*args, **kw)
                        i += 1
                        continue
                    j = i
                    while j < len(items) and not items[j][1]:
                        j += 1
                    await loop.run_in_executor(None, _call_all, items[i:j])
                    i = j
        except Exception:
            logger.exception("callback handler %r raised; detaching it", self.handler)
            self._broken = True
            with self._lock:
                self._pending.clear()
        finally:
            self._task = None

    async def adrain(self) -> None:
        """Wait until every queued call has been delivered (async calls only)."""
        while not self._broken and (self._task is not None or self._pending):
            if self._task is None:
                self._kick()
            task = self._task
            if task is not None:
                # asyncio.wait, not await: cancelling the caller must not cancel deliveries.
                await asyncio.wait((task,))


def _call_all(items: list[_Call]) -> None:
    for fn, _, args, kw in items:
        fn(*args, **kw)


def _run_sync(coro: Coroutine[Any, Any, Any]) -> None:
    # Imported here, not at the top: the observation layer does not depend on the protocol
    # layer, and only async handlers on a sync call need the bridge.
    from chainkit.runnables._sync import run_coroutine_sync

    run_coroutine_sync(coro)


def prompt_text(inputs: Any) -> str:
    if isinstance(inputs, str):
        return inputs
    to_string = getattr(inputs, "to_string", None)
    if callable(to_string):
        return str(to_string())
    return get_buffer_string(convert_to_messages(inputs))


def generation_info(message: Any) -> dict[str, Any] | None:
    """A reply's per-generation info, as providers report it: ``{'finish_reason': ...}``."""
    metadata = getattr(message, "response_metadata", None) or {}
    reason = metadata.get("finish_reason")
    return {"finish_reason": reason} if reason is not None else None


def llm_output(message: Any) -> dict[str, Any] | None:
    """``llm_output`` for one reply: token usage and model name (None for a streamed reply,
    as in LangChain)."""
    if isinstance(message, BaseMessageChunk) or not isinstance(message, BaseMessage):
        return None
    out: dict[str, Any] = {}
    usage = getattr(message, "usage_metadata", None)
    if usage:
        out["token_usage"] = {
            "prompt_tokens": usage.get("input_tokens", 0),
            "completion_tokens": usage.get("output_tokens", 0),
            "total_tokens": usage.get("total_tokens", 0),
        }
    if "model_name" in message.response_metadata:
        out["model_name"] = message.response_metadata["model_name"]
    return out


def llm_result(run: Run) -> LLMResult:
    """The `LLMResult` handed to ``on_llm_end`` for a model run that ended with a message."""
    message = run.outputs
    if not isinstance(message, BaseMessage):
        return LLMResult(generations=[[]], llm_output=None)
    info = generation_info(message)
    gen = (
        ChatGenerationChunk(message=message, generation_info=info)
        if isinstance(message, BaseMessageChunk)
        else ChatGeneration(message=message, generation_info=info)
    )
    return LLMResult(generations=[[gen]], llm_output=llm_output(message))
