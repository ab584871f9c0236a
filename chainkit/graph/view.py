"""`Graph`: a chain as a networkx graph — one node per step, edges for data flow.

`graph_of(runnable)` expands the structure ``|`` builds: a sequence becomes a path, a parallel
fans out to its branches and joins them again in one node (the edges into the join carry the
branch keys), an assign is a parallel whose join also receives the input dict, and bindings
and retries show the step they wrap. Other composites (branches, fallbacks) are single nodes.
Every graph starts at an input node (``__start__``) and ends at an output node (``__end__``).

Each node carries a ``label`` saying where the step sits in the chain (``step 2
`ChatPromptTemplate```), which is how validation messages name steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import networkx as nx

from chainkit.graph import draw
from chainkit.graph._kinds import inner_of, kind_of
from chainkit.runnables.base import Runnable
from chainkit.runnables.parallel import RunnableParallel
from chainkit.runnables.passthrough import RunnableAssign
from chainkit.runnables.sequence import RunnableSequence

__all__ = ["END", "START", "Edge", "Graph", "Node", "graph_of"]

START = "__start__"
END = "__end__"
#: Kinds `graph_of` expands into several nodes (the rest are one node each).
EXPANDED = frozenset({"sequence", "parallel", "assign", "binding", "retry", "compiled"})


@dataclass(eq=False)
class Node:
    """One step of a chain (or the graph's input or output).

    Attributes:
        id: Unique within the graph (the step's name, ``:2`` added for a second one).
        name: The step's name (``runnable.get_name()``), ``__start__`` or ``__end__``.
        kind: ``"input"``, ``"output"``, or the step's kind (``"prompt"``, ``"chat_model"``,
            ``"parser"``, ``"parallel"``, ``"lambda"``, ...).
        runnable: The step (``None`` for the input and output nodes).
        label: Where the step sits, as messages name it: ``step 2 `ChatPromptTemplate```.
        join: True for the node where a parallel's (or assign's) branches come together.

    Example:
        >>> node = chain.get_graph().nodes["ChatPromptTemplate"]
        >>> node.kind, node.label
        ('prompt', 'step 1 `ChatPromptTemplate`')
    """

    id: str
    name: str
    kind: str
    runnable: Runnable[Any, Any] | None = None
    label: str = ""
    join: bool = False
    schema_source: Runnable[Any, Any] | None = field(default=None, repr=False)

    @property
    def input_schema(self) -> Any:
        """The pydantic model of what this node takes (``None`` for the output node)."""
        r = self.runnable or (self.schema_source if self.kind == "input" else None)
        return r.get_input_schema() if r is not None else None

    @property
    def output_schema(self) -> Any:
        """The pydantic model of what this node returns (``None`` for the input node)."""
        r = self.runnable or (self.schema_source if self.kind == "output" else None)
        return r.get_output_schema() if r is not None else None


class Edge(NamedTuple):
    """Data flowing from ``source`` to ``target``; ``key`` names the dict key it fills."""

    source: str
    target: str
    key: str | None = None


class Graph:
    """A chain's structure, backed by a `networkx.DiGraph` (``graph.nx``).

    Node attributes in ``graph.nx``: ``node`` (the `Node`), ``name``, ``kind``; edge
    attribute: ``key``.

    Example:
        >>> graph = (prompt | model | StrOutputParser()).get_graph()
        >>> [n.name for n in graph.nodes.values()]
        ['__start__', 'ChatPromptTemplate', 'FakeChatModel', 'StrOutputParser', '__end__']
        >>> print(graph.draw_mermaid())  # or draw_ascii(), draw_svg(), draw_png()
    """

    def __init__(self, name: str = "Graph") -> None:
        self.name = name
        self.nodes: dict[str, Node] = {}
        self.edges: list[Edge] = []
        self.nx: Any = nx.DiGraph()
        self._names: dict[str, int] = {}

    # ---- building ---------------------------------------------------------------------
    def add_node(self, name: str, kind: str, runnable: Runnable[Any, Any] | None = None, *,
                 label: str = "", join: bool = False, node_id: str | None = None) -> Node:
        """Add a node; its id is ``node_id`` or ``name`` made unique with ``:2``, ``:3``..."""
        if node_id is None:
            count = self._names.get(name, 0) + 1
            self._names[name] = count
            node_id = name if count == 1 else f"{name}:{count}"
            while node_id in self.nodes:
                count += 1
                self._names[name] = count
                node_id = f"{name}:{count}"
        node = Node(node_id, name, kind, runnable, label or f"`{name}`", join)
        self.nodes[node_id] = node
        self.nx.add_node(node_id, node=node, name=name, kind=kind)
        return node

    def add_edge(self, source: str, target: str, key: str | None = None) -> None:
        self.edges.append(Edge(source, target, key))
        self.nx.add_edge(source, target, key=key)

    # ---- reading ----------------------------------------------------------------------
    def first_node(self) -> Node | None:
        """The input node (LangChain's name)."""
        return self.nodes.get(START)

    def last_node(self) -> Node | None:
        """The output node (LangChain's name)."""
        return self.nodes.get(END)

    def in_edges(self, node_id: str) -> list[Edge]:
        return [Edge(s, t, k) for s, t, k in self.nx.in_edges(node_id, data="key")]

    def __repr__(self) -> str:
        return f"Graph({self.name!r}, {len(self.nodes)} nodes, {len(self.edges)} edges)"

    # ---- drawing (see `chainkit.graph.draw`) ----------------------------------------------
    def draw_mermaid(self) -> str:
        """Mermaid flowchart text (renders on GitHub, in JupyterLab and in mermaid.live)."""
        return draw.mermaid(self)

    def draw_ascii(self) -> str:
        """A box-and-arrow drawing in plain text (no extra dependency)."""
        return draw.ascii(self)

    def print_ascii(self) -> None:
        print(self.draw_ascii())

    def draw_svg(self) -> str:
        """An SVG picture, laid out locally in pure Python (nothing is sent anywhere)."""
        return draw.svg(self)

    def draw_dot(self) -> str:
        """Graphviz DOT text."""
        return draw.dot(self)

    def draw_png(self, output_file_path: str | None = None) -> bytes | None:
        """A PNG rendered by Graphviz's ``dot`` program (install Graphviz for it).

        Returns the PNG bytes, or ``None`` after writing them to ``output_file_path``.
        """
        return draw.png(self, output_file_path)

    def _repr_svg_(self) -> str:
        return self.draw_svg()

    def _repr_markdown_(self) -> str:
        return draw.markdown(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return draw.mimebundle(self, repr(self))


def graph_of(runnable: Runnable[Any, Any]) -> Graph:
    """The graph of any runnable: nested sequences and parallels expanded (see module doc)."""
    graph = Graph(runnable.get_name())
    start = graph.add_node(START, "input", label="the chain input", node_id=START)
    start.schema_source = runnable
    last = _Expander(graph).expand(runnable, START, ())
    end = graph.add_node(END, "output", label="the chain output", node_id=END)
    end.schema_source = runnable
    graph.add_edge(last, END)
    return graph


def _label(path: tuple[str, ...], name: str) -> str:
    if path and path[-1].endswith(f"`{name}`"):
        return " › ".join(path)
    return " › ".join((*path, f"`{name}`"))


class _Expander:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    def expand(self, r: Runnable[Any, Any], src: str, path: tuple[str, ...]) -> str:
        """Add ``r`` after node ``src``; return the id of the node that outputs its result."""
        kind = kind_of(r)
        inner = inner_of(r) if kind in EXPANDED else None
        if inner is not None:
            return self.expand(inner, src, path)
        if isinstance(r, RunnableSequence):
            for i, step in enumerate(r.steps, 1):
                src = self.expand(step, src, (*path, f"step {i} `{step.get_name()}`"))
            return src
        if isinstance(r, (RunnableParallel, RunnableAssign)):
            return self._fan(r, src, path)
        node = self.graph.add_node(r.get_name(), kind, r, label=_label(path, r.get_name()))
        self.graph.add_edge(src, node.id)
        return node.id

    def _fan(self, r: RunnableParallel[Any] | RunnableAssign, src: str,
             path: tuple[str, ...]) -> str:
        steps = r.mapper.steps if isinstance(r, RunnableAssign) else r.steps
        label = _label(path, r.get_name())
        exits = [
            (key, self.expand(step, src, (*path, f"branch `{key}`"))) for key, step in steps.items()
        ]
        kind = "assign" if isinstance(r, RunnableAssign) else "parallel"
        join = self.graph.add_node(r.get_name(), kind, r, label=label, join=True)
        if isinstance(r, RunnableAssign):
            self.graph.add_edge(src, join.id)  # the input dict, under the computed keys
        for key, exit_id in exits:
            self.graph.add_edge(exit_id, join.id, key)
        return join.id
