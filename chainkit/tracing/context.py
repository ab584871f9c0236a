"""The run tree: `Run` records, the listeners that observe them, and how a call finds its parent.

Observation is free when nobody listens: a runnable call checks ``config["callbacks"]`` and
`global_listeners` and, finding neither, runs with no `Run` allocated at all.

When somebody listens, the root call creates a `Tracer` (the shared, mutable list of listeners
for the whole tree) and a `Run`; each child receives ``config["callbacks"] = ParentRun(run, tags)``
so parent links survive threads, asyncio tasks and interleaved generators alike (a contextvar
alone cannot follow a generator that is resumed from another frame). A listener that raises is
logged and detached; the chain never sees its error.

A listener is any object with some of these methods (missing ones are skipped)::

    on_run_start(run)                  # run.inputs is PENDING while the input still streams in
    on_run_stream(run, chunk)          # one output chunk of a streaming call
    on_run_end(run)                    # run.outputs, or run.error if the call raised
    on_custom_event(run, name, data)   # `dispatch_custom_event` inside the run

LangChain-style callback handlers (``on_chain_start``, ``on_llm_new_token``, ...) are wrapped in
`chainkit.tracing.callbacks.HandlerListener`.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import random
import time
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any, Protocol, runtime_checkable
from uuid import UUID

logger = logging.getLogger("chainkit.tracing")

RUN_TYPES = ("chain", "prompt", "llm", "chat_model", "parser", "tool", "lambda", "retriever")
MODEL_RUN_TYPES = ("chat_model", "llm")


class _Pending:
    """The inputs of a run whose input is still streaming in (it starts before its input ends)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "PENDING"


PENDING: Any = _Pending()


@runtime_checkable
class RunListener(Protocol):
    """Observes runs. Implement any subset; missing methods are skipped.

    Example:
        >>> class Printer:
        ...     def on_run_end(self, run): print(run.name, run.outputs)
        >>> chain.invoke(x, {"callbacks": [Printer()]})
    """

    def on_run_start(self, run: Run) -> None: ...

    def on_run_stream(self, run: Run, chunk: Any) -> None: ...

    def on_run_end(self, run: Run) -> None: ...


# uuid7 state: a process-wide counter stands in for a lock. ``next()`` on itertools.count is
# atomic under the GIL, so ids stay unique and ordered within a millisecond across threads.
_counter = itertools.count()


