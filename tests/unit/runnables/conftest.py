"""Shared fixtures for the runnables tests: run one runnable down every public path."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from chainkit.runnables import Runnable
from chainkit.runnables._sync import add_chunks


def _aggregate(chunks: list[Any]) -> Any:
    out = None
    for chunk in chunks:
        out = add_chunks(out, chunk)
    return out


async def _aiter(items: list[Any]) -> AsyncIterator[Any]:
    for item in items:
        yield item


def _every_path(r: Runnable[Any, Any], input: Any, **kwargs: Any) -> dict[str, Any]:
    """The output of ``r`` on ``input`` via each public method (streams aggregated)."""

    def stream_input() -> Iterator[Any]:
        yield input

    out = {
        "invoke": r.invoke(input, **kwargs),
        "batch": r.batch([input, input], **kwargs),
        "stream": _aggregate(list(r.stream(input, **kwargs))),
        "transform": _aggregate(list(r.transform(stream_input(), **kwargs))),
        "batch_as_completed": sorted(
            r.batch_as_completed([input, input], **kwargs), key=lambda p: p[0]
        ),
    }

    async def run_async() -> dict[str, Any]:
        return {
            "ainvoke": await r.ainvoke(input, **kwargs),
            "abatch": await r.abatch([input, input], **kwargs),
            "astream": _aggregate([c async for c in r.astream(input, **kwargs)]),
            "atransform": _aggregate([c async for c in r.atransform(_aiter([input]), **kwargs)]),
            "abatch_as_completed": sorted(
                [p async for p in r.abatch_as_completed([input, input], **kwargs)],
                key=lambda p: p[0],
            ),
        }

    out.update(asyncio.run(run_async()))
    return out


def _assert_every_path(r: Runnable[Any, Any], input: Any, expected: Any, **kwargs: Any) -> None:
    """``r`` returns ``expected`` on ``input`` via every public method, sync and async."""
    got = _every_path(r, input, **kwargs)
    want = {
        "invoke": expected,
        "ainvoke": expected,
        "stream": expected,
        "astream": expected,
        "transform": expected,
        "atransform": expected,
        "batch": [expected, expected],
        "abatch": [expected, expected],
        "batch_as_completed": [(0, expected), (1, expected)],
        "abatch_as_completed": [(0, expected), (1, expected)],
    }
    assert got == want


@pytest.fixture
def every_path() -> Callable[..., None]:
    """``every_path(runnable, input, expected)``: the same output on all ten public methods."""
    return _assert_every_path
