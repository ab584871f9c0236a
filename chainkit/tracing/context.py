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

import itertools
import logging
import os
import random
import time
import weakref
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
# The "random" bits are a per-process random base stepped by the counter: an id is then a pure
# function of (start time, counter), so a run can compute its id lazily, from any thread, and
# always get the same one.
_counter = itertools.count()
_RAND_BITS = 42
_rand_base = random.getrandbits(_RAND_BITS)
_RAND_STEP = 0x2545F4914F6CDD1D & ((1 << _RAND_BITS) - 1) | 1  # odd: a bijection mod 2**42


def _reseed() -> None:
    # A forked child must not repeat its parent's ids.
    global _rand_base
    _rand_base = random.getrandbits(_RAND_BITS)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reseed)


def _uuid7_int(time_ns: int | None = None, seq: int | None = None) -> int:
    # 48-bit ms timestamp | version 7 | 32-bit process counter (orders ids within one ms)
    # spread over rand_a and the top of rand_b | variant | 42 bits from the per-process base.
    if seq is None:
        seq = next(_counter)
    if time_ns is None:
        time_ns = time.time_ns()
    seq &= 0xFFFFFFFF
    return (
        (time_ns // 1_000_000) << 80
        | 0x7000 << 64
        | (seq >> 20) << 64
        | 0b10 << 62
        | (seq & 0xFFFFF) << 42
        | (_rand_base + seq * _RAND_STEP) & ((1 << _RAND_BITS) - 1)
    )


def uuid7() -> UUID:
    """A time-ordered UUID (RFC 9562 version 7), unique within this process."""
    return UUID(int=_uuid7_int())


def uuid7_str() -> str:
    """`uuid7` as its canonical string, without building a `UUID` object (message ids)."""
    h = f"{_uuid7_int():032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _datetime(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / 1e9, timezone.utc)


class Run:
    """One call of one runnable: what went in, what came out, when, and under which parent.

    Attributes follow LangSmith's run record. ``extra`` holds ``invocation_params`` for model
    runs, and ``usage`` their token usage (``input_tokens``, ``output_tokens``, ...) once they end.

    A run is made on every traced call, so it records only what is cheap (a counter, the clock
    in nanoseconds, references to its inputs); the id, the datetimes and ``serialized`` are
    derived when first read, usually off the chain's thread by a listener.
    """

    __slots__ = (
        "_child_names", "_end_ns", "_id", "_serialized", "error", "extra", "inputs",
        "metadata", "name", "outputs", "parent", "root", "run_type", "seq", "start_ns", "tags",
        "tracer", "usage",
    )

    def __init__(
        self,
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
        self.start_ns = time.time_ns()
        """Start, in ns since the epoch (`start_time` as an int)."""
        self.seq = next(_counter)
        """A process-unique number, in start order (cheaper to key on than `id`)."""
        self._id = run_id
        self.parent = parent
        self.root: Run = self if parent is None else parent.root
        """The root run of this run's tree (the trace)."""
        self.name = name
        self.run_type = run_type
        self.inputs = inputs
        self.outputs: Any = None
        self.error: BaseException | None = None
        self._end_ns: int | None = None
        self.tags = tags if tags is not None else []
        self.metadata = metadata if metadata is not None else {}
        self.extra = extra if extra is not None else {}
        self.tracer = tracer
        self._child_names: dict[str, int] | None = None
        self._serialized = serialized
        self.usage: dict[str, int] | None = None

    @property
    def id(self) -> UUID:
        """This run's id: a uuid7 made from its start time (or the config's ``run_id``)."""
        run_id = self._id
        if run_id is None:
            run_id = self._id = UUID(int=_uuid7_int(self.start_ns, self.seq))
        return run_id

    @property
    def trace_id(self) -> UUID:
        """The root run's id."""
        return self.root.id

    @property
    def parent_run_id(self) -> UUID | None:
        return self.parent.id if self.parent is not None else None

    @property
    def start_time(self) -> datetime:
        return _datetime(self.start_ns)

    @property
    def end_ns(self) -> int | None:
        """End, in ns since the epoch; None while the run is open."""
        return self._end_ns

    @property
    def end_time(self) -> datetime | None:
        return None if self._end_ns is None else _datetime(self._end_ns)

    @property
    def serialized(self) -> dict[str, Any]:
        """LangChain's ``serialized`` argument of ``on_*_start`` callbacks."""
        if self._serialized is None:
            self._serialized = {"name": self.name}
        return self._serialized

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
    """The listeners observing one run tree; shared by every run in it.

    Each run emits a start and an end (and a chunk per streamed output), so the listeners'
    bound methods for those events are looked up once per change of listeners, not per event.
    """

    __slots__ = ("_ends", "_listeners", "_starts", "_streams")

    def __init__(self, listeners: Sequence[object]) -> None:
        self._listeners = list(listeners)
        self._bind()

    @property
    def listeners(self) -> tuple[object, ...]:
        return tuple(self._listeners)

    def add(self, listener: object) -> None:
        self._listeners.append(listener)
        self._bind()

    def remove(self, listener: object) -> None:
        """Detach ``listener``; no error if it is not attached."""
        if listener in self._listeners:
            self._listeners.remove(listener)
            self._bind()

    def _bind(self) -> None:
        starts, ends, streams = [], [], []
        for x in self._listeners:
            has_start, has_end, has_stream = _events_of(type(x))
            if has_start:
                starts.append((x, x.on_run_start))  # type: ignore[attr-defined]
            if has_end:
                ends.append((x, x.on_run_end))  # type: ignore[attr-defined]
            if has_stream:
                streams.append((x, x.on_run_stream))  # type: ignore[attr-defined]
        self._starts, self._ends, self._streams = tuple(starts), tuple(ends), tuple(streams)

    def _methods(self, name: str) -> tuple[tuple[object, Callable[..., Any]], ...]:
        found = ((x, getattr(x, name, None)) for x in self._listeners)
        return tuple((x, fn) for x, fn in found if callable(fn))

    def emit(self, method: str, *args: Any) -> None:
        self._deliver(self._methods(method), method, args)

    def start(self, run: Run) -> None:
        if self._starts:
            self._deliver(self._starts, "on_run_start", (run,))

    def end(self, run: Run) -> None:
        if self._ends:
            self._deliver(self._ends, "on_run_end", (run,))

    def stream(self, run: Run, chunk: Any) -> None:
        if self._streams:
            self._deliver(self._streams, "on_run_stream", (run, chunk))

    def _deliver(
        self, methods: tuple[tuple[object, Callable[..., Any]], ...], name: str,
        args: tuple[Any, ...],
    ) -> None:
        for listener, fn in methods:
            try:
                fn(*args)
            except Exception:
                logger.exception("listener %r raised in %s; detaching it", listener, name)
                self.remove(listener)

    async def adrain(self) -> None:
        """Wait for listeners that deliver in the background (async callback handlers)."""
        for listener in tuple(self._listeners):
            drain = getattr(listener, "adrain", None)
            if drain is not None:
                await drain()


# listener class -> whether it defines on_run_start, on_run_end, on_run_stream. A failed
# getattr raises and catches AttributeError inside, which would cost more than the rest of a
# root run's set-up.
# Weak keys: a listener class defined inside a function (closing over what it records) must
# not be kept alive by this cache.
_events: weakref.WeakKeyDictionary[type, tuple[bool, bool, bool]] = weakref.WeakKeyDictionary()


def _events_of(cls: type) -> tuple[bool, bool, bool]:
    found = _events.get(cls)
    if found is None:
        found = _events[cls] = tuple(  # type: ignore[assignment]
            callable(getattr(cls, name, None))
            for name in ("on_run_start", "on_run_end", "on_run_stream")
        )
    return found  # type: ignore[return-value]


#: The run whose code is executing right now, for `dispatch_custom_event` calls that pass no
#: config. Set by the observed drivers around each step of a traced call, never on the quiet path.
current_run: ContextVar[Run | None] = ContextVar("chainkit_current_run", default=None)


class ParentRun:
    """What a traced call passes to a child as ``config["callbacks"]``: its run, plus step tags.

    ``handlers`` are callbacks bound to the child itself (``child.with_config(callbacks=...)``
    inside a traced chain): they observe the child's subtree only, as in LangChain.
    """

    __slots__ = ("handlers", "run", "tags")

    def __init__(
        self, run: Run, tags: tuple[str, ...] = (), handlers: tuple[object, ...] = ()
    ) -> None:
        self.run = run
        self.tags = tags
        self.handlers = handlers

    def with_handlers(self, handlers: Sequence[object]) -> ParentRun:
        return ParentRun(self.run, self.tags, (*self.handlers, *handlers))


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
    cfg = config or _NO_CONFIG
    if type(callbacks) is ParentRun:
        parent: Run | None = callbacks.run
        local_tags = callbacks.tags
        tracer = callbacks.run.tracer
        if callbacks.handlers:  # this subtree has listeners of its own
            added = [_adapt(h, aio) for h in callbacks.handlers]
            tracer = Tracer([*tracer.listeners, *added])
        if "run_name" in cfg:
            name = cfg["run_name"]
    else:
        parent, local_tags = None, ()
        if callbacks is None or (type(callbacks) in (list, tuple) and not callbacks):
            tracer = Tracer(global_listeners)
        else:
            handlers = callbacks if isinstance(callbacks, (list, tuple)) else (callbacks,)
            tracer = Tracer([*[_adapt(h, aio) for h in handlers], *global_listeners])
        name = cfg.get("run_name", name)
    tags = cfg.get("tags")
    metadata = cfg.get("metadata")
    run = Run(
        name,
        run_type,
        inputs,
        tracer,
        parent,
        cfg.get("run_id"),
        [*tags, *local_tags] if tags else list(local_tags),
        dict(metadata) if metadata else {},
        extra,
    )
    tracer.start(run)
    return run


_NO_CONFIG: dict[str, Any] = {}


def end_run(run: Run, outputs: Any = None, error: BaseException | None = None) -> None:
    run.outputs = outputs
    run.error = error
    run._end_ns = time.time_ns()
    if run.run_type in MODEL_RUN_TYPES:
        run.usage = getattr(outputs, "usage_metadata", None)
    run.tracer.end(run)


async def aend_run(run: Run, outputs: Any = None, error: BaseException | None = None) -> None:
    """`end_run` for async calls: a root run also waits for its background listeners, so when
    ``ainvoke`` returns every async callback handler has seen every event."""
    end_run(run, outputs, error)
    if run.parent is None or run.tracer is not run.parent.tracer:
        await run.tracer.adrain()


def stream_chunk(run: Run, chunk: Any) -> None:
    run.tracer.stream(run, chunk)


def child_config(config: dict[str, Any] | None, run: Run, *tags: str) -> dict[str, Any]:
    """The config a traced run gives a child: inherited tags/metadata, the run as parent."""
    if not config:
        return {"callbacks": ParentRun(run, tags)}
    out = config.copy()
    if "run_name" in out:
        del out["run_name"]
    if "run_id" in out:
        del out["run_id"]
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
        tracer = run.tracer
        tracer.remove(self)
        if store is not None and store not in tracer.listeners:
            tracer.add(store)
            store.on_run_start(run)


# Read once, at import: the quiet path stays one tuple check when tracing is off.
if os.environ.get("CHAINKIT_TRACING", "").strip().lower() in ("1", "true", "yes", "on"):
    add_global_listener(_TracingFromEnv())
