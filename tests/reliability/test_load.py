"""Figure 3: many concurrent streams through `ChatOpenAI.astream`, nothing lost.

Many concurrent streams of ``CHUNKS`` numbered chunks each, over loopback: every chunk
arrives exactly once and in order, the event loop stays responsive (lag p99 under 50 ms,
sampled every 5 ms by a ticker task), and memory (RSS) grows by under 50 MB, at the peak of
the run and after it. The CI size is 200 x 200; ``--soak`` runs the full 1,000 x 200.

The server offers 3,000 chunks/s in all while every stream runs (each stream paced at
``streams / 3000`` s a chunk, give or take 30 %). The rate is chosen so that the client is not
saturated: one chunk costs this client about 200 us of CPU over real sockets (about 140 us of
it in httpx itself, measured with a bare httpx client at the same load), so 3,000 chunks/s
keep its one core about 60 % busy at the peak (about 40 % over the whole run, as streams end
at different times). Near 100 % the lag measures queueing, not the client: each
loop turn then serves every stream that became ready during the last one, and the lag grows
with the number of streams whatever the code does (1,000 streams at about 5,600 chunks/s gave
a p99 of 32-52 ms for a bare httpx client and 35-115 ms through chainkit over several runs;
`benchmarks/bench_load_lag.py` measures both side by side). The test prints the client's CPU
share, so a reader sees how loaded the run was.

The server runs in a child process, so that its work does not share this process's GIL and
the lag measured is the client's own.
"""

from __future__ import annotations

import asyncio
import gc
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from chainkit.models import ChatOpenAI
from tests.reliability.canary import CANARY

CHUNKS = 200
CI_STREAMS = 200
SOAK_STREAMS = 1000
LAG_P99_LIMIT = 0.050
MEMORY_LIMIT = 50 * 2**20
TICK = 0.005
OFFERED_CHUNKS_PER_S = 3000


