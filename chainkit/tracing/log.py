"""`astream_log`: a run tree as a stream of JSON-patch ops (`RunLogPatch`), LangChain's shape.

Applying every op, in order, to ``None`` (with this module's `RunLogPatch` ``+``, or any RFC 6902
library such as ``jsonpatch``) rebuilds the `RunState`::

    {id, name, type, streamed_output: [...], final_output, logs: {name: LogEntry, ...}}

The ops, as LangChain emits them: ``replace ''`` with the empty root state; per child run an
``add /logs/<name>`` with its `LogEntry` (the Nth run of a name is keyed ``<name>:N``), chunks
under ``/logs/<name>/streamed_output`` (models also add the token text to
``streamed_output_str``), and ``final_output`` plus ``end_time`` in one patch when it ends. Each
root chunk adds ``/streamed_output/-`` and the diff of the aggregated output under
``/final_output``. A bare chat model root is the exception, shaped like the chat-model
quickstart: its chunks only add to ``streamed_output``, and its end replaces ``final_output``
with ``{generations: [[{text, generation_info, message}]], llm_output, run}``.

The log is a listener (installed through ``config["callbacks"]``) that computes each patch as
the event happens, in whichever thread it happens, and hands it to the consumer's event loop.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator, Sequence
from pprint import pformat
from typing import Any, TypedDict
from uuid import UUID

from chainkit.messages import BaseMessage, BaseMessageChunk
from chainkit.tracing import _jsonpatch
from chainkit.tracing._stream import (
    NO_STREAM_TYPES,
    Channel,
    RunFilter,
    StreamListener,
    check_config,
    drive,
)
from chainkit.tracing.callbacks import generation_info, llm_output
from chainkit.tracing.context import MODEL_RUN_TYPES, Run

__all__ = ["LogEntry", "RunLog", "RunLogPatch", "RunState", "astream_log"]

class LogEntry(TypedDict):
    """One child run in `RunState.logs`."""

    id: str
    name: str
    type: str
    tags: list[str]
    metadata: dict[str, Any]
    start_time: str
    streamed_output_str: list[str]
    streamed_output: list[Any]
    final_output: Any
    end_time: str | None


class RunState(TypedDict):
    """The state a run log describes: the root run, plus its children under ``logs``."""

    id: str
    streamed_output: list[Any]
    final_output: Any
    name: str
    type: str
    logs: dict[str, LogEntry]


class RunLogPatch:
    """A batch of JSON-patch ops (RFC 6902) describing how the run state changed.

    ``patch + patch`` gives a `RunLog` (the ops applied to ``None``).

    Example:
        >>> async for patch in chain.astream_log({"topic": "owls"}):
        ...     print(patch.ops)
    """

    def __init__(self, *ops: dict[str, Any]) -> None:
        self.ops: list[dict[str, Any]] = list(ops)

    def __add__(self, other: object) -> RunLog:
        if type(other) is not RunLogPatch:
            return NotImplemented
        ops = self.ops + other.ops
        return RunLog(*ops, state=_jsonpatch.apply(None, ops))

    def __repr__(self) -> str:
        # pformat of the list, without its brackets: RunLogPatch({...}, {...})
        return f"RunLogPatch({pformat(self.ops)[1:-1]})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RunLogPatch) and self.ops == other.ops

    __hash__ = None  # type: ignore[assignment]


class RunLog(RunLogPatch):
    """The ops so far and the state they build; ``run_log + patch`` applies one more patch.

    Example:
        >>> async for log in chain.astream_log({"topic": "owls"}, diff=False):
        ...     print(log.state["final_output"])
    """

    def __init__(self, *ops: dict[str, Any], state: RunState | None) -> None:
        super().__init__(*ops)
        self.state = state

    def __add__(self, other: object) -> RunLog:
        if type(other) is not RunLogPatch:
            return NotImplemented
        state = _jsonpatch.apply(self.state, other.ops)
        return RunLog(*self.ops, *other.ops, state=state)

    def __repr__(self) -> str:
        return f"RunLog({pformat(self.state)})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RunLog) and self.state == other.state and self.ops == other.ops

    __hash__ = None


def astream_log(
    runnable: Any,
    input: Any,
    config: Any = None,
    *,
    diff: bool = True,
    with_streamed_output_list: bool = True,
    include_names: Sequence[str] | None = None,
    include_types: Sequence[str] | None = None,
    include_tags: Sequence[str] | None = None,
    exclude_names: Sequence[str] | None = None,
    exclude_types: Sequence[str] | None = None,
    exclude_tags: Sequence[str] | None = None,
    **kwargs: Any,
) -> AsyncIterator[RunLogPatch]:
    """Stream ``runnable``'s run on ``input`` as `RunLogPatch` objects (`RunLog` states if
    ``diff=False``). The filters choose which child runs appear under ``logs`` (the types
    are log types: a chat model is ``"llm"``). Errors are raised after the patches so far.
    """
    check_config(config)
    run_filter = RunFilter(
        include_names, include_types, include_tags, exclude_names, exclude_types, exclude_tags
    )

    def make(channel: Channel[list[dict[str, Any]]], root_id: UUID) -> _LogListener:
        return _LogListener(channel, root_id, run_filter, with_streamed_output_list)

    return _astream_log(runnable, input, config, make, diff, kwargs)


async def _astream_log(
    runnable: Any, input: Any, config: Any, make: Any, diff: bool, kwargs: dict[str, Any]
) -> AsyncIterator[RunLogPatch]:
    log = RunLog(state=None)
    # aclosing: when the consumer stops, the driver (and with it the run) stops at once.
    async with contextlib.aclosing(drive(runnable, input, config, make, kwargs)) as batches:
        async for batch in batches:
            for ops in batch:
                patch = RunLogPatch(*ops)
                if diff:
                    yield patch
                else:
                    log = log + patch
                    yield log


class _LogListener(StreamListener[list[dict[str, Any]]]):
    """Turns one run tree's events into JSON-patch ops (see the module docstring)."""

    def __init__(
        self,
        channel: Channel[list[dict[str, Any]]],
        root_id: UUID,
        run_filter: RunFilter,
        with_streamed_output_list: bool,
    ) -> None:
        super().__init__(channel, root_id)
        self._filter = run_filter
        self._with_list = with_streamed_output_list
        self._lock = threading.Lock()
        self._paths: dict[Run, str] = {}
        self._counts: dict[str, int] = {}
        self._final: Any = None
        self._bare_model = False

    def on_run_start(self, run: Run) -> None:
        with self._lock:
            if not self.admit(run):
                return
            kind = log_type(run)
            if run is self.root:
                self._bare_model = run.run_type in MODEL_RUN_TYPES
                state: RunState = {
                    "id": str(run.id), "streamed_output": [], "final_output": None, "logs": {},
                    "name": run.name, "type": kind,
                }
                self.channel.send([{"op": "replace", "path": "", "value": state}])
                return
            if not self._filter(run.name, kind, run.tags):
                return
            n = self._counts[run.name] = self._counts.get(run.name, 0) + 1
            path = f"/logs/{_jsonpatch.escape(run.name if n == 1 else f'{run.name}:{n}')}"
            self._paths[run] = path
            entry: LogEntry = {
                "id": str(run.id), "name": run.name, "type": kind, "tags": list(run.tags),
                "metadata": run.metadata, "start_time": _iso(run.start_time) or "",
                "streamed_output": [], "streamed_output_str": [], "final_output": None,
                "end_time": None,
            }
            self.channel.send([{"op": "add", "path": path, "value": entry}])

    def on_run_stream(self, run: Run, chunk: Any) -> None:
        with self._lock:
            if run is self.root:
                self._root_chunk(chunk)
                return
            path = self._paths.get(run)
            if path is None or run.run_type in NO_STREAM_TYPES:
                return
            if run.run_type in MODEL_RUN_TYPES:
                token = chunk.text if isinstance(chunk, BaseMessage) else str(chunk)
                self.channel.send([
                    {"op": "add", "path": f"{path}/streamed_output_str/-", "value": token},
                    {"op": "add", "path": f"{path}/streamed_output/-", "value": chunk},
                ])
            else:
                self.channel.send([{"op": "add", "path": f"{path}/streamed_output/-",
                                    "value": chunk}])

    def _root_chunk(self, chunk: Any) -> None:
        ops: list[dict[str, Any]] = []
        if self._with_list:
            # Its own copy: the same object may also land in final_output, which later ops edit.
            ops.append({"op": "add", "path": "/streamed_output/-", "value": _jsonpatch.own(chunk)})
        if not self._bare_model:
            prev = self._final
            try:
                new = chunk if prev is None else prev + chunk
            except TypeError:  # not addable: the newest chunk replaces the output
                prev, new = None, chunk
            self._final = new
            ops.extend(_jsonpatch.diff(prev, new, "/final_output"))
        if ops:
            self.channel.send(ops)

    def on_run_end(self, run: Run) -> None:
        with self._lock:
            if run is self.root:
                if self._bare_model and run.error is None:
                    value = llm_result_dict(run.outputs, typed=False)
                    self.channel.send([{"op": "replace", "path": "/final_output", "value": value}])
                return
            path = self._paths.get(run)
            if path is None:
                return
            self.channel.send([
                {"op": "add", "path": f"{path}/final_output", "value": _final_output(run)},
                {"op": "add", "path": f"{path}/end_time", "value": _iso(run.end_time)},
            ])


