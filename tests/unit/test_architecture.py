"""The layers of ARCHITECTURE.md, enforced: module-level imports only point down.

Function-local imports are allowed for laziness (optional dependencies, heavy modules) and
``if TYPE_CHECKING:`` imports are ignored; everything else is checked.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "chainkit"

# layer -> module prefixes in it (longest prefix wins)
LAYERS: dict[str, tuple[str, ...]] = {
    "utility": ("chainkit._lazy",),  # imports nothing of chainkit; usable from every layer
    "values": ("chainkit.messages", "chainkit.prompts.values", "chainkit.models.outputs"),
    "context": ("chainkit.tracing.context",),
    "protocol": ("chainkit.runnables",),
    "transport": ("chainkit.models.http",),
    "parts": ("chainkit.prompts", "chainkit.parsers", "chainkit.models"),
    "observation": ("chainkit.tracing",),
    "structure": ("chainkit.graph",),
    "surfaces": ("chainkit.cli", "chainkit.__main__", "chainkit.notebook", "chainkit.evaluation"),
    "root": ("chainkit",),
}
ALLOWED: dict[str, set[str]] = {
    "utility": set(),
    "values": {"values"},
    "context": {"context", "values"},
    "protocol": {"protocol", "context", "values"},
    "transport": {"transport", "values"},
    "observation": {"observation", "context", "values"},
    "parts": {"parts", "protocol", "transport", "context", "values", "observation"},
    "structure": {"structure", "parts", "protocol", "context", "values"},
    "surfaces": set(LAYERS),
    "root": set(LAYERS),
}
for _allowed in ALLOWED.values():
    _allowed.add("utility")


def layer_of(module: str) -> str:
    best, best_len = "root", 0
    for layer, prefixes in LAYERS.items():
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and len(p) > best_len:
                best, best_len = layer, len(p)
    return best


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def top_level_imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), str(path))
    mod = module_name(path)
    is_pkg = path.name == "__init__.py"
    out: list[tuple[int, str]] = []

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If):
                test = ast.unparse(node.test)
                if "TYPE_CHECKING" in test:
                    continue
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
            elif isinstance(node, ast.Import):
                out.extend((node.lineno, a.name) for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    name = ".".join([*base, node.module] if node.module else base)
                else:
                    name = node.module or ""
                out.append((node.lineno, name))

    visit(tree.body)
    return [(n, m) for n, m in out if m == "chainkit" or m.startswith("chainkit.")]


def test_imports_point_down_the_layers() -> None:
    problems = []
    for path in sorted(PKG.rglob("*.py")):
        mod = module_name(path)
        src_layer = layer_of(mod)
        for lineno, target in top_level_imports(path):
            dst_layer = layer_of(target)
            if dst_layer not in ALLOWED[src_layer]:
                where = f"{path.relative_to(ROOT)}:{lineno}"
                problems.append(f"{where} ({src_layer}) imports {target} ({dst_layer})")
    assert not problems, "imports against the layer order:\n" + "\n".join(problems)


def test_import_chainkit_is_light() -> None:
    code = (
        "import sys, chainkit, chainkit.runnables, chainkit.messages;"
        "heavy = [m for m in ('networkx', 'jinja2', 'httpx', 'llama_cpp', 'numpy')"
        " if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    heavy = out.stdout.strip()
    assert heavy == "", f"import chainkit pulled in heavy modules: {heavy}"


def test_every_lazy_export_resolves() -> None:
    import chainkit
    import chainkit.models

    for pkg in (chainkit, chainkit.models):
        for name in pkg.__all__:
            if name in ("ChatOpenAI", "ChatAnthropic", "ChatLlamaCpp"):
                continue  # optional providers: covered by their own tests
            assert getattr(pkg, name) is not None, f"{pkg.__name__}.{name}"


def test_unknown_attribute_names_the_module() -> None:
    import chainkit

    try:
        chainkit.NoSuchThing  # noqa: B018
    except AttributeError as exc:
        assert "chainkit" in str(exc) and "NoSuchThing" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected AttributeError")
