"""Per-chunk cost of observing a stream: `astream_log` and `astream_events` against plain
`astream`, for a 500-chunk fake model stream through ``prompt | model | StrOutputParser``, with
langchain-core side by side when it is importable (else "n/a").

Target (issue 5): chainkit's astream_log per chunk at most 1/10 of langchain-core's.

    python benchmarks/bench_stream_log.py            # 500 chunks, 7 repetitions
    python benchmarks/bench_stream_log.py --quick    # 20 chunks, 2 repetitions (a smoke run)

Prints a table, then one JSON line per scenario (see `_lib.emit`).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(1, str(Path(__file__).parent.parent))

from _lib import INPUT, build_chain, chainkit_lib, emit, langchain_lib, time_per_call

MODES = ("astream", "astream_log", "astream_events")


def measure(lib: Any, n: int, reps: int) -> dict[str, dict[str, float]]:
    """Seconds per chunk (median, min, max) of each mode, for one library."""
    chain = build_chain(lib, n_chunks=n)
    loop = asyncio.new_event_loop()

    async def astream() -> int:
        return sum([1 async for _ in chain.astream(INPUT)])

    async def astream_log() -> int:
        return sum([1 async for _ in chain.astream_log(INPUT)])

    async def astream_events() -> int:
        return sum([1 async for _ in chain.astream_events(INPUT, version="v2")])

    out: dict[str, dict[str, float]] = {}
    try:
        for mode, fn in zip(MODES, (astream, astream_log, astream_events), strict=True):
            got = loop.run_until_complete(fn())
            assert got >= n, (lib.name, mode, got)  # every chunk (and more) came through
            res = time_per_call(lambda f=fn: loop.run_until_complete(f()), calls=1, reps=reps)
            out[mode] = {k: v / n for k, v in res.items()}
    finally:
        loop.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20 chunks, 2 repetitions")
    args = ap.parse_args()
    n, reps = (20, 2) if args.quick else (500, 7)
    warnings.simplefilter("ignore")  # langchain-core deprecates astream_log
    ck = measure(chainkit_lib(), n, reps)
    lc_lib = langchain_lib()
    lc = measure(lc_lib, n, reps) if lc_lib is not None else None

    print(f"per-chunk cost, {n}-chunk fake stream through prompt | model | parser "
          f"(median of {reps}, µs/chunk)")
    print(f"{'mode':<16}{'chainkit':>10}{'overhead':>10}{'langchain':>11}{'overhead':>10}"
          f"{'ratio':>8}")
    for mode in MODES:
        c = ck[mode]["median"] * 1e6
        c_over = c - ck["astream"]["median"] * 1e6
        if lc is not None:
            l_med = lc[mode]["median"] * 1e6
            l_over = l_med - lc["astream"]["median"] * 1e6
            lcol, lover, ratio = f"{l_med:>11.1f}", f"{l_over:>10.1f}", f"{l_med / c:>7.1f}x"
        else:
            lcol, lover, ratio = f"{'n/a':>11}", f"{'n/a':>10}", f"{'n/a':>8}"
        print(f"{mode:<16}{c:>10.1f}{c_over:>10.1f}{lcol}{lover}{ratio}")
    if lc is not None:
        ratio = lc["astream_log"]["median"] / ck["astream_log"]["median"]
        verdict = "met" if ratio >= 10 else "NOT met"
        print(f"target astream_log <= 1/10 of langchain-core: {verdict} ({ratio:.1f}x)")

    for mode in MODES:
        results = {"chainkit": ck[mode]}
        if lc is not None:
            results["langchain-core"] = lc[mode]
        emit(f"{mode} per chunk (observed-stream bench)", "µs/chunk", results, scale=1e6)


if __name__ == "__main__":
    main()
