"""Datasets, examples and experiments in the trace database: the half of `Client` that
collects examples from traces and records evaluations over them.

A dataset is named; arguments called ``dataset`` / ``experiment`` take the name, the id, or
the record itself. Errors for a missing one name it and list the ones that exist.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Union
from uuid import UUID

from chainkit.tracing.context import uuid7_str
from chainkit.tracing.store.records import (
    Dataset,
    Example,
    Experiment,
    ExperimentResult,
    NotFoundError,
    RunRecord,
)
from chainkit.tracing.store.schema import Database
from chainkit.tracing.store.serialize import dumps

__all__ = ["DatasetsMixin"]

DatasetRef = Union[str, UUID, Dataset]
ExperimentRef = Union[str, UUID, Experiment]

# Examples are user data meant to be kept whole: a generous size limit.
_EXAMPLE_CHARS = 16 * 1024 * 1024


def _dump(value: Any) -> str | None:
    return dumps(value, max_chars=_EXAMPLE_CHARS)


def _names(rows: Sequence[Any]) -> str:
    names = [r["name"] for r in rows]
    return ", ".join(repr(n) for n in names[:20]) if names else "none yet"


class DatasetsMixin(Database):
    """Dataset, example and experiment methods of `chainkit.tracing.Client`."""

    # The client flushes the process's trace store before reading runs.
    def _sync(self) -> None: ...

    def read_run(self, run_id: str | UUID) -> RunRecord:
        raise NotImplementedError

    # ---- datasets -----------------------------------------------------------------------
    def create_dataset(self, name: str, *, description: str | None = None) -> Dataset:
        """Create an empty dataset.

        Raises:
            ValueError: ``name`` is empty, or a dataset with this name exists.
        """
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"dataset name must be a non-empty string, got {name!r}")
        if self._one("SELECT 1 FROM datasets WHERE name = ?", (name,)) is not None:
            raise ValueError(f"dataset {name!r} already exists; use read_dataset({name!r})")
        created = time.time()
        ds_id = uuid7_str()
        self._write([(
            "INSERT INTO datasets (id, name, description, created_at) VALUES (?, ?, ?, ?)",
            (ds_id, name, description, created),
        )])
        return self.read_dataset(ds_id)

    def read_dataset(self, dataset: DatasetRef) -> Dataset:
        """The dataset with this name or id.

        Raises:
            NotFoundError: There is none (the datasets that exist are listed).
        """
        key = dataset.id if isinstance(dataset, Dataset) else str(dataset)
        row = self._one(
            "SELECT d.*, (SELECT COUNT(*) FROM examples e WHERE e.dataset_id = d.id) "
            "AS example_count FROM datasets d WHERE d.id = ? OR d.name = ?",
            (key, key),
        )
        if row is None:
            existing = self._rows("SELECT name FROM datasets ORDER BY name")
            raise NotFoundError(f"no dataset {key!r}; datasets: {_names(existing)}")
        return Dataset.from_row(row)

    def list_datasets(self) -> list[Dataset]:
        """Every dataset, newest first, with its number of examples."""
        rows = self._rows(
            "SELECT d.*, (SELECT COUNT(*) FROM examples e WHERE e.dataset_id = d.id) "
            "AS example_count FROM datasets d ORDER BY d.created_at DESC"
        )
        return [Dataset.from_row(r) for r in rows]

    def _dataset(self, dataset: DatasetRef, create: bool) -> Dataset:
        try:
            return self.read_dataset(dataset)
        except NotFoundError:
            if not create or not isinstance(dataset, str):
                raise
            return self.create_dataset(dataset)

    # ---- examples -----------------------------------------------------------------------
    def create_example(
        self,
        inputs: Any,
        outputs: Any = None,
        *,
        dataset: DatasetRef,
        source_run_id: str | UUID | None = None,
    ) -> Example:
        """Add one example (inputs and the expected outputs) to a dataset.

        Raises:
            NotFoundError: The dataset does not exist.
        """
        return self.create_examples([inputs], [outputs], dataset=dataset,
                                    source_run_ids=[source_run_id])[0]

    def create_examples(
        self,
        inputs: Sequence[Any],
        outputs: Sequence[Any] | None = None,
        *,
        dataset: DatasetRef,
        source_run_ids: Sequence[str | UUID | None] | None = None,
    ) -> list[Example]:
        """Add several examples in one transaction (``outputs[i]`` belongs to ``inputs[i]``).

        Raises:
            NotFoundError: The dataset does not exist.
            ValueError: ``outputs`` or ``source_run_ids`` differ in length from ``inputs``.
        """
        ds = self.read_dataset(dataset)
        n = len(inputs)
        outs = list(outputs) if outputs is not None else [None] * n
        sources = list(source_run_ids) if source_run_ids is not None else [None] * n
        if len(outs) != n or len(sources) != n:
            raise ValueError(
                f"got {n} inputs but {len(outs)} outputs and {len(sources)} source run ids"
            )
        ids = [uuid7_str() for _ in range(n)]
        now = time.time()
        self._write([
            ("INSERT INTO examples (id, dataset_id, inputs, outputs, source_run_id, created_at) "
             "VALUES (?, ?, ?, ?, ?, ?)",
             (ex_id, ds.id, _dump(i), _dump(o), str(s) if s is not None else None, now + k * 1e-6))
            for k, (ex_id, i, o, s) in enumerate(zip(ids, inputs, outs, sources, strict=True))
        ])
        return [self.read_example(ex_id) for ex_id in ids]

    def read_example(self, example_id: str | UUID) -> Example:
        """The example with this id.

        Raises:
            NotFoundError: There is none.
        """
        row = self._one("SELECT * FROM examples WHERE id = ?", (str(example_id),))
        if row is None:
            raise NotFoundError(f"no example with id {str(example_id)!r} in {str(self.path)!r}")
        return Example.from_row(row)

    def add_runs_to_dataset(
        self,
        run_ids: Iterable[str | UUID],
        dataset: DatasetRef,
        *,
        create: bool = False,
    ) -> list[Example]:
        """Turn runs into examples: each run's inputs, with its outputs as the reference.

        Args:
            run_ids: The runs (usually root runs).
            dataset: The dataset's name or id.
            create: Create the dataset (by name) if it does not exist.

        Raises:
            NotFoundError: A run or the dataset does not exist.
        """
        ds = self._dataset(dataset, create)
        runs = [self.read_run(r) for r in run_ids]
        return self.create_examples(
            [r.inputs for r in runs], [r.outputs for r in runs], dataset=ds,
            source_run_ids=[r.id for r in runs],
        )

    def list_examples(self, dataset: DatasetRef) -> list[Example]:
        """The dataset's examples, in the order they were added.

        Raises:
            NotFoundError: The dataset does not exist.
        """
        ds = self.read_dataset(dataset)
        rows = self._rows(
            "SELECT * FROM examples WHERE dataset_id = ? ORDER BY created_at, id", (ds.id,)
        )
        return [Example.from_row(r) for r in rows]

    # ---- experiments --------------------------------------------------------------------
    def create_experiment(
        self, name: str, dataset: DatasetRef, *, metadata: Mapping[str, Any] | None = None
    ) -> Experiment:
        """Record a new experiment over a dataset (`chainkit.evaluation.evaluate` does this).

        Raises:
            ValueError: An experiment with this name exists.
            NotFoundError: The dataset does not exist.
        """
        ds = self.read_dataset(dataset)
        if self._one("SELECT 1 FROM experiments WHERE name = ?", (name,)) is not None:
            raise ValueError(f"experiment {name!r} already exists; choose another name")
        exp_id = uuid7_str()
        self._write([(
            "INSERT INTO experiments (id, name, dataset_id, created_at, metadata) "
            "VALUES (?, ?, ?, ?, ?)",
            (exp_id, name, ds.id, time.time(), dumps(dict(metadata or {}), loose=True)),
        )])
        return self.read_experiment(exp_id)

    def read_experiment(self, experiment: ExperimentRef) -> Experiment:
        """The experiment with this name or id.

        Raises:
            NotFoundError: There is none (the experiments that exist are listed).
        """
        key = experiment.id if isinstance(experiment, Experiment) else str(experiment)
        row = self._one("SELECT * FROM experiments WHERE id = ? OR name = ?", (key, key))
        if row is None:
            existing = self._rows("SELECT name FROM experiments ORDER BY created_at DESC")
            raise NotFoundError(f"no experiment {key!r}; experiments: {_names(existing)}")
        return Experiment.from_row(row)

    def list_experiments(self, dataset: DatasetRef | None = None) -> list[Experiment]:
        """Experiments, newest first; only those over ``dataset`` if given."""
        if dataset is None:
            rows = self._rows("SELECT * FROM experiments ORDER BY created_at DESC")
        else:
            ds = self.read_dataset(dataset)
            rows = self._rows(
                "SELECT * FROM experiments WHERE dataset_id = ? ORDER BY created_at DESC",
                (ds.id,),
            )
        return [Experiment.from_row(r) for r in rows]

    def add_experiment_results(
        self, experiment: ExperimentRef, results: Iterable[ExperimentResult]
    ) -> None:
        """Store (or replace) per-example results of an experiment, in one transaction."""
        exp = self.read_experiment(experiment)
        self._write([
            ("INSERT OR REPLACE INTO experiment_results (experiment_id, example_id, run_id, "
             "outputs, error, latency_ms, scores) VALUES (?, ?, ?, ?, ?, ?, ?)",
             (exp.id, r.example_id, r.run_id, dumps(r.outputs), r.error, r.latency_ms,
              json.dumps(r.scores)))
            for r in results
        ])

    def list_experiment_results(self, experiment: ExperimentRef) -> list[ExperimentResult]:
        """An experiment's results, in the dataset's example order."""
        exp = self.read_experiment(experiment)
        rows = self._rows(
            "SELECT r.* FROM experiment_results r LEFT JOIN examples e ON e.id = r.example_id "
            "WHERE r.experiment_id = ? ORDER BY e.created_at, r.example_id",
            (exp.id,),
        )
        return [ExperimentResult.from_row(r) for r in rows]

    def compare_experiments(self, experiments: Sequence[ExperimentRef]) -> dict[str, Any]:
        """Experiments side by side: the mean of each score, and every example's results.

        Returns:
            ``{"experiments": [...], "summary": {exp_id: {key: mean}}, "rows": [{"example":
            {...}, "results": {exp_id: {...}}}]}``, rows in example order.
        """
        exps = [self.read_experiment(e) for e in experiments]
        summary: dict[str, dict[str, float]] = {}
        by_example: dict[str, dict[str, Any]] = {}
        for exp in exps:
            results = self.list_experiment_results(exp)
            sums: dict[str, list[float]] = {}
            for r in results:
                by_example.setdefault(r.example_id, {})[exp.id] = r.to_dict()
                for key, score in r.scores.items():
                    if isinstance(score, (int, float)):
                        sums.setdefault(key, []).append(float(score))
            summary[exp.id] = {k: sum(v) / len(v) for k, v in sums.items()}
        rows: list[dict[str, Any]] = []
        for example_id, per_exp in by_example.items():
            try:
                example: dict[str, Any] | None = self.read_example(example_id).to_dict()
            except NotFoundError:
                example = None
            rows.append({"example_id": example_id, "example": example, "results": per_exp})
        rows.sort(key=lambda r: (r["example"] or {}).get("created_at") or "")
        return {"experiments": [e.to_dict() for e in exps], "summary": summary, "rows": rows}
