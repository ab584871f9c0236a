"""The package's public names and the exception type."""

from __future__ import annotations

import pytest

import chainkit.parsers
from chainkit.parsers import OutputParserException
from chainkit.parsers.exceptions import position, preview


def test_public_names() -> None:
    assert chainkit.parsers.__all__ == [
        "BaseOutputParser",
        "BaseTransformOutputParser",
        "CommaSeparatedListOutputParser",
        "JsonOutputParser",
        "OutputParserException",
        "PydanticOutputParser",
        "StrOutputParser",
        "parse_partial_json",
    ]
    for name in chainkit.parsers.__all__:
        assert getattr(chainkit.parsers, name).__module__.startswith("chainkit.parsers.")


def test_exception_is_a_value_error_carrying_the_output() -> None:
    exc = OutputParserException("bad", observation="fix it", llm_output="raw")
    assert isinstance(exc, ValueError)
    assert str(exc) == "bad"
    assert (exc.observation, exc.llm_output, exc.send_to_llm) == ("fix it", "raw", False)


def test_exception_defaults() -> None:
    exc = OutputParserException(KeyError("k"))
    assert exc.observation is None and exc.llm_output is None


def test_send_to_llm_needs_observation_and_output() -> None:
    with pytest.raises(ValueError, match="needs both 'observation' and 'llm_output'"):
        OutputParserException("bad", llm_output="raw", send_to_llm=True)
    assert OutputParserException("bad", "obs", "raw", send_to_llm=True).send_to_llm


def test_preview_truncates_and_centres_far_errors() -> None:
    assert preview("short") == "'short'"
    assert preview("Sure! here is the answer", width=10) == "'Sure! here'..."
    text = "a" * 100 + "!" + "b" * 100
    shown = preview(text, pos=100, width=20)
    assert shown.startswith("...'") and shown.endswith("'...") and "!" in shown


def test_preview_keeps_lone_surrogates_printable() -> None:
    shown = preview("\ud800 x")
    assert shown == "'\\ud800 x'"
    shown.encode("utf-8")  # no UnicodeEncodeError when printed


def test_position_is_one_based() -> None:
    assert position("ab\ncd", 0) == "line 1 column 1"
    assert position("ab\ncd", 4) == "line 2 column 2"