def log_type(run: Run) -> str:
    # LangChain's run records call every model run "llm".
    return "llm" if run.run_type == "chat_model" else run.run_type


def _iso(when: Any) -> str | None:
    return when.isoformat(timespec="milliseconds") if when is not None else None


def _final_output(run: Run) -> Any:
    if run.error is not None:
        return None
    out = run.outputs
    if run.run_type in MODEL_RUN_TYPES:
        return llm_result_dict(out, typed=True)
    if run.run_type == "prompt" or isinstance(out, dict):
        return out
    return {"output": out}


def llm_result_dict(message: Any, *, typed: bool) -> dict[str, Any]:
    """A model run's output as an ``LLMResult`` dict; ``typed`` adds the ``type`` tags (the log
    entry shape) that the chat-model quickstart's root ``final_output`` does not show."""
    gen: dict[str, Any] = {
        "text": message.text if isinstance(message, BaseMessage) else str(message),
        "generation_info": generation_info(message),
        "message": message,
    }
    out: dict[str, Any] = {"generations": [[gen]], "llm_output": llm_output(message), "run": None}
    if typed:
        chunked = isinstance(message, BaseMessageChunk)
        gen["type"] = "ChatGenerationChunk" if chunked else "ChatGeneration"
        out["type"] = "LLMResult"
    return out
