"""`ChainGraph`: build a DAG of named steps that ``|`` cannot express, then `compile()` it.

How data moves (the whole contract):

- The **entry** node(s) receive the graph input. ``set_entry`` names them; by default every
  node without incoming edges is an entry. An entry takes no incoming edges.
- A node with **keyed** incoming edges (``add_edge("retrieve", "answer", key="context")``)
  receives a dict ``{key: upstream output}`` merged over the graph input when that input is a
  dict — so ``question`` from the input and ``context`` from ``retrieve`` both reach the prompt
  in ``answer``. (If the input is not a dict, the node receives just the keyed dict.)
- An **un-keyed** edge passes the upstream output as it is; a node takes at most one. A node
  with both gets the keyed values merged over the un-keyed upstream's output (a dict).
- The **finish** node's output is the graph's output (``set_finish``; by default the one node
  without outgoing edges). Every node must lead to it and be reachable from an entry.

Nodes run in topological generations: all nodes of a generation run concurrently (threads on
the sync path, tasks on the async path). Streaming streams the finish node; the nodes before
it run as ``invoke``.

Problems in the graph (cycles, unknown or duplicate names, unreachable nodes, ...) are all
reported together by ``compile()`` in one `ChainValidationError`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import networkx as nx

from chainkit.graph._kinds import kind_of
from chainkit.graph.errors import Problem
from chainkit.graph.view import END, START, Graph
from chainkit.runnables.base import Runnable, coerce_to_runnable

if TYPE_CHECKING:
    from chainkit.graph.compiled import CompiledChain

__all__ = ["ChainGraph"]


def _n(name: str) -> str:
    return f"node `{name}`"


def _names(names: Iterable[str]) -> str:
    return ", ".join(f"`{n}`" for n in names) or "none"


class ChainGraph:
    """A DAG of named runnables joined by (optionally keyed) edges; see the module doc.

    Example:
        >>> g = ChainGraph()
        >>> g.add_node("retrieve", retriever)
        >>> g.add_node("answer", prompt | model | StrOutputParser())
        >>> g.add_edge("retrieve", "answer", key="context")
        >>> g.set_entry("retrieve")
        >>> g.set_finish("answer")
        >>> app = g.compile(input_keys=["question"])
        >>> app.invoke({"question": "What is chainkit?"})
    """

    def __init__(self, name: str = "ChainGraph") -> None:
        self.name = name
        self._nodes: list[tuple[str, Runnable[Any, Any]]] = []
        self._edges: list[tuple[str, str, str | None]] = []
        self._entry: tuple[str, ...] | None = None
        self._finish: str | None = None

    # ---- building ---------------------------------------------------------------------
    def add_node(self, name: str, runnable: Runnable[Any, Any] | Any) -> ChainGraph:
        """Add a step named ``name``: a runnable, a callable or a dict (as in ``|``)."""
        if not isinstance(name, str) or not name:
            raise TypeError(f"a node name must be a non-empty str, got {name!r:.60}")
        if name in (START, END):
            raise ValueError(f"{name!r} is reserved for the graph's input and output nodes")
        self._nodes.append((name, coerce_to_runnable(runnable)))
        return self

    def add_edge(self, source: str, target: str, *, key: str | None = None) -> ChainGraph:
        """Send ``source``'s output to ``target`` — as it is, or under ``key`` in a dict."""
        for label, value in (("source", source), ("target", target)):
            if not isinstance(value, str):
                raise TypeError(f"edge {label} must be a node name (str), got {value!r:.60}")
        if key is not None and (not isinstance(key, str) or not key):
            raise TypeError(f"edge key must be a non-empty str or None, got {key!r:.60}")
        self._edges.append((source, target, key))
        return self

    def set_entry(self, *names: str) -> ChainGraph:
        """The node(s) that receive the graph input."""
        if not names:
            raise ValueError("set_entry needs at least one node name")
        self._entry = tuple(names)
        return self

    def set_finish(self, name: str) -> ChainGraph:
        """The node whose output is the graph's output."""
        self._finish = name
        return self

    @property
    def nodes(self) -> Mapping[str, Runnable[Any, Any]]:
        """Node name -> runnable (the first node of a duplicated name)."""
        out: dict[str, Runnable[Any, Any]] = {}
        for name, runnable in self._nodes:
            out.setdefault(name, runnable)
        return out

    # ---- views ------------------------------------------------------------------------
    def entries(self) -> tuple[str, ...]:
        """The entry nodes: as set, else every node without incoming edges."""
        if self._entry is not None:
            return self._entry
        targets = {t for _, t, _ in self._known_edges()}
        return tuple(n for n in self.nodes if n not in targets)

    def finish(self) -> str | None:
        """The finish node: as set, else the only node without outgoing edges (or None)."""
        if self._finish is not None:
            return self._finish
        sources = {s for s, _, _ in self._known_edges()}
        sinks = [n for n in self.nodes if n not in sources]
        return sinks[0] if len(sinks) == 1 else None

    def _known_edges(self) -> list[tuple[str, str, str | None]]:
        nodes = self.nodes
        return [e for e in self._edges if e[0] in nodes and e[1] in nodes]

    def get_graph(self) -> Graph:
        """The graph as built so far (edges naming unknown nodes are left out)."""
        nodes = self.nodes
        graph = Graph(self.name)
        graph.add_node(START, "input", label="the graph input", node_id=START)
        for name, runnable in nodes.items():
            graph.add_node(name, kind_of(runnable), runnable, label=_n(name), node_id=name)
        for name in self.entries():
            if name in nodes:
                graph.add_edge(START, name)
        for source, target, key in self._known_edges():
            graph.add_edge(source, target, key)
        graph.add_node(END, "output", label="the graph output", node_id=END)
        finish = self.finish()
        if finish in nodes:
            graph.add_edge(finish, END)  # type: ignore[arg-type]
        return graph

    def compile(self, *, input_keys: Iterable[str] | None = None) -> CompiledChain:
        """Check the whole graph and return a runnable `CompiledChain`.

        Args:
            input_keys: The keys of the dict callers pass as input, if known; with them,
                missing prompt variables are found before any call.

        Raises:
            ChainValidationError: Lists every problem found.
        """
        from chainkit.graph.compiled import compile_graph

        return compile_graph(self, input_keys)

    def __repr__(self) -> str:
        return f"ChainGraph({self.name!r}, nodes={list(self.nodes)}, edges={len(self._edges)})"

    # ---- structure --------------------------------------------------------------------
    def structure_problems(self) -> list[Problem]:
        """Everything wrong with the graph's shape (before any data-flow check)."""
        out: list[Problem] = []
        nodes = self.nodes
        known = _names(nodes)
        for name, count in Counter(n for n, _ in self._nodes).items():
            if count > 1:
                out.append(Problem("duplicate_name", (f"node {name}",),
                    f"{count} nodes are named `{name}`. Fix: give each add_node a unique name."))
        refs = [(f"edge `{s}` -> `{t}`", n) for s, t, _ in self._edges for n in (s, t)]
        refs += [("set_entry", n) for n in self._entry or ()]
        refs += [("set_finish", self._finish)] if self._finish is not None else []
        for where, name in refs:
            if name not in nodes:
                out.append(Problem("unknown_node", (f"node {name}",),
                    f"{where} names unknown node `{name}`; the nodes are {known}. "
                    f"Fix: add_node({name!r}, ...) first, or correct the name."))
        out += self._edge_problems(nodes)
        if not nodes:
            return [*out, Problem("no_entry", (), "the graph has no nodes. Fix: add_node(...).")]
        graph = self.get_graph()
        dag = graph.nx.subgraph(nodes)
        out += _cycles(graph.nx, nodes)
        entries = [e for e in self.entries() if e in nodes]
        if not entries:
            out.append(Problem("no_entry", (), "the graph has no entry node (every node has an "
                "incoming edge). Fix: set_entry(name) on the node that takes the graph input."))
        finish = self.finish()
        if finish is None:
            sinks = [n for n in nodes if dag.out_degree(n) == 0]
            why = (f"nodes without outgoing edges are {_names(sinks)}" if sinks
                   else "every node has an outgoing edge")
            out.append(Problem("no_finish", tuple(f"node {s}" for s in sinks),
                f"the graph has no finish node: {why}. Fix: set_finish(name) on the node "
                f"whose output is the result, and connect the others to it."))
        reach: set[str] = set(entries)
        for e in entries:
            reach |= nx.descendants(dag, e)
        for name in nodes:
            if name not in reach and entries:
                out.append(Problem("unreachable", (f"node {name}",),
                    f"{_n(name)} cannot be reached from the entry node(s) {_names(entries)}. "
                    f"Fix: add an edge into it, add it to set_entry(...), or remove it."))
        if finish is not None and finish in nodes:
            feeds = nx.ancestors(dag, finish) | {finish}
            for name in nodes:
                if name not in feeds and name in reach:
                    out.append(Problem("no_path_to_finish", (f"node {name}", f"node {finish}"),
                        f"{_n(name)}'s output never reaches the finish {_n(finish)}. "
                        f"Fix: add an edge from it toward `{finish}`, or remove it."))
        return out

    def _edge_problems(self, nodes: Mapping[str, Any]) -> list[Problem]:
        out: list[Problem] = []
        entries = set(self.entries())
        seen_pairs: set[tuple[str, str]] = set()
        for source, target, _ in self._edges:
            if (source, target) in seen_pairs:
                out.append(Problem("duplicate_key", (f"node {source}", f"node {target}"),
                    f"two edges go from `{source}` to `{target}`. Fix: keep one; to pass the "
                    f"output under two keys, add a node that copies it."))
            seen_pairs.add((source, target))
        for target in nodes:
            into = [(s, k) for s, t, k in self._edges if t == target and s in nodes]
            plain = [s for s, k in into if k is None]
            if len(plain) > 1:
                out.append(Problem("ambiguous_input", tuple(f"node {n}" for n in [target, *plain]),
                    f"{_n(target)} has {len(plain)} un-keyed incoming edges (from "
                    f"{_names(plain)}) but takes only one value. Fix: give the edges keys "
                    f"(add_edge(..., key=\"name\")) so the node receives a dict."))
            for key, count in Counter(k for _, k in into if k is not None).items():
                if count > 1:
                    srcs = [s for s, k in into if k == key]
                    out.append(Problem("duplicate_key", tuple(f"node {n}" for n in srcs),
                        f"{_n(target)} receives key `{key}` from {_names(srcs)}. Fix: give "
                        f"each edge its own key."))
            if target in entries and into:
                out.append(Problem("entry_has_input", (f"node {target}",),
                    f"entry {_n(target)} also has incoming edges (from "
                    f"{_names(s for s, _ in into)}); an entry receives the graph input. Fix: "
                    f"remove it from set_entry(...) or remove those edges."))
        return out


def _cycles(dag: Any, order: Iterable[str]) -> list[Problem]:
    out = []
    order = list(order)
    for component in nx.strongly_connected_components(dag):
        if len(component) == 1 and not any(dag.has_edge(n, n) for n in component):
            continue
        cycle = _walk_cycle(dag, component, next(n for n in order if n in component))
        path = " -> ".join(f"`{n}`" for n in [*cycle, cycle[0]])
        out.append(Problem("cycle", tuple(f"node {n}" for n in cycle),
            f"nodes {path} form a cycle; a chain graph runs each node once, after the nodes it "
            f"depends on. Fix: remove one of these edges (loop inside a node instead, e.g. with "
            f"a RunnableLambda)."))
    return out


def _walk_cycle(dag: Any, component: set[str], start: str) -> list[str]:
    """One cycle through ``start``'s component, always taking the first edge added (so the
    message does not change from run to run)."""
    path = [start]
    while True:
        node = next(s for s in dag.successors(path[-1]) if s in component)
        if node in path:
            return path[path.index(node):]
        path.append(node)
