"""The local trace store: a SQLite file of runs, feedback, datasets and experiments.

- `writer.TraceStore`: the listener that records runs from a background thread;
- `rows`, `serialize`, `redact`: how a finished run becomes a row, secrets masked;
- `schema`: the tables and how the file is opened (WAL, one transaction per batch);
- `records`: what `chainkit.tracing.Client` reads back; `datasets`: its dataset half;
- `pricing`: token prices for costs.

Example:
    >>> from chainkit.tracing.store import TraceStore
    >>> store = TraceStore("/tmp/traces.db")
    >>> chain.invoke(x, {"callbacks": [store]}); store.flush()
"""

from __future__ import annotations

from chainkit.tracing.store.pricing import cost, set_price
from chainkit.tracing.store.records import (
    Dataset,
    Example,
    Experiment,
    ExperimentResult,
    Feedback,
    NotFoundError,
    RunRecord,
)
from chainkit.tracing.store.schema import default_db_path
from chainkit.tracing.store.writer import TraceStore

__all__ = [
    "Dataset",
    "Example",
    "Experiment",
    "ExperimentResult",
    "Feedback",
    "NotFoundError",
    "RunRecord",
    "TraceStore",
    "cost",
    "default_db_path",
    "set_price",
]