def _uuid7_int() -> int:
    # 48-bit ms timestamp | version 7 | 32-bit process counter (orders ids within one ms)
    # spread over rand_a and the top of rand_b | variant | 42 random bits.
    seq = next(_counter) & 0xFFFFFFFF
    return (
        (time.time_ns() // 1_000_000) << 80
        | 0x7000 << 64
        | (seq >> 20) << 64
        | 0b10 << 62
        | (seq & 0xFFFFF) << 42
        | random.getrandbits(42)
    )


def uuid7() -> UUID:
    """A time-ordered UUID (RFC 9562 version 7), unique within this process."""
    return UUID(int=_uuid7_int())


def uuid7_str() -> str:
    """`uuid7` as its canonical string, without building a `UUID` object (message ids)."""
    h = f"{_uuid7_int():032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def now() -> datetime:
    return datetime.now(timezone.utc)


class Run:
    """One call of one runnable: what went in, what came out, when, and under which parent.

    Attributes follow LangSmith's run record. ``extra`` holds ``invocation_params`` for model
    runs, and ``usage`` their token usage (``input_tokens``, ``output_tokens``, ...) once they end.
    """

    __slots__ = (
        "_child_names", "end_time", "error", "extra", "id", "inputs", "metadata", "name",
        "outputs", "parent", "parent_run_id", "run_type", "serialized", "start_time", "tags",
        "trace_id", "tracer", "usage",
    )

    def __init__(
        self,
        *,
        name: str,
        run_type: str,
        inputs: Any,
        tracer: Tracer,
        parent: Run | None = None,
        run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
        serialized: dict[str, Any] | None = None,
    ) -> None:
        self.id = run_id or uuid7()
        self.parent = parent
        self.parent_run_id = parent.id if parent is not None else None
        self.trace_id: UUID = parent.trace_id if parent is not None else self.id
        self.name = name
        self.run_type = run_type
        self.inputs = inputs
        self.outputs: Any = None
        self.error: BaseException | None = None
        self.start_time = now()
        self.end_time: datetime | None = None
        self.tags = tags or []
        self.metadata = metadata or {}
        self.extra = extra or {}
        self.tracer = tracer
        self._child_names: dict[str, int] | None = None
        self.serialized = serialized or {"name": name}
        self.usage: dict[str, int] | None = None

    @property
    def parent_ids(self) -> list[str]:
        """Ids of every ancestor, root first (``astream_events``' ``parent_ids``)."""
        ids: list[str] = []
        p = self.parent
        while p is not None:
            ids.append(str(p.id))
            p = p.parent
        ids.reverse()
        return ids

    @property
    def provider(self) -> str | None:
        """A model run's provider type (its ``_llm_type``, e.g. ``"llamacpp"``), else None."""
        params = self.extra.get("invocation_params")
        return params.get("_type") if isinstance(params, dict) else None

    def __repr__(self) -> str:
        return f"Run(name={self.name!r}, run_type={self.run_type!r}, id={self.id})"


class Tracer:
    """The listeners observing one run tree; shared by every run in it."""

    __slots__ = ("listeners",)

    def __init__(self, listeners: Sequence[object]) -> None:
        self.listeners = list(listeners)

    def emit(self, method: str, *args: Any) -> None:
        for listener in tuple(self.listeners):
            fn: Callable[..., Any] | None = getattr(listener, method, None)
            if fn is None:
                continue
            try:
                fn(*args)
            except Exception:
                logger.exception("listener %r raised in %s; detaching it", listener, method)
                with contextlib.suppress(ValueError):
                    self.listeners.remove(listener)

    async def adrain(self) -> None:
        """Wait for listeners that deliver in the background (async callback handlers)."""
        for listener in tuple(self.listeners):
            drain = getattr(listener, "adrain", None)
            if drain is not None:
                await drain()


#: The run whose code is executing right now, for `dispatch_custom_event` calls that pass no
#: config. Set by the observed drivers around each step of a traced call, never on the quiet path.
current_run: ContextVar[Run | None] = ContextVar("chainkit_current_run", default=None)


class ParentRun:
    """What a traced call passes to a child as ``config["callbacks"]``: its run, plus step tags."""

    __slots__ = ("run", "tags")

    def __init__(self, run: Run, tags: tuple[str, ...] = ()) -> None:
        self.run = run
        self.tags = tags


# Listeners attached to every root run in this process (e.g. the trace store). Kept as a
# tuple so the hot-path check is one global read.
global_listeners: tuple[object, ...] = ()


def add_global_listener(listener: object) -> None:
    global global_listeners
    global_listeners = (*global_listeners, listener)


def remove_global_listener(listener: object) -> None:
    global global_listeners
    global_listeners = tuple(x for x in global_listeners if x is not listener)


def _adapt(handler: object, aio: bool) -> object:
    """LangChain-style handlers are wrapped; chainkit listeners are used as they are."""
    if any(hasattr(handler, m) for m in ("on_run_start", "on_run_end", "on_run_stream")):
        return handler
    # Imported here: only calls that pass LangChain-style handlers need the adapter.
    from chainkit.tracing.callbacks import HandlerListener

    return HandlerListener(handler, aio=aio)


def start_run(
    callbacks: object,
    *,
    name: str,
    run_type: str,
    inputs: Any,
    config: dict[str, Any] | None,
    extra: dict[str, Any] | None = None,
    aio: bool = False,
) -> Run:
    """Create and announce a run; ``callbacks`` is a `ParentRun`, a list of listeners, or None.

    ``aio`` says the call is async: a root run then delivers to callback handlers off the event
    loop, and its caller awaits them with `aend_run`.
    """
    parent: Run | None = None
    local_tags: tuple[str, ...] = ()
    if isinstance(callbacks, ParentRun):
        parent, local_tags = callbacks.run, callbacks.tags
        tracer = parent.tracer
    else:
        handlers: list[object] = [] if callbacks is None else (
            list(callbacks) if isinstance(callbacks, (list, tuple)) else [callbacks]
        )
        tracer = Tracer([*(_adapt(h, aio) for h in handlers), *global_listeners])
    cfg = config or {}
    tags = [*cfg.get("tags", ()), *local_tags] if (local_tags or cfg.get("tags")) else []
    if parent is None or "run_name" in cfg:
        name = cfg.get("run_name", name)
    run = Run(
        name=name,
        run_type=run_type,
        inputs=inputs,
        tracer=tracer,
        parent=parent,
        run_id=cfg.get("run_id"),
        tags=tags,
        metadata=dict(cfg.get("metadata", {})),
        extra=extra,
    )
    tracer.emit("on_run_start", run)
    return run


def end_run(run: Run, outputs: Any = None, error: BaseException | None = None) -> None:
    run.outputs = outputs
    run.error = error
    run.end_time = now()
    if run.run_type in MODEL_RUN_TYPES:
        run.usage = getattr(outputs, "usage_metadata", None)
    run.tracer.emit("on_run_end", run)


async def aend_run(run: Run, outputs: Any = None, error: BaseException | None = None) -> None:
    """`end_run` for async calls: a root run also waits for its background listeners, so when
    ``ainvoke`` returns every async callback handler has seen every event."""
    end_run(run, outputs, error)
    if run.parent is None:
        await run.tracer.adrain()


def stream_chunk(run: Run, chunk: Any) -> None:
    run.tracer.emit("on_run_stream", run, chunk)


def child_config(config: dict[str, Any] | None, run: Run, *tags: str) -> dict[str, Any]:
    """The config a traced run gives a child: inherited tags/metadata, the run as parent."""
    out = {k: v for k, v in (config or {}).items() if k not in ("run_name", "run_id")}
    out["callbacks"] = ParentRun(run, tags)
    return out


class _TracingFromEnv:
    """Stands in for the trace store while ``CHAINKIT_TRACING`` is set: the store (SQLite, a
    writer thread) loads on the first root run, not when this module is imported."""

    __slots__ = ()

    def on_run_start(self, run: Run) -> None:
        from chainkit.tracing._enable import enable_from_env

        try:
            store = enable_from_env()
        except Exception:
            logger.warning("CHAINKIT_TRACING is set, but the trace store failed to open; "
                           "tracing is off", exc_info=True)
            store = None
        remove_global_listener(self)
        listeners = run.tracer.listeners
        with contextlib.suppress(ValueError):
            listeners.remove(self)
        if store is not None and store not in listeners:
            listeners.append(store)
            store.on_run_start(run)


# Read once, at import: the quiet path stays one tuple check when tracing is off.
if os.environ.get("CHAINKIT_TRACING", "").strip().lower() in ("1", "true", "yes", "on"):
    add_global_listener(_TracingFromEnv())
