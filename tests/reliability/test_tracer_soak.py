"""Figure 8: the run tree does not leak over a long traced life.

Traced runs of ``prompt | model | parser`` (every call observed by a listener), one in ten
an ``astream`` whose consumer is cancelled after its first chunk. Afterwards:

- no run is left open: every run the listener saw start, it saw end (a cancelled stream's
  root run ends with the close, ``GeneratorExit``, or the cancellation as its error);
- no run stays in memory: every `Run` object is garbage once the calls are over;
- memory is flat: RSS grows by less than 1 MB per 10,000 runs after the warm-up (the slope
  of RSS over the checkpoints, so one allocator step does not decide it).

The CI size is 20,000 runs; ``--soak`` runs 100,000.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
from typing import Any

from chainkit.models import ParrotFakeChatModel
from chainkit.parsers import StrOutputParser
from chainkit.prompts import ChatPromptTemplate
from chainkit.tracing.context import Run

CI_RUNS = 20_000
SOAK_RUNS = 100_000
CHECKPOINT = 2_500
MB = 2**20


def rss() -> int:
    with open("/proc/self/statm", "rb") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class OpenRuns:
    """A listener that keeps count of runs started and not ended, holding no run itself."""

    def __init__(self) -> None:
        self.open: set[Any] = set()
        self.started = 0
        self.ended = 0
        self.cancelled = 0

    def on_run_start(self, run: Any) -> None:
        self.started += 1
        self.open.add(run.id)

    def on_run_end(self, run: Any) -> None:
        self.ended += 1
        self.open.discard(run.id)
        # A stream whose consumer went away ends with the close (GeneratorExit) or the
        # cancellation that reached it.
        if run.parent_run_id is None and isinstance(
            run.error, (asyncio.CancelledError, GeneratorExit)
        ):
            self.cancelled += 1


def slope_mb_per_10k(points: list[tuple[int, int]]) -> float:
    """Least-squares slope of RSS over run count, in MB per 10,000 runs."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    sxy = sum((x - mx) * (y - my) for x, y in points)
    return sxy / sxx * 10_000 / MB


async def test_traced_runs_do_not_leak(soak: bool) -> None:
    total = SOAK_RUNS if soak else CI_RUNS
    listener = OpenRuns()
    config: Any = {"callbacks": [listener]}
    chain = (
        ChatPromptTemplate.from_messages([("human", "tell me about {topic}, at length")])
        | ParrotFakeChatModel()
        | StrOutputParser()
    )

    async def cancelled_stream(i: int) -> None:
        first = asyncio.Event()

        async def consume() -> None:
            async for _ in chain.astream({"topic": f"t{i}"}, config):
                first.set()
                await asyncio.sleep(1)  # the consumer is slow; it is cancelled here

        task = asyncio.ensure_future(consume())
        await first.wait()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    points: list[tuple[int, int]] = []
    warm_up = total // 4
    for i in range(total):
        if i % 10 == 9:
            await cancelled_stream(i)
        else:
            out = await chain.ainvoke({"topic": f"t{i}"}, config)
            assert out.endswith(", at length")
        if (i + 1) % CHECKPOINT == 0 and i + 1 >= warm_up:
            gc.collect()
            points.append((i + 1, rss()))

    # A consumer cancelled mid-``async for`` leaves its stream to the event loop's async
    # generator finalizer, which closes it (ending its runs) on the loop's next rounds.
    for _ in range(10):
        await asyncio.sleep(0)
    gc.collect()
    runs_per_call = 4  # the sequence, the prompt, the model, the parser
    assert listener.started == total * runs_per_call
    assert listener.ended == listener.started, f"{len(listener.open)} run(s) never ended"
    assert not listener.open
    assert listener.cancelled == total // 10, "the cancelled streams did not end as cancelled"
    alive = sum(1 for o in gc.get_objects() if type(o) is Run)  # Run has no __weakref__
    assert alive == 0, f"{alive} Run object(s) still in memory"
    growth = slope_mb_per_10k(points)
    print(f"\n[tracer soak] {total} traced calls ({listener.started} runs, "
          f"{listener.cancelled} cancelled): RSS slope {growth:+.3f} MB per 10,000 calls "
          f"after warm-up; {points[-1][1] / MB:.0f} MB at the end")
    assert growth < 1.0, f"memory grows {growth:.2f} MB per 10,000 runs"
