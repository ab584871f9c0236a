"""Drawings of a `Graph`: Mermaid text, ASCII art, SVG, Graphviz DOT and PNG.

Everything is produced locally. Mermaid, ASCII and SVG are pure Python (the SVG is laid out by
`_layout`); PNG needs Graphviz's ``dot`` program and says how to install it when it is missing.
`mimebundle` is what notebooks display: the SVG picture, with the text repr as a fallback.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from chainkit.graph._layout import layered, segments

if TYPE_CHECKING:
    from chainkit.graph.view import Graph, Node

__all__ = ["ascii", "dot", "markdown", "mermaid", "mimebundle", "png", "svg"]

_JOIN_KINDS = ("parallel", "assign")
_MERMAID_RESERVED = {"end", "graph", "subgraph", "flowchart", "style", "class", "classdef",
                     "click", "linkstyle", "default", "direction"}


# ---- Mermaid -----------------------------------------------------------------------------
def _mermaid_ids(graph: Graph) -> dict[str, str]:
    ids: dict[str, str] = {}
    used: set[str] = set()
    for node_id in graph.nodes:
        base = re.sub(r"[^0-9A-Za-z_]", "_", node_id)
        if base.lower() in _MERMAID_RESERVED:
            base += "_"
        out, n = base, 1
        while out in used:
            n += 1
            out = f"{base}_{n}"
        used.add(out)
        ids[node_id] = out
    return ids


def _mermaid_text(text: str) -> str:
    return (text.replace("&", "#amp;").replace('"', "#quot;")
            .replace("<", "#lt;").replace(">", "#gt;"))


def mermaid(graph: Graph) -> str:
    """Mermaid flowchart text; input/output nodes are stadiums, parallel joins hexagons."""
    ids = _mermaid_ids(graph)
    lines = ["flowchart TD"]
    for node in graph.nodes.values():
        label = f'"{_mermaid_text(node.name)}"'
        if node.kind in ("input", "output"):
            shape = f"([{label}])"
        elif node.join:
            shape = "{{" + label + "}}"
        else:
            shape = f"[{label}]"
        lines.append(f"    {ids[node.id]}{shape}")
    for edge in graph.edges:
        arrow = "-->" if edge.key is None else f'-->|"{_mermaid_text(edge.key)}"|'
        lines.append(f"    {ids[edge.source]} {arrow} {ids[edge.target]}")
    return "\n".join(lines) + "\n"


def markdown(graph: Graph) -> str:
    """The Mermaid text in a fenced block (JupyterLab and GitHub render it as a diagram)."""
    return f"```mermaid\n{mermaid(graph)}```\n"


# ---- ASCII -------------------------------------------------------------------------------
class _Canvas:
    def __init__(self) -> None:
        self.rows: dict[int, dict[int, str]] = {}

    def get(self, x: int, y: int) -> str:
        return self.rows.get(y, {}).get(x, " ")

    def put(self, x: int, y: int, ch: str) -> None:
        old = self.get(x, y)
        if {old, ch} == {"|", "-"} or (old == "+" and ch in "|-"):
            ch = "+"
        self.rows.setdefault(y, {})[x] = ch

    def text(self, x: int, y: int, s: str) -> None:
        for i, ch in enumerate(s):
            self.rows.setdefault(y, {})[x + i] = ch

    def free(self, x: int, y: int, n: int) -> bool:
        return x >= 0 and all(self.get(x + i, y) == " " for i in range(n))

    def render(self) -> str:
        if not self.rows:
            return ""
        lines = []
        for y in range(max(self.rows) + 1):
            row = self.rows.get(y, {})
            width = max(row, default=-1) + 1
            lines.append("".join(row.get(x, " ") for x in range(width)).rstrip())
        return "\n".join(lines)


def ascii(graph: Graph) -> str:
    """Boxes and arrows in plain text; keyed edges are labelled with their key."""
    names = {n: graph.nodes[n].name for n in graph.nodes}
    layout = layered(graph.nx, lambda n: len(names[n]) + 4, gap=3, dummy_width=1)
    centre = {i.id: round(i.x) for i in layout.items.values()}
    # Each edge segment between two layers gets its own row for its horizontal part.
    jogs: dict[int, list[tuple[str, str, str | None, int, int]]] = {}
    for seg in segments(layout, centre, 2, round):
        a, b, key, xa, xb = seg.upper, seg.lower, seg.key, int(seg.x_upper), int(seg.x_lower)
        jogs.setdefault(layout.items[a].layer, []).append((a, b, key, xa, xb))
    tops: list[int] = []
    y = 0
    for depth in range(len(layout.layers)):
        tops.append(y)
        bends = sum(1 for *_, xa, xb in jogs.get(depth, []) if xa != xb)
        y += 3 + 2 + bends
    canvas = _Canvas()
    for depth, row in enumerate(layout.layers):
        top = tops[depth]
        for item in row:
            x = centre[item.id]
            if item.dummy:
                for dy in range(3):
                    canvas.put(x, top + dy, "|")
                continue
            label = names[item.id]
            left = x - (len(label) + 4) // 2
            border = "+" + "-" * (len(label) + 2) + "+"
            canvas.text(left, top, border)
            canvas.text(left, top + 1, f"| {label} |")
            canvas.text(left, top + 2, border)
    labels: list[tuple[int, int, str]] = []
    for depth, segs in jogs.items():
        y0 = tops[depth] + 3
        bend_row = y0 + 1
        for _, b, key, xa, xb in sorted(segs, key=lambda s: (s[3], s[4])):
            end = tops[depth + 1] - 1
            target_dummy = layout.items[b].dummy
            canvas.put(xa, y0, "|")
            if xa != xb:
                for yy in range(y0 + 1, bend_row):
                    canvas.put(xa, yy, "|")
                lo, hi = sorted((xa, xb))
                for xx in range(lo, hi + 1):
                    canvas.put(xx, bend_row, "-")
                canvas.put(xa, bend_row, "+")
                canvas.put(xb, bend_row, "+")
                start = bend_row + 1
                bend_row += 1
            else:
                start = y0 + 1
            for yy in range(start, end):
                canvas.put(xb, yy, "|")
            canvas.put(xb, end, "|" if target_dummy else "v")
            if key and not target_dummy:
                labels.append((xb, end, key))
    # Labels last, into cells no line uses.
    for x, y, key in labels:
        _label(canvas, x, y, key)
    return canvas.render()


def _label(canvas: _Canvas, x: int, y: int, key: str) -> None:
    if canvas.free(x + 1, y, len(key) + 2):
        canvas.text(x + 2, y, key)
    elif canvas.free(x - len(key) - 2, y, len(key) + 2):
        canvas.text(x - len(key) - 1, y, key)


# ---- SVG ---------------------------------------------------------------------------------
_CHAR_PX = 7.4  # average advance of the 12px monospace font used for labels
_BOX_H = 34
_ROW_GAP = 46
_MARGIN = 16
_FILL = {
    "input": "#eceff4", "output": "#eceff4", "prompt": "#dbeafe", "chat_model": "#fde7c7",
    "llm": "#fde7c7", "parser": "#dcfce7", "parallel": "#ede9fe", "assign": "#ede9fe",
    "lambda": "#f3f4f6", "passthrough": "#f3f4f6", "pick": "#f3f4f6",
}


def svg(graph: Graph) -> str:
    """A standalone SVG document of the graph (boxes coloured by kind, edge keys labelled)."""
    nodes = graph.nodes
    layout = layered(graph.nx, lambda n: len(nodes[n].name) * _CHAR_PX + 28, gap=28,
                     dummy_width=8)
    width = layout.width() + 2 * _MARGIN
    height = len(layout.layers) * (_BOX_H + _ROW_GAP) - _ROW_GAP + 2 * _MARGIN

    def y_of(layer: int) -> float:
        return _MARGIN + layer * (_BOX_H + _ROW_GAP)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="ui-monospace, Menlo, Consolas, '
        f'monospace" font-size="12">',
        f"<title>{escape(graph.name)}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#555"/></marker></defs>',
    ]
    centre = {i.id: i.x + _MARGIN for i in layout.items.values()}
    labels = []
    keyed_in: dict[str, int] = {}
    for seg in sorted(segments(layout, centre, 12, lambda x: x), key=lambda g: g.x_lower):
        upper, lower = layout.items[seg.upper], layout.items[seg.lower]
        x1, y1 = seg.x_upper, y_of(upper.layer) + _BOX_H
        x2, y2 = seg.x_lower, y_of(lower.layer)
        mid = (y1 + y2) / 2
        path = f"M {x1:.1f} {y1:.1f} C {x1:.1f} {mid:.1f} {x2:.1f} {mid:.1f} {x2:.1f} {y2:.1f}"
        if upper.dummy:  # continue a long edge straight through the dummy's layer
            path = f"M {x1:.1f} {y1 - _BOX_H:.1f} L " + path[2:]
        arrow = "" if lower.dummy else ' marker-end="url(#arrow)"'
        out.append(f'<path d="{path}" fill="none" stroke="#555" stroke-width="1.3"{arrow}/>')
        if seg.key:
            # On the line just above the arrow head (the end of the curve is vertical there);
            # labels of neighbouring arrows into one box alternate in height.
            nth = keyed_in.setdefault(seg.lower, 0)
            keyed_in[seg.lower] += 1
            w = len(seg.key) * _CHAR_PX + 4
            lx, ly = x2 - w / 2, y2 - 12 - 15 * (nth % 2)
            labels.append(
                f'<rect x="{lx:.1f}" y="{ly - 10:.1f}" width="{w:.1f}" height="14" rx="3" '
                f'fill="#fff" fill-opacity="0.9"/><text x="{lx + 2:.1f}" y="{ly + 1:.1f}" '
                f'fill="#333">{escape(seg.key)}</text>'
            )
    out += labels
    for row in layout.layers:
        for item in row:
            if not item.dummy:
                out.append(_svg_node(nodes[item.id], item.x + _MARGIN, y_of(item.layer),
                                     item.width))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _svg_node(node: Node, cx: float, top: float, width: float) -> str:
    fill = _FILL.get(node.kind, "#f9fafb")
    radius = _BOX_H / 2 if node.kind in ("input", "output") else 6
    dash = ' stroke-dasharray="4 2"' if node.join else ""
    tip = node.label.replace("`", "")
    return (
        f'<g><title>{escape(tip)} ({escape(node.kind)})</title>'
        f'<rect x="{cx - width / 2:.1f}" y="{top:.1f}" width="{width:.1f}" height="{_BOX_H}" '
        f'rx="{radius:.0f}" fill="{fill}" stroke="#555"{dash}/>'
        f'<text x="{cx:.1f}" y="{top + _BOX_H / 2 + 4:.1f}" text-anchor="middle" fill="#111">'
        f"{escape(node.name)}</text></g>"
    )


# ---- Graphviz ----------------------------------------------------------------------------
def dot(graph: Graph) -> str:
    """Graphviz DOT text."""
    lines = [f"digraph {_dq(graph.name)} {{", "  rankdir=TB;",
             '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];']
    for node in graph.nodes.values():
        shape = ', shape=oval' if node.kind in ("input", "output") else ""
        shape = ', shape=hexagon' if node.join else shape
        fill = _FILL.get(node.kind, "#f9fafb")
        lines.append(f"  {_dq(node.id)} [label={_dq(node.name)}, fillcolor={_dq(fill)}{shape}];")
    for edge in graph.edges:
        label = f" [label={_dq(edge.key)}]" if edge.key else ""
        lines.append(f"  {_dq(edge.source)} -> {_dq(edge.target)}{label};")
    return "\n".join([*lines, "}"]) + "\n"


def _dq(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def png(graph: Graph, output_file_path: str | None = None) -> bytes | None:
    """PNG bytes rendered by Graphviz ``dot``; written to ``output_file_path`` if given."""
    exe = shutil.which("dot")
    if exe is None:
        raise RuntimeError(
            "draw_png() needs the Graphviz `dot` program, which is not on PATH. Install "
            "Graphviz (Debian/Ubuntu: `apt install graphviz`; macOS: `brew install graphviz`; "
            "Windows: `winget install graphviz`; or https://graphviz.org/download/), or use "
            "draw_svg(), draw_mermaid() or draw_ascii(), which need nothing extra."
        )
    done = subprocess.run([exe, "-Tpng"], input=dot(graph).encode(), capture_output=True,
                          timeout=60, check=False)
    if done.returncode != 0:
        err = done.stderr.decode(errors="replace").strip()
        raise RuntimeError(f"Graphviz `dot` failed (exit {done.returncode}): {err[:500]}")
    if output_file_path is not None:
        Path(output_file_path).write_bytes(done.stdout)
        return None
    return done.stdout


# ---- notebooks ---------------------------------------------------------------------------
def mimebundle(graph: Graph, text: str) -> dict[str, str]:
    """What a notebook shows: the SVG picture, with ``text`` for plain-text frontends."""
    try:
        picture = svg(graph)
    except Exception:  # a drawing bug must never hide the object itself
        return {"text/plain": text}
    return {"image/svg+xml": picture, "text/plain": text}
