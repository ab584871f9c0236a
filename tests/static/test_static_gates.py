"""Static gates: chainkit's source never runs code from data, and its dependencies have no
known vulnerabilities.

The AST of every module under ``chainkit/`` is walked for:

- ``eval``/``exec`` (and ``builtins.eval``/``builtins.exec``), ``compile(..., "exec")``;
- ``pickle``/``cPickle``/``dill``/``marshal``/``shelve`` loading (``load``, ``loads``,
  ``Unpickler``, ``open``) and ``import pickle`` at all;
- ``yaml.load``/``load_all`` without a safe loader, ``yaml.unsafe_load``, ``yaml.full_load``;
- an unsandboxed jinja2 environment: ``jinja2.Environment``/``Template`` or those names
  imported from jinja2 (``chainkit`` uses ``jinja2.sandbox`` only);
- ``os.system``/``os.popen`` and ``subprocess`` calls with ``shell=True``.

``pip-audit`` then checks the installed packages against the PyPI vulnerability database.
Where that service cannot be reached (no network but the package registries), the test is
an explicit xfail saying so, never a silent pass.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "chainkit"

_PICKLE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "marshal", "shelve", "cloudpickle"}
_PICKLE_CALLS = {"load", "loads", "Unpickler", "open"}
_SAFE_YAML_LOADERS = {"SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader"}
_UNSANDBOXED_JINJA = {"Environment", "Template"}
_UNSAFE_YAML = {"yaml.unsafe_load", "yaml.full_load", "yaml.unsafe_load_all"}


def _pickle_like(name: str, last: str) -> bool:
    return "." in name and name.split(".")[0] in _PICKLE_MODULES and last in _PICKLE_CALLS


def _dotted(node: ast.AST) -> str:
    """``a.b.c`` for a Name/Attribute chain, else ``""``."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


class _Gate(ast.NodeVisitor):
    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[str] = []
        self.jinja_names: set[str] = set()  # names bound to jinja2's unsandboxed classes

    def report(self, node: ast.AST, what: str) -> None:
        rel = self.path.relative_to(ROOT)
        self.problems.append(f"{rel}:{getattr(node, 'lineno', '?')}: {what}")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.split(".")[0] in _PICKLE_MODULES:
                self.report(node, f"import {alias.name} (no pickle-like loading of data)")
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if module.split(".")[0] in _PICKLE_MODULES:
            self.report(node, f"from {module} import ... (no pickle-like loading of data)")
        if module == "jinja2":
            for alias in node.names:
                if alias.name in _UNSANDBOXED_JINJA:
                    self.report(node, f"from jinja2 import {alias.name}: use jinja2.sandbox")
                    self.jinja_names.add(alias.asname or alias.name)
        if module == "builtins":
            for alias in node.names:
                if alias.name in ("eval", "exec"):
                    self.report(node, f"from builtins import {alias.name}")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        name = _dotted(node.func)
        last = name.rsplit(".", 1)[-1]
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        if name in ("eval", "exec", "builtins.eval", "builtins.exec"):
            self.report(node, f"{name}() call")
        elif name == "compile" and any(
            isinstance(a, ast.Constant) and a.value == "exec" for a in node.args
        ):
            self.report(node, "compile(..., 'exec')")
        elif _pickle_like(name, last) or name in _UNSAFE_YAML:
            self.report(node, f"{name}() call")
        elif name in ("yaml.load", "yaml.load_all"):
            loader = keywords.get("Loader") or (node.args[1] if len(node.args) > 1 else None)
            if loader is None or _dotted(loader).rsplit(".", 1)[-1] not in _SAFE_YAML_LOADERS:
                self.report(node, f"{name}() without a safe Loader: use yaml.safe_load")
        elif name in ("jinja2.Environment", "jinja2.Template") or name in self.jinja_names:
            self.report(node, f"{name}(): an unsandboxed jinja2 environment")
        elif name in ("os.system", "os.popen"):
            self.report(node, f"{name}() call")
        elif name.startswith("subprocess.") and isinstance(keywords.get("shell"), ast.Constant) \
                and keywords["shell"].value is True:
            self.report(node, f"{name}(shell=True)")
        self.generic_visit(node)


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_chainkit_runs_no_code_from_data() -> None:
    modules = _modules()
    assert len(modules) > 50, "the walk did not find chainkit's modules"
    problems: list[str] = []
    for path in modules:
        gate = _Gate(path)
        gate.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        problems += gate.problems
    assert not problems, "unsafe constructs in chainkit/:\n" + "\n".join(problems)


