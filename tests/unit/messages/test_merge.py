"""The merge rules used when chunks are added."""

from __future__ import annotations

import pytest

from chainkit.messages._merge import merge_dicts, merge_lists, merge_obj


def test_strings_concatenate_and_none_yields() -> None:
    assert merge_dicts({"a": "x", "b": None}, {"a": "y", "b": "z"}) == {"a": "xy", "b": "z"}
    assert merge_dicts({"a": "x"}, {"a": None}) == {"a": "x"}


def test_repeated_keys_do_not_concatenate() -> None:
    merged = merge_dicts({"id": "r1", "model_provider": "openai"},
                         {"id": "r1", "model_provider": "openai"})
    assert merged == {"id": "r1", "model_provider": "openai"}


def test_nested_dicts_and_lists_merge() -> None:
    left = {"function_call": {"arguments": '{"a"'}, "items": [1]}
    right = {"function_call": {"arguments": ": 1}"}, "items": [2]}
    assert merge_dicts(left, right) == {"function_call": {"arguments": '{"a": 1}'}, "items": [1, 2]}


def test_ints_add_except_identifying_ones() -> None:
    assert merge_dicts({"n": 1, "index": 0, "created": 5}, {"n": 2, "index": 1, "created": 6}) == {
        "n": 3, "index": 1, "created": 6,
    }
    assert merge_dicts({"n": 1}, {"n": 1}) == {"n": 1}  # equal values stay


def test_many_dicts_merge_in_order_and_inputs_are_untouched() -> None:
    left = {"a": "1"}
    assert merge_dicts(left, {"a": "2"}, {"a": "3", "b": "x"}) == {"a": "123", "b": "x"}
    assert left == {"a": "1"}


def test_type_clash_is_a_type_error_naming_the_key() -> None:
    with pytest.raises(TypeError, match="cannot merge key 'a': it holds a str"):
        merge_dicts({"a": "x"}, {"a": 1})
    with pytest.raises(TypeError, match="cannot merge key 'f'"):
        merge_dicts({"f": 1.0}, {"f": 2.0})


def test_lists_merge_items_by_index() -> None:
    left = [{"index": 0, "args": '{"a"', "type": "tool_call_chunk"}]
    right = [{"index": 0, "args": ": 1}", "type": "tool_call_chunk"}, {"index": 1, "args": ""}]
    assert merge_lists(left, right) == [
        {"index": 0, "args": '{"a": 1}', "type": "tool_call_chunk"},
        {"index": 1, "args": ""},
    ]


def test_lists_keep_items_with_conflicting_ids_apart() -> None:
    merged = merge_lists([{"index": 0, "id": "a"}], [{"index": 0, "id": "b"}])
    assert merged == [{"index": 0, "id": "a"}, {"index": 0, "id": "b"}]


def test_lists_handle_none_and_plain_items() -> None:
    assert merge_lists(None, None) is None
    assert merge_lists(None, [1]) == [1]
    assert merge_lists([1], None, [2]) == [1, 2]


def test_merge_obj() -> None:
    assert merge_obj(None, [1]) == [1]
    assert merge_obj("a", "b") == "ab"
    assert merge_obj({"a": "x"}, {"a": "y"}) == {"a": "xy"}
    assert merge_obj(3, 3) == 3
    with pytest.raises(TypeError):
        merge_obj("a", 1)
    with pytest.raises(ValueError, match="only str, dict, list or equal values merge"):
        merge_obj(1, 2)
