"""A small layered (Sugiyama-style) layout, shared by the ASCII and SVG drawings.

1. Layers: each node sits one layer below its deepest predecessor (longest path).
2. Edges that skip layers are split by *dummy* nodes, one per skipped layer, so no edge runs
   through a box.
3. Order within a layer: a few barycenter sweeps (each node moves toward the average position
   of its neighbours in the layer above, then below), which removes most crossings in the
   small graphs chains make.
4. Positions: each layer's items are laid side by side and centred; an item's width is given
   by the caller (characters for ASCII, pixels for SVG).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

_SWEEPS = 4


@dataclass
class Item:
    """A node (or a dummy point of a long edge) placed in a layer."""

    id: str
    layer: int
    dummy: bool = False
    x: float = 0.0  # centre
    width: float = 0.0


@dataclass
class Route:
    """One edge of the graph as a path of items, from its source to its target."""

    source: str
    target: str
    key: str | None
    via: list[str] = field(default_factory=list)  # dummy items in between, top to bottom


@dataclass
class Layout:
    layers: list[list[Item]]
    items: dict[str, Item]
    routes: list[Route]

    def width(self) -> float:
        return max((i.x + i.width / 2 for i in self.items.values()), default=0.0)


def layered(dag: Any, width_of: Callable[[str], float], gap: float,
            dummy_width: float) -> Layout:
    """Lay out a networkx DAG (edge attribute ``key`` optional) top to bottom."""
    order = list(nx.topological_sort(dag))
    layer: dict[str, int] = {}
    for n in order:
        layer[n] = max((layer[p] + 1 for p in dag.predecessors(n)), default=0)
    items = {n: Item(n, layer[n]) for n in order}
    routes: list[Route] = []
    up: dict[str, list[str]] = {n: [] for n in order}  # item -> items one layer above
    for s, t, key in dag.edges(data="key"):
        route = Route(s, t, key)
        prev = s
        for depth in range(layer[s] + 1, layer[t]):
            d = f"\0{s}\0{t}\0{depth}"
            items[d] = Item(d, depth, dummy=True)
            up[d] = [prev]
            route.via.append(d)
            prev = d
        up[t].append(prev)
        routes.append(route)
    down: dict[str, list[str]] = {i: [] for i in items}
    for child, parents in up.items():
        for p in parents:
            down[p].append(child)
    rank = {n: i for i, n in enumerate(order)}
    layers: list[list[Item]] = [[] for _ in range(max(layer.values(), default=-1) + 1)]
    for item in sorted(items.values(), key=lambda i: rank.get(i.id, len(rank))):
        layers[item.layer].append(item)
    _order(layers, up, down)
    for row in layers:
        for item in row:
            item.width = dummy_width if item.dummy else width_of(item.id)
    _place(layers, gap)
    return Layout(layers, items, routes)


def _order(layers: list[list[Item]], up: dict[str, list[str]],
           down: dict[str, list[str]]) -> None:
    pos = {item.id: i for row in layers for i, item in enumerate(row)}
    for sweep in range(_SWEEPS):
        rows = layers[1:] if sweep % 2 == 0 else list(reversed(layers[:-1]))
        links = up if sweep % 2 == 0 else down
        for row in rows:
            def centre(item: Item, links: dict[str, list[str]] = links) -> float:
                near = links[item.id]
                return sum(pos[n] for n in near) / len(near) if near else pos[item.id]

            row.sort(key=centre)  # stable: ties keep their order
            for i, item in enumerate(row):
                pos[item.id] = i


def _place(layers: list[list[Item]], gap: float) -> None:
    totals = [sum(i.width for i in row) + gap * (len(row) - 1) for row in layers]
    widest = max(totals, default=0.0)
    for row, total in zip(layers, totals, strict=True):
        left = (widest - total) / 2
        for item in row:
            item.x = left + item.width / 2
            left += item.width + gap


@dataclass
class Segment:
    """The part of an edge between two adjacent layers, with the x where it leaves the upper
    item and enters the lower one."""

    upper: str
    lower: str
    key: str | None  # the edge's key, on the segment that reaches the edge's target
    x_upper: float
    x_lower: float


def segments(layout: Layout, centre: Mapping[str, float], margin: float,
             snap: Callable[[float], float]) -> list[Segment]:
    """Every edge cut into layer-to-layer segments. Several edges on one side of a box get
    ports spread along it (ordered by where the other ends are, to avoid crossings); an edge
    whose other end lies right above or below the box goes straight."""
    pieces: list[tuple[str, str, str | None]] = []
    for route in layout.routes:
        chain = [route.source, *route.via, route.target]
        last = len(chain) - 2
        for i in range(len(chain) - 1):
            pieces.append((chain[i], chain[i + 1], route.key if i == last else None))
    outs: dict[str, list[str]] = {}
    ins: dict[str, list[str]] = {}
    for a, b, _ in pieces:
        outs.setdefault(a, []).append(b)
        ins.setdefault(b, []).append(a)

    def port(item_id: str, other: str, group: dict[str, list[str]]) -> float:
        item = layout.items[item_id]
        peers = sorted(group[item_id], key=lambda o: centre[o])
        if item.dummy or len(peers) == 1:
            return centre[item_id]
        left = centre[item_id] - item.width / 2 + margin
        return snap(left + (peers.index(other) + 0.5) * (item.width - 2 * margin) / len(peers))

    def inside(item_id: str, x: float) -> bool:
        item = layout.items[item_id]
        if item.dummy:
            return x == centre[item_id]
        half = item.width / 2 - margin
        return centre[item_id] - half <= x <= centre[item_id] + half

    out: list[Segment] = []
    taken: set[tuple[str, float]] = set()  # ports already used
    for a, b, key in pieces:
        xa, xb = port(a, b, outs), port(b, a, ins)
        if xa != xb and inside(a, xb) and (a, xb) not in taken:
            xa = xb
        elif xa != xb and inside(b, xa) and (b, xa) not in taken:
            xb = xa
        taken |= {(a, xa), (b, xb)}
        out.append(Segment(a, b, key, xa, xb))
    return out
