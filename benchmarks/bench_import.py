"""Import time of prompts + parsers + messages + runnables + chat model base, net of
interpreter start, each measured in fresh interpreters. Target: at most 1/8 of langchain-core's."""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

STATEMENTS = {
    "chainkit": "import chainkit.prompts, chainkit.parsers, chainkit.messages, chainkit.runnables, "
    "chainkit.models.base",
    "langchain-core": "import langchain_core.prompts, langchain_core.output_parsers, "
    "langchain_core.messages, langchain_core.runnables, langchain_core.language_models",
}


def _run(code: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - t0


def main() -> None:
    from _lib import emit

    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    reps = 2 if ap.parse_args().quick else 9
    results = {}
    for name, stmt in STATEMENTS.items():
        try:
            _run(stmt)  # warm the OS file cache and .pyc files
        except subprocess.CalledProcessError:
            print(f"# {name}: not importable")
            continue
        diffs = []
        for _ in range(reps):
            base = _run("pass")
            diffs.append(_run(stmt) - base)
        results[name] = {"median": statistics.median(diffs), "min": min(diffs), "max": max(diffs)}
    emit("import of prompts + parsers + messages + runnables + chat model base", "ms", results, scale=1e3)


if __name__ == "__main__":
    main()
