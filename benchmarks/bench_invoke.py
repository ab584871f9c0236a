"""invoke / ainvoke of ChatPromptTemplate(system+human) | fake model | StrOutputParser, per call.

Targets (issue): chainkit at most 1/20 of langchain-core's per-call time, sync and async.
"""

from __future__ import annotations

import argparse
import asyncio

from _lib import INPUT, build_chain, emit, libs, time_per_call


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    calls, reps = (50, 2) if args.quick else (2000, 7)
    sync: dict[str, dict[str, float]] = {}
    asyn: dict[str, dict[str, float]] = {}
    for lib in libs():
        chain = build_chain(lib)
        out = chain.invoke(INPUT)
        assert out == "hello world", (lib.name, out)
        sync[lib.name] = time_per_call(lambda c=chain: c.invoke(INPUT), calls=calls, reps=reps)

        loop = asyncio.new_event_loop()
        assert loop.run_until_complete(chain.ainvoke(INPUT)) == "hello world"

        async def many(c=chain, n=calls) -> None:
            for _ in range(n):
                await c.ainvoke(INPUT)

        # time `calls` awaits inside one loop run, so loop start-up is not counted
        res = time_per_call(lambda m=many: loop.run_until_complete(m()), calls=1, reps=reps)
        asyn[lib.name] = {k: v / calls for k, v in res.items()}
        loop.close()
    emit("invoke: prompt | fake model | StrOutputParser", "µs/call", sync, scale=1e6)
    emit("ainvoke: same chain", "µs/call", asyn, scale=1e6)


if __name__ == "__main__":
    main()
