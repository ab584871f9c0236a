"""The observed path of every public Runnable method: start a run, call the hook, end the run.

Only reached when somebody listens (callbacks in the config, or a global listener). Each
driver is the hook call of the quiet path wrapped in run bookkeeping; the hooks themselves
are shared, so the observed and quiet paths cannot drift apart.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from chainkit.runnables._sync import add_chunks
from chainkit.tracing.context import Run, child_config, end_run, start_run, stream_chunk

if TYPE_CHECKING:
    from chainkit.runnables.base import Runnable
    from chainkit.runnables.config import RunnableConfig

_UNSET: Any = object()


def _start(
    r: Runnable[Any, Any], input: Any, config: RunnableConfig | None, kwargs: dict[str, Any]
) -> tuple[Run, Any]:
    run = start_run(
        (config or {}).get("callbacks"),
        name=r.get_name(),
        run_type=r.run_type,
        inputs=input,
        config=config,  # type: ignore[arg-type]
        extra=r._run_extra(kwargs),
    )
    return run, child_config(config, run)  # type: ignore[arg-type]


def invoke(r: Runnable[Any, Any], input: Any, config: RunnableConfig | None, kwargs: dict[str, Any]) -> Any:
    run, cfg = _start(r, input, config, kwargs)
    try:
        out = r._call(input, cfg, **kwargs)
    except BaseException as exc:
        end_run(run, error=exc)
        raise
    end_run(run, out)
    return out


async def ainvoke(
    r: Runnable[Any, Any], input: Any, config: RunnableConfig | None, kwargs: dict[str, Any]
) -> Any:
    run, cfg = _start(r, input, config, kwargs)
    try:
        out = await r._acall(input, cfg, **kwargs)
    except BaseException as exc:
        end_run(run, error=exc)
        raise
    end_run(run, out)
    return out


def stream(
    r: Runnable[Any, Any], input: Any, config: RunnableConfig | None, kwargs: dict[str, Any]
) -> Iterator[Any]:
    run, cfg = _start(r, input, config, kwargs)
    return _drive(run, r._iter(input, cfg, **kwargs))


def astream(
    r: Runnable[Any, Any], input: Any, config: RunnableConfig | None, kwargs: dict[str, Any]
) -> AsyncIterator[Any]:
    run, cfg = _start(r, input, config, kwargs)
    return _adrive(run, r._aiter(input, cfg, **kwargs))


def transform(
    r: Runnable[Any, Any], chunks: Iterator[Any], config: RunnableConfig | None, kwargs: dict[str, Any]
) -> Iterator[Any]:
    # The input arrives as a stream: the run's inputs are filled in once it is consumed.
    run, cfg = _start(r, _UNSET, config, kwargs)
    return _drive(run, r._transform(_collect_inputs(run, chunks), cfg, **kwargs))


def atransform(
    r: Runnable[Any, Any],
    chunks: AsyncIterator[Any],
    config: RunnableConfig | None,
    kwargs: dict[str, Any],
) -> AsyncIterator[Any]:
    run, cfg = _start(r, _UNSET, config, kwargs)
    return _adrive(run, r._atransform(_acollect_inputs(run, chunks), cfg, **kwargs))


def _collect_inputs(run: Run, chunks: Iterator[Any]) -> Iterator[Any]:
    agg = None
    for chunk in chunks:
        agg = add_chunks(agg, chunk)
        run.inputs = agg
        yield chunk


async def _acollect_inputs(run: Run, chunks: AsyncIterator[Any]) -> AsyncIterator[Any]:
    agg = None
    async for chunk in chunks:
        agg = add_chunks(agg, chunk)
        run.inputs = agg
        yield chunk


def _drive(run: Run, it: Iterator[Any]) -> Iterator[Any]:
    final = None
    try:
        for chunk in it:
            stream_chunk(run, chunk)
            final = add_chunks(final, chunk)
            yield chunk
    except BaseException as exc:
        _fix_inputs(run)
        end_run(run, final, error=exc)
        raise
    _fix_inputs(run)
    end_run(run, final)


async def _adrive(run: Run, it: AsyncIterator[Any]) -> AsyncIterator[Any]:
    final = None
    try:
        async for chunk in it:
            stream_chunk(run, chunk)
            final = add_chunks(final, chunk)
            yield chunk
    except BaseException as exc:
        _fix_inputs(run)
        end_run(run, final, error=exc)
        raise
    finally:
        aclose = getattr(it, "aclose", None)
        if aclose is not None:
            await aclose()
    _fix_inputs(run)
    end_run(run, final)


def _fix_inputs(run: Run) -> None:
    if run.inputs is _UNSET:
        run.inputs = None
