"""JSON-patch (RFC 6902) operations for streamed JSON values.

`json_patch` compares two values; `PatchStream` follows a `PartialJsonDecoder` as the document
grows and takes the operations from the path being written instead of comparing whole values.
`JsonOutputParser(diff=True)` streams them; `json_patch` is public as
`chainkit.parsers.json.json_patch`.
"""

from __future__ import annotations

from itertools import islice
from typing import Any

from chainkit.parsers.partial_json import NOTHING, Container, PartialJsonDecoder

__all__ = ["PatchStream", "json_patch"]


def json_patch(prev: Any, new: Any) -> list[dict[str, Any]]:
    """RFC 6902 operations that turn ``prev`` into ``new`` (``prev=None``: replace the root).

    Values shared between ``prev`` and ``new`` (as successive stream snapshots share finished
    values) are skipped without being compared.

    Example:
        >>> json_patch({"a": "x"}, {"a": "xy", "b": [1]})
        [{'op': 'replace', 'path': '/a', 'value': 'xy'}, {'op': 'add', 'path': '/b', 'value': [1]}]
    """
    if prev is None:
        return [{"op": "replace", "path": "", "value": new}]
    ops: list[dict[str, Any]] = []
    _diff(prev, new, "", ops)
    return ops


def _diff(prev: Any, new: Any, path: str, ops: list[dict[str, Any]]) -> None:
    if prev is new:
        return
    if type(prev) is dict and type(new) is dict:
        for key in prev:
            if key not in new:
                ops.append({"op": "remove", "path": f"{path}/{_escape(key)}"})
        for key, value in new.items():
            sub = f"{path}/{_escape(key)}"
            if key in prev:
                _diff(prev[key], value, sub, ops)
            else:
                ops.append({"op": "add", "path": sub, "value": value})
    elif type(prev) is list and type(new) is list:
        common = min(len(prev), len(new))
        start = 0
        # Successive snapshots share their finished items: skip an equal prefix at C speed
        # (identity short-circuits each comparison) instead of visiting every item.
        if common > 1 and prev[: common - 1] == new[: common - 1]:
            start = common - 1
        for i in range(start, common):
            _diff(prev[i], new[i], f"{path}/{i}", ops)
        for i in range(common, len(new)):
            ops.append({"op": "add", "path": f"{path}/{i}", "value": new[i]})
        for i in range(len(prev) - 1, common - 1, -1):
            ops.append({"op": "remove", "path": f"{path}/{i}"})
    elif type(prev) is not type(new) or prev != new:
        ops.append({"op": "replace", "path": path, "value": new})


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


