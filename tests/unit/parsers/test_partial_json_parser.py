"""parse_partial_json and the incremental PartialJsonDecoder: completion rules, errors, cost."""

from __future__ import annotations

import json
import time
from contextlib import suppress
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainkit.parsers import (
    JsonOutputParser,
    OutputParserException,
    parse_partial_json,
    partial_json,
)
from chainkit.parsers.json import JsonStreamDecoder
from chainkit.parsers.partial_json import COPY_PER_CHAR, NOTHING, PartialJsonDecoder


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": "hel', {"a": "hel"}),
        ('{"a": [1, 2', {"a": [1, 2]}),
        ('{"a', {}),
        ('{"a"', {}),
        ('{"a":', {}),
        ('{"a": ', {}),
        ('{"a": "', {"a": ""}),
        ('{"a": 1,', {"a": 1}),
        ('{"a": 1, "b', {"a": 1}),
        ('{"a": {"b', {"a": {}}),
        ('{"a": tr', {}),
        ("[1, tr", [1]),
        ("[1, 2, {\"a\": tr", [1, 2, {}]),
        ("[-", []),
        ("[1.", [1]),
        ("[1.5e", [1.5]),
        ("[1.5e+", [1.5]),
        ("[01", [0]),
        ('["a\\', ["a"]),  # an unfinished escape is dropped
        ('["a\\u00', ["a"]),
        ('["\\ud83d', [""]),  # half a surrogate pair waits for the other half
        ('["\\ud83d\\ude00', ["\U0001f600"]),
        ('{"a": 1}', {"a": 1}),
        ("12", 12),
        ('"hel', "hel"),
        ("  [ ] ", []),
        ('{"a": 1, "a": [', {"a": []}),  # duplicate keys: the last wins
    ],
)
def test_completion_rules(text: str, expected: Any) -> None:
    assert parse_partial_json(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "expected a JSON value; got ''"),
        ("tr", "expected a JSON value; got 'tr'"),
        ("-", "expected a JSON value"),
        ("{]", "expected a key in double quotes or '}'"),
        ("[1}", "expected ',' or ']' after a value"),
        ('{"a" 1', "expected ':' after the key"),
        ('{"a": 1,}', "expected a key in double quotes (no trailing comma)"),
        ("[NaN", "NaN and Infinity are not valid JSON"),
        ("[-Infinity", "-Infinity is not valid JSON"),
        ("[01]", "invalid number '01'"),
        ("[truth", "invalid literal; expected 'true'"),
        ('["\\x', "invalid string escape"),
        ("[1] x", "unexpected text after the JSON value"),
        ("{} {}", "unexpected text after the JSON value"),
        ("Sure! {}", "expected a JSON value, got 'Sure! {}'"),
    ],
)
def test_errors(text: str, reason: str) -> None:
    with pytest.raises(OutputParserException, match="Invalid JSON output: ") as info:
        parse_partial_json(text)
    assert reason in str(info.value)
    assert info.value.llm_output == text


def test_error_position() -> None:
    with pytest.raises(OutputParserException, match=r"error at line 2 column 5"):
        parse_partial_json('{"a":\n 1, ]')


def test_strict_refuses_raw_control_characters() -> None:
    assert parse_partial_json('["a\nb"]') == ["a\nb"]
    with pytest.raises(OutputParserException, match="raw control character inside a string"):
        parse_partial_json('["a\nb"]', strict=True)


def test_depth_limit() -> None:
    assert parse_partial_json("[" * 200) is not None
    with pytest.raises(OutputParserException, match="nesting deeper than 200 levels"):
        parse_partial_json("[" * 201)


def test_decoder_feed_and_state() -> None:
    d = PartialJsonDecoder()
    assert d.feed('{"a": "hel') == [{"a": "hel"}]
    assert d.feed("") == []
    assert d.feed('lo", "b": [1, 2') == [{"a": "hello", "b": [1, 2]}]
    assert d.feed("]") == []  # closing changes nothing
    assert not d.done
    assert d.feed("}") == []
    assert d.done and not d.failed
    assert d.value() == {"a": "hello", "b": [1, 2]}
    assert d.flush() == []


def test_decoder_find_start_skips_prose_and_ignores_the_rest() -> None:
    d = PartialJsonDecoder(find_start=True)
    assert d.feed("Sure! ```json\n") == []
    assert d.value() is NOTHING
    assert d.feed('{"a": 1}') == [{"a": 1}]
    assert d.feed("\n``` and {more}") == []
    assert d.done and d.value() == {"a": 1}


def test_decoder_without_previews_only_tracks_state() -> None:
    d = PartialJsonDecoder(previews=False)
    assert d.feed('{"a": [1') == []
    assert d.value() == {"a": [1]}
    d.feed("]}")
    assert d.done


