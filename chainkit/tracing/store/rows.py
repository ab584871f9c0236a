"""From a finished `Run` to a row of the ``runs`` table, with per-trace totals.

Runs reach the writer in the order they end, so every child of a trace arrives before its root.
`RowMaker` keeps a small running total per open trace (model-call intervals, token counts, run
count) and, when the root arrives, stores on the root row:

- the trace's token usage (the sum over its model runs),
- the framework's own overhead: the root's latency minus the union of its model-call intervals
  (time spent in chainkit, the user's code and parsing rather than waiting for a model),
- the number of runs in the trace,

and, in the root's ``extra["runtime"]``, the environment: Python, OS and chainkit versions.
"""

from __future__ import annotations

import platform
import sys
import traceback
from functools import cache
from typing import Any

from chainkit.tracing.context import MODEL_RUN_TYPES, Run
from chainkit.tracing.store.redact import scrub
from chainkit.tracing.store.serialize import dumps_all

__all__ = ["RUN_COLUMNS", "RowMaker", "merged_length", "runtime_env"]

RUN_COLUMNS = (
    "id", "trace_id", "parent_run_id", "project", "name", "run_type", "status", "error",
    "start_time", "end_time", "inputs", "outputs", "extra", "tags", "model", "input_tokens",
    "output_tokens", "total_tokens", "overhead_ms", "n_runs",
)

_MODEL_KEYS = ("model", "model_name", "model_id", "deployment_name")
_MAX_OPEN_TRACES = 10_000
_MAX_ERROR = 8000
_PLAIN = (type(None), str, int, float, bool)


@cache
def runtime_env() -> dict[str, str]:
    """Where the traced program runs: computed once per process."""
    chainkit = sys.modules.get("chainkit")
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "os": f"{platform.system()} {platform.release()}",
        "machine": platform.machine(),
        "chainkit": str(getattr(chainkit, "__version__", "unknown")),
    }


def merged_length(intervals: list[tuple[float, float]], lo: float, hi: float) -> float:
    """Total length of the union of ``intervals``, clipped to ``[lo, hi]``."""
    total, cur_start, cur_end = 0.0, None, None
    for start, end in sorted(intervals):
        start, end = max(start, lo), min(end, hi)
        if end <= start:
            continue
        if cur_end is None or start > cur_end:
            if cur_end is not None and cur_start is not None:
                total += cur_end - cur_start
            cur_start, cur_end = start, end
        elif end > cur_end:
            cur_end = end
    if cur_end is not None and cur_start is not None:
        total += cur_end - cur_start
    return total


def model_name(run: Run) -> str | None:
    """The model a model run asked for (invocation params), else the one that answered."""
    params = run.extra.get("invocation_params")
    if isinstance(params, dict):
        for key in _MODEL_KEYS:
            value = params.get(key)
            if isinstance(value, str) and value:
                return value
    meta = getattr(run.outputs, "response_metadata", None)
    if isinstance(meta, dict):
        value = meta.get("model_name") or meta.get("model")
        if isinstance(value, str) and value:
            return value
    return None


def error_text(exc: BaseException) -> str:
    """``Type: message`` plus any notes (e.g. the chain path), secrets masked."""
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    text = scrub(text)
    return text if len(text) <= _MAX_ERROR else text[:_MAX_ERROR] + "… [truncated]"


class _Totals:
    __slots__ = ("input_tokens", "intervals", "memo", "output_tokens", "runs", "total_tokens",
                 "usage")

    def __init__(self) -> None:
        self.intervals: list[tuple[float, float]] = []
        self.input_tokens = self.output_tokens = self.total_tokens = self.runs = 0
        self.usage = False
        # One step's output is the next one's input (and the root's inputs/outputs are its
        # first/last child's): each object is serialised once per trace. The object is kept
        # with its text so its id cannot be reused while the entry lives.
        self.memo: dict[int, tuple[Any, str | None]] = {}