@pytest.mark.parametrize("source, expected", [
    ("eval('1')", "eval() call"),
    ("exec(code)", "exec() call"),
    ("import builtins\nbuiltins.eval(x)", "builtins.eval() call"),
    ("compile(src, 'f', 'exec')", "compile(..., 'exec')"),
    ("import pickle", "import pickle"),
    ("import pickle as p\npickle.loads(b)", "pickle.loads() call"),
    ("from pickle import loads", "from pickle import"),
    ("import yaml\nyaml.load(s)", "without a safe Loader"),
    ("import yaml\nyaml.load(s, Loader=yaml.FullLoader)", "without a safe Loader"),
    ("import yaml\nyaml.unsafe_load(s)", "yaml.unsafe_load() call"),
    ("import jinja2\njinja2.Environment()", "unsandboxed jinja2"),
    ("from jinja2 import Environment\nEnvironment()", "use jinja2.sandbox"),
    ("from jinja2 import Template as T\nT('x')", "unsandboxed jinja2"),
    ("import os\nos.system('ls')", "os.system() call"),
    ("import subprocess\nsubprocess.run('ls', shell=True)", "shell=True"),
])
def test_the_gate_catches(source: str, expected: str, tmp_path: Path) -> None:
    path = ROOT / "chainkit" / "_probe.py"  # a name for messages; nothing is written
    gate = _Gate(path)
    gate.visit(ast.parse(source))
    assert any(expected in p for p in gate.problems), gate.problems


@pytest.mark.parametrize("source", [
    "import yaml\nyaml.load(s, Loader=yaml.SafeLoader)",
    "import yaml\nyaml.safe_load(s)",
    "from jinja2.sandbox import ImmutableSandboxedEnvironment\nImmutableSandboxedEnvironment()",
    "import json\njson.loads(s)",
    "import subprocess\nsubprocess.run(['ls'])",
    "model.eval()",
])
def test_the_gate_allows(source: str) -> None:
    gate = _Gate(ROOT / "chainkit" / "_probe.py")
    gate.visit(ast.parse(source))
    assert not gate.problems


# ---- pip-audit ------------------------------------------------------------------------------
_UNREACHABLE = (
    "ConnectionError", "Max retries exceeded", "Failed to establish", "Name or service not known",
    "Temporary failure in name resolution", "Could not resolve", "timed out", "Network is",
)


def test_pip_audit_finds_no_known_vulnerability() -> None:
    try:
        import pip_audit  # noqa: F401
    except ImportError:
        pytest.xfail("pip-audit is not installed (pip install pip-audit): dependencies not audited")
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "pip_audit", "--format", "json", "--progress-spinner", "off"],
            capture_output=True, text=True, timeout=240, env=env, check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.xfail("could not reach the vulnerability service: pip-audit timed out")
    if any(marker in proc.stderr for marker in _UNREACHABLE):
        pytest.xfail(f"could not reach the vulnerability service: {proc.stderr.strip()[-300:]}")
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        pytest.fail(f"pip-audit failed (exit {proc.returncode}): {proc.stderr[-1000:]}")
    deps = report.get("dependencies", [])
    audited = [d for d in deps if "skip_reason" not in d]
    if deps and not audited:
        # Every package was skipped: the PyPI JSON API with its vulnerability data was not
        # reachable (a registry mirror answers installs but not that API).
        reasons = {d["skip_reason"].split(":")[0] for d in deps}
        pytest.xfail(
            "could not reach the vulnerability service: pip-audit audited none of "
            f"{len(deps)} packages ({'; '.join(sorted(reasons))})"
        )
    vulnerable = {
        f"{d['name']} {d['version']}": [v["id"] for v in d.get("vulns", [])]
        for d in audited if d.get("vulns")
    }
    assert not vulnerable, f"known vulnerabilities: {vulnerable}"
