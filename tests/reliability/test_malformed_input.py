"""Figure 6: malformed input raises only the documented errors, fast, and says where.

Property-based (hypothesis, at least 500 cases per entry point): message coercion, prompt
formatting, every output parser (whole and streamed, on truncated, fenced, duplicate-key,
NaN, deep, invalid-UTF-8 and lone-surrogate JSON), tool-call argument parsing, and config
dicts. An input either works or raises the entry point's documented error types, whose
message names the field, index or offset; every call takes under 100 ms (10 MB inputs are
held to their own budget), and streaming JSON parsing is linear in the input size.
"""

from __future__ import annotations

import contextlib
import json
import string
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from chainkit.messages import AIMessageChunk, convert_to_messages
from chainkit.messages.tool import default_tool_parser, tool_call_chunk
from chainkit.parsers import (
    CommaSeparatedListOutputParser,
    JsonOutputParser,
    OutputParserException,
    PydanticOutputParser,
    StrOutputParser,
    parse_partial_json,
)
from chainkit.parsers.partial_json import PartialJsonDecoder
from chainkit.prompts import ChatPromptTemplate, PromptTemplate
from chainkit.runnables import RunnableLambda

CASES = settings(
    max_examples=500, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
BUDGET = 0.100  # seconds per parse


def timed(fn: Callable[[], Any], budget: float = BUDGET) -> Any:
    start = time.perf_counter()
    try:
        return fn()
    finally:
        elapsed = time.perf_counter() - start
        assert elapsed < budget, f"took {elapsed * 1000:.0f} ms (budget {budget * 1000:.0f} ms)"


# ---- strategies ---------------------------------------------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner,
                                                               max_size=5),
    max_leaves=20,
)
anything = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.binary(),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
role_dicts = st.fixed_dictionaries(
    {},
    optional={
        "role": st.sampled_from(["user", "assistant", "system", "tool", "function",
                                 "developer", "human", "ai", "weird", ""]) | anything,
        "content": st.text() | anything,
        "tool_calls": st.lists(anything, max_size=3),
        "tool_call_id": st.text() | anything,
        "name": st.text() | anything,
        "type": st.text() | anything,
    },
)
message_likes = st.lists(
    st.text() | role_dicts | st.tuples(st.text() | anything, st.text() | anything) | anything,
    max_size=4,
)


def surrogate_text(draw_text: str) -> str:
    return draw_text + "\udc80" + draw_text


