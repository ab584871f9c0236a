"""``chainkit traces``, ``chainkit traces show <id>`` and ``chainkit ui``: the local traces from
the terminal, or in a browser.

Example:
    $ chainkit traces --project support-bot --error --limit 5
    $ chainkit traces show 0192f1c2-7d3e-7000-8000-1a2b3c4d5e6f
    $ chainkit ui --port 8765
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from datetime import datetime

    from chainkit.tracing.client import Client
    from chainkit.tracing.store.records import RunRecord

__all__ = ["COMMANDS", "register", "run_traces", "run_ui"]

COMMANDS: dict[str, str] = {
    "traces": "list recent traces from the local trace store; 'traces show <id>' for one",
    "ui": "serve the trace viewer on 127.0.0.1",
}


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``traces`` (with ``show``) and ``ui`` to the ``chainkit`` command's subparsers."""
    traces = commands.add_parser("traces", help=COMMANDS["traces"], description=COMMANDS["traces"])
    _db_option(traces)
    traces.add_argument("--project", help="only this project's traces")
    traces.add_argument("--name", help="only traces whose root run has this name")
    status = traces.add_mutually_exclusive_group()
    status.add_argument("--error", action="store_true", help="only failed traces")
    status.add_argument("--ok", action="store_true", help="only successful traces")
    traces.add_argument("--limit", type=_positive_int, default=20, help="at most N (default 20)")
    traces.add_argument("--json", action="store_true", help="one JSON object per line")
    traces.set_defaults(handler=run_traces)
    sub = traces.add_subparsers(dest="traces_command", metavar="COMMAND")
    show = sub.add_parser("show", help="print one trace's run tree with timings and usage")
    show.add_argument("id", help="a trace id or run id (a unique prefix will do)")
    show.add_argument("--io", action="store_true", help="also print each run's inputs/outputs")
    _db_option(show)
    show.set_defaults(handler=run_show)

    ui = commands.add_parser("ui", help=COMMANDS["ui"], description=COMMANDS["ui"])
    _db_option(ui)
    ui.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    ui.add_argument("--port", type=_port, default=8765, help="port (default 8765; 0: any free)")
    ui.add_argument("--open", action="store_true", help="open the page in a web browser")
    ui.set_defaults(handler=run_ui)


def _db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", metavar="PATH", default=argparse.SUPPRESS,
        help="trace database (default $CHAINKIT_TRACE_DB or ~/.chainkit/traces.db)",
    )


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port in 0-65535, got {value}")
    return value


def _client(args: argparse.Namespace) -> Client:
    from chainkit.tracing.client import Client

    return Client(getattr(args, "db", None))


# ---- formatting ---------------------------------------------------------------------------
def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 1:
        return f"{value * 1000:.0f} µs"
    return f"{value:.1f} ms" if value < 1000 else f"{value / 1000:.2f} s"


def _tokens(run: RunRecord) -> str:
    if run.total_tokens is None and run.input_tokens is None:
        return "-"
    return f"{run.input_tokens or 0}+{run.output_tokens or 0}={run.total_tokens or 0}"


def _cost(value: float | None) -> str:
    return "-" if value is None else f"${value:.4f}" if value >= 0.0001 else f"${value:.2g}"


def _when(value: datetime) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _table(rows: Sequence[Sequence[str]], out: TextIO) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(), file=out)


