"""`Client`: read traces and write feedback, datasets and examples in the local trace database.

LangSmith's client names, over a local SQLite file; nothing leaves the machine. Reads first
flush the process's own trace store when it writes to the same file, so a run just traced is
visible at once.

Example:
    >>> from chainkit.tracing import Client
    >>> client = Client()
    >>> run = client.list_runs(project="support-bot", is_root=True, limit=1)[0]
    >>> client.create_feedback(run.id, "correctness", score=1, comment="right answer")
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any
from uuid import UUID

from chainkit.tracing import _enable
from chainkit.tracing.context import uuid7_str
from chainkit.tracing.store.datasets import DatasetsMixin
from chainkit.tracing.store.pricing import cost
from chainkit.tracing.store.records import Feedback, NotFoundError, RunRecord
from chainkit.tracing.store.serialize import dumps

__all__ = ["Client", "NotFoundError"]

_FEEDBACK_SOURCES = ("api", "viewer", "evaluator")


def _id(value: str | UUID, what: str) -> str:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, str) and value:
        return value
    raise TypeError(f"{what} must be a UUID or a non-empty str, got {value!r}")


def _epoch(value: datetime | float | int) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise TypeError(f"start_time must be a datetime or epoch seconds, got {value!r}")


class Client(DatasetsMixin):
    """Query runs, give feedback, build datasets and read experiments, locally.

    Args:
        db_path: The trace database (default ``$CHAINKIT_TRACE_DB`` or
            ``~/.chainkit/traces.db``); created if missing.

    Example:
        >>> client = Client("/tmp/traces.db")
        >>> failed = client.list_runs(error=True, is_root=True)
        >>> client.add_runs_to_dataset([r.id for r in failed], "regressions", create=True)
    """

    def __init__(self, db_path: str | os.PathLike[str] | None = None) -> None:
        super().__init__(db_path)

    def __repr__(self) -> str:
        return f"Client(db_path={str(self.path)!r})"

    def _sync(self) -> None:
        store = _enable.get_store()
        if store is not None and store.path.resolve() == self.path.resolve():
            store.flush()

    # ---- runs ---------------------------------------------------------------------------
    def list_runs(
        self,
        project: str | None = None,
        name: str | None = None,
        error: bool | None = None,
        start_time: datetime | float | None = None,
        limit: int = 100,
        *,
        run_type: str | None = None,
        trace_id: str | UUID | None = None,
        is_root: bool | None = None,
        search: str | None = None,
        offset: int = 0,
    ) -> list[RunRecord]:
        """Runs, newest first, filtered by every argument given.

        Args:
            project: Only this project's runs.
            name: Only runs with this name.
            error: True: only failed runs; False: only successful ones.
            start_time: Only runs started at or after this time.
            limit: At most this many runs.
            run_type: Only this run type (``"chain"``, ``"chat_model"``, ...).
            trace_id: Only the runs of this trace.
            is_root: True: only root runs (one per trace); False: only child runs.
            search: Only runs whose name, inputs, outputs or error contain this text
                (case-insensitive); with ``is_root=True``, roots of traces in which any run
                does.
            offset: Skip this many matching runs (paging).
        """
        if not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be a positive int, got {limit!r}")
        where: list[str] = ["1=1"]
        params: list[Any] = []
        for column, value in (("project", project), ("name", name), ("run_type", run_type)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if trace_id is not None:
            where.append("trace_id = ?")
            params.append(_id(trace_id, "trace_id"))
        if error is not None:
            where.append("status = 'error'" if error else "status != 'error'")
        if start_time is not None:
            where.append("start_time >= ?")
            params.append(_epoch(start_time))
        if is_root is not None:
            where.append("parent_run_id IS NULL" if is_root else "parent_run_id IS NOT NULL")
        if search:
            match = "(name LIKE ? OR inputs LIKE ? OR outputs LIKE ? OR error LIKE ?)"
            if is_root:  # a trace matches if any of its runs does
                match = f"trace_id IN (SELECT trace_id FROM runs WHERE {match})"
            where.append(match)
            params.extend([f"%{search}%"] * 4)
        self._sync()
        rows = self._rows(
            f"SELECT * FROM runs WHERE {' AND '.join(where)} "
            "ORDER BY start_time DESC, id DESC LIMIT ? OFFSET ?",
            [*params, limit, max(0, offset)],
        )
        return [RunRecord.from_row(r) for r in rows]

    def read_run(self, run_id: str | UUID) -> RunRecord:
        """The run with this id.

        Raises:
            NotFoundError: No run has this id (the id and the database are named).
        """
        key = _id(run_id, "run_id")
        self._sync()
        row = self._one("SELECT * FROM runs WHERE id = ?", (key,))
        if row is None:
            raise NotFoundError(f"no run with id {key!r} in {str(self.path)!r}")
        return RunRecord.from_row(row)

    def read_trace(self, trace_id: str | UUID) -> list[RunRecord]:
        """Every run of one trace, in start order (the root first).

        Raises:
            NotFoundError: No run belongs to this trace.
        """
        key = _id(trace_id, "trace_id")
        self._sync()
        rows = self._rows(
            "SELECT * FROM runs WHERE trace_id = ? ORDER BY start_time, id", (key,)
        )
        if not rows:
            raise NotFoundError(f"no trace with id {key!r} in {str(self.path)!r}")
        return [RunRecord.from_row(r) for r in rows]

    def list_projects(self) -> list[dict[str, Any]]:
        """Projects with their number of traces and latest trace time, most recent first."""
        self._sync()
        rows = self._rows(
            "SELECT project, COUNT(*) AS traces, MAX(start_time) AS last_start FROM runs "
            "WHERE parent_run_id IS NULL GROUP BY project ORDER BY last_start DESC"
        )
        return [dict(r) for r in rows]

    def trace_costs(self, trace_ids: Iterable[str]) -> dict[str, float | None]:
        """USD cost of each trace: the priced model calls in it (None if none are priced)."""
        ids = list(trace_ids)
        out: dict[str, float | None] = dict.fromkeys(ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            rows = self._rows(
                "SELECT trace_id, model, SUM(input_tokens) AS i, SUM(output_tokens) AS o "
                f"FROM runs WHERE trace_id IN ({','.join('?' * len(chunk))}) "
                "AND model IS NOT NULL GROUP BY trace_id, model",
                chunk,
            )
            for row in rows:
                c = cost(row["model"], row["i"], row["o"])
                if c is not None:
                    out[row["trace_id"]] = (out[row["trace_id"]] or 0.0) + c
        return out

    # ---- feedback -----------------------------------------------------------------------
    def create_feedback(
        self,
        run_id: str | UUID,
        key: str,
        score: float | bool | None = None,
        value: Any = None,
        comment: str | None = None,
        *,
        source: str = "api",
    ) -> Feedback:
        """Record a judgement of a run.

        Args:
            run_id: The run judged (often a trace's root run).
            key: What is judged: ``"correctness"``, ``"user_score"``, ...
            score: A number (True/False count as 1/0).
            value: Any JSON value (a label, a dict of details).
            comment: Free text.
            source: ``"api"``, ``"viewer"`` or ``"evaluator"``.

        Raises:
            NotFoundError: No run has this id.
            ValueError: ``key`` is empty, ``score`` is not a finite number, or ``source`` is
                not one of the valid sources.
        """
        if not isinstance(key, str) or not key.strip():
            raise ValueError(f"feedback key must be a non-empty string, got {key!r}")
        if score is not None:
            if not isinstance(score, (int, float)) or not math.isfinite(score):
                raise ValueError(f"score must be a finite number or None, got {score!r}")
            score = float(score)
        if comment is not None and not isinstance(comment, str):
            raise ValueError(f"comment must be a string or None, got {type(comment).__name__}")
        if source not in _FEEDBACK_SOURCES:
            raise ValueError(f"source must be one of {list(_FEEDBACK_SOURCES)}, got {source!r}")
        run = self.read_run(run_id)
        feedback = Feedback(
            id=uuid7_str(), run_id=run.id, key=key, score=score,
            value=value, comment=comment, source=source,
            created_at=datetime.now(timezone.utc),
        )
        self._write([(
            "INSERT INTO feedback (id, run_id, key, score, value, comment, source, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (feedback.id, run.id, key, score, dumps(value), comment, source,
             feedback.created_at.timestamp()),
        )])
        return feedback

    def list_feedback(
        self, run_ids: Sequence[str | UUID] | None = None, key: str | None = None
    ) -> list[Feedback]:
        """Feedback, oldest first, on the given runs and/or with the given key."""
        where: list[str] = ["1=1"]
        params: list[Any] = []
        if run_ids is not None:
            ids = [_id(r, "run_id") for r in run_ids]
            if not ids:
                return []
            where.append(f"run_id IN ({','.join('?' * len(ids))})")
            params.extend(ids)
        if key is not None:
            where.append("key = ?")
            params.append(key)
        rows = self._rows(
            f"SELECT * FROM feedback WHERE {' AND '.join(where)} ORDER BY created_at, id", params
        )
        return [Feedback.from_row(r) for r in rows]