class PatchStream:
    """JSON-patch operations from the value last shown to a `PartialJsonDecoder`'s value now.

    The document only grows while it streams: only the item last shown in each open container
    can have changed, and items after it are new. So the operations come from the path being
    written, without building the value or comparing it with the last one: ``O(changes)``.
    A piece that repeats a key (the last value wins, in the first one's place) is the
    exception: its value is built and compared, ``O(N)``.
    """

    __slots__ = ("_chain", "_done", "_keys", "_lens", "_replaced", "_scalar")

    def __init__(self) -> None:
        self._chain: list[Container] = []  # the containers that were open, outermost first
        self._lens: list[int] = []  # how many finished items each one held
        self._keys: list[str] = []  # per object, the key of the item being written
        self._scalar: Any = NOTHING  # the unfinished scalar shown in the innermost one
        # The decoder's replaced values already in the operations: (its list, how many).
        self._replaced: tuple[list[Any], int] = ([], 0)
        self._done = False

    def shown(self, decoder: PartialJsonDecoder) -> Any:
        """The last value the operations built (`NOTHING` before the first)."""
        if not self._chain:
            return NOTHING
        if self._done:
            return self._chain[0]
        # Containers only grew since, except for values replaced under a repeated key in
        # the last piece: put back the ones shown.
        replaced: list[tuple[dict[str, Any], str, Any]] = decoder.replaced
        if replaced is self._replaced[0]:
            replaced = replaced[self._replaced[1] :]
        child = self._scalar
        for depth in range(len(self._chain) - 1, -1, -1):
            container, n = self._chain[depth], self._lens[depth]
            if isinstance(container, list):
                items = container[:n]
                if child is not NOTHING:
                    items.append(child)
                child = items
                continue
            fields = dict(islice(container.items(), n))
            for obj, key, old in reversed(replaced):
                if obj is container and key in fields:
                    fields[key] = old
            if child is not NOTHING:
                fields[self._keys[depth]] = child
            child = fields
        return child

    def update(self, decoder: PartialJsonDecoder) -> list[dict[str, Any]]:
        """The operations for what changed since the last call (``[]``: nothing)."""
        if self._done or decoder.failed:
            return []
        if decoder.done:
            stack: list[Container] = []
            keys: list[str] = []
            pending: Any = NOTHING
        else:
            stack, keys, pending = decoder.frontier()
        ops: list[dict[str, Any]]
        if not self._chain:
            value = decoder.value()
            if value is NOTHING:
                return []
            ops = [{"op": "replace", "path": "", "value": value}]
            if decoder.done:
                self._chain = [value]
        elif not decoder.append_only and (
            decoder.replaced or _repeats_a_key(stack, keys, pending)
        ):
            ops = json_patch(self.shown(decoder), decoder.value())
        else:
            ops = []
            self._walk(0, "", stack, keys, pending, decoder, ops)
        if decoder.done:
            self._done = True
        else:
            self._chain = stack.copy()
            self._lens = [len(container) for container in stack]
            self._keys = keys.copy()
            self._scalar = pending
            self._replaced = (decoder.replaced, len(decoder.replaced))
        return ops

    def _walk(
        self, depth: int, path: str, stack: list[Container], keys: list[str], pending: Any,
        decoder: PartialJsonDecoder, ops: list[dict[str, Any]],
    ) -> None:
        container, n = self._chain[depth], self._lens[depth]
        innermost = depth == len(self._chain) - 1
        start = n
        if not innermost or self._scalar is not NOTHING:
            # The item after the n finished ones was shown unfinished: it may have changed.
            key = self._keys[depth]
            sub = f"{path}/{n}" if isinstance(container, list) else f"{path}/{_escape(key)}"
            finished = len(container) > n
            if not innermost:
                self._walk(depth + 1, sub, stack, keys, pending, decoder, ops)
            else:
                if not finished:
                    now = pending
                elif isinstance(container, list):
                    now = container[n]
                else:
                    now = container[key]
                if type(now) is not type(self._scalar) or now != self._scalar:
                    ops.append({"op": "replace", "path": sub, "value": now})
            if not finished:
                return  # still being written: nothing after it yet
            start = n + 1
        size = len(container)
        if isinstance(container, list):  # items finished since
            for i in range(start, size):
                ops.append({"op": "add", "path": f"{path}/{i}", "value": container[i]})
        elif size > start:
            for key in reversed(list(islice(reversed(container), size - start))):
                sub = f"{path}/{_escape(key)}"
                ops.append({"op": "add", "path": sub, "value": container[key]})
        if depth < len(stack) and stack[depth] is container:  # still open: a new item?
            child = decoder.open_value(depth + 1) if depth + 1 < len(stack) else pending
            if child is not NOTHING:
                slot = str(size) if isinstance(container, list) else _escape(keys[depth])
                ops.append({"op": "add", "path": f"{path}/{slot}", "value": child})


def _repeats_a_key(stack: list[Container], keys: list[str], pending: Any) -> bool:
    """An unfinished value is being written under a key its object already holds."""
    last = len(stack) - 1
    return any(
        isinstance(container, dict)
        and (depth < last or pending is not NOTHING)
        and keys[depth] in container
        for depth, container in enumerate(stack)
    )