# ---- commands -----------------------------------------------------------------------------
def run_traces(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """``chainkit traces``: recent traces, newest first."""
    out = out or sys.stdout
    client = _client(args)
    error = True if args.error else False if args.ok else None
    runs = client.list_runs(project=args.project, name=args.name, error=error,
                            limit=args.limit, is_root=True)
    costs = client.trace_costs(r.trace_id for r in runs)
    if args.json:
        import json

        for r in runs:
            row = {k: r.to_dict()[k] for k in ("id", "project", "name", "status", "start_time",
                                              "latency_ms", "total_tokens", "error")}
            print(json.dumps({**row, "cost": costs.get(r.trace_id)}), file=out)
        return 0
    if not runs:
        print(f"no traces in {client.path}", file=out)
        return 0
    rows = [["TIME", "NAME", "STATUS", "LATENCY", "TOKENS", "COST", "PROJECT", "ID"]]
    rows += [[_when(r.start_time), r.name, r.status, _ms(r.latency_ms), _tokens(r),
              _cost(costs.get(r.trace_id)), r.project, r.id] for r in runs]
    _table(rows, out)
    return 0


def _find_trace(client: Client, key: str) -> list[RunRecord] | str:
    from chainkit.tracing.client import NotFoundError

    try:
        return client.read_trace(client.read_run(key).trace_id)
    except NotFoundError:
        pass
    rows = client._rows("SELECT trace_id FROM runs WHERE id LIKE ? OR trace_id LIKE ? LIMIT 2",
                        (key + "%", key + "%"))
    found = {r["trace_id"] for r in rows}
    if len(found) == 1 and len(key) >= 4:
        return client.read_trace(found.pop())
    if len(found) > 1:
        return f"id prefix {key!r} matches several traces; give more characters"
    return f"no trace or run with id {key!r} in {client.path}"


def run_show(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """``chainkit traces show <id>``: the run tree with timings, usage and errors."""
    out = out or sys.stdout
    from chainkit.tracing.store.pricing import cost

    client = _client(args)
    trace = _find_trace(client, args.id)
    if isinstance(trace, str):
        print(f"chainkit traces show: {trace}", file=sys.stderr)
        return 1
    root = trace[0]
    children: dict[str | None, list[RunRecord]] = {}
    for run in trace:
        children.setdefault(run.parent_run_id, []).append(run)
    print(f"trace {root.trace_id}  project {root.project}  {_when(root.start_time)}", file=out)
    rt = root.extra.get("runtime") or {}
    if rt:
        print("runtime " + ", ".join(f"{k} {v}" for k, v in rt.items()), file=out)
    print(f"latency {_ms(root.latency_ms)}  overhead {_ms(root.overhead_ms)}  "
          f"tokens {_tokens(root)}  runs {root.n_runs or len(trace)}", file=out)
    print(file=out)
    t0 = root.start_time

    def line(run: RunRecord, prefix: str, last: bool, top: bool) -> None:
        branch = "" if top else ("└─ " if last else "├─ ")
        offset = (run.start_time - t0).total_seconds() * 1000
        parts = [f"{prefix}{branch}{run.name} [{run.run_type}]", f"+{offset:.1f} ms",
                 _ms(run.latency_ms)]
        if run.status == "error":
            parts.append("ERROR")
        if run.model:
            parts.append(f"model {run.model}")
        if run.total_tokens is not None or run.input_tokens is not None:
            parts.append(f"tokens {_tokens(run)}")
            c = cost(run.model, run.input_tokens, run.output_tokens)
            if c is not None:
                parts.append(_cost(c))
        print("  ".join(parts), file=out)
        inner = prefix + ("" if top else ("   " if last else "│  "))
        if run.error:
            print(f"{inner}   ! {run.error.splitlines()[0]}", file=out)
        if args.io:
            import json

            for label, value in (("in ", run.inputs), ("out", run.outputs)):
                text = json.dumps(value, ensure_ascii=False)
                print(f"{inner}   {label} {text[:200]}{'…' if len(text) > 200 else ''}",
                      file=out)
        kids = children.get(run.id, [])
        for i, kid in enumerate(kids):
            line(kid, inner, i == len(kids) - 1, False)

    line(root, "", True, True)
    return 0


def run_ui(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """``chainkit ui``: serve the viewer until interrupted."""
    out = out or sys.stdout
    try:
        from chainkit.viewer import serve
    except ImportError as exc:
        print(f"chainkit ui: {exc}", file=sys.stderr)
        return 1
    serve(db_path=getattr(args, "db", None), host=args.host, port=args.port,
          open_browser=args.open, out=out)
    return 0
