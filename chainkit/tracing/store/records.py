"""What `chainkit.tracing.Client` returns: runs, feedback, datasets, examples, experiments.

Plain frozen dataclasses read from the trace database; JSON columns are decoded, times are
timezone-aware UTC datetimes. ``to_dict()`` gives the JSON shape the viewer's API serves.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from typing import Any

__all__ = [
    "Dataset",
    "Example",
    "Experiment",
    "ExperimentResult",
    "Feedback",
    "NotFoundError",
    "RunRecord",
]


class NotFoundError(LookupError):
    """A run, dataset, example or experiment that the trace database does not hold."""


def _time(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, timezone.utc)


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


class _Record:
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the fields (datetimes as ISO strings)."""
        return {f.name: _jsonable(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]


@dataclass(frozen=True)
class RunRecord(_Record):
    """One stored run: a call of one runnable within a trace.

    Example:
        >>> run = Client().read_run(run_id)
        >>> run.name, run.latency_ms, run.total_tokens
        ('RunnableSequence', 12.5, 31)
    """

    id: str
    trace_id: str
    parent_run_id: str | None
    project: str
    name: str
    run_type: str
    status: str
    """``"success"`` or ``"error"``."""
    error: str | None
    start_time: datetime
    end_time: datetime | None
    inputs: Any
    outputs: Any
    extra: dict[str, Any] = field(default_factory=dict)
    """``invocation_params``, ``metadata``, ``usage``; ``runtime`` (Python, OS, chainkit) on
    a root run."""
    tags: list[str] = field(default_factory=list)
    model: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None
    overhead_ms: float | None = None
    """Root runs: latency not spent inside model calls (chainkit plus the user's code)."""
    n_runs: int | None = None
    """Root runs: how many runs the trace holds."""

    @property
    def latency_ms(self) -> float | None:
        if self.end_time is None:
            return None
        return (self.end_time - self.start_time).total_seconds() * 1000.0

    @property
    def is_root(self) -> bool:
        return self.parent_run_id is None

    @property
    def invocation_params(self) -> dict[str, Any]:
        value = self.extra.get("invocation_params")
        return value if isinstance(value, dict) else {}

    @property
    def metadata(self) -> dict[str, Any]:
        value = self.extra.get("metadata")
        return value if isinstance(value, dict) else {}

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["latency_ms"] = self.latency_ms
        return out

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> RunRecord:
        return cls(
            id=row["id"], trace_id=row["trace_id"], parent_run_id=row["parent_run_id"],
            project=row["project"], name=row["name"], run_type=row["run_type"],
            status=row["status"], error=row["error"],
            start_time=_time(row["start_time"]),  # type: ignore[arg-type]
            end_time=_time(row["end_time"]),
            inputs=_json(row["inputs"]), outputs=_json(row["outputs"]),
            extra=_json(row["extra"]) or {}, tags=_json(row["tags"]) or [],
            model=row["model"], input_tokens=row["input_tokens"],
            output_tokens=row["output_tokens"], total_tokens=row["total_tokens"],
            overhead_ms=row["overhead_ms"], n_runs=row["n_runs"],
        )


@dataclass(frozen=True)
class Feedback(_Record):
    """A judgement of one run: a ``key`` (``"correctness"``, ``"user_score"``...) with a
    numeric ``score`` and/or any JSON ``value``, and a comment."""

    id: str
    run_id: str
    key: str
    score: float | None
    value: Any
    comment: str | None
    source: str
    """``"api"``, ``"viewer"`` or ``"evaluator"``."""
    created_at: datetime

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Feedback:
        return cls(
            id=row["id"], run_id=row["run_id"], key=row["key"], score=row["score"],
            value=_json(row["value"]), comment=row["comment"], source=row["source"],
            created_at=_time(row["created_at"]),  # type: ignore[arg-type]
        )


@dataclass(frozen=True)
class Dataset(_Record):
    """A named collection of examples to evaluate chains on."""

    id: str
    name: str
    description: str | None
    created_at: datetime
    example_count: int = 0

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Dataset:
        keys = row.keys()
        return cls(
            id=row["id"], name=row["name"], description=row["description"],
            created_at=_time(row["created_at"]),  # type: ignore[arg-type]
            example_count=row["example_count"] if "example_count" in keys else 0,
        )


@dataclass(frozen=True)
class Example(_Record):
    """One input, with the output expected of it (the reference), in a dataset."""

    id: str
    dataset_id: str
    inputs: Any
    outputs: Any
    source_run_id: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Example:
        return cls(
            id=row["id"], dataset_id=row["dataset_id"], inputs=_json(row["inputs"]),
            outputs=_json(row["outputs"]), source_run_id=row["source_run_id"],
            created_at=_time(row["created_at"]),  # type: ignore[arg-type]
        )


@dataclass(frozen=True)
class Experiment(_Record):
    """One `chainkit.evaluation.evaluate` of a chain over a dataset."""

    id: str
    name: str
    dataset_id: str
    created_at: datetime
    metadata: dict[str, Any]

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Experiment:
        return cls(
            id=row["id"], name=row["name"], dataset_id=row["dataset_id"],
            created_at=_time(row["created_at"]),  # type: ignore[arg-type]
            metadata=_json(row["metadata"]) or {},
        )


@dataclass(frozen=True)
class ExperimentResult(_Record):
    """What one example gave in one experiment: the output, the trace and the scores."""

    experiment_id: str
    example_id: str
    run_id: str | None
    outputs: Any
    error: str | None
    latency_ms: float | None
    scores: dict[str, Any]

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> ExperimentResult:
        return cls(
            experiment_id=row["experiment_id"], example_id=row["example_id"],
            run_id=row["run_id"], outputs=_json(row["outputs"]), error=row["error"],
            latency_ms=row["latency_ms"], scores=_json(row["scores"]) or {},
        )
