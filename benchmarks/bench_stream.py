"""Per-chunk cost of stream / astream / astream_log / astream_events through
prompt | fake model (500 chunks) | StrOutputParser.

Targets (issue): stream at most 1/10 of langchain-core's per-chunk cost, astream 1/20,
astream_log 1/10.
"""

from __future__ import annotations

import argparse
import asyncio
import warnings
from typing import Any

from _lib import INPUT, build_chain, emit, libs, time_per_call


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    n = 20 if args.quick else 500
    reps = 2 if args.quick else 7
    warnings.simplefilter("ignore")  # langchain-core deprecates astream_log
    rows: dict[str, dict[str, dict[str, float]]] = {
        "stream": {}, "astream": {}, "astream_log": {}, "astream_events": {}
    }
    for lib in libs():
        chain = build_chain(lib, n_chunks=n)
        chunks = list(chain.stream(INPUT))
        assert len(chunks) >= n and "".join(chunks) == "tok " * n, (lib.name, len(chunks))
        rows["stream"][lib.name] = _per_chunk(
            time_per_call(lambda c=chain: sum(1 for _ in c.stream(INPUT)), calls=1, reps=reps), n)

        loop = asyncio.new_event_loop()

        async def astream(c: Any = chain) -> int:
            return sum([1 async for _ in c.astream(INPUT)])

        async def alog(c: Any = chain) -> int:
            return sum([1 async for _ in c.astream_log(INPUT)])

        async def aevents(c: Any = chain) -> int:
            return sum([1 async for _ in c.astream_events(INPUT, version="v2")])

        assert loop.run_until_complete(astream()) >= n
        for key, fn in (("astream", astream), ("astream_log", alog), ("astream_events", aevents)):
            try:
                got = loop.run_until_complete(fn())
            except (NotImplementedError, ImportError, AttributeError) as exc:
                print(f"# {lib.name} {key}: not available ({exc})")
                continue
            assert got >= n, (lib.name, key, got)
            rows[key][lib.name] = _per_chunk(
                time_per_call(lambda f=fn: loop.run_until_complete(f()), calls=1, reps=reps), n)
        loop.close()
    for key, res in rows.items():
        if res:
            emit(f"{key} per chunk ({n}-chunk fake stream through the chain)", "µs/chunk", res, scale=1e6)


def _per_chunk(res: dict[str, float], n: int) -> dict[str, float]:
    return {k: v / n for k, v in res.items()}


if __name__ == "__main__":
    main()
