"""`astream_events` (and its sync twin `stream_events`): a run tree as event dicts, LangChain's
version "v2" shape.

Each event is ``{event, name, run_id, parent_ids, tags, metadata, data}`` where ``event`` is
``on_<run type>_start`` / ``_stream`` / ``_end`` (run types: chain, prompt, chat_model, llm,
parser, tool, retriever, ...) or ``on_custom_event``, and ``parent_ids`` lists the run's
ancestors, root first. ``data`` holds ``input`` on start (``{}`` for a step whose input still
streams in), ``chunk`` on stream, and ``output`` plus ``input`` on end (the root's end has only
``output``; its start has the input as given). A chat model's input is
``{"messages": [[...]]}``. Prompts, tools and retrievers produce one value and have no stream
events. A run that raises emits no event (a tool emits ``on_tool_error``); the exception is
raised from the iterator after the events seen so far.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import queue
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any
from uuid import UUID

from chainkit.messages import convert_to_messages
from chainkit.tracing._stream import (
    NO_STREAM_TYPES,
    Channel,
    RunFilter,
    StreamListener,
    check_config,
    drive,
)
from chainkit.tracing.callbacks import generation_info, llm_output, prompt_text
from chainkit.tracing.context import PENDING, Run

__all__ = ["SUPPORTED_VERSIONS", "astream_events", "stream_events"]

SUPPORTED_VERSIONS = ("v2",)

StreamEvent = dict[str, Any]


def astream_events(
    runnable: Any,
    input: Any,
    config: Any = None,
    *,
    version: str = "v2",
    include_names: Sequence[str] | None = None,
    include_types: Sequence[str] | None = None,
    include_tags: Sequence[str] | None = None,
    exclude_names: Sequence[str] | None = None,
    exclude_types: Sequence[str] | None = None,
    exclude_tags: Sequence[str] | None = None,
    **kwargs: Any,
) -> AsyncIterator[StreamEvent]:
    """Stream ``runnable``'s run on ``input`` as event dicts, in the order runs start, stream
    and end. The filters apply to every event, root included.

    Raises:
        ValueError: ``version`` is not a supported version.
    """
    check_config(config)
    run_filter = _check(version, include_names, include_types, include_tags, exclude_names,
                        exclude_types, exclude_tags)

    def make(channel: Channel[StreamEvent], root_id: UUID) -> _EventListener:
        return _EventListener(channel, root_id, run_filter)

    return _astream_events(runnable, input, config, make, kwargs)


async def _astream_events(
    runnable: Any, input: Any, config: Any, make: Any, kwargs: dict[str, Any]
) -> AsyncIterator[StreamEvent]:
    # aclosing: when the consumer stops, the driver (and with it the run) stops at once.
    async with contextlib.aclosing(drive(runnable, input, config, make, kwargs)) as batches:
        async for batch in batches:
            for event in batch:
                yield event


def stream_events(
    runnable: Any,
    input: Any,
    config: Any = None,
    *,
    version: str = "v2",
    include_names: Sequence[str] | None = None,
    include_types: Sequence[str] | None = None,
    include_tags: Sequence[str] | None = None,
    exclude_names: Sequence[str] | None = None,
    exclude_types: Sequence[str] | None = None,
    exclude_tags: Sequence[str] | None = None,
    **kwargs: Any,
) -> Iterator[StreamEvent]:
    """Sync `astream_events`: the events are produced on a private event loop in a worker
    thread (so this works inside a running loop, e.g. a notebook) and yielded as they arrive.
    Closing the iterator early cancels the run.
    """
    filters = {
        "include_names": include_names, "include_types": include_types,
        "include_tags": include_tags, "exclude_names": exclude_names,
        "exclude_types": exclude_types, "exclude_tags": exclude_tags,
    }
    check_config(config)
    _check(version, *filters.values())
    return _iterate_in_thread(
        lambda: astream_events(runnable, input, config, version=version, **filters, **kwargs)
    )


def _check(version: str, *filters: Sequence[str] | None) -> RunFilter:
    if version not in SUPPORTED_VERSIONS:
        raise ValueError(
            f"astream_events version {version!r} is not supported; supported versions: "
            f"{list(SUPPORTED_VERSIONS)}"
        )
    return RunFilter(*filters)


class _RunInfo:
    """What the events of one run share."""

    __slots__ = ("base", "include", "shown", "stream")

    def __init__(
        self, base: dict[str, Any], include: bool, stream: str | None, shown: Any
    ) -> None:
        self.base = base  # run_id, name, tags, metadata, parent_ids
        self.include = include  # passes the filters
        self.stream = stream  # its stream event's name; None: no stream events
        self.shown = shown  # the input its start event showed


class _EventListener(StreamListener[StreamEvent]):
    """Turns one run tree's events into event dicts (see the module docstring)."""

    def __init__(self, channel: Channel[StreamEvent], root_id: UUID, run_filter: RunFilter) -> None:
        super().__init__(channel, root_id)
        self._filter = run_filter
        self._lock = threading.Lock()
        self._runs: dict[Run, _RunInfo] = {}

    def on_run_start(self, run: Run) -> None:
        with self._lock:
            if not self.admit(run):
                return
            parent = self._runs.get(run.parent) if run.parent is not None else None
            parent_ids = [*parent.base["parent_ids"], parent.base["run_id"]] if parent else []
            base = {
                "run_id": str(run.id), "name": run.name, "tags": list(run.tags),
                "metadata": run.metadata, "parent_ids": parent_ids,
            }
            kind = run.run_type
            if run is self.root or run.inputs is PENDING:
                shown = run.inputs  # the root shows its input as given
            elif kind == "chat_model":
                shown = {"messages": [convert_to_messages(run.inputs)]}
            elif kind == "llm":
                shown = {"prompts": [prompt_text(run.inputs)]}
            else:
                shown = run.inputs
            include = self._filter(run.name, kind, run.tags)
            stream = f"on_{kind}_stream" if include and kind not in NO_STREAM_TYPES else None
            self._runs[run] = _RunInfo(base, include, stream, shown)
            if include:
                data = {} if shown is PENDING else {"input": shown}
                self.channel.send({"event": f"on_{kind}_start", "data": data, **base})

    def on_run_stream(self, run: Run, chunk: Any) -> None:
        info = self._runs.get(run)
        if info is not None and info.stream is not None:
            self.channel.send({"event": info.stream, "data": {"chunk": chunk}, **info.base})

    def on_run_end(self, run: Run) -> None:
        with self._lock:
            info = self._runs.get(run)
            if info is None or not info.include:
                return
            kind = run.run_type
            if run.error is not None:
                if kind == "tool":
                    error = {"error": run.error, "input": info.shown, "tool_call_id": None}
                    self.channel.send({"event": "on_tool_error", "data": error, **info.base})
                return
            output = run.outputs
            if kind == "llm":
                output = {
                    "generations": [[{"text": getattr(output, "text", str(output)),
                                      "generation_info": generation_info(output),
                                      "type": "GenerationChunk"}]],
                    "llm_output": llm_output(output),
                }
            data: dict[str, Any]
            if run is self.root:
                data = {"output": output}
            else:
                # A streamed input is known only now; otherwise show what the start showed.
                end_input = run.inputs if info.shown is PENDING else info.shown
                data = {"output": output, "input": {} if end_input is None else end_input}
            self.channel.send({"event": f"on_{kind}_end", "data": data, **info.base})

    def on_custom_event(self, run: Run, name: str, data: Any) -> None:
        info = self._runs.get(run)
        # LangChain filters custom events by their own name, as name and as type.
        if info is None or not self._filter(name, name, info.base["tags"]):
            return
        self.channel.send({"event": "on_custom_event", "data": data, **info.base, "name": name})