def _tokens(usage: Any) -> tuple[int | None, int | None, int | None]:
    if not isinstance(usage, dict):
        return None, None, None
    i, o = usage.get("input_tokens"), usage.get("output_tokens")
    t = usage.get("total_tokens")
    if t is None and isinstance(i, int) and isinstance(o, int):
        t = i + o
    return i, o, t


class RowMaker:
    """Makes rows for `RUN_COLUMNS`; one per writer thread (it is not thread-safe).

    Args:
        max_chars: Size limit of each stored JSON value (see `serialize.dumps`).
    """

    __slots__ = ("_open", "max_chars")

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self._open: dict[Any, _Totals] = {}

    def row(self, project: str, run: Run) -> tuple[Any, ...]:
        start = run.start_ns / 1e9
        end = run.end_ns / 1e9 if run.end_ns is not None else start
        is_model = run.run_type in MODEL_RUN_TYPES
        tokens = _tokens(run.usage) if is_model else (None, None, None)
        overhead_ms: float | None = None
        n_runs: int | None = None
        if run.parent is None:
            totals = self._open.pop(run.trace_id, None) or _Totals()
            memo = totals.memo
            if is_model:
                totals.intervals.append((start, end))
            elif totals.usage:
                tokens = (totals.input_tokens, totals.output_tokens, totals.total_tokens)
            overhead_ms = max(0.0, (end - start) - merged_length(totals.intervals, start, end))
            overhead_ms *= 1000.0
            n_runs = totals.runs + 1
        else:
            memo = self._note(run, start, end, is_model, tokens)
        extra = dict(run.extra)
        if run.metadata:
            extra["metadata"] = run.metadata
        if is_model and run.usage:
            extra["usage"] = run.usage
        if run.parent is None:
            extra["runtime"] = runtime_env()
        return (
            str(run.id), str(run.trace_id),
            str(run.parent_run_id) if run.parent_run_id is not None else None,
            project, run.name, run.run_type,
            "error" if run.error is not None else "success",
            error_text(run.error) if run.error is not None else None,
            start, end,
            *self._docs(memo, run.inputs, run.outputs, extra, run.tags or None),
            model_name(run) if is_model else None,
            *tokens, overhead_ms, n_runs,
        )

    def _docs(
        self, memo: dict[int, tuple[Any, str | None]], inputs: Any, outputs: Any,
        extra: dict[str, Any], tags: list[str] | None,
    ) -> list[str | None]:
        """JSON of inputs, outputs, extra and tags; objects already written in this trace
        reuse their text."""
        texts: list[str | None] = [None, None, None, None]
        todo: list[int] = []
        for slot, value in enumerate((inputs, outputs)):
            if type(value) not in _PLAIN:
                hit = memo.get(id(value))
                if hit is not None and hit[0] is value:
                    texts[slot] = hit[1]
                    continue
            todo.append(slot)
        items = [(inputs if s == 0 else outputs, False) for s in todo]
        items += [(extra, True), (tags, False)]
        for slot, text in zip([*todo, 2, 3], dumps_all(items, max_chars=self.max_chars),
                              strict=True):
            texts[slot] = text
        for slot in todo:
            value = inputs if slot == 0 else outputs
            if type(value) not in _PLAIN:
                memo[id(value)] = (value, texts[slot])
        return texts

    def _note(
        self, run: Run, start: float, end: float, is_model: bool,
        tokens: tuple[int | None, int | None, int | None],
    ) -> dict[int, tuple[Any, str | None]]:
        totals = self._open.get(run.trace_id)
        if totals is None:
            if len(self._open) >= _MAX_OPEN_TRACES:  # roots that never arrived: forget oldest
                del self._open[next(iter(self._open))]
            totals = self._open[run.trace_id] = _Totals()
        totals.runs += 1
        if is_model:
            totals.intervals.append((start, end))
            i, o, t = tokens
            if i is not None or o is not None:
                totals.usage = True
                totals.input_tokens += i or 0
                totals.output_tokens += o or 0
                totals.total_tokens += t or 0
        return totals.memo
