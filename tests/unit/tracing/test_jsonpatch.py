"""The small JSON-patch diff/apply behind `astream_log`, checked against the jsonpatch package."""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainkit.tracing._jsonpatch import apply, diff, escape

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(["a", "b", "c/d", "e~f", ""]), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(json_values, json_values)
def test_diff_then_apply_gives_the_new_value(old: Any, new: Any) -> None:
    ops = diff(old, new)
    before = copy.deepcopy(old)
    assert apply(old, ops) == new
    assert old == before  # apply never mutates its input
    assert jsonpatch.apply_patch(copy.deepcopy(old), copy.deepcopy(ops)) == new


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=3), max_size=5), st.lists(st.text(max_size=3), max_size=3))
def test_a_grown_list_is_appended_to(old: list[str], extra: list[str]) -> None:
    ops = diff(old, old + extra)
    assert all(op["op"] == "add" for op in ops) and len(ops) == len(extra)


def test_equal_values_give_no_ops_and_strings_are_replaced() -> None:
    assert diff({"a": [1, {"b": 2}]}, {"a": [1, {"b": 2}]}) == []
    assert diff("hel", "hello", "/final_output") == [
        {"op": "replace", "path": "/final_output", "value": "hello"}]
    assert diff(None, {"a": 1}) == [{"op": "replace", "path": "", "value": {"a": 1}}]
    assert diff(1, True) == [{"op": "replace", "path": "", "value": True}]


def test_diff_values_are_copies() -> None:
    new = {"a": {"b": [1]}}
    ops = diff({}, new)
    ops[0]["value"]["b"].append(2)
    assert new == {"a": {"b": [1]}}


def test_escape_follows_rfc_6901() -> None:
    assert escape("a/b~c") == "a~1b~0c"
    assert apply({"a/b~c": 1}, [{"op": "replace", "path": "/a~1b~0c", "value": 2}]) == {"a/b~c": 2}


def test_apply_supports_remove_test_and_root_ops() -> None:
    doc = {"a": [1, 2, 3], "b": 1}
    assert apply(doc, [{"op": "remove", "path": "/a/1"}]) == {"a": [1, 3], "b": 1}
    assert apply(doc, [{"op": "add", "path": "/a/0", "value": 0}])["a"] == [0, 1, 2, 3]
    assert apply(doc, [{"op": "test", "path": "/b", "value": 1}]) == doc
    assert apply(doc, [{"op": "remove", "path": ""}]) is None


@pytest.mark.parametrize(
    ("op", "message"),
    [
        ({"op": "move", "path": "/a", "from": "/b"}, r"unsupported JSON-patch op 'move'.*'add'"),
        ({"op": "replace", "path": "/missing", "value": 1}, "cannot apply JSON-patch op"),
        ({"op": "add", "path": "/a/9", "value": 1}, "cannot apply JSON-patch op"),
        ({"op": "add", "path": "/b/x", "value": 1}, "is not a dict or list"),
        ({"op": "test", "path": "/b", "value": 2}, "test failed"),
    ],
)
def test_bad_ops_raise_value_error_naming_the_op(op: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        apply({"a": [], "b": 1}, [op])
