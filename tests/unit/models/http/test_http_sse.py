"""SSEDecoder: a push decoder that gives the same events however the bytes are split."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainkit.models.http import SSEDecoder, SSEEvent


def decode(*chunks: bytes) -> list[SSEEvent]:
    decoder = SSEDecoder()
    events = []
    for chunk in chunks:
        events += decoder.feed(chunk)
    return events + decoder.flush()


def test_events_split_on_blank_lines_with_event_names():
    events = decode(b"event: ping\ndata: {}\n\ndata: hello\n\n")
    assert events == [SSEEvent("ping", "{}"), SSEEvent("message", "hello")]


def test_crlf_and_cr_line_endings():
    assert decode(b"data: a\r\n\r\ndata: b\r\rdata: c\n\n") == [
        SSEEvent(data="a"), SSEEvent(data="b"), SSEEvent(data="c")
    ]


def test_crlf_split_between_chunks_is_one_line_end():
    # "\r" ends one chunk and "\n" starts the next: one line end, not a blank line between.
    assert decode(b"data: a\r", b"\ndata: b\r\n\r\n") == [SSEEvent(data="a\nb")]


def test_comments_are_ignored_and_multiline_data_joins_with_newlines():
    events = decode(b": keep-alive\ndata: line 1\n: note\ndata: line 2\n\n")
    assert events == [SSEEvent(data="line 1\nline 2")]


def test_one_leading_space_is_removed_and_colonless_field_is_empty():
    assert decode(b"data:  two spaces\ndata\n\n") == [SSEEvent(data=" two spaces\n")]


def test_utf8_character_split_across_reads():
    raw = "data: héllo 🌍\n\n".encode()
    cut = raw.index("🌍".encode()) + 2
    assert decode(raw[:cut], raw[cut:]) == [SSEEvent(data="héllo 🌍")]


def test_invalid_utf8_is_replaced_not_raised():
    assert decode(b"data: \xff\n\n") == [SSEEvent(data="\ufffd")]


def test_event_without_data_is_not_dispatched():
    assert decode(b"event: ping\n\n") == []


def test_id_persists_and_retry_is_read():
    events = decode(b"id: 7\nretry: 1500\ndata: a\n\ndata: b\n\n")
    assert events == [SSEEvent(data="a", id="7", retry=1500), SSEEvent(data="b", id="7")]


def test_flush_returns_an_unterminated_last_event():
    decoder = SSEDecoder()
    assert decoder.feed(b"data: [DONE]") == []
    assert decoder.flush() == [SSEEvent(data="[DONE]")]
    assert decoder.flush() == []


def test_json_and_repr():
    event = SSEEvent("message_start", '{"a": [1]}')
    assert event.json() == {"a": [1]}
    assert repr(event) == "SSEEvent(event='message_start', data='{\"a\": [1]}')"


@pytest.mark.parametrize("data", [
    '{"a": NaN, "b": -Infinity, "c": 1e999}',
    '{"s": "\\ud800 lone surrogate"}',  # the fast parser refuses it; json.loads keeps it
    "[" * 500 + "]" * 500,  # deeper than the fast parser goes
    '{"k": 1, "k": 2}',
    "123456789012345678901234567890",
    '"\\ud83d\\ude00 \\u00e9"',
    "-0.0",
])
def test_json_gives_what_json_loads_gives(data):
    got, want = SSEEvent(data=data).json(), json.loads(data)
    assert repr(got) == repr(want)  # NaN compares unequal; its repr does not
    assert type(got) is type(want)


@pytest.mark.parametrize("data", ["", "{", '{"a": 1,}', "\ufeff1", '"a\x01b"', "[1] x"])
def test_invalid_json_raises_json_loads_error(data):
    with pytest.raises(json.JSONDecodeError) as got:
        SSEEvent(data=data).json()
    with pytest.raises(json.JSONDecodeError) as want:
        json.loads(data)
    assert str(got.value) == str(want.value)


@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
))
def test_json_round_trips_like_json_loads(value):
    data = json.dumps(value)
    assert SSEEvent(data=data).json() == json.loads(data)


STREAM = (
    "event: message_start\r\ndata: {\"a\": 1}\r\n\r\n"
    ": comment\ndata: é\ndata: 😀\n\n"
    "data: x\rdata: y\r\r"
    "data: [DONE]\n\n"
).encode()


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
def test_any_split_gives_the_same_events(cuts):
    points = sorted(set(cuts))
    pieces = [STREAM[a:b] for a, b in zip([0, *points], [*points, len(STREAM)], strict=True)]
    assert decode(*pieces) == decode(STREAM)


def test_byte_by_byte():
    assert decode(*(bytes([b]) for b in STREAM)) == decode(STREAM)
    assert len(decode(STREAM)) == 4
