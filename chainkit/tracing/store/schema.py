"""The trace database: where it lives, its tables, and how a connection to it is opened.

One SQLite file holds runs (every run of every trace, one row each), feedback, datasets with
their examples, and experiments with their per-example results. The file is opened in WAL mode
and every write is a transaction, so a program killed mid-write leaves a file that opens and
holds every committed batch; readers (the viewer, ``chainkit traces``) never block the writer.

Times are stored as UTC epoch seconds (REAL); inputs, outputs and other structured values as
JSON text.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from typing_extensions import Self

__all__ = ["SCHEMA_VERSION", "Database", "connect", "default_db_path", "transaction"]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    trace_id TEXT NOT NULL,
    parent_run_id TEXT,
    project TEXT NOT NULL,
    name TEXT NOT NULL,
    run_type TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    start_time REAL NOT NULL,
    end_time REAL,
    inputs TEXT,
    outputs TEXT,
    extra TEXT,
    tags TEXT,
    model TEXT,
    input_tokens INTEGER,
    output_tokens INTEGER,
    total_tokens INTEGER,
    overhead_ms REAL,
    n_runs INTEGER
);
CREATE INDEX IF NOT EXISTS runs_by_trace ON runs (trace_id);
CREATE INDEX IF NOT EXISTS runs_by_parent ON runs (parent_run_id);
CREATE INDEX IF NOT EXISTS runs_roots ON runs (start_time) WHERE parent_run_id IS NULL;
CREATE TABLE IF NOT EXISTS feedback (
    id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    key TEXT NOT NULL,
    score REAL,
    value TEXT,
    comment TEXT,
    source TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_by_run ON feedback (run_id);
CREATE TABLE IF NOT EXISTS datasets (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS examples (
    id TEXT PRIMARY KEY,
    dataset_id TEXT NOT NULL,
    inputs TEXT,
    outputs TEXT,
    source_run_id TEXT,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS examples_by_dataset ON examples (dataset_id, created_at);
CREATE TABLE IF NOT EXISTS experiments (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    dataset_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    metadata TEXT
);
CREATE TABLE IF NOT EXISTS experiment_results (
    experiment_id TEXT NOT NULL,
    example_id TEXT NOT NULL,
    run_id TEXT,
    outputs TEXT,
    error TEXT,
    latency_ms REAL,
    scores TEXT,
    PRIMARY KEY (experiment_id, example_id)
);
"""


def default_db_path() -> Path:
    """``$CHAINKIT_TRACE_DB`` if set, else ``~/.chainkit/traces.db``."""
    env = os.environ.get("CHAINKIT_TRACE_DB")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".chainkit" / "traces.db"


def connect(path: str | os.PathLike[str], *, check_same_thread: bool = True) -> sqlite3.Connection:
    """Open (creating if needed) the trace database at ``path``, schema included.

    The connection is in autocommit mode: callers group writes with ``BEGIN``/``COMMIT``
    (see `transaction`), so each batch is one atomic transaction.

    Raises:
        sqlite3.DatabaseError: ``path`` exists but is not a SQLite database.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        path, timeout=10.0, isolation_level=None, check_same_thread=check_same_thread
    )
    try:
        # WAL: readers never block the writer, and a killed writer loses only its open
        # transaction. synchronous=NORMAL is durable against process crashes in WAL mode
        # (only a power cut can lose the last commits), at a fraction of FULL's fsyncs.
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=10000")
        conn.executescript(_SCHEMA)
        conn.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
            (str(SCHEMA_VERSION),),
        )
    except BaseException:
        conn.close()
        raise
    return conn


class transaction:  # lower case: it reads like a function, ``with transaction(conn):``
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error) on an autocommit connection."""

    __slots__ = ("conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.conn.execute("ROLLBACK" if exc_type is not None else "COMMIT")


class Database:
    """One connection to the trace database, shared by threads under a lock (the viewer
    serves requests from a thread pool); rows come back as `sqlite3.Row`."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else default_db_path()
        self._conn = connect(self.path, check_same_thread=False)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.Lock()

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def _one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        with self._lock:
            row: sqlite3.Row | None = self._conn.execute(sql, params).fetchone()
            return row

    def _write(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
        """Run ``(sql, params)`` statements in one transaction."""
        with self._lock, transaction(self._conn) as conn:
            for sql, params in statements:
                conn.execute(sql, params)

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
