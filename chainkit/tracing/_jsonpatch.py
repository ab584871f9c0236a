"""The bit of RFC 6902 (JSON Patch) that `astream_log` needs: a diff and an apply.

`diff` describes how a streamed output grew between two chunks: dicts get per-key ops, lists
that grew get ``add`` ops for the new items (an equal-length list is compared item by item),
anything else is replaced whole. `apply` never mutates its input: it copies only the
containers along each op's path, so successive `RunLog` states share everything unchanged.
Values may be any Python object (messages, prompt values): they are compared with ``==`` and
never serialised.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["apply", "diff", "escape", "own"]

_OPS = ("add", "remove", "replace", "test")


def escape(key: str) -> str:
    """One JSON-pointer path segment (RFC 6901): ``~`` -> ``~0``, ``/`` -> ``~1``."""
    if "~" in key or "/" in key:
        return key.replace("~", "~0").replace("/", "~1")
    return key


def _unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~") if "~" in part else part


def own(value: Any) -> Any:
    # A container placed in an op is copied, so later ops applied in place (by the jsonpatch
    # package, for instance) cannot reach objects that other ops or states also hold.
    return copy.deepcopy(value) if isinstance(value, (dict, list)) else value


def diff(old: Any, new: Any, path: str = "") -> list[dict[str, Any]]:
    """The ops that turn ``old`` into ``new``, with paths under ``path``."""
    if old is new:
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        return _diff_dict(old, new, path)
    if isinstance(old, list) and isinstance(new, list):
        return _diff_list(old, new, path)
    if type(old) is type(new) and old == new:  # JSON tells 1 from True and 1.0
        return []
    return [{"op": "replace", "path": path, "value": own(new)}]


def _diff_dict(old: dict[str, Any], new: dict[str, Any], path: str) -> list[dict[str, Any]]:
    ops: list[dict[str, Any]] = []
    for key in old:
        if key not in new:
            ops.append({"op": "remove", "path": f"{path}/{escape(str(key))}"})
    for key, value in new.items():
        sub = f"{path}/{escape(str(key))}"
        if key in old:
            ops.extend(diff(old[key], value, sub))
        else:
            ops.append({"op": "add", "path": sub, "value": own(value)})
    return ops


def _diff_list(old: list[Any], new: list[Any], path: str) -> list[dict[str, Any]]:
    n = len(old)
    if len(new) >= n and new[:n] == old:
        return [
            {"op": "add", "path": f"{path}/{i}", "value": own(new[i])} for i in range(n, len(new))
        ]
    if len(new) == n:
        ops: list[dict[str, Any]] = []
        for i in range(n):
            ops.extend(diff(old[i], new[i], f"{path}/{i}"))
        return ops
    return [{"op": "replace", "path": path, "value": own(new)}]


def apply(doc: Any, ops: list[dict[str, Any]]) -> Any:
    """Apply ``ops`` in order and return the new document; ``doc`` itself is left untouched.

    Raises:
        ValueError: An op is unknown, or its path does not exist (the op is shown).
    """
    for op in ops:
        doc = _apply_one(doc, op)
    return doc


def _apply_one(doc: Any, op: dict[str, Any]) -> Any:
    kind = op.get("op")
    if kind not in _OPS:
        raise ValueError(f"unsupported JSON-patch op {kind!r} in {op!r}; supported: {list(_OPS)}")
    path = op["path"]
    if path == "":
        if kind == "test":
            if doc != op["value"]:
                raise ValueError(f"JSON-patch test failed: {op!r}")
            return doc
        if kind == "remove":
            return None
        return op["value"]
    parts = [_unescape(p) for p in path.split("/")[1:]]
    try:
        return _set(doc, parts, op)
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise ValueError(f"cannot apply JSON-patch op {op!r}: {exc}") from None


def _set(node: Any, parts: list[str], op: dict[str, Any]) -> Any:
    """A copy of ``node`` with ``op`` applied at ``parts`` (only the path is copied)."""
    key, rest = parts[0], parts[1:]
    if isinstance(node, list):
        out_list = list(node)
        if not rest:
            _set_in_list(out_list, key, op)
        else:
            i = int(key)
            out_list[i] = _set(out_list[i], rest, op)
        return out_list
    if isinstance(node, dict):
        out = dict(node)
        if not rest:
            _set_in_dict(out, key, op)
        else:
            out[key] = _set(out[key], rest, op)
        return out
    raise TypeError(f"{type(node).__name__} at {key!r} is not a dict or list")


def _set_in_dict(out: dict[str, Any], key: str, op: dict[str, Any]) -> None:
    kind = op["op"]
    if kind == "add":
        out[key] = op["value"]
    elif kind == "replace":
        if key not in out:
            raise KeyError(key)
        out[key] = op["value"]
    elif kind == "remove":
        del out[key]
    elif out[key] != op["value"]:
        raise ValueError("test failed")


def _set_in_list(out: list[Any], key: str, op: dict[str, Any]) -> None:
    kind = op["op"]
    if kind == "add":
        if key == "-":
            out.append(op["value"])
            return
        i = int(key)
        if not 0 <= i <= len(out):
            raise IndexError(i)
        out.insert(i, op["value"])
        return
    i = int(key)
    if kind == "replace":
        out[i] = op["value"]
    elif kind == "remove":
        del out[i]
    elif out[i] != op["value"]:
        raise ValueError("test failed")
