"""Run every benchmark scenario in a fresh process and write RESULTS.md.

    python benchmarks/run.py            # full run, writes benchmarks/RESULTS.md
    python benchmarks/run.py --quick    # smoke run (tiny sizes, checks outputs, writes nothing)

Each scenario script prints JSON lines (see `_lib.emit`); this collects them into one markdown
table with chainkit and langchain-core side by side and the ratio, plus the target from the issue.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).parent
SCRIPTS = [
    "bench_import.py",
    "bench_invoke.py",
    "bench_stream.py",
    "bench_rss.py",
    "bench_llamacpp_tokens.py",
    "bench_http_batch.py",
    "bench_compiled.py",
    "bench_tracing.py",
    "bench_json_stream.py",
    "bench_load_lag.py",
]
# scenario prefix -> (target ratio of langchain-core / chainkit, text)
TARGETS = {
    "import": (8, "≥ 8×"),
    "invoke": (20, "≥ 20×"),
    "ainvoke": (20, "≥ 20×"),
    "stream per chunk": (10, "≥ 10×"),
    "astream per chunk": (20, "≥ 20×"),
    "astream_log per chunk": (10, "≥ 10×"),
    "astream_events per chunk": (10, "≥ 10×"),
    "peak RSS": (2, "≥ 2×"),
}


def _fmt(r: dict[str, float] | None) -> str:
    if not r:
        return "n/a"
    return f"{r['median']:.3g} ({r['min']:.3g}–{r['max']:.3g})"


def _versions() -> str:
    out = []
    for pkg in ("chainkit", "langchain-core", "langchain-openai", "llama-cpp-python", "httpx"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            out.append(f"{pkg} {metadata.version(pkg)}")
    return ", ".join(out)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="tiny sizes; check outputs; write nothing")
    ap.add_argument("--only", nargs="*", help="run only these scripts")
    ap.add_argument("--out", default=str(HERE / "RESULTS.md"))
    args = ap.parse_args()
    rows: list[dict[str, object]] = []
    tables: list[str] = []  # markdown tables a script prints itself (e.g. tokens/s)
    failed: list[str] = []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parent)])}
    for script in args.only or SCRIPTS:
        path = HERE / script
        if not path.exists():
            print(f"-- {script}: missing, skipped", flush=True)
            continue
        print(f"-- {script}", flush=True)
        t0 = time.perf_counter()
        cmd = [sys.executable, str(path)] + (["--quick"] if args.quick else [])
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=HERE)
        for line in proc.stdout.splitlines():
            if line.startswith("{"):
                rows.append(json.loads(line))
                print("   ", line, flush=True)
            elif line.lstrip().startswith("|"):
                tables.append(line.strip())
                print("    " + line, flush=True)
            elif line.strip():
                print("    " + line, flush=True)
        if proc.returncode != 0:
            failed.append(script)
            print(proc.stderr[-3000:], file=sys.stderr)
        print(f"   ({time.perf_counter() - t0:.1f} s)", flush=True)
    table = ["| scenario | unit | chainkit median (min–max) | langchain-core median (min–max) | "
             "langchain-core / chainkit | target |", "|---|---|---|---|---|---|"]
    for row in rows:
        res = row["results"]
        assert isinstance(res, dict)
        ck, lc = res.get("chainkit"), res.get("langchain-core")
        ratio = f"{lc['median'] / ck['median']:.1f}×" if ck and lc and ck["median"] else "n/a"
        target = next((t for p, (_, t) in TARGETS.items() if str(row["scenario"]).startswith(p)), "")
        extra = {k: v for k, v in res.items() if k not in ("chainkit", "langchain-core")}
        note = str(row.get("note") or "")
        if extra:
            note = (note + " " + "; ".join(f"{k}: {_fmt(v)}" for k, v in extra.items())).strip()
        name = f"{row['scenario']}{' — ' + note if note else ''}".replace("|", "\\|")
        table.append(f"| {name} | {row['unit']} | "
                     f"{_fmt(ck)} | {_fmt(lc)} | {ratio} | {target} |")
    if tables:
        table += ["", "Tables printed by scenarios:", "", *tables]
    report = "\n".join(table)
    print(report)
    if not args.quick:
        header = (f"# Benchmark results\n\n{time.strftime('%Y-%m-%d')} on {platform.machine()}, "
                  f"{os.cpu_count()} cores, Python {platform.python_version()}; {_versions()}.\n"
                  "Each scenario ran in a fresh process: warm-up, then the median (min–max) over "
                  "several repetitions. Produced by `python benchmarks/run.py`.\n\n")
        Path(args.out).write_text(header + report + "\n")
        print(f"wrote {args.out}")
    if failed:
        print(f"FAILED: {failed}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