def test_decoder_failure_stops_scanning() -> None:
    d = PartialJsonDecoder()
    d.feed("[1, x")
    assert d.failed and d.error is not None and d.error_pos == 4
    assert d.feed("2]") == []


def test_snapshots_share_finished_values_but_not_open_ones() -> None:
    d = PartialJsonDecoder()
    (first,) = d.feed('{"done": [1], "open": [1')
    (second,) = d.feed(", 2")
    assert first == {"done": [1], "open": [1]} and second == {"done": [1], "open": [1, 2]}
    assert first["done"] is second["done"]
    assert first["open"] is not second["open"]


def test_a_change_to_a_value_of_another_type_is_returned_even_if_python_calls_it_equal() -> None:
    d = PartialJsonDecoder()
    assert d.feed('{"a": true') == [{"a": True}]
    (value,) = d.feed(', "a": 1}')  # the last value of a repeated key wins; True == 1
    assert value == {"a": 1} and type(value["a"]) is int
    assert d.feed("") == []


def test_a_repeated_key_is_returned_only_when_the_value_changes() -> None:
    d = PartialJsonDecoder()
    assert d.feed('{"a": "x", "b": 1') == [{"a": "x", "b": 1}]
    assert d.feed(', "a": "x"') == []  # replaced by an equal value: no change
    assert d.feed(', "a": "') == [{"a": "", "b": 1}]
    assert d.feed('y"}') == [{"a": "y", "b": 1}]
    assert not d.append_only


def test_a_piece_that_breaks_the_json_returns_nothing() -> None:
    d = PartialJsonDecoder()
    assert d.feed("[1") == [[1]]
    assert d.feed(", 2x") == []
    assert d.failed and d.flush() == []


def _snapshots(pieces: list[str]) -> list[Any]:
    d = PartialJsonDecoder()
    out = [value for piece in pieces for value in d.feed(piece)]
    return out + d.flush()


def test_large_documents_space_out_their_snapshots(monkeypatch: pytest.MonkeyPatch) -> None:
    text = json.dumps([{"id": i, "tags": ["x"]} for i in range(1500)])
    pieces = [text[i : i + 3] for i in range(0, len(text), 3)]
    spaced = _snapshots(pieces)
    copies = [json.dumps(value) for value in spaced]
    monkeypatch.setattr(partial_json, "COPY_PER_CHAR", 10**9)
    every = _snapshots(pieces)  # one snapshot per change

    assert spaced[-1] == every[-1] == json.loads(text)
    assert len(spaced) < len(every)
    # Every change while the array is small, then a subsequence of the changes.
    first_skip = next(i for i, (a, b) in enumerate(zip(spaced, every, strict=False)) if a != b)
    assert len(every[first_skip]) > 3 * COPY_PER_CHAR  # 3-character pieces
    later = iter(every)
    assert all(any(value == change for change in later) for value in spaced)
    # What the snapshots copy is bounded by the text (one per change would copy more);
    # finished items are shared, not copied.
    copied = sum(len(value) - 1 for value in spaced[:-1])  # the last is the finished value
    assert copied <= COPY_PER_CHAR * len(text)
    assert sum(len(value) - 1 for value in every[:-1]) > COPY_PER_CHAR * len(text)
    assert spaced[-1][0] is spaced[len(spaced) // 2][0]
    assert [json.dumps(value) for value in spaced] == copies  # none changed afterwards


def test_flush_returns_a_held_back_change() -> None:
    d = PartialJsonDecoder()
    text = "[" + ",".join("1" for _ in range(2000))
    returned = [value for char in text for value in d.feed(char)]
    assert returned[-1] != d.value()  # the last changes wait for more text
    assert d.flush() == [[1] * 2000]
    assert d.flush() == []


def test_json_stream_decoder_without_previews_returns_only_the_document() -> None:
    for diff in (False, True):
        decoder = JsonStreamDecoder(diff=diff, previews=False)
        out = [x for piece in ('{"a": [1', ", 2]}", " more") for x in decoder.feed(piece)]
        whole = {"a": [1, 2]}
        assert out == [[{"op": "replace", "path": "", "value": whole}] if diff else whole]
        assert decoder.flush() == []


def test_frontier_shows_the_path_being_written() -> None:
    d = PartialJsonDecoder(previews=False)
    d.feed('{"a": [1, {"b": "hel')
    stack, keys, pending = d.frontier()
    assert stack == [{}, [1], {}]
    assert keys[0] == "a" and keys[2] == "b" and pending == "hel"
    assert d.open_value(1) == [1, {"b": "hel"}]


# ---- cost -----------------------------------------------------------------------------------
def _document(n_items: int) -> str:
    items = [{"id": i, "name": f"item {i}", "ok": i % 2 == 0, "p": i / 3} for i in range(n_items)]
    return json.dumps({"items": items})


def test_scanning_is_linear_one_character_at_a_time() -> None:
    text = _document(300)
    d = PartialJsonDecoder()
    for char in text:
        d.feed(char)
    assert d.done
    assert d.scanned == len(text)  # every character examined once, nothing re-scanned


def test_scanning_escape_heavy_text_rescans_at_most_a_few_characters_per_piece() -> None:
    text = json.dumps(["\\\U0001f600\"é\n" * 2000], ensure_ascii=True)
    d = PartialJsonDecoder()
    for char in text:
        d.feed(char)
    assert d.value() == json.loads(text)
    assert d.scanned <= 12 * len(text)  # held-back escapes only; re-parsing would be ~n²/2


def test_json_parser_stream_scans_linearly() -> None:
    text = _document(200)
    decoder = JsonStreamDecoder()
    for i in range(0, len(text), 3):
        decoder.feed(text[i : i + 3])
    assert decoder.flush() == []
    assert decoder.result == json.loads(text)
    assert decoder._scanner.scanned == len(text)


def test_scanning_time_grows_linearly() -> None:
    def scan_time(text: str) -> float:
        best = float("inf")
        for _ in range(3):
            d = PartialJsonDecoder(previews=False)
            start = time.perf_counter()
            for i in range(0, len(text), 4):
                d.feed(text[i : i + 4])
            best = min(best, time.perf_counter() - start)
            assert d.done
        return best

    small, large = _document(300), _document(3000)  # ~10k and ~100k characters
    ratio = scan_time(large) / scan_time(small)
    assert ratio < 40, f"10x the text took {ratio:.1f}x the time"


# ---- properties -----------------------------------------------------------------------------
_chars = st.characters(exclude_categories=())  # includes lone surrogates and control chars
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(_chars, max_size=8)
)
_values = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(_chars, max_size=5), children, max_size=4),
    max_leaves=12,
)
_documents = st.builds(
    lambda value, ascii_, indent: json.dumps(value, ensure_ascii=ascii_, indent=indent),
    st.one_of(
        st.lists(_values, max_size=4),
        st.dictionaries(st.text(_chars, max_size=5), _values, max_size=4),
    ),
    st.booleans(),
    st.sampled_from([None, 0, 2]),
)


