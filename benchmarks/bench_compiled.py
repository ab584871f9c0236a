"""chain.compile(): what a compiled chain costs per call, what compiling costs once, and a DAG's
independent branches running concurrently.

Targets (issue): running the compiled chain is at least as fast as the uncompiled chain (the
"chainkit uncompiled" column, sync and async); two independent 50 ms branches of a ChainGraph
finish in about 50 ms. langchain-core has no compile step: its column is its plain invoke (and,
for the DAG, the same shape built with its RunnableParallel), for reference.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from _lib import INPUT, build_chain, chainkit_lib, emit, langchain_lib, time_per_call

BRANCH_S = 0.05


def _per_call(chain: Any, calls: int, reps: int) -> tuple[dict[str, float], dict[str, float]]:
    """Sync and async seconds per call (async: ``calls`` awaits inside one loop run)."""
    sync = time_per_call(lambda: chain.invoke(INPUT), calls=calls, reps=reps)
    loop = asyncio.new_event_loop()

    async def many() -> None:
        for _ in range(calls):
            await chain.ainvoke(INPUT)

    res = time_per_call(lambda: loop.run_until_complete(many()), calls=1, reps=reps)
    loop.close()
    return sync, {k: v / calls for k, v in res.items()}


def _sleepy(x: Any) -> Any:
    time.sleep(BRANCH_S)
    return x


def _chainkit_dag() -> Any:
    from chainkit.graph import ChainGraph

    g = ChainGraph("two-branches")
    g.add_node("left", _sleepy)
    g.add_node("right", _sleepy)
    g.add_node("join", lambda d: (d["left"], d["right"]))
    g.add_edge("left", "join", key="left")
    g.add_edge("right", "join", key="right")
    return g.compile()


def _langchain_dag() -> Any | None:
    try:
        from langchain_core.runnables import RunnableLambda, RunnableParallel
    except ImportError:
        return None
    par = RunnableParallel(left=RunnableLambda(_sleepy), right=RunnableLambda(_sleepy))
    return par | RunnableLambda(lambda d: (d["left"], d["right"]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    calls, reps = (50, 2) if args.quick else (2000, 7)
    ck = chainkit_lib()

    plain = build_chain(ck)
    compiled = build_chain(ck).compile()
    assert compiled.invoke(INPUT) == plain.invoke(INPUT) == "hello world"
    sync: dict[str, dict[str, float]] = {}
    asyn: dict[str, dict[str, float]] = {}
    sync["chainkit"], asyn["chainkit"] = _per_call(compiled, calls, reps)
    sync["chainkit uncompiled"], asyn["chainkit uncompiled"] = _per_call(plain, calls, reps)
    lc = langchain_lib()
    if lc is not None:
        sync["langchain-core"], asyn["langchain-core"] = _per_call(build_chain(lc), calls, reps)
    emit("compiled invoke: prompt | fake model | StrOutputParser", "µs/call", sync, scale=1e6)
    emit("compiled ainvoke: same chain", "µs/call", asyn, scale=1e6)

    compile_cost = time_per_call(lambda: build_chain(ck).compile(), calls=max(calls // 10, 5),
                                 reps=reps)
    build_cost = time_per_call(lambda: build_chain(ck), calls=max(calls // 10, 5), reps=reps)
    once = {k: compile_cost[k] - build_cost["median"] for k in compile_cost}
    emit("compile() once: the same 3-step chain", "µs", {"chainkit": once}, scale=1e6,
         note="validation + plan, building the chain excluded")

    dag_calls, dag_reps = (2, 2) if args.quick else (10, 5)
    dags: dict[str, dict[str, float]] = {}
    dag = _chainkit_dag()
    assert dag.invoke(1) == (1, 1)
    dags["chainkit"] = time_per_call(lambda: dag.invoke(1), calls=dag_calls, reps=dag_reps)
    loop = asyncio.new_event_loop()
    dags["chainkit async"] = time_per_call(lambda: loop.run_until_complete(dag.ainvoke(1)),
                                           calls=dag_calls, reps=dag_reps)
    loop.close()
    lc_dag = _langchain_dag()
    if lc_dag is not None:
        assert lc_dag.invoke(1) == (1, 1)
        dags["langchain-core"] = time_per_call(lambda: lc_dag.invoke(1), calls=dag_calls,
                                               reps=dag_reps)
    emit(f"compiled DAG: two independent {BRANCH_S * 1000:.0f} ms branches, then a join", "ms",
         dags, scale=1e3, note=f"sequential would take {2 * BRANCH_S * 1000:.0f} ms")


if __name__ == "__main__":
    main()
