"""`dispatch_custom_event`: user code inside a run reports its own events to the listeners.

The event goes to the run that is executing: the one named by ``config`` (a lambda that
accepts ``config`` receives its run there), else the one the traced call set for its duration
(`chainkit.tracing.context.current_run`). It reaches callback handlers as
``on_custom_event(name, data, run_id=..., tags=..., metadata=...)`` and `astream_events` as an
``on_custom_event`` event. When nobody observes the call there is no run, and the event is
dropped: there is nobody to tell.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chainkit.tracing.context import ParentRun, Run, current_run

__all__ = ["adispatch_custom_event", "dispatch_custom_event"]


def dispatch_custom_event(name: str, data: Any, config: Mapping[str, Any] | None = None) -> None:
    """Send a custom event ``name`` with any ``data`` to the listeners of the current run.

    Raises:
        TypeError: ``name`` is not a string.

    Example:
        >>> def step(x, config):
        ...     dispatch_custom_event("progress", {"done": 0.5}, config)
        ...     return x
        >>> async for event in RunnableLambda(step).astream_events(1):
        ...     print(event["event"])   # on_chain_start, on_custom_event, ...
    """
    run = _current(name, config)
    if run is not None:
        run.tracer.emit("on_custom_event", run, name, data)


async def adispatch_custom_event(
    name: str, data: Any, config: Mapping[str, Any] | None = None
) -> None:
    """Async `dispatch_custom_event`, for coroutine steps."""
    dispatch_custom_event(name, data, config)


def _current(name: object, config: Mapping[str, Any] | None) -> Run | None:
    if not isinstance(name, str):
        raise TypeError(
            f"custom event name must be a str, got {type(name).__name__}: {name!r:.60}"
        )
    if config is not None:
        parent = config.get("callbacks")
        if isinstance(parent, ParentRun):
            return parent.run
    return current_run.get()