# ---- the sync twin's bridge ---------------------------------------------------------------
_ITEM, _DONE, _ERROR = 0, 1, 2


def _iterate_in_thread(make: Any) -> Iterator[StreamEvent]:
    """Drive the async iterator ``make()`` on a private loop in a worker thread and yield its
    items here as they arrive; closing this generator cancels the worker's task."""
    out: queue.Queue[tuple[int, Any]] = queue.Queue()
    started: queue.Queue[tuple[asyncio.AbstractEventLoop, asyncio.Task[None]]] = queue.Queue()

    async def pump() -> None:
        task = asyncio.current_task()
        assert task is not None
        started.put((asyncio.get_running_loop(), task))
        agen = make()
        try:
            async for item in agen:
                out.put((_ITEM, item))
        finally:
            await agen.aclose()

    def target() -> None:
        try:
            asyncio.run(pump())
        except BaseException as exc:
            out.put((_ERROR, exc))
        else:
            out.put((_DONE, None))

    ctx = contextvars.copy_context()
    thread = threading.Thread(target=ctx.run, args=(target,), name="chainkit-events", daemon=True)
    thread.start()
    loop, task = started.get()
    try:
        while True:
            kind, item = out.get()
            if kind == _ITEM:
                yield item
            elif kind == _ERROR:
                raise item
            else:
                return
    finally:
        if thread.is_alive():
            with contextlib.suppress(RuntimeError):  # the loop already finished
                loop.call_soon_threadsafe(task.cancel)
            thread.join()
