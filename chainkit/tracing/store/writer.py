"""`TraceStore`: the listener that records runs in the trace database, off the chain's thread.

The chain's side is two cheap methods. ``on_run_start`` decides, for a root run, whether its
trace is recorded and under which project (the ``tracing(project=...)`` block around the call,
else the store's default project). ``on_run_end`` appends the finished `Run` to a bounded
in-memory queue: it never serialises, never touches the disk and never blocks; when the queue
is full the run is dropped and counted in `TraceStore.dropped`.

A daemon thread drains the queue every ``flush_interval`` seconds (sooner once a batch is
full), serialises the runs (`rows.RowMaker`) and writes each batch in one transaction. `flush`
waits until everything queued before it is on disk; `close` (also run at interpreter exit)
flushes and stops the thread. A crash loses at most the runs not yet committed.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections import deque
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Union

from chainkit.tracing.context import Run
from chainkit.tracing.store.rows import RUN_COLUMNS, RowMaker
from chainkit.tracing.store.schema import connect, default_db_path, transaction
from chainkit.tracing.store.serialize import DEFAULT_MAX_CHARS

__all__ = ["TraceStore", "project_var"]

logger = logging.getLogger("chainkit.tracing")

#: The project for root runs started in this context: a name inside ``tracing(project=...)``,
#: False inside ``tracing(enabled=False)``, None elsewhere (the store's default applies).
project_var: ContextVar[Union[str, bool, None]] = ContextVar(
    "chainkit_trace_project", default=None
)

_INSERT = (
    f"INSERT OR REPLACE INTO runs ({', '.join(RUN_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(RUN_COLUMNS))})"
)
_MAX_OPEN_ROOTS = 100_000
#: Seconds of serialising between two hand-overs of the GIL by the writer thread.
_GIL_SLICE = 0.0005


class TraceStore:
    """Records traced runs in a SQLite file from a background thread.

    Usually made for you by `chainkit.tracing.enable` / `tracing`; it can also be passed as a
    callback for one call.

    Args:
        path: The database file; default ``$CHAINKIT_TRACE_DB`` or ``~/.chainkit/traces.db``.
        project: Project of root runs started outside any ``tracing()`` block; None records
            only runs inside such blocks.
        max_queue: Runs waiting to be written before new ones are dropped (and counted).
        batch_size: Runs per transaction; a full batch wakes the writer early.
        flush_interval: Seconds between background writes.
        max_chars: Size limit of each stored input/output/parameter document (JSON chars).

    Raises:
        sqlite3.DatabaseError: ``path`` is not a SQLite database.
        OSError: ``path``'s folder cannot be created.

    Example:
        >>> store = TraceStore("/tmp/traces.db", project="demo")
        >>> chain.invoke({"x": 1}, {"callbacks": [store]})
        >>> store.flush()
        True
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        project: str | None = "default",
        max_queue: int = 10_000,
        batch_size: int = 500,
        flush_interval: float = 0.5,
        max_chars: int = DEFAULT_MAX_CHARS,
    ) -> None:
        for name, value in (("max_queue", max_queue), ("batch_size", batch_size),
                            ("max_chars", max_chars)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if not flush_interval > 0:
            raise ValueError(f"flush_interval must be > 0 seconds, got {flush_interval!r}")
        self.path = Path(path).expanduser() if path is not None else default_db_path()
        self.default_project = project
        self.max_queue = max_queue
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.dropped = 0
        """Runs dropped because the queue was full."""
        self.written = 0
        """Runs committed to the database."""
        self.failed = 0
        """Runs that could not be serialised or written (logged)."""
        self._queue: deque[Any] = deque()
        # Open roots (by their process-unique sequence number, which keeps no run alive: a
        # root that never ends must not pin its inputs) -> their project.
        self._roots: dict[int, str] = {}
        self._rows = RowMaker(max_chars)
        self._wake = threading.Event()
        self._drop_lock = threading.Lock()
        self._closing = False
        self._conn = connect(self.path, check_same_thread=False)
        self._thread = threading.Thread(
            target=self._loop, name="chainkit-trace-writer", daemon=True
        )
        self._thread.start()
        atexit.register(self.close)

    def __repr__(self) -> str:
        return f"TraceStore(path={str(self.path)!r}, project={self.default_project!r})"

    # ---- the chain's side: cheap, never blocks ---------------------------------------
    def on_run_start(self, run: Run) -> None:
        if run.parent is not None:
            return
        project = project_var.get()
        if project is None:
            project = self.default_project
        if isinstance(project, str):
            roots = self._roots
            if len(roots) >= _MAX_OPEN_ROOTS:  # roots that never ended: forget the oldest
                del roots[next(iter(roots))]
            roots[run.seq] = project

    def on_run_end(self, run: Run) -> None:
        root = run.root
        project = self._roots.pop(root.seq, None) if root is run else self._roots.get(root.seq)
        if project is None:
            return
        queue = self._queue
        if len(queue) >= self.max_queue or self._closing:
            with self._drop_lock:
                self.dropped += 1
            return
        queue.append((project, run))
        if len(queue) == self.batch_size:
            self._wake.set()

    # ---- control --------------------------------------------------------------------
    def flush(self, timeout: float | None = 10.0) -> bool:
        """Wait until every run queued so far is written; False if ``timeout`` passed first."""
        if not self._thread.is_alive():
            return not self._queue
        marker = threading.Event()
        self._queue.append(marker)
        self._wake.set()
        return marker.wait(timeout)

    def close(self, timeout: float | None = 10.0) -> None:
        """Write what is queued, stop the writer thread and close the database."""
        if self._closing:
            return
        self.flush(timeout)
        self._closing = True
        self._wake.set()
        self._thread.join(timeout)
        atexit.unregister(self.close)

    @property
    def closed(self) -> bool:
        return self._closing

    # ---- the writer thread ----------------------------------------------------------
    def _loop(self) -> None:
        conn = self._conn
        try:
            while not self._closing:
                self._wake.wait(self.flush_interval)
                self._wake.clear()
                self._drain(conn)
            self._drain(conn)
        finally:
            conn.close()

    def _drain(self, conn: Any) -> None:
        queue = self._queue
        hand_over_at = time.perf_counter() + _GIL_SLICE
        while queue:
            rows: list[tuple[Any, ...]] = []
            markers: list[threading.Event] = []
            while len(rows) < self.batch_size:
                if time.perf_counter() >= hand_over_at:
                    # Hand the GIL over every slice: a chain thread waking from I/O (a model
                    # reply) must not wait for a whole batch to be serialised. Not after
                    # every row: while a chain computes, each hand-over costs this thread up
                    # to the interpreter's 5 ms switch interval, and the queue would outgrow it.
                    time.sleep(0)
                    hand_over_at = time.perf_counter() + _GIL_SLICE
                try:
                    item = queue.popleft()
                except IndexError:
                    break
                if isinstance(item, threading.Event):
                    markers.append(item)
                    continue
                try:
                    rows.append(self._rows.row(*item))
                except Exception:
                    self.failed += 1
                    logger.warning("could not record run %r; skipped", item[1], exc_info=True)
            if rows:
                self._commit(conn, rows)
            for marker in markers:
                marker.set()

    def _commit(self, conn: Any, rows: list[tuple[Any, ...]]) -> None:
        try:
            with transaction(conn):
                conn.executemany(_INSERT, rows)
        except Exception:
            self.failed += len(rows)
            logger.warning(
                "could not write %d traced runs to %s", len(rows), self.path, exc_info=True
            )
        else:
            self.written += len(rows)
