"""`ExperimentResults`: what `evaluate` returns: per-example rows, a summary, a printed table."""

from __future__ import annotations

import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from chainkit.evaluation.evaluators import EvaluationResult
from chainkit.tracing.store.records import (
    Dataset,
    Example,
    Experiment,
    ExperimentResult,
    RunRecord,
)

__all__ = ["ExperimentResults", "ResultRow"]


@dataclass(frozen=True)
class ResultRow:
    """One example's outcome: its answer (or error), latency, trace and judgements."""

    example: Example
    result: ExperimentResult
    evaluations: list[EvaluationResult]
    run: RunRecord | None
    """The stored root run of the example's trace (latency, tokens), if it was recorded."""


class ExperimentResults:
    """The outcome of one `chainkit.evaluation.evaluate` call.

    Iterating gives one `ResultRow` per example, in dataset order. The experiment is stored:
    ``chainkit ui`` lists and compares it.

    Example:
        >>> results = evaluate(chain, "qa", evaluators=[exact_match])
        >>> results.summary()["scores"]
        {'exact_match': 0.75}
        >>> print(results.to_table())
    """

    def __init__(
        self,
        experiment: Experiment,
        dataset: Dataset,
        examples: Sequence[Example],
        results: Sequence[ExperimentResult],
        evaluations: Sequence[list[EvaluationResult]],
        runs: dict[str, RunRecord],
    ) -> None:
        self.experiment = experiment
        self.dataset = dataset
        by_id = {r.example_id: (r, ev) for r, ev in zip(results, evaluations, strict=True)}
        self.rows = [
            ResultRow(ex, by_id[ex.id][0], by_id[ex.id][1], runs.get(ex.id))
            for ex in examples if ex.id in by_id
        ]

    @property
    def experiment_name(self) -> str:
        return self.experiment.name

    def __iter__(self) -> Iterator[ResultRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        return (f"ExperimentResults(experiment={self.experiment.name!r}, "
                f"dataset={self.dataset.name!r}, examples={len(self.rows)})")

    def scores(self) -> dict[str, list[float]]:
        """Every numeric score, by key."""
        out: dict[str, list[float]] = {}
        for row in self.rows:
            for ev in row.evaluations:
                if ev.score is not None:
                    out.setdefault(ev.key, []).append(ev.score)
        return out

    def summary(self) -> dict[str, Any]:
        """Means of each score, error count, latency (median and p95) and total tokens."""
        latencies = sorted(r.result.latency_ms for r in self.rows
                           if r.result.latency_ms is not None)
        tokens = [r.run.total_tokens for r in self.rows
                  if r.run is not None and r.run.total_tokens is not None]
        return {
            "experiment": self.experiment.name,
            "dataset": self.dataset.name,
            "examples": len(self.rows),
            "errors": sum(1 for r in self.rows if r.result.error),
            "scores": {k: statistics.fmean(v) for k, v in sorted(self.scores().items())},
            "latency_ms_p50": statistics.median(latencies) if latencies else None,
            "latency_ms_p95": latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
            if latencies else None,
            "total_tokens": sum(tokens) if tokens else None,
        }

    def to_table(self) -> str:
        """The summary as a plain-text table."""
        s = self.summary()
        lines = [
            f"Experiment {s['experiment']!r} on dataset {s['dataset']!r}: "
            f"{s['examples']} examples, {s['errors']} errors",
        ]
        rows = [("metric", "mean", "min", "max", "n")]
        for key, values in sorted(self.scores().items()):
            rows.append((key, f"{statistics.fmean(values):.3f}", f"{min(values):.3f}",
                         f"{max(values):.3f}", str(len(values))))
        if s["latency_ms_p50"] is not None:
            rows.append(("latency p50 / p95 (ms)", f"{s['latency_ms_p50']:.1f}",
                         "", f"{s['latency_ms_p95']:.1f}", str(s["examples"])))
        if s["total_tokens"] is not None:
            rows.append(("total tokens", str(s["total_tokens"]), "", "", ""))
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        for j, row in enumerate(rows):
            lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
            if j == 0:
                lines.append("  ".join("-" * w for w in widths))
        lines.append("Compare experiments in the viewer: chainkit ui")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_table()
