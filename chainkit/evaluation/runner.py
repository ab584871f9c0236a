"""`evaluate` / `aevaluate`: run a chain over a dataset, judge every answer, keep the results.

Each example's call is traced (project = the experiment's name) with a known run id, so every
result links to its trace. The work is planned once (`_Experiment`: examples, configs,
evaluators with their signatures read); the sync driver runs examples in a thread pool, the
async one as tasks on the loop, each at most ``max_concurrency`` at a time. Evaluators run
right after their example, outside tracing, and a raising evaluator is recorded as a result
with no score (its error as the comment), not raised.

At the end the experiment's per-example results are stored, each score is also stored as
feedback (source ``"evaluator"``) on the example's root run, and a summary table is printed.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime, timezone
from typing import Any

from chainkit.evaluation._progress import ProgressBar
from chainkit.evaluation.evaluators import (
    EvaluationResult,
    Evaluator,
    as_call,
    evaluator_key,
    normalize,
)
from chainkit.evaluation.report import ExperimentResults
from chainkit.runnables.base import Runnable, coerce_to_runnable
from chainkit.runnables.config import RunnableConfig
from chainkit.tracing import _enable
from chainkit.tracing._enable import tracing
from chainkit.tracing.client import Client
from chainkit.tracing.context import uuid7
from chainkit.tracing.store.datasets import DatasetRef
from chainkit.tracing.store.records import Example, ExperimentResult, NotFoundError, RunRecord
from chainkit.tracing.store.rows import error_text

__all__ = ["aevaluate", "evaluate"]

_DEFAULT_CONCURRENCY = 8


class _Experiment:
    """What one evaluation decides before any call; the drivers only loop over it."""

    def __init__(
        self,
        target: Any,
        data: DatasetRef,
        evaluators: Sequence[Evaluator],
        *,
        experiment_prefix: str | None,
        experiment_name: str | None,
        metadata: Mapping[str, Any] | None,
        max_concurrency: int | None,
        client: Client | None,
        db_path: Any,
    ) -> None:
        if max_concurrency is not None and (not isinstance(max_concurrency, int)
                                            or max_concurrency < 1):
            raise ValueError(f"max_concurrency must be a positive int or None, got "
                             f"{max_concurrency!r}")
        self.runnable: Runnable[Any, Any] = coerce_to_runnable(target)
        self.checks = [(evaluator_key(e), as_call(e)) for e in evaluators]
        if client is None:
            store = _enable.get_store()
            path = db_path if db_path is not None else (store.path if store else None)
            client = Client(path)
        self.client = client
        dataset = client.read_dataset(data)
        self.examples: list[Example] = client.list_examples(dataset)
        if not self.examples:
            raise ValueError(f"dataset {dataset.name!r} has no examples; add some with "
                             "Client.create_example or Client.add_runs_to_dataset")
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        name = experiment_name or (
            f"{experiment_prefix or self.runnable.get_name()}-{stamp}-{uuid.uuid4().hex[:6]}"
        )
        self.experiment = client.create_experiment(name, dataset, metadata={
            "target": self.runnable.get_name(), "evaluators": [k for k, _ in self.checks],
            "max_concurrency": max_concurrency, **(metadata or {}),
        })
        self.dataset = dataset
        self.workers = max_concurrency or min(_DEFAULT_CONCURRENCY, len(self.examples))
        self.run_ids = [uuid7() for _ in self.examples]
        self.rows: list[ExperimentResult | None] = [None] * len(self.examples)
        self.scores: list[list[EvaluationResult]] = [[] for _ in self.examples]

    def config(self, i: int) -> RunnableConfig:
        return {"run_id": self.run_ids[i], "metadata": {
            "experiment": self.experiment.name, "example_id": self.examples[i].id}}

    def score(self, i: int, output: Any, error: BaseException | None, latency_ms: float) -> None:
        """Judge example ``i``'s answer with every evaluator; keep the row."""
        example, run_id = self.examples[i], str(self.run_ids[i])
        now = datetime.now(timezone.utc)
        run = RunRecord(
            id=run_id, trace_id=run_id, parent_run_id=None, project=self.experiment.name,
            name=self.runnable.get_name(), run_type=self.runnable.run_type,
            status="error" if error else "success",
            error=error_text(error) if error else None, start_time=now, end_time=now,
            inputs=example.inputs, outputs=output,
        )
        results: list[EvaluationResult] = []
        if error is None:
            with tracing(enabled=False):  # the judges' own calls are not part of the trace
                for key, check in self.checks:
                    try:
                        results += normalize(key, check(run, example))
                    except Exception as exc:
                        results.append(EvaluationResult(
                            key, None, comment=f"evaluator raised {type(exc).__name__}: {exc}"))
        self.scores[i] = results
        self.rows[i] = ExperimentResult(
            self.experiment.id, example.id, run_id, output, run.error, latency_ms,
            {r.key: r.score if r.score is not None else r.value for r in results},
        )

    def finish(self, print_summary: bool) -> ExperimentResults:
        rows = [r for r in self.rows if r is not None]
        self.client.add_experiment_results(self.experiment, rows)
        runs: dict[str, RunRecord] = {}
        for row, results in zip(rows, self.scores, strict=True):
            try:
                runs[row.example_id] = self.client.read_run(row.run_id or "")
            except NotFoundError:  # not recorded (a full trace queue): results stay
                continue
            for r in results:
                self.client.create_feedback(row.run_id or "", r.key, score=r.score,
                                            value=r.value, comment=r.comment, source="evaluator")
        out = ExperimentResults(self.experiment, self.dataset, self.examples, rows, self.scores,
                                runs)
        if print_summary:
            print(out.to_table())
        return out


