"""Event-loop lag under many concurrent streams: `ChatOpenAI.astream` against a bare httpx
client, at the same offered load.

The load test (`tests/reliability/test_load.py`) asserts a lag p99 under 50 ms at 3,000 chunks/s
in all. This puts that figure beside the HTTP client's own: each client runs in a fresh
process against the load test's child-process server (numbered chunks, each stream paced at
``streams / rate`` s a chunk), with a 5 ms ticker task measuring how late the loop wakes it. At
a rate near what one core can serve, the lag measures queueing, for any client.

Usage:
    python benchmarks/bench_load_lag.py           # 1,000 streams x 200 chunks, 3,000 and 5,600/s
    python benchmarks/bench_load_lag.py --quick   # 20 x 20 at 3,000/s
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


async def _bare_stream(client: Any, url: str, i: int) -> int:
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": f"stream-{i}"}]}
    chunks, tail = 0, b""
    async with client.stream("POST", url + "/v1/chat/completions", json=body) as response:
        async for part in response.aiter_bytes():
            # Each numbered chunk's content ends in ';' (then the JSON string's quote).
            data = tail + part
            chunks += data.count(b';"')
            tail = data[-1:]
    return chunks


async def _measure(kind: str, streams: int, chunks: int, rate: float) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    from tests.reliability.test_load import LagMeter, LoadServer, _one

    server = LoadServer(chunks, delay=streams / rate)
    try:
        if kind == "chainkit":
            from chainkit.models import ChatOpenAI

            model = ChatOpenAI(model="m", api_key="sk-bench", base_url=server.url + "/v1",
                               timeout=600.0)

            async def one(i: int) -> int:
                return len(await _one(model, i))

            close = model.aclose
        else:
            import httpx2

            client = httpx2.AsyncClient(timeout=600.0, limits=httpx2.Limits(
                max_connections=None, max_keepalive_connections=None))

            async def one(i: int) -> int:
                return await _bare_stream(client, server.url, i)

            close = client.aclose
        await one(0)  # warm up
        async with LagMeter() as lag:
            got = await asyncio.gather(*[one(i) for i in range(1, streams + 1)])
        await close()
    finally:
        server.stop()
    assert got == [chunks] * streams, f"{kind}: chunks lost or extra"
    lags = lag.lags
    return {"p50": lags[len(lags) // 2] * 1e3, "p99": lags[int(len(lags) * 0.99)] * 1e3,
            "max": lags[-1] * 1e3, "cpu_share": lag.cpu_share,
            "chunks_per_s": streams * chunks / lag.wall}


def _run_client(kind: str, streams: int, chunks: int, rate: float) -> dict[str, float]:
    args = [sys.executable, __file__, "--client", kind, "--streams", str(streams),
            "--chunks", str(chunks), "--rate", str(rate)]
    proc = subprocess.run(args, capture_output=True, text=True, check=False, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"{kind} client failed:\n{proc.stderr[-3000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--client", choices=["chainkit", "httpx"], help=argparse.SUPPRESS)
    ap.add_argument("--streams", type=int, default=None)
    ap.add_argument("--chunks", type=int, default=None)
    ap.add_argument("--rate", type=float, default=None)
    args = ap.parse_args()
    if args.client:
        print(json.dumps(asyncio.run(_measure(args.client, args.streams, args.chunks,
                                              args.rate))))
        return
    from _lib import emit

    streams = args.streams or (20 if args.quick else 1000)
    chunks = args.chunks or (20 if args.quick else 200)
    rates = [args.rate] if args.rate else ([3000.0] if args.quick else [3000.0, 5600.0])
    for rate in rates:
        got = {kind: _run_client(kind, streams, chunks, rate) for kind in ("chainkit", "httpx")}
        note = "; ".join(
            f"{name}: p50 {r['p50']:.1f} ms, max {r['max']:.0f} ms, client CPU "
            f"{r['cpu_share']:.0%} of a core, {r['chunks_per_s']:,.0f} chunks/s"
            for name, r in (("chainkit", got["chainkit"]), ("bare httpx2", got["httpx"]))
        )
        results = {name: {"median": r["p99"], "min": r["p99"], "max": r["p99"]}
                   for name, r in (("chainkit", got["chainkit"]), ("bare httpx2", got["httpx"]))}
        emit(f"load: {streams} streams x {chunks} chunks offered at {rate:,.0f} chunks/s, "
             f"event-loop lag p99 (target < 50 ms at 3,000/s)", "ms", results, note=note)


if __name__ == "__main__":
    main()
