"""What `astream_log` and `astream_events` share: run filters, a thread-safe channel from
listeners to the event loop, and the driver that runs the root while its listener reports.

The driver installs a listener through ``config["callbacks"]``, runs ``runnable.astream`` in a
task and yields what the listener sends, in order, as soon as it is sent. Children may run in
worker threads (sync lambdas, parallel branches): the channel hands their items to the loop with
``call_soon_threadsafe``. Closing the consumer early cancels the root task, which cancels and
closes every stream inside it (a model's HTTP stream included).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import AsyncGenerator, Sequence
from typing import Any, Generic, TypeVar

from chainkit.tracing.context import ParentRun, Run, uuid7

T = TypeVar("T")

# Run types whose output LangChain never streams (each produces one value): no stream ops or
# stream events for them.
NO_STREAM_TYPES = frozenset(("prompt", "tool", "retriever"))


class RunFilter:
    """LangChain's include/exclude rules: a run passes if any ``include_*`` matches (or none is
    given) and no ``exclude_*`` matches."""

    __slots__ = ("_exclude", "_include", "_include_any")

    def __init__(
        self,
        include_names: Sequence[str] | None = None,
        include_types: Sequence[str] | None = None,
        include_tags: Sequence[str] | None = None,
        exclude_names: Sequence[str] | None = None,
        exclude_types: Sequence[str] | None = None,
        exclude_tags: Sequence[str] | None = None,
    ) -> None:
        args = {
            "include_names": include_names, "include_types": include_types,
            "include_tags": include_tags, "exclude_names": exclude_names,
            "exclude_types": exclude_types, "exclude_tags": exclude_tags,
        }
        for arg, value in args.items():
            if value is not None and (isinstance(value, str) or not isinstance(value, Sequence)):
                raise TypeError(
                    f"{arg} must be a list of strings or None, got {type(value).__name__} "
                    f"{value!r:.60}"
                )
        self._include = (
            frozenset(include_names or ()),
            frozenset(include_types or ()),
            frozenset(include_tags or ()),
        )
        self._include_any = not (include_names is None and include_types is None
                                 and include_tags is None)
        self._exclude = (
            frozenset(exclude_names or ()),
            frozenset(exclude_types or ()),
            frozenset(exclude_tags or ()),
        )

    def __call__(self, name: str, run_type: str, tags: Sequence[str]) -> bool:
        if self._include_any:
            names, types, tag_set = self._include
            if not (name in names or run_type in types or any(t in tag_set for t in tags)):
                return False
        names, types, tag_set = self._exclude
        return not (name in names or run_type in types or any(t in tag_set for t in tags))


class Channel(Generic[T]):
    """Many producers (any thread), one consumer (a coroutine on ``loop``), in send order."""

    __slots__ = ("_closed", "_items", "_lock", "_loop", "_thread", "_waiter")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._thread = threading.get_ident()
        self._items: deque[T] = deque()
        self._lock = threading.Lock()
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False

    def send(self, item: T) -> None:
        with self._lock:
            self._items.append(item)
            waiter, self._waiter = self._waiter, None
        if waiter is not None:
            self._wake(waiter)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            waiter, self._waiter = self._waiter, None
        if waiter is not None:
            self._wake(waiter)

    def _wake(self, waiter: asyncio.Future[None]) -> None:
        if threading.get_ident() == self._thread:
            _resolve(waiter)
        else:
            with contextlib.suppress(RuntimeError):  # loop closed: the consumer is gone
                self._loop.call_soon_threadsafe(_resolve, waiter)

    async def receive(self) -> list[T]:
        """Everything sent so far (waiting for at least one item); [] once closed and empty."""
        while True:
            with self._lock:
                if self._items:
                    items = list(self._items)
                    self._items.clear()
                    return items
                if self._closed:
                    return []
                waiter = self._waiter = self._loop.create_future()
            await waiter


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class StreamListener(Generic[T]):
    """Base of the listeners behind `astream_log` / `astream_events`: it knows its root run and
    which runs belong to its tree, and sends what it produces to a `Channel`."""

    def __init__(self, channel: Channel[T], root_id: Any) -> None:
        self.channel = channel
        self.root_id = root_id
        self.root: Run | None = None
        # Runs of this tree (keyed by object: identity hashing is cheaper than a UUID's). A
        # listener installed in an enclosing traced call also sees the outer tree's other runs,
        # which it ignores.
        self.members: set[Run] = set()

    def admit(self, run: Run) -> bool:
        """Called on run start: True (and remembered) if ``run`` belongs to this tree."""
        if run.parent in self.members:
            self.members.add(run)
            return True
        if self.root is None and run.id == self.root_id:
            self.root = run
            self.members.add(run)
            return True
        return False


def check_config(config: object) -> None:
    """Reject a config that is not a dict when the call is made, not at first iteration."""
    if config is not None and not isinstance(config, dict):
        raise TypeError(
            f"config must be a dict (RunnableConfig) or None, got {type(config).__name__}: "
            f"{config!r:.80}"
        )


async def drive(
    runnable: Any,
    input: Any,
    config: dict[str, Any] | None,
    make_listener: Any,
    kwargs: dict[str, Any],
) -> AsyncGenerator[list[Any], None]:
    """Run ``runnable.astream(input)`` with the listener ``make_listener(channel, root_id)``
    attached; yield the listener's items in batches; re-raise the run's exception at the end."""
    loop = asyncio.get_running_loop()
    channel: Channel[Any] = Channel(loop)
    cfg = dict(config or {})
    root_id = cfg.setdefault("run_id", uuid7())
    listener = make_listener(channel, root_id)
    callbacks = cfg.get("callbacks")
    outer_tracer = None
    if isinstance(callbacks, ParentRun):
        # Called inside a traced run: join its tracer for the duration of this call.
        outer_tracer = callbacks.run.tracer
        outer_tracer.add(listener)
    elif callbacks is None:
        cfg["callbacks"] = [listener]
    elif isinstance(callbacks, (list, tuple)):
        cfg["callbacks"] = [*callbacks, listener]
    else:
        cfg["callbacks"] = [callbacks, listener]

    async def consume() -> None:
        stream = runnable.astream(input, cfg, **kwargs)
        try:
            async for _ in stream:
                pass
        finally:
            try:
                await stream.aclose()
            finally:
                channel.close()

    task = loop.create_task(consume())
    try:
        while batch := await channel.receive():
            yield batch
        await task
    finally:
        if not task.done():
            task.cancel()
        # Let the task finish its clean-up (closing the streams inside it) before returning.
        await asyncio.gather(task, return_exceptions=True)
        if outer_tracer is not None:
            outer_tracer.remove(listener)