def _split(text: str, cuts: list[int]) -> list[str]:
    points = sorted({c % (len(text) + 1) for c in cuts})
    bounds = [0, *points, len(text)]
    return [text[a:b] for a, b in pairwise(bounds)]


@settings(max_examples=150, deadline=None)
@given(_documents)
def test_any_prefix_parses_or_raises_output_parser_exception(text: str) -> None:
    for end in range(len(text) + 1):
        with suppress(OutputParserException):
            parse_partial_json(text[:end])
    assert parse_partial_json(text) == json.loads(text)


@settings(max_examples=150, deadline=None)
@given(_documents, st.lists(st.integers(min_value=0), max_size=30))
def test_streamed_value_matches_the_prefix_parse_and_ends_with_json_loads(
    text: str, cuts: list[int]
) -> None:
    d = PartialJsonDecoder()
    seen = ""
    for piece in _split(text, cuts):
        d.feed(piece)
        seen += piece
        try:
            expected = parse_partial_json(seen)
        except OutputParserException:
            expected = NOTHING
        assert d.value() == expected
    assert d.done and d.value() == json.loads(text)


@settings(max_examples=100, deadline=None)
@given(
    _documents,
    st.lists(st.integers(min_value=0), max_size=30),
    st.text(st.characters(exclude_characters="{[`"), max_size=10),
    st.text(max_size=10),
)
def test_json_parser_stream_ends_with_the_invoke_result(
    text: str, cuts: list[int], before: str, after: str
) -> None:
    answer = f"{before}```json\n{text}\n```{after}"
    chunks = _split(answer, cuts)
    out = list(JsonOutputParser().transform(iter(chunks)))
    assert out[-1] == json.loads(text) == JsonOutputParser().invoke(answer)
    # Only changes are yielded (0 then 0.0 is a change: same value, not the same JSON).
    assert all(repr(a) != repr(b) for a, b in pairwise(out))


@settings(max_examples=100, deadline=None)
@given(st.text(_chars, max_size=40), st.lists(st.integers(min_value=0), max_size=10))
def test_arbitrary_text_never_raises_another_exception_type(text: str, cuts: list[int]) -> None:
    for attempt in (
        lambda: parse_partial_json(text),
        lambda: JsonOutputParser().invoke(text),
        lambda: list(JsonOutputParser().transform(iter(_split(text, cuts)))),
    ):
        try:
            attempt()
        except OutputParserException as exc:
            assert exc.llm_output == text