def rss() -> int:
    with open("/proc/self/statm", "rb") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class LoadServer:
    """`fault_server.serve_numbered` in a child process."""

    def __init__(self, chunks: int, delay: float) -> None:
        script = Path(__file__).with_name("fault_server.py")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        self.proc = subprocess.Popen(
            [sys.executable, str(script), "numbered", str(chunks), str(delay)],
            stdout=subprocess.PIPE, stdin=subprocess.PIPE, env=env, text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.startswith("PORT "), f"load server did not start: {line!r}"
        self.url = f"http://127.0.0.1:{int(line.split()[1])}"

    def stats(self) -> dict[str, int]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("stats\n")
        self.proc.stdin.flush()
        words = self.proc.stdout.readline().split()
        return {k: int(v) for k, v in zip(words[::2], words[1::2], strict=True)}

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()


class LagMeter:
    """Measures event-loop lag over an ``async with`` block: a ticker task asks to sleep
    ``TICK`` s and records how late the loop wakes it; afterwards ``lags`` (sorted, seconds),
    ``wall`` and ``cpu_share`` (process CPU / wall) describe the block.

    Objects that earlier work left behind go to the permanent generation for the block: a
    full collection scanning them would show up as loop lag that is not the client's.
    """

    def __init__(self, every_20_ticks: Callable[[], None] | None = None) -> None:
        self.lags: list[float] = []
        self.wall = self.cpu_share = 0.0
        self._hook = every_20_ticks
        self._running = False
        self._task: asyncio.Future[None] | None = None

    async def __aenter__(self) -> LagMeter:
        gc.collect()
        gc.freeze()
        self._running = True
        self._task = asyncio.ensure_future(self._tick())
        self._started = time.perf_counter(), time.process_time()
        return self

    async def __aexit__(self, *exc: object) -> None:
        gc.unfreeze()
        self.wall = time.perf_counter() - self._started[0]
        self.cpu_share = (time.process_time() - self._started[1]) / self.wall
        self._running = False
        assert self._task is not None
        await self._task
        self.lags.sort()

    async def _tick(self) -> None:
        while self._running:
            t = time.perf_counter()
            await asyncio.sleep(TICK)
            self.lags.append(time.perf_counter() - t - TICK)
            if self._hook is not None and len(self.lags) % 20 == 0:
                self._hook()


@pytest.fixture
def streams(soak: bool) -> int:
    return SOAK_STREAMS if soak else CI_STREAMS


@pytest.fixture
def load_server(streams: int) -> Iterator[LoadServer]:
    # Each stream sends a chunk every streams/3000 s (give or take 30 %): 3,000 chunks/s in
    # all, which keeps the client's core about 60 % busy (see the module docstring).
    server = LoadServer(CHUNKS, delay=streams / OFFERED_CHUNKS_PER_S)
    yield server
    server.stop()


async def test_concurrent_streams_lose_nothing(load_server: LoadServer, streams: int) -> None:
    model = ChatOpenAI(model="m", api_key=CANARY, base_url=load_server.url + "/v1",
                       timeout=300.0)
    # Warm up (client, imports, caches), so that memory growth measures the run itself.
    await _one(model, 0)
    peak = [0]

    def sample_rss() -> None:
        peak[0] = max(peak[0], rss())

    async with LagMeter(every_20_ticks=sample_rss) as lag:
        base = peak[0] = rss()
        results = await asyncio.gather(*[_one(model, i) for i in range(1, streams + 1)])
    lags, elapsed, cpu_share = lag.lags, lag.wall, lag.cpu_share
    peak[0] = max(peak[0], rss())
    await model.aclose()
    after = rss()

    total = sum(len(r) for r in results)
    bad = [i for i, r in enumerate(results, 1) if r != list(range(CHUNKS))]
    assert not bad, f"{len(bad)} stream(s) lost, duplicated or reordered chunks: {bad[:5]}"
    assert total == streams * CHUNKS
    p99 = lags[int(len(lags) * 0.99)]
    stats = load_server.stats()
    print(
        f"\n[load] {streams} streams x {CHUNKS} chunks = {total} chunks in {elapsed:.1f} s "
        f"({total / elapsed:,.0f} chunks/s, client CPU {cpu_share:.0%} of a core, "
        f"{threading.active_count()} thread(s)); loop lag p50 {statistics.median(lags) * 1000:.1f} "
        f"ms, p99 {p99 * 1000:.1f} ms, max {lags[-1] * 1000:.1f} ms; RSS peak +"
        f"{(peak[0] - base) / 2**20:.1f} MB, after +{(after - base) / 2**20:.1f} MB; "
        f"server peak in flight {stats['peak']}, requests {stats['requests']} "
        f"(retries: {stats['requests'] - streams - 1})"
    )
    assert stats["peak"] == streams, "the streams did not all run at once"
    assert peak[0] - base < MEMORY_LIMIT, f"RSS grew {(peak[0] - base) / 2**20:.1f} MB"
    await _wait_closed(load_server)
    assert p99 < LAG_P99_LIMIT, (
        f"event loop lag p99 {p99 * 1000:.1f} ms is over {LAG_P99_LIMIT * 1000:.0f} ms "
        f"(client CPU {cpu_share:.0%} of a core)"
    )


async def _one(model: ChatOpenAI, i: int) -> list[int]:
    """The chunk numbers stream ``i`` received, in order (a chunk of another stream fails)."""
    numbers: list[int] = []
    async for chunk in model.astream(f"stream-{i}"):
        text = chunk.content
        if text:
            assert isinstance(text, str)
            for piece in filter(None, text.split(";")):
                stream, _, n = piece.partition(":")
                assert int(stream) == i, f"stream {i} got a chunk of stream {stream}"
                numbers.append(int(n))
    return numbers


async def _wait_closed(server: LoadServer) -> None:
    end = time.monotonic() + 5
    while server.stats()["open"] and time.monotonic() < end:
        await asyncio.sleep(0.01)
    assert server.stats()["open"] == 0, "connections left open after aclose()"
