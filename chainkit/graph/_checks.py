"""Data-flow checks: follow what each step outputs through the graph and test every step's input.

A `Flow` describes what reaches a step: its possible classes (`Shape`) and, for dicts, the
keys known to be there and whether that list is complete. A dict step (parallel, assign,
pick with a list) makes it complete; a lambda or unknown step makes it unknown, and unknown
never yields an error. The chain input is unknown unless ``compile(input_keys=[...])``.

Two rules come out of it: ``missing_variable`` (a prompt variable or picked key that no
upstream step provides) and ``type_mismatch`` (a step whose declared input cannot match what
reaches it). The ``buffering`` warning comes from a separate walk over the streaming path.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import networkx as nx

from chainkit.graph._kinds import (
    DICT,
    Shape,
    accepts,
    compatible,
    describe,
    inner_of,
    kind_of,
    may_be_dict,
    only_dicts,
    produces,
    required_keys,
)
from chainkit.graph.errors import Problem
from chainkit.graph.view import END, EXPANDED, START, Graph, Node, graph_of
from chainkit.runnables.base import Runnable
from chainkit.runnables.branch import RunnableBranch
from chainkit.runnables.fallbacks import RunnableWithFallbacks
from chainkit.runnables.passthrough import RunnablePick

# Steps that need their whole input by nature (a prompt must be complete before a model call):
# buffering there is no mistake, so it is not reported.
_NEEDS_WHOLE_INPUT = frozenset({"prompt", "chat_model", "llm"})
# Wrappers whose inner steps meet the stream themselves.
_TRANSPARENT = frozenset({"sequence", "binding", "compiled"})


@dataclass(frozen=True)
class Flow:
    """What reaches a step: possible classes, known dict keys, and who produced it."""

    shape: Shape
    keys: frozenset[str] = frozenset()
    complete: bool = False  # True: ``keys`` are all the keys there are
    source: str = "the chain input"
    into: str | None = None  # the builder node whose keyed edges made this dict


UNKNOWN = Flow(None)


def input_flow(input_keys: Iterable[str] | None, source: str = "the chain input") -> Flow:
    if input_keys is None:
        return Flow(None, source=source)
    return Flow(DICT, frozenset(input_keys), True, source)


def _plain(label: str) -> str:
    return label.replace("`", "")


def _keys(keys: Iterable[str]) -> str:
    return ", ".join(f"`{k}`" for k in sorted(keys)) or "no keys"


def _join(prefix: str, label: str) -> str:
    return f"{prefix} › {label}" if prefix else label


def _part(label: str, role: str, r: Runnable[Any, Any]) -> str:
    return f"{label} › {role} `{r.get_name()}`"


class Checker:
    """Collects problems while flows are pushed through graphs and runnables."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    # ---- graphs -----------------------------------------------------------------------
    def run_graph(self, graph: Graph, start: Flow, prefix: str = "", *,
                  keyed_over_input: bool = False) -> Flow:
        """Push ``start`` from the input node through ``graph`` (a DAG); return the output flow."""
        flows: dict[str, Flow] = {START: start}
        for node_id in nx.topological_sort(graph.nx):
            if node_id == START:
                continue
            node = graph.nodes[node_id]
            label = _join(prefix, node.label)
            flow = self._input(graph, node, flows, start, label, keyed_over_input)
            if node_id == END:
                return flow
            flows[node_id] = self.node(node, flow, label)
        return UNKNOWN

    def _input(self, graph: Graph, node: Node, flows: dict[str, Flow], start: Flow, label: str,
               keyed_over_input: bool) -> Flow:
        edges = [e for e in graph.in_edges(node.id) if e.source in flows]
        keyed = [e for e in edges if e.key is not None]
        plain = [e for e in edges if e.key is None]
        if not keyed:
            return flows[plain[0].source] if plain else start
        new = frozenset(e.key for e in keyed if e.key is not None)
        base = flows[plain[0].source] if plain else (start if keyed_over_input else None)
        into = None if node.join else node.id
        if node.join:
            source = label
        else:
            parts = [f"`{e.key}` from {graph.nodes[e.source].label}" for e in keyed]
            if plain:
                parts.append(f"the output of {graph.nodes[plain[0].source].label}")
            elif base is not None and may_be_dict(base.shape):
                parts.append(base.source)
            source = f"the input of {label} ({', '.join(parts)})"
        if base is None:
            return Flow(DICT, new, True, source, into)
        if only_dicts(base.shape):
            return Flow(DICT, base.keys | new, base.complete, source, into)
        if base.shape is not None and not may_be_dict(base.shape):
            if plain:  # an assign (or a node with keyed and un-keyed edges) needs a dict
                self._mismatch(label, kind_of(node.runnable) if node.runnable else "", DICT, base)
            return Flow(DICT, new, not plain, source, into)
        return Flow(DICT, base.keys | new, False, source, into)

    def node(self, node: Node, flow: Flow, label: str) -> Flow:
        if node.join:
            return replace(flow, source=label)
        if node.runnable is None:
            return flow
        return self.runnable(node.runnable, flow, label)

    # ---- runnables --------------------------------------------------------------------
    def runnable(self, r: Runnable[Any, Any], flow: Flow, label: str) -> Flow:
        """Check ``r`` receiving ``flow``; return what it outputs."""
        kind = kind_of(r)
        if kind in EXPANDED and (kind in ("sequence", "parallel", "assign") or inner_of(r)):
            return self.run_graph(graph_of(r), flow, label)
        if isinstance(r, RunnableBranch):
            outs = []
            for i, (condition, branch) in enumerate(r.branches, 1):
                self.runnable(condition, flow, _part(label, f"condition {i}", condition))
                outs.append(self.runnable(branch, flow, _part(label, f"branch {i}", branch)))
            outs.append(self.runnable(r.default, flow, _part(label, "default", r.default)))
            return _union(outs, label)
        if isinstance(r, RunnableWithFallbacks):
            first = self.runnable(r.runnable, flow, _part(label, "primary", r.runnable))
            for i, fallback in enumerate(r.fallbacks, 1):
                self.runnable(fallback, flow, _part(label, f"fallback {i}", fallback))
            return replace(first, source=label)
        return self.leaf(r, kind, flow, label)

    def leaf(self, r: Runnable[Any, Any], kind: str, flow: Flow, label: str) -> Flow:
        accepted = accepts(r, kind)
        fits = compatible(flow.shape, accepted)
        if not fits:
            self._mismatch(label, kind, accepted, flow, r)
        elif kind in ("chat_model", "llm") and flow.complete and only_dicts(flow.shape) and not (
            {"role", "content"} <= flow.keys
        ):
            # A model takes one dict only as an OpenAI-style message ({"role", "content"}).
            self._mismatch(label, kind, accepted, flow, r)
            fits = False
        needed = required_keys(r, kind)
        if fits and needed and flow.complete and only_dicts(flow.shape):
            missing = [k for k in needed if k not in flow.keys]
            if missing:
                self._missing(label, kind, missing, flow)
        if kind == "passthrough":
            return flow
        if kind == "pick" and isinstance(r, RunnablePick):
            if isinstance(r.keys, str):
                return Flow(None, source=label)
            picked = frozenset(r.keys)
            if flow.complete and only_dicts(flow.shape):
                picked &= flow.keys
            return Flow(DICT, picked, True, label)
        shape, keys = produces(r, kind)
        return Flow(shape, keys or frozenset(), keys is not None, label)

    # ---- messages ---------------------------------------------------------------------
    def _missing(self, label: str, kind: str, missing: list[str], flow: Flow) -> None:
        first = missing[0]
        if flow.into is not None:
            fix = (
                f"add an edge that delivers it (`add_edge(\"<node>\", {flow.into!r}, "
                f"key={first!r})`), or pass it in the graph input and declare it with "
                f"compile(input_keys=[...])"
                + (f", or fill it with `prompt.partial({first}=...)`." if kind == "prompt" else ".")
            )
        elif flow.source in ("the chain input", "the graph input"):
            fix = (
                f"pass `{first}` in the input and list it in compile(input_keys=[...]), add a "
                f"step that computes it (e.g. `RunnablePassthrough.assign({first}=...)`)"
                + (f", or fill it in advance with `prompt.partial({first}=...)`."
                   if kind == "prompt" else ".")
            )
        else:
            fix = f"add `{first}` to the output of {flow.source}" + (
                f", or fill it in advance with `prompt.partial({first}=...)`."
                if kind == "prompt" else "."
            )
        message = (
            f"{label} needs {_keys(missing)}; {flow.source} provides {_keys(flow.keys)}. "
            f"Fix: {fix}"
        )
        self.problems.append(
            Problem("missing_variable", (_plain(label), _plain(flow.source)), message)
        )

    def _mismatch(self, label: str, kind: str, accepted: Shape, flow: Flow,
                  r: Runnable[Any, Any] | None = None) -> None:
        got = describe(flow.shape)
        if flow.complete and only_dicts(flow.shape):
            got += f" (keys {_keys(flow.keys)})"
        if kind == "parser":
            fix = (
                "put a chat model (or a prompt and a model) before the parser, or turn the "
                "value into text first, e.g. `| (lambda d: d[\"answer\"])`."
            )
        elif kind == "prompt":
            variables = list(getattr(r, "input_variables", ())) or ["x"]
            fix = (
                f"a prompt with several variables needs a dict of them ({_keys(variables)}): "
                f"map the value into one first, e.g. with a dict step `{{\"{variables[0]}\": "
                f"RunnablePassthrough(), ...}}`, or use a prompt with one variable."
            )
        elif kind in ("chat_model", "llm") and only_dicts(flow.shape):
            fix = (
                "put a prompt template before the model to turn the dict into messages, e.g. "
                "`ChatPromptTemplate.from_messages([(\"human\", \"{question}\")])`."
            )
        else:
            fix = (
                f"insert a step that turns {describe(flow.shape)} into {describe(accepted)}, or "
                f"correct the step's type hints."
            )
        message = (
            f"{label} accepts {describe(accepted)}, but receives {got} from {flow.source}. "
            f"Fix: {fix}"
        )
        self.problems.append(
            Problem("type_mismatch", (_plain(label), _plain(flow.source)), message)
        )