def _invoke(exp: _Experiment, i: int) -> tuple[int, Any, BaseException | None, float]:
    t0 = time.perf_counter()
    try:
        out, err = exp.runnable.invoke(exp.examples[i].inputs, exp.config(i)), None
    except Exception as exc:
        out, err = None, exc
    latency = (time.perf_counter() - t0) * 1000
    exp.score(i, out, err, latency)
    return i, out, err, latency


def evaluate(
    target: Any,
    data: DatasetRef,
    evaluators: Sequence[Evaluator] = (),
    *,
    max_concurrency: int | None = None,
    experiment_prefix: str | None = None,
    experiment_name: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    client: Client | None = None,
    db_path: Any = None,
    progress: bool | None = None,
    print_summary: bool = True,
) -> ExperimentResults:
    """Run ``target`` on every example of a dataset, judge each answer, store an experiment.

    Args:
        target: A runnable (or a function) called with each example's ``inputs``.
        data: The dataset's name or id (or the `Dataset`).
        evaluators: Functions ``(run, example) -> score | dict | EvaluationResult``, e.g.
            `exact_match`, `string_similarity`, `llm_judge(model)`.
        max_concurrency: Examples in flight at once (default 8; 1 runs them in turn).
        experiment_prefix: Start of the generated experiment name (default: the target's
            name); ``experiment_name`` sets it whole.
        metadata: Stored with the experiment (e.g. the model and prompt version).
        client: The `Client` (default: the trace database in use, else the default one).
        db_path: The trace database, when no client is given.
        progress: Force the stderr progress bar on or off (default: on a terminal only).
        print_summary: Print the summary table at the end.

    Returns:
        The results: per-example outputs and scores, and ``summary()`` of the means.

    Raises:
        NotFoundError: The dataset does not exist (the existing ones are listed).
        ValueError: The dataset is empty, or the experiment name is taken.

    Example:
        >>> from chainkit.evaluation import evaluate, exact_match
        >>> results = evaluate(chain, "qa", evaluators=[exact_match], max_concurrency=4)
        >>> results.summary()["scores"]["exact_match"]
        0.75
    """
    exp = _Experiment(target, data, evaluators, experiment_prefix=experiment_prefix,
                      experiment_name=experiment_name, metadata=metadata,
                      max_concurrency=max_concurrency, client=client, db_path=db_path)
    with tracing(project=exp.experiment.name, db_path=exp.client.path), \
            ProgressBar(len(exp.examples), desc=exp.experiment.name, enabled=progress) as bar, \
            ThreadPoolExecutor(max_workers=exp.workers,
                               thread_name_prefix="chainkit-evaluate") as pool:
        futures = [pool.submit(contextvars.copy_context().run, _invoke, exp, i)
                   for i in range(len(exp.examples))]
        for future in as_completed(futures):
            future.result()
            bar.update()
    return exp.finish(print_summary)


async def aevaluate(
    target: Any,
    data: DatasetRef,
    evaluators: Sequence[Evaluator] = (),
    *,
    max_concurrency: int | None = None,
    experiment_prefix: str | None = None,
    experiment_name: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    client: Client | None = None,
    db_path: Any = None,
    progress: bool | None = None,
    print_summary: bool = True,
) -> ExperimentResults:
    """`evaluate` for async code: the target runs with ``ainvoke`` as tasks on the running
    loop; evaluators (plain functions, which may call models) run in worker threads."""
    exp = await asyncio.to_thread(
        _Experiment, target, data, evaluators, experiment_prefix=experiment_prefix,
        experiment_name=experiment_name, metadata=metadata, max_concurrency=max_concurrency,
        client=client, db_path=db_path,
    )
    limit = asyncio.Semaphore(exp.workers)

    async def one(i: int, bar: ProgressBar) -> None:
        async with limit:
            t0 = time.perf_counter()
            try:
                out, err = await exp.runnable.ainvoke(exp.examples[i].inputs, exp.config(i)), None
            except Exception as exc:
                out, err = None, exc
            latency = (time.perf_counter() - t0) * 1000
        await asyncio.to_thread(exp.score, i, out, err, latency)
        bar.update()

    with tracing(project=exp.experiment.name, db_path=exp.client.path), \
            ProgressBar(len(exp.examples), desc=exp.experiment.name, enabled=progress) as bar:
        await asyncio.gather(*(one(i, bar) for i in range(len(exp.examples))))
    return await asyncio.to_thread(exp.finish, print_summary)
