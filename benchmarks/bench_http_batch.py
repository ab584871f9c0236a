"""Batch throughput of ``prompt | ChatOpenAI | StrOutputParser`` against a slow server.

A loopback server (``latency_server.py``, in its own process) answers each request after
50 ms. 1000 requests run with at most 64 in flight, so no client can beat the ideal
``1000 / 64 × 50 ms ≈ 0.78 s``. Measured in the same run, each best of ``--repeat``:

- chainkit: the chain's ``batch`` (threads) and ``abatch`` (tasks);
- the floor: the bare HTTP client doing the same requests with no framework — httpx2
  (what chainkit uses) and httpx 0.28, sync with 64 threads and async with 64 tasks;
- langchain-openai's ``ChatOpenAI`` in the same chain, if importable here or in the
  interpreter given by ``--langchain-python`` (a separate venv with langchain-openai;
  never a chainkit dependency); otherwise "n/a".

The target is chainkit within 1.1x of the httpx2 floor, sync and async.

Example:
    $ python benchmarks/bench_http_batch.py --quick
    $ python benchmarks/bench_http_batch.py --langchain-python /tmp/lcvenv/bin/python
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
MODEL = "latency-test"
TEMPLATE = "Tell me about {topic} number {i}"


def inputs(n: int) -> list[dict[str, Any]]:
    return [{"topic": "owls", "i": i} for i in range(n)]


def expected(n: int) -> list[str]:
    # The server echoes the first eight words of the last user message.
    return [TEMPLATE.format(topic="owls", i=i) for i in range(n)]


def body(item: dict[str, Any]) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": TEMPLATE.format(**item)}]}


# ---- the contenders: each returns a callable running the whole batch -----------------------
def chainkit_chain(url: str) -> Any:
    from chainkit.models import ChatOpenAI
    from chainkit.parsers import StrOutputParser
    from chainkit.prompts import ChatPromptTemplate

    prompt = ChatPromptTemplate.from_messages([("human", TEMPLATE)])
    return prompt | ChatOpenAI(model=MODEL, base_url=url, api_key="bench") | StrOutputParser()


def langchain_chain(url: str) -> Any:
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_openai import ChatOpenAI

    prompt = ChatPromptTemplate.from_messages([("human", TEMPLATE)])
    return prompt | ChatOpenAI(model=MODEL, base_url=url, api_key="bench") | StrOutputParser()


Items = list[dict[str, Any]]
SyncRun = Callable[[Items], list[str]]
AsyncRun = Callable[[Items], Awaitable[list[str]]]


def chain_sync(chain: Any, c: int) -> SyncRun:
    return lambda items: list(chain.batch(items, {"max_concurrency": c}))


def chain_async(chain: Any, c: int) -> AsyncRun:
    async def run(items: Items) -> list[str]:
        return list(await chain.abatch(items, {"max_concurrency": c}))

    return run


def bare_sync(lib: Any, url: str, c: int) -> SyncRun:
    limits = lib.Limits(max_connections=c, max_keepalive_connections=c)
    client = lib.Client(limits=limits, headers={"authorization": "Bearer bench"})

    def one(item: dict[str, Any]) -> str:
        response = client.post(url + "/chat/completions", json=body(item))
        response.raise_for_status()
        return str(response.json()["choices"][0]["message"]["content"])

    def run(items: Items) -> list[str]:
        with ThreadPoolExecutor(c) as pool:
            return list(pool.map(one, items))

    return run


class BareAsync:
    """The bare async client: one pooled client per measurement (per event loop)."""

    def __init__(self, lib: Any, url: str, c: int) -> None:
        self.lib, self.url, self.c = lib, url, c
        self.client: Any = None

    async def __call__(self, items: Items) -> list[str]:
        if self.client is None:
            limits = self.lib.Limits(max_connections=self.c, max_keepalive_connections=self.c)
            self.client = self.lib.AsyncClient(limits=limits,
                                               headers={"authorization": "Bearer bench"})
        client, sem = self.client, asyncio.Semaphore(self.c)

        async def one(item: dict[str, Any]) -> str:
            async with sem:
                response = await client.post(self.url + "/chat/completions", json=body(item))
            response.raise_for_status()
            return str(response.json()["choices"][0]["message"]["content"])

        return list(await asyncio.gather(*(one(i) for i in items)))

    async def aclose(self) -> None:
        if self.client is not None:
            await self.client.aclose()
            self.client = None


# ---- measuring ------------------------------------------------------------------------------
def measure_once(run: SyncRun | AsyncRun, n: int, warmup: int) -> dict[str, float]:
    """Time one batch of ``n`` requests after a warm-up batch (imports, connections). An
    async contender runs both inside one event loop, as an application would."""
    if asyncio.iscoroutinefunction(run) or asyncio.iscoroutinefunction(
        getattr(run, "__call__", None)  # noqa: B004 - BareAsync instances
    ):
        return asyncio.run(_measure_async(run, n, warmup))  # type: ignore[arg-type]
    sync_run: SyncRun = run  # type: ignore[assignment]
    sync_run(inputs(warmup))
    wall0, cpu0 = time.perf_counter(), time.process_time()
    out = sync_run(inputs(n))
    return _checked(out, n, time.perf_counter() - wall0, time.process_time() - cpu0)


async def _measure_async(run: AsyncRun, n: int, warmup: int) -> dict[str, float]:
    await run(inputs(warmup))
    wall0, cpu0 = time.perf_counter(), time.process_time()
    out = await run(inputs(n))
    result = _checked(out, n, time.perf_counter() - wall0, time.process_time() - cpu0)
    aclose = getattr(run, "aclose", None)
    if aclose is not None:
        await aclose()
    return result


def _checked(out: list[str], n: int, wall: float, cpu: float) -> dict[str, float]:
    if out != expected(n):
        raise AssertionError(f"wrong answers, e.g. {out[:2]!r}")
    return {"wall": wall, "cpu": cpu}


Rounds = dict[str, list[dict[str, float]]]


def one_round(runs: dict[str, SyncRun | AsyncRun], n: int, warmup: int, rounds: Rounds,
              progress: bool) -> None:
    """One measurement per contender, appended to ``rounds``."""
    for name, run in runs.items():
        result = measure_once(run, n, warmup)
        rounds.setdefault(name, []).append(result)
        if progress:
            print(f"  round {len(rounds[name])}: {name}: {result['wall']:.3f} s", flush=True)


def contenders(url: str, c: int, which: str) -> dict[str, SyncRun | AsyncRun]:
    out: dict[str, SyncRun | AsyncRun] = {}
    if which in ("all", "chainkit"):
        chain = chainkit_chain(url)
        out["chainkit batch (sync)"] = chain_sync(chain, c)
        out["chainkit abatch (async)"] = chain_async(chain, c)
    if which in ("all", "bare"):
        import httpx
        import httpx2

        out["bare httpx2 sync, threads"] = bare_sync(httpx2, url, c)
        out["bare httpx2 async"] = BareAsync(httpx2, url, c)
        out["bare httpx 0.28 sync, threads"] = bare_sync(httpx, url, c)
        out["bare httpx 0.28 async"] = BareAsync(httpx, url, c)
    if which == "langchain":
        chain = langchain_chain(url)
        out["langchain-openai batch (sync)"] = chain_sync(chain, c)
        out["langchain-openai abatch (async)"] = chain_async(chain, c)
    return out


LANGCHAIN = ["langchain-openai batch (sync)", "langchain-openai abatch (async)"]


def langchain_python(args: argparse.Namespace) -> str | None:
    """The interpreter that has langchain-openai: ``--langchain-python``, else this one if it
    can import it, else None."""
    if args.langchain_python:
        return str(args.langchain_python)
    try:
        import langchain_openai  # noqa: F401
    except ImportError:
        return None
    return sys.executable


def langchain_round(python: str, args: argparse.Namespace, url: str, rounds: Rounds) -> bool:
    """One round of the langchain-openai contenders, in ``python`` (their own process)."""
    command = [python, __file__, "--only", "langchain", "--url", url, "--n", str(args.n),
               "--concurrency", str(args.concurrency), "--repeat", "1", "--json"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"langchain-openai run failed:\n{done.stderr[-2000:]}", file=sys.stderr)
        return False
    for name, results in json.loads(done.stdout.strip().splitlines()[-1]).items():
        rounds.setdefault(name, []).extend(results)
        print(f"  round {len(rounds[name])}: {name}: {results[0]['wall']:.3f} s", flush=True)
    return True


def start_server(latency_ms: float) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, str(HERE / "latency_server.py"), "--port", "0",
         "--latency-ms", str(latency_ms)],
        stdout=subprocess.PIPE, text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # "listening on http://127.0.0.1:PORT/v1 (...)"
    if not line.startswith("listening on "):
        process.kill()
        raise RuntimeError(f"latency server did not start: {line!r}")
    return process, line.split()[2]


def best(results: list[dict[str, float]]) -> dict[str, float]:
    return min(results, key=lambda r: r["wall"])


def report(args: argparse.Namespace, rounds: Rounds) -> None:
    ideal = args.n / args.concurrency * args.latency_ms / 1000
    floor = {kind: best(rounds[name]) for kind, name in
             (("sync", "bare httpx2 sync, threads"), ("async", "bare httpx2 async"))
             if name in rounds}
    print(f"\n{args.n} requests, {args.concurrency} in flight, {args.latency_ms:g} ms latency; "
          f"ideal {ideal:.3f} s; best of {args.repeat} interleaved rounds; "
          f"{os.cpu_count()} CPUs")
    print(f"{'':34} {'wall s':>8} {'CPU s':>8} {'x ideal':>8} {'x floor':>8} {'CPU x fl':>8}")
    for name in [*rounds, *(n for n in LANGCHAIN if n not in rounds)]:
        if name not in rounds:
            print(f"{name:34} {'n/a':>8}")
            continue
        result = best(rounds[name])
        base = floor.get("async" if "async" in name else "sync")
        ratios = (f"{result['wall'] / base['wall']:8.2f} {result['cpu'] / base['cpu']:8.2f}"
                  if base else "")
        print(f"{name:34} {result['wall']:8.3f} {result['cpu']:8.3f} "
              f"{result['wall'] / ideal:8.2f} {ratios}")
    for kind, name in (("sync", "chainkit batch (sync)"), ("async", "chainkit abatch (async)")):
        if name in rounds and kind in floor:
            ratio = best(rounds[name])["wall"] / floor[kind]["wall"]
            verdict = "meets" if ratio <= 1.1 else "MISSES"
            print(f"{name}: {ratio:.2f}x the httpx2 floor - {verdict} the 1.1x target")


def emit_rows(args: argparse.Namespace, rounds: Rounds) -> None:
    """One JSON line per mode for ``benchmarks/run.py`` (seconds per batch)."""
    def stats(name: str) -> dict[str, float] | None:
        walls = [r["wall"] for r in rounds.get(name, [])]
        if not walls:
            return None
        return {"median": statistics.median(walls), "min": min(walls), "max": max(walls)}

    for kind, mode in (("sync", "batch"), ("async", "abatch")):
        results = {
            "chainkit": stats(f"chainkit {mode} ({kind})"),
            "langchain-core": stats(f"langchain-openai {mode} ({kind})"),
            "bare httpx2": stats(f"bare httpx2 {kind}" + (", threads" if kind == "sync" else "")),
        }
        # No "|" in the name: run.py puts it in a markdown table.
        scenario = (f"http {mode} of prompt, ChatOpenAI, StrOutputParser: {args.n} requests, "
                    f"{args.concurrency} in flight, {args.latency_ms:g} ms latency")
        note = (f"ideal {args.n / args.concurrency * args.latency_ms / 1000:.3f} s; target "
                f"chainkit within 1.1x of bare httpx2; langchain-core column is langchain-openai")
        print(json.dumps({"scenario": scenario, "unit": "s",
                          "results": {k: v for k, v in results.items() if v}, "note": note}))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="requests per run")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--repeat", type=int, default=3, help="rounds (the best is reported)")
    parser.add_argument("--quick", action="store_true", help="a 50-request smoke run")
    parser.add_argument("--langchain-python",
                        default=os.environ.get("CHAINKIT_BENCH_LANGCHAIN_PYTHON"),
                        help="interpreter with langchain-openai installed (default: "
                             "$CHAINKIT_BENCH_LANGCHAIN_PYTHON, else this one if it has it)")
    parser.add_argument("--only", choices=["all", "chainkit", "bare", "langchain"], default="all")
    parser.add_argument("--url", help=argparse.SUPPRESS)  # an already running server
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.repeat = 50, 1

    server, url = (None, args.url) if args.url else start_server(args.latency_ms)
    rounds: Rounds = {}
    try:
        warmup = min(args.n, args.concurrency)
        runs = contenders(url, args.concurrency, args.only)
        python = langchain_python(args) if args.only == "all" else None
        for _ in range(args.repeat):
            one_round(runs, args.n, warmup, rounds, progress=not args.json)
            if python is not None and not langchain_round(python, args, url, rounds):
                python = None
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
    if args.json:
        print(json.dumps(rounds))
        return
    report(args, rounds)
    emit_rows(args, rounds)


if __name__ == "__main__":
    main()
