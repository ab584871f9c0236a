"""Turning local tracing on and off: `enable`, `disable`, the `tracing` block, the env vars.

Three switches, one store. Each installs the process's single `TraceStore` as a global listener
(off by default, so untraced programs pay nothing):

- ``CHAINKIT_TRACING=true`` (optionally ``CHAINKIT_PROJECT``, ``CHAINKIT_TRACE_DB``), read once
  when ``chainkit.tracing.context`` is imported; the store itself loads on the first root run;
- ``enable(project=...)`` for the rest of the program, undone by ``disable()``;
- ``with tracing(project=...):`` for the runs started inside the block; nested blocks and
  ``tracing(enabled=False)`` override the project, or turn recording off, for their block only.

(The module is ``_enable`` rather than ``enable`` so that ``chainkit.tracing.enable`` is always
the function, never a submodule that shadows it.)
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from chainkit.tracing.context import add_global_listener, remove_global_listener
from chainkit.tracing.store.schema import default_db_path
from chainkit.tracing.store.writer import TraceStore, project_var

__all__ = ["disable", "enable", "enable_from_env", "flush", "get_store", "tracing"]

_TRUE = frozenset(("1", "true", "yes", "on"))

_lock = threading.RLock()
_store: TraceStore | None = None
_blocks = 0


def _default_project(project: str | None) -> str:
    if project is not None and (not isinstance(project, str) or not project.strip()):
        raise ValueError(f"project must be a non-empty string or None, got {project!r}")
    return project or os.environ.get("CHAINKIT_PROJECT") or "default"


def _ensure_store(
    db_path: str | os.PathLike[str] | None, options: dict[str, Any], *, switch: bool
) -> TraceStore:
    """The store for ``db_path``, created if needed. ``switch`` (from `enable`) may replace a
    store writing elsewhere when no ``tracing()`` block uses it; a block never does."""
    global _store
    if _store is not None and db_path is None:
        return _store  # no path asked for: whatever is in use
    path = Path(db_path).expanduser() if db_path is not None else default_db_path()
    if _store is not None:
        if _store.path.resolve() == path.resolve():
            return _store
        if _blocks or not switch:
            why = "an open tracing() block" if _blocks else "enable()"
            raise ValueError(
                f"tracing already writes to {str(_store.path)!r} (for {why}); cannot write to "
                f"{str(path)!r} at the same time: disable() first, or use the same db_path"
            )
        _shutdown()
    store = TraceStore(path, project=None, **options)
    add_global_listener(store)
    _store = store
    return store


def _shutdown() -> None:
    global _store
    store, _store = _store, None
    if store is not None:
        remove_global_listener(store)
        store.close()


def enable(
    project: str | None = None,
    *,
    db_path: str | os.PathLike[str] | None = None,
    **options: Any,
) -> TraceStore:
    """Record every chain and model call from now on, in the local trace database.

    Args:
        project: Project name for the traces (default ``$CHAINKIT_PROJECT`` or ``"default"``).
        db_path: The database file (default ``$CHAINKIT_TRACE_DB`` or ``~/.chainkit/traces.db``).
        **options: `TraceStore` options (``max_queue``, ``batch_size``, ``flush_interval``,
            ``max_chars``), used when the store is created.

    Returns:
        The store (``.flush()``, ``.dropped``, ``.path``).

    Example:
        >>> import chainkit.tracing as tracing
        >>> tracing.enable(project="support-bot")
        >>> chain.invoke({"question": "..."})   # recorded; see `chainkit traces`
    """
    name = _default_project(project)
    with _lock:
        store = _ensure_store(db_path, options, switch=True)
        store.default_project = name
    return store


def disable() -> None:
    """Stop recording runs started outside ``tracing()`` blocks; queued runs are written first."""
    with _lock:
        if _store is None:
            return
        _store.default_project = None
        if not _blocks:
            _shutdown()


@contextmanager
def tracing(
    project: str | None = None,
    *,
    enabled: bool = True,
    db_path: str | os.PathLike[str] | None = None,
) -> Iterator[TraceStore | None]:
    """Record the runs started inside the block (or, with ``enabled=False``, none of them).

    On leaving the block, its runs are flushed to disk.

    Args:
        project: Project name for runs started in the block (default ``$CHAINKIT_PROJECT`` or
            ``"default"``).
        enabled: False turns recording off inside the block, even if `enable` was called.
        db_path: The database file; must match the store already in use, if any.

    Example:
        >>> from chainkit.tracing import tracing
        >>> with tracing(project="experiments"):
        ...     chain.invoke({"question": "..."})
    """
    global _blocks
    if not enabled:
        token = project_var.set(False)
        try:
            yield _store
        finally:
            project_var.reset(token)
        return
    name = _default_project(project)
    with _lock:
        store = _ensure_store(db_path, {}, switch=False)
        _blocks += 1
    token = project_var.set(name)
    try:
        yield store
    finally:
        project_var.reset(token)
        store.flush()
        with _lock:
            _blocks -= 1
            if not _blocks and store is _store and store.default_project is None:
                _shutdown()


def flush(timeout: float | None = 10.0) -> bool:
    """Wait until every traced run so far is on disk; False if ``timeout`` passed first."""
    store = _store
    return True if store is None else store.flush(timeout)


def get_store() -> TraceStore | None:
    """The store recording runs now, if tracing is on."""
    return _store


def enable_from_env() -> TraceStore | None:
    """`enable` if ``$CHAINKIT_TRACING`` is true (``1``/``true``/``yes``/``on``), else None."""
    if os.environ.get("CHAINKIT_TRACING", "").strip().lower() not in _TRUE:
        return None
    return enable(os.environ.get("CHAINKIT_PROJECT") or None)
