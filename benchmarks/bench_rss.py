"""Peak RSS after import and building 1000 chains, each library in a fresh interpreter.
Target: at most 1/2 of langchain-core's."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import resource, sys
sys.path.insert(0, {here!r})
from _lib import build_chain, chainkit_lib, langchain_lib, INPUT
lib = chainkit_lib() if {name!r} == "chainkit" else langchain_lib()
chains = [build_chain(lib) for _ in range({n})]
assert chains[-1].invoke(INPUT) == "hello world"
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)  # KiB -> MiB (Linux)
"""


def main() -> None:
    from pathlib import Path

    from _lib import emit

    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    n = 50 if ap.parse_args().quick else 1000
    here = str(Path(__file__).parent)
    results = {}
    for name in ("chainkit", "langchain-core"):
        proc = subprocess.run([sys.executable, "-c", CHILD.format(here=here, name=name, n=n)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"# {name}: failed: {proc.stderr.strip().splitlines()[-1:]}")
            continue
        mib = float(proc.stdout.strip().splitlines()[-1])
        results[name] = {"median": mib, "min": mib, "max": mib}
    emit(f"peak RSS after import and building {n} chains", "MiB", results)
    json.dumps(results)


if __name__ == "__main__":
    main()
