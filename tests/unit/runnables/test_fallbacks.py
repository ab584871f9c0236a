"""RunnableWithFallbacks: try the next runnable on a handled error; raise the first if all fail."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from chainkit.runnables import RunnableLambda, RunnableWithFallbacks


def primary_down(x: Any) -> Any:
    raise ConnectionError("primary down")


def backup_down(x: Any) -> Any:
    raise TimeoutError("backup timed out")


def backup(x: Any) -> Any:
    return f"backup: {x}"


def test_falls_back_on_every_path(every_path: Any) -> None:
    r = RunnableLambda(primary_down).with_fallbacks([RunnableLambda(backup)])
    assert isinstance(r, RunnableWithFallbacks)
    every_path(r, "q", "backup: q")


def test_the_first_success_wins_and_later_fallbacks_do_not_run() -> None:
    calls: list[str] = []

    def second(x: Any) -> str:
        calls.append("second")
        return "second"

    def third(x: Any) -> str:
        calls.append("third")
        return "third"

    r = RunnableWithFallbacks(
        RunnableLambda(primary_down), [RunnableLambda(second), RunnableLambda(third)]
    )
    assert r.invoke(1) == "second" and asyncio.run(r.ainvoke(1)) == "second"
    assert calls == ["second", "second"]


def test_no_fallback_when_the_runnable_succeeds() -> None:
    r = RunnableLambda(str.upper).with_fallbacks([RunnableLambda(backup)])
    assert r.invoke("a") == "A"


@pytest.mark.parametrize("path", ["invoke", "ainvoke", "stream", "astream", "batch"])
def test_all_fail_raises_the_first_error_noting_the_others(path: str) -> None:
    r = RunnableLambda(primary_down).with_fallbacks(
        [RunnableLambda(backup_down), RunnableLambda(primary_down)]
    )

    async def arun() -> Any:
        if path == "ainvoke":
            return await r.ainvoke(1)
        return [c async for c in r.astream(1)]

    with pytest.raises(ConnectionError, match="primary down") as info:
        if path == "invoke":
            r.invoke(1)
        elif path == "stream":
            list(r.stream(1))
        elif path == "batch":
            r.batch([1, 2])
        else:
            asyncio.run(arun())
    assert info.value.__notes__ == [
        "fallback 1 (backup_down) also failed: TimeoutError: backup timed out",
        "fallback 2 (primary_down) also failed: ConnectionError: primary down",
    ]


def test_unhandled_errors_propagate_without_fallback() -> None:
    calls: list[int] = []
    r = RunnableLambda(primary_down).with_fallbacks(
        [RunnableLambda(lambda x: calls.append(1))], exceptions_to_handle=(ValueError,)
    )
    with pytest.raises(ConnectionError):
        r.invoke(1)
    with pytest.raises(ConnectionError):
        asyncio.run(r.ainvoke(1))
    with pytest.raises(ConnectionError):
        list(r.stream(1))
    assert calls == []


def test_batch_with_return_exceptions() -> None:
    def odd_fails(x: int) -> int:
        if x % 2:
            raise ValueError("odd")
        return x

    r = RunnableLambda(odd_fails).with_fallbacks([RunnableLambda(lambda x: -x)])
    assert r.batch([1, 2, 3]) == [-1, 2, -3]
    assert asyncio.run(r.abatch([1, 2, 3])) == [-1, 2, -3]
    both_fail = RunnableLambda(odd_fails).with_fallbacks([RunnableLambda(odd_fails)])
    out = both_fail.batch([1, 2], return_exceptions=True)
    assert isinstance(out[0], ValueError) and out[1] == 2


# ---- exception_key -------------------------------------------------------------------------
def test_exception_key_passes_the_previous_error() -> None:
    seen: list[Any] = []

    def needs_fix(d: dict[str, Any]) -> str:
        seen.append(d)
        if "error" not in d:
            raise ValueError("first try")
        if isinstance(d["error"], ValueError):
            raise KeyError("second try")
        return f"fixed after {type(d['error']).__name__}"

    r = RunnableLambda(needs_fix).with_fallbacks(
        [RunnableLambda(needs_fix), RunnableLambda(needs_fix)], exception_key="error"
    )
    assert r.invoke({"q": 1}) == "fixed after KeyError"
    assert [set(d) for d in seen] == [{"q"}, {"q", "error"}, {"q", "error"}]
    seen.clear()
    assert asyncio.run(r.ainvoke({"q": 1})) == "fixed after KeyError"
    assert list(r.stream({"q": 1})) == ["fixed after KeyError"]


@pytest.mark.parametrize("method", ["invoke", "ainvoke", "stream"])
def test_exception_key_needs_a_dict_input(method: str) -> None:
    r = RunnableLambda(primary_down).with_fallbacks([RunnableLambda(backup)], exception_key="e")
    match = r"with exception_key='e' the input must be a dict .* got str: 'text'"
    with pytest.raises(ValueError, match=match):
        if method == "invoke":
            r.invoke("text")
        elif method == "ainvoke":
            asyncio.run(r.ainvoke("text"))
        else:
            list(r.stream("text"))


# ---- streams ---------------------------------------------------------------------------------
def _stream_then_fail(chunks: Iterator[str]) -> Iterator[str]:
    for _ in chunks:
        pass
    yield "partial"
    raise ConnectionError("dropped mid-stream")


def _fail_before_streaming(chunks: Iterator[str]) -> Iterator[str]:
    for _ in chunks:
        pass
    raise ConnectionError("never started")
    yield ""  # pragma: no cover - makes this a generator


def _backup_stream(chunks: Iterator[str]) -> Iterator[str]:
    for chunk in chunks:
        yield from chunk.upper()


def test_stream_falls_back_before_the_first_chunk() -> None:
    r = RunnableLambda(_fail_before_streaming).with_fallbacks([RunnableLambda(_backup_stream)])
    assert list(r.stream("ab")) == ["A", "B"]


async def test_astream_falls_back_before_the_first_chunk() -> None:
    r = RunnableLambda(_fail_before_streaming).with_fallbacks([RunnableLambda(_backup_stream)])
    assert [c async for c in r.astream("ab")] == ["A", "B"]


def test_stream_does_not_fall_back_after_a_chunk() -> None:
    r = RunnableLambda(_stream_then_fail).with_fallbacks([RunnableLambda(_backup_stream)])
    got: list[str] = []
    with pytest.raises(ConnectionError, match="dropped mid-stream"):
        for chunk in r.stream("ab"):
            got.append(chunk)
    assert got == ["partial"]


async def test_astream_does_not_fall_back_after_a_chunk() -> None:
    r = RunnableLambda(_stream_then_fail).with_fallbacks([RunnableLambda(_backup_stream)])
    got: list[str] = []
    with pytest.raises(ConnectionError, match="dropped mid-stream"):
        async for chunk in r.astream("ab"):
            got.append(chunk)
    assert got == ["partial"]


def test_transform_buffers_so_each_runnable_sees_the_whole_input() -> None:
    r = RunnableLambda(_fail_before_streaming).with_fallbacks([RunnableLambda(_backup_stream)])
    assert list(r.transform(iter(["a", "b"]))) == ["A", "B"]


# ---- construction ----------------------------------------------------------------------------
def test_a_single_runnable_instead_of_a_list() -> None:
    match = "fallbacks must be a list of runnables, got RunnableLambda"
    with pytest.raises(TypeError, match=match):
        RunnableLambda(str).with_fallbacks(RunnableLambda(str))  # type: ignore[arg-type]


def test_empty_fallbacks_and_bad_arguments() -> None:
    with pytest.raises(ValueError, match="fallbacks is empty"):
        RunnableLambda(str).with_fallbacks([])
    one = [RunnableLambda(str)]
    match = "exceptions_to_handle must be a tuple of exception classes"
    with pytest.raises(TypeError, match=match):
        RunnableLambda(str).with_fallbacks(one, exceptions_to_handle=("x",))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="exception_key must be a str or None"):
        RunnableLambda(str).with_fallbacks(one, exception_key=3)  # type: ignore[arg-type]


def test_names_and_attributes() -> None:
    r = RunnableLambda(primary_down).with_fallbacks([RunnableLambda(backup)])
    assert r.get_name() == "primary_downWithFallbacks"
    assert [x.get_name() for x in r.runnables] == ["primary_down", "backup"]
    assert repr(r) == (
        "RunnableWithFallbacks(runnable=RunnableLambda(primary_down), "
        "fallbacks=[RunnableLambda(backup)])"
    )
