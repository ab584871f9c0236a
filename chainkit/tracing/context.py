"""The run tree: `Run` records, the listeners that observe them, and how a call finds its parent.

Observation is free when nobody listens: a runnable call checks ``config["callbacks"]`` and
`global_listeners` and, finding neither, runs with no `Run` allocated at all.

When somebody listens, the root call creates a `Tracer` (the shared, mutable list of listeners
for the whole tree) and a `Run`; each child receives ``config["callbacks"] = ParentRun(run, tags)``
so parent links survive threads, asyncio tasks and interleaved generators alike (a contextvar
alone cannot follow a generator that is resumed from another frame). A listener that raises is
logged and detached; the chain never sees its error.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any, Protocol, runtime_checkable
from uuid import UUID

logger = logging.getLogger("chainkit.tracing")

RUN_TYPES = ("chain", "prompt", "llm", "chat_model", "parser", "tool", "lambda", "retriever")


@runtime_checkable
class RunListener(Protocol):
    """Observes runs. Implement any subset; missing methods are skipped.

    Example:
        >>> class Printer:
        ...     def on_run_end(self, run): print(run.name, run.outputs)
        >>> chain.invoke(x, {"callbacks": [Printer()]})
    """

    def on_run_start(self, run: Run) -> None: ...


_uuid_lock = threading.Lock()
_last_ms = 0
_seq = 0


def uuid7() -> UUID:
    """A time-ordered UUID (RFC 9562 version 7), monotonic within this process."""
    global _last_ms, _seq
    with _uuid_lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_ms:
            _seq += 1
            ms = _last_ms
        else:
            _seq = 0
        _last_ms = ms
        seq = _seq
    rand = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms << 80) | (0x7 << 76) | ((seq & 0xFFF) << 64) | (0b10 << 62) | rand
    return UUID(int=value)


def now() -> datetime:
    return datetime.now(timezone.utc)


class Run:
    """One call of one runnable: what went in, what came out, when, and under which parent.

    Attributes follow LangSmith's run record. ``extra`` holds ``invocation_params`` for model runs.
    """

    __slots__ = (
        "id", "parent_run_id", "trace_id", "name", "run_type", "inputs", "outputs", "error",
        "start_time", "end_time", "tags", "metadata", "extra", "tracer", "parent", "_child_names",
        "serialized", "usage",
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
        self.trace_id = parent.trace_id if parent is not None else self.id
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
                try:
                    self.listeners.remove(listener)
                except ValueError:
                    pass


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


def _adapt(handler: object) -> object:
    """LangChain-style handlers are wrapped; chainkit listeners are used as they are."""
    if any(hasattr(handler, m) for m in ("on_run_start", "on_run_end", "on_run_stream")):
        return handler
    from chainkit.tracing.callbacks import HandlerListener

    return HandlerListener(handler)


def start_run(
    callbacks: object,
    *,
    name: str,
    run_type: str,
    inputs: Any,
    config: dict[str, Any] | None,
    extra: dict[str, Any] | None = None,
) -> Run:
    """Create and announce a run; ``callbacks`` is a `ParentRun`, a list of listeners, or None."""
    parent: Run | None = None
    local_tags: tuple[str, ...] = ()
    if isinstance(callbacks, ParentRun):
        parent, local_tags = callbacks.run, callbacks.tags
        tracer = parent.tracer
    else:
        handlers: list[object] = [] if callbacks is None else (
            list(callbacks) if isinstance(callbacks, (list, tuple)) else [callbacks]
        )
        tracer = Tracer([*(_adapt(h) for h in handlers), *global_listeners])
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
    run.tracer.emit("on_run_end", run)


def stream_chunk(run: Run, chunk: Any) -> None:
    run.tracer.emit("on_run_stream", run, chunk)


def child_config(config: dict[str, Any] | None, run: Run, *tags: str) -> dict[str, Any]:
    """The config a traced run gives a child: inherited tags/metadata, the run as parent."""
    out = {k: v for k, v in (config or {}).items() if k not in ("run_name", "run_id")}
    out["callbacks"] = ParentRun(run, tags)
    return out
