"""Parsing the JSON prefix of streamed tool call arguments."""

from __future__ import annotations

from typing import Any

import pytest

from chainkit.messages._partial_json import parse_partial_json


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        ("{", {}),
        ('{"city": "Par', {"city": "Par"}),
        ('{"a": 1, ', {"a": 1}),
        ('{"a": tr', {}),
        ('{"a": [1, 2', {"a": [1, 2]}),
        ('{"a": {"b": "c\\', {"a": {"b": "c"}}),
        ('{"text": "line\nbreak"}', {"text": "line\nbreak"}),
        ('{"k', {}),
        ("[1, 2, 3", [1, 2, 3]),
    ],
)
def test_prefixes_parse(text: str, expected: Any) -> None:
    assert parse_partial_json(text) == expected


@pytest.mark.parametrize("text", ["not json", '{"a": 1}}', "]"])
def test_non_prefixes_raise_value_error(text: str) -> None:
    with pytest.raises(ValueError, match="not a JSON prefix"):
        parse_partial_json(text)
