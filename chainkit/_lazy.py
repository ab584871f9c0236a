"""Lazy package exports: a public name's module is imported on first access, not with the
package, so ``import chainkit`` stays cheap (no httpx, jinja2, networkx or llama.cpp)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, str], public: list[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module-level ``__getattr__`` and ``__dir__`` of ``package``.

    ``exports`` maps each public name to the module defining it. A name is looked up once;
    the value is then stored in the package, so later reads are plain attribute reads.

    Example:
        >>> __getattr__, __dir__ = lazy_exports(__name__, {"Client": "pkg.client"}, __all__)
    """
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return public

    return __getattr__, __dir__
