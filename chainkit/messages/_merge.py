"""Merging of streamed values: the rules that make ``chunk + chunk`` work.

A provider streams a message in pieces. Each piece carries partial strings (text, tool call
arguments), partial dicts (``additional_kwargs``, ``response_metadata``) and partial lists whose
items say where they belong by an ``index`` key. These functions fold such pieces together with
LangChain's rules, so aggregated chunks compare equal to LangChain's.
"""

from __future__ import annotations

from typing import Any

# String keys whose values repeat in every chunk rather than arriving in pieces.
_REPEATED_STR_KEYS = frozenset({"id", "output_version", "model_provider", "ls_provider"})
# Int keys that identify or timestamp a piece; the last value wins instead of a sum.
_LAST_WINS_INT_KEYS = frozenset({"index", "created", "timestamp"})


def merge_dicts(left: dict[str, Any], *others: dict[str, Any]) -> dict[str, Any]:
    """Merge streamed dicts into a new dict, recursively.

    For a key in both: ``None`` yields to a value; strings concatenate; dicts merge; lists merge
    with :func:`merge_lists`; equal values stay; ints add up (``index``, ``created`` and
    ``timestamp`` take the last value).

    Raises:
        TypeError: A key holds values of different types, or of a type that cannot merge.

    Example:
        >>> merge_dicts({"args": '{"a"', "n": 1}, {"args": ": 1}", "n": 2})
        {'args': '{"a": 1}', 'n': 3}
    """
    merged = dict(left)
    for right in others:
        for key, value in right.items():
            if key not in merged or (merged[key] is None and value is not None):
                merged[key] = value
            elif value is not None:
                merged[key] = _merge_values(key, merged[key], value)
    return merged


def _merge_values(key: str, left: Any, right: Any) -> Any:
    if type(left) is not type(right):
        msg = (
            f"cannot merge key {key!r}: it holds a {type(left).__name__} ({left!r}) in one chunk "
            f"and a {type(right).__name__} ({right!r}) in the next"
        )
        raise TypeError(msg)
    if isinstance(left, str):
        is_repeated = key in _REPEATED_STR_KEYS and left == right
        if is_repeated or (key == "index" and left.startswith("lc_")):
            return left
        return left + right
    if isinstance(left, dict):
        return merge_dicts(left, right)
    if isinstance(left, list):
        return merge_lists(left, right)
    if left == right:
        return left
    if isinstance(left, int):
        return right if key in _LAST_WINS_INT_KEYS else left + right
    msg = (
        f"cannot merge key {key!r}: values of type {type(left).__name__} merge only when equal, "
        f"got {left!r} and {right!r}"
    )
    raise TypeError(msg)


def merge_lists(left: list[Any] | None, *others: list[Any] | None) -> list[Any] | None:
    """Merge streamed lists into a new list.

    An item that is a dict with an ``index`` (an int, or a string starting with ``"lc_"``) merges
    into the item already holding that index (unless their ``id``\\ s disagree); any other item
    is appended. ``None`` lists are skipped.

    Example:
        >>> merge_lists([{"index": 0, "args": '{"a"'}], [{"index": 0, "args": ": 1}"}, "x"])
        [{'index': 0, 'args': '{"a": 1}'}, 'x']
    """
    merged = None if left is None else list(left)
    for other in others:
        if other is None:
            continue
        if merged is None:
            merged = list(other)
            continue
        for item in other:
            position = _indexed_position(merged, item)
            if position is None:
                merged.append(item)
            else:
                # The "type" of an indexed piece is set by its first piece; later ones repeat it.
                piece = {k: v for k, v in item.items() if k != "type"}
                merged[position] = merge_dicts(merged[position], piece)
    return merged


def _indexed_position(merged: list[Any], item: Any) -> int | None:
    if not isinstance(item, dict) or "index" not in item:
        return None
    index = item["index"]
    if not (isinstance(index, int) or (isinstance(index, str) and index.startswith("lc_"))):
        return None
    item_id = item.get("id")
    for position, existing in enumerate(merged):
        if isinstance(existing, dict) and existing.get("index") == index:
            existing_id = existing.get("id")
            if existing_id in (None, "") or item_id in (None, "") or existing_id == item_id:
                return position
    return None


def merge_obj(left: Any, right: Any) -> Any:
    """Merge two streamed values of any kind (``None`` yields to the other).

    Raises:
        TypeError: The values differ in type.
        ValueError: The values are unequal and neither str, dict nor list.
    """
    if left is None or right is None:
        return right if left is None else left
    if type(left) is not type(right):
        msg = f"cannot merge a {type(left).__name__} with a {type(right).__name__}"
        raise TypeError(msg)
    if isinstance(left, str):
        return left + right
    if isinstance(left, dict):
        return merge_dicts(left, right)
    if isinstance(left, list):
        return merge_lists(left, right)
    if left == right:
        return left
    msg = f"cannot merge {left!r} and {right!r}: only str, dict, list or equal values merge"
    raise ValueError(msg)


__all__ = [
    "merge_dicts",
    "merge_lists",
    "merge_obj",
]