def _json_document(draw: Any) -> str:
    value = draw(json_values)
    text = json.dumps(value, ensure_ascii=draw(st.booleans()))
    kind = draw(st.sampled_from(
        ["whole", "truncated", "fenced", "prose", "dup-key", "nan", "deep", "garbage",
         "surrogate", "invalid-utf8", "trailing"]
    ))
    if kind == "truncated" and text:
        text = text[: draw(st.integers(0, len(text)))]
    elif kind == "fenced":
        text = f"Here you go:\n```json\n{text}\n```\nanything else?"
    elif kind == "prose":
        text = f"Sure! {text} Hope this helps."
    elif kind == "dup-key":
        text = '{"a": 1, "a": 2, "b": ' + text + "}"
    elif kind == "nan":
        text = draw(st.sampled_from(['{"x": NaN}', "[Infinity]", '{"y": -Infinity}', "NaN"]))
    elif kind == "deep":
        depth = draw(st.integers(150, 5000))
        text = "[" * depth + text + "]" * draw(st.integers(0, depth))
    elif kind == "garbage":
        text = draw(st.text(alphabet=string.printable, max_size=200))
    elif kind == "surrogate":
        text = text[: len(text) // 2] + "\ud800" + text[len(text) // 2:]
    elif kind == "invalid-utf8":
        raw = text.encode() + draw(st.binary(max_size=8)) + b"\xff\xfe\xc3"
        text = raw.decode("utf-8", errors="surrogateescape")
    elif kind == "trailing":
        text = text + ", " + text
    return text


json_documents = st.composite(_json_document)()


def splits(text: str, cuts: list[int]) -> list[str]:
    points = sorted({c % (len(text) + 1) for c in cuts})
    pieces, last = [], 0
    for p in points:
        pieces.append(text[last:p])
        last = p
    pieces.append(text[last:])
    return [p for p in pieces if p]


# ---- message coercion ----------------------------------------------------------------------
@CASES
@given(message_likes)
def test_message_coercion(value: Any) -> None:
    try:
        timed(lambda: convert_to_messages(value))
    except (TypeError, ValueError) as exc:
        assert "index" in str(exc), f"the error does not name the item: {exc}"


@CASES
@given(anything)
def test_message_coercion_of_one_value(value: Any) -> None:
    try:
        timed(lambda: convert_to_messages(value))
    except (TypeError, ValueError) as exc:
        assert "convert" in str(exc) and len(str(exc)) < 1000, str(exc)


# ---- prompt formatting ----------------------------------------------------------------------
template_text = st.text(alphabet=st.sampled_from(list("ab{}[]:.!0>x% \n")), max_size=40)


@CASES
@given(template_text, st.dictionaries(st.sampled_from(["a", "b", "x", "ab"]), anything,
                                      max_size=4))
def test_prompt_formatting(template: str, values: dict[str, Any]) -> None:
    try:
        prompt = timed(lambda: PromptTemplate.from_template(template))
    except ValueError as exc:
        assert "template" in str(exc), str(exc)
        return
    try:
        text = timed(lambda: prompt.format(**values))
    except KeyError as exc:
        assert "missing variable" in str(exc), str(exc)
    except (ValueError, TypeError) as exc:  # a value that does not take the format spec
        assert str(exc)
    else:
        assert isinstance(text, str)


@CASES
@given(st.lists(st.tuples(st.sampled_from(["human", "ai", "system", "user", "bogus"])
                          | anything, template_text | anything), max_size=4))
def test_chat_prompt_formatting(messages: list[Any]) -> None:
    try:
        prompt = timed(lambda: ChatPromptTemplate.from_messages(messages))
    except (ValueError, TypeError) as exc:
        assert str(exc)
        return
    values = {name: "v" for name in prompt.input_variables}
    timed(lambda: prompt.invoke(values))


# ---- output parsers -------------------------------------------------------------------------
class Answer(BaseModel):
    a: int
    b: list[str] = []


PARSERS = {
    "json": JsonOutputParser(),
    "pydantic": PydanticOutputParser(pydantic_object=Answer),
    "list": CommaSeparatedListOutputParser(),
    "str": StrOutputParser(),
}


def _parse_checked(parser: Any, text: str) -> tuple[str, Any]:
    try:
        return "ok", timed(lambda: parser.invoke(text))
    except OutputParserException as exc:
        message = str(exc)
        assert exc.llm_output == text
        assert "line" in message or "expected" in message or "validation" in message.lower() \
            or "field" in message.lower() or "JSON" in message, message
        return "error", type(exc)


@pytest.mark.parametrize("name", list(PARSERS))
@CASES
@given(text=json_documents, cuts=st.lists(st.integers(0, 10**6), max_size=6))
def test_output_parsers(name: str, text: str, cuts: list[int]) -> None:
    parser = PARSERS[name]
    whole = _parse_checked(parser, text)
    # Streamed in arbitrary pieces: the same final answer, or the same error.
    try:
        streamed = timed(lambda: list(parser.transform(iter(splits(text, cuts)))))
        if name == "str":
            outcome: tuple[str, Any] = ("ok", "".join(streamed))
        else:
            outcome = ("ok", streamed[-1] if streamed else None)
    except OutputParserException:
        outcome = ("error", OutputParserException)
    if name != "list":
        assert outcome == whole, (outcome, whole)


@CASES
@given(json_documents)
def test_parse_partial_json(text: str) -> None:
    try:
        timed(lambda: parse_partial_json(text))
    except OutputParserException as exc:
        assert "line" in str(exc) or "expected" in str(exc), str(exc)


@pytest.mark.parametrize("size_mb", [10])
def test_ten_megabyte_outputs(size_mb: int) -> None:
    big = "x" * (size_mb << 20)
    doc = json.dumps({"a": 1, "b": ["y" * (size_mb << 20)]})
    budget = 2.0  # 10 MB: a linear pass, not a 100 ms parse
    for text in (big, doc, doc[:-3], "```json\n" + doc + "\n```", "[" * (size_mb << 20)):
        for parser in PARSERS.values():
            with contextlib.suppress(OutputParserException):
                timed(lambda p=parser, t=text: p.invoke(t), budget)


def _ratio(cost: Callable[[int], float]) -> float:
    """Time for 8x the input over time for 1x (best of 3 each): ~8 if linear, ~64 if
    quadratic."""
    small = min(cost(500) for _ in range(3))
    large = min(cost(4000) for _ in range(3))
    return large / small


def _document(items: int) -> list[str]:
    text = json.dumps({"items": [{"id": i, "name": f"n{i}"} for i in range(items)]})
    return [text[i:i + 7] for i in range(0, len(text), 7)]


def test_streaming_json_parse_is_linear() -> None:
    """Scanning N characters of streamed JSON (7-character pieces) costs O(N)."""

    def cost(items: int) -> float:
        pieces = _document(items)
        start = time.perf_counter()
        decoder = PartialJsonDecoder(find_start=True, previews=False)
        for piece in pieces:
            decoder.feed(piece)
        assert decoder.done
        return time.perf_counter() - start

    ratio = _ratio(cost)
    assert ratio < 12, f"8x the input took {ratio:.1f}x the time"


@pytest.mark.parametrize("diff", [False, True], ids=["snapshots", "patches"])
def test_streaming_json_parser_budget(diff: bool) -> None:
    """`JsonOutputParser` streaming a 120 KB array in 7-character pieces (15,000 patches, or
    6,000 partial values: they are spaced out as the array grows) stays under a second."""
    pieces = _document(4000)
    start = time.perf_counter()
    out = list(JsonOutputParser(diff=diff).transform(iter(pieces)))
    elapsed = time.perf_counter() - start
    assert len(out) > (10_000 if diff else 5_000)
    assert elapsed < 1.0, f"took {elapsed:.2f} s"


def test_streaming_json_parser_is_linear() -> None:
    def cost(items: int) -> float:
        pieces = _document(items)
        start = time.perf_counter()
        for _ in JsonOutputParser().transform(iter(pieces)):
            pass
        return time.perf_counter() - start

    ratio = _ratio(cost)
    assert ratio < 12, f"8x the input took {ratio:.1f}x the time"


def test_streamed_tool_call_arguments_are_linear() -> None:
    """Merging streamed tool-call argument pieces into one message is O(N) overall."""

    def cost(items: int) -> float:
        args = json.dumps({"items": list(range(items))})
        pieces = [args[i:i + 5] for i in range(0, len(args), 5)]
        start = time.perf_counter()
        total = AIMessageChunk("", tool_call_chunks=[
            tool_call_chunk(name="f", args="", id="1", index=0)])
        for piece in pieces:
            total = total + AIMessageChunk("", tool_call_chunks=[
                tool_call_chunk(args=piece, index=0)])
        assert total.tool_calls[0]["args"] == {"items": list(range(items))}
        return time.perf_counter() - start

    small = min(cost(250) for _ in range(3))
    large = min(cost(2000) for _ in range(3))
    # 2000 items make 9.4x the pieces of 250 (longer numbers): ~9.4 if linear, ~80 if not.
    assert large / small < 13, f"8x the input took {large / small:.1f}x the time"


# ---- tool-call arguments --------------------------------------------------------------------
@CASES
@given(st.lists(st.fixed_dictionaries({}, optional={
    "id": st.text() | anything, "type": st.just("function"),
    "function": st.fixed_dictionaries({}, optional={
        "name": st.text() | anything, "arguments": json_documents | anything}) | anything,
}), max_size=3))
def test_tool_call_arguments(raw: list[dict[str, Any]]) -> None:
    _, invalid = timed(lambda: default_tool_parser(raw))
    for bad in invalid:
        assert bad["error"], bad


@CASES
@given(st.lists(json_documents | st.text(), min_size=1, max_size=4),
       st.lists(st.integers(0, 10**6), max_size=6))
def test_streamed_tool_call_chunks(docs: list[str], cuts: list[int]) -> None:
    total = AIMessageChunk("")
    for index, doc in enumerate(docs):
        for piece in splits(doc, cuts) or [""]:
            total = timed(lambda t=total, p=piece, i=index: t + AIMessageChunk(
                "", tool_call_chunks=[tool_call_chunk(name="f", args=p, id=str(i), index=i)]))
    assert len(total.tool_calls) + len(total.invalid_tool_calls) == len(docs)


# ---- config dicts ---------------------------------------------------------------------------
configs = st.dictionaries(
    st.sampled_from(["tags", "metadata", "run_name", "max_concurrency", "recursion_limit",
                     "configurable", "run_id", "callbacks", "bogus", "Tags"]),
    anything | st.integers(-3, 40), max_size=4,
)


@CASES
@given(configs)
def test_config_dicts(config: dict[str, Any]) -> None:
    step = RunnableLambda(lambda x: x + 1)
    for call in (lambda: step.invoke(1, config), lambda: step.batch([1, 2], config),
                 lambda: step.with_config(config).invoke(1)):  # type: ignore[arg-type]
        try:
            timed(call, 0.5)
        except (TypeError, ValueError) as exc:
            message = str(exc)
            assert any(key in message for key in config), f"no field named: {message}"