def _union(flows: list[Flow], source: str) -> Flow:
    shapes = [f.shape for f in flows]
    shape: Shape = None
    if all(s is not None for s in shapes):
        shape = frozenset().union(*(s for s in shapes if s is not None))
    complete = all(f.complete for f in flows)
    keys = frozenset.intersection(*(f.keys for f in flows)) if complete else frozenset()
    return Flow(shape, keys, complete and len({f.keys for f in flows}) == 1, source)


# ---- streaming ---------------------------------------------------------------------------
@dataclass
class StreamReport:
    """Which steps emit a live stream, and which buffer one (the warnings)."""

    streaming: list[str]
    warnings: list[Problem]


def stream_report(r: Runnable[Any, Any], label: str = "") -> StreamReport:
    report = StreamReport([], [])
    _Streams(report).walk(r, None, False, label)
    return report


class _Streams:
    def __init__(self, report: StreamReport) -> None:
        self.report = report

    def walk(self, r: Runnable[Any, Any], live: str | None, later: bool, label: str) -> str | None:
        """Follow a stream through ``r``. ``live``: label of the step whose stream reaches
        ``r`` (``None``: one value arrives); ``later``: a later step would stream it on.
        Returns the label of the stream ``r`` outputs, or ``None``."""
        kind = kind_of(r)
        here = label or f"`{r.get_name()}`"
        if kind not in _TRANSPARENT:
            if live and not r.streams_input and later and kind not in _NEEDS_WHOLE_INPUT:
                self._warn(here, kind, live)
            if not r.streams_input:
                live = None
        out = self._inner(r, kind, live, later, label)
        if out is not None and kind not in _TRANSPARENT:
            self.report.streaming.append(_plain(here))
        return out

    def _inner(self, r: Runnable[Any, Any], kind: str, live: str | None, later: bool,
               label: str) -> str | None:
        here = label or f"`{r.get_name()}`"
        steps = getattr(r, "steps", None)
        if kind == "sequence" and isinstance(steps, tuple):
            for i, step in enumerate(steps):
                after = later or any(s.streams_input for s in steps[i + 1:])
                where = _join(label, f"step {i + 1} `{step.get_name()}`")
                live = self.walk(step, live, after, where)
            return live
        if kind == "parallel" and isinstance(steps, dict):
            outs = [
                self.walk(s, None, later, _join(here, f"branch `{k}`")) for k, s in steps.items()
            ]
            return here if any(outs) else None
        inner = inner_of(r)
        if inner is not None:
            return self.walk(inner, live, later, label)
        if isinstance(r, RunnableBranch):
            outs = [self.walk(b, None, later, f"{here} › branch {i}")
                    for i, (_, b) in enumerate(r.branches, 1)]
            outs.append(self.walk(r.default, None, later, f"{here} › default"))
            return here if any(outs) else None
        if isinstance(r, RunnableWithFallbacks):
            return here if self.walk(r.runnable, None, later, here) else None
        if kind in ("chat_model", "llm"):
            return None if getattr(r, "disable_streaming", False) else here
        if kind == "lambda" and r.streams_input:
            return here  # a generator function yields as it goes
        return live if r.streams_input else None

    def _warn(self, label: str, kind: str, live: str) -> None:
        if kind == "lambda":
            fix = (
                "make it a generator function that takes the chunks and yields as it goes "
                "(`def f(chunks): for chunk in chunks: yield ...`), or move it after the "
                "streaming steps."
            )
        else:
            fix = "move it after the streaming steps, or give it a `_transform` that streams."
        message = (
            f"{label} buffers the stream from {live}: it waits for the whole output, so the "
            f"steps after it get it in one piece instead of chunk by chunk. Fix: {fix}"
        )
        self.report.warnings.append(Problem("buffering", (_plain(label), _plain(live)), message))
