"""The observed path of every public Runnable method: start a run, call the hook, end the run.

Only reached when somebody listens (callbacks in the config, or a global listener). Each
driver is the hook call of the quiet path wrapped in run bookkeeping; the hooks themselves
are shared, so the observed and quiet paths cannot drift apart.

Runs start in LangChain's order, which listeners (``astream_events``) rely on: a streaming call
starts its run when first iterated; a step fed a stream that it consumes incrementally starts
once its first input chunk has arrived (so the step upstream starts first); and a step that does
not consume its input incrementally buffers all of it first, so it starts with its inputs known,
after the step upstream has ended.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from chainkit.runnables._sync import add_chunks
from chainkit.tracing.context import (
    PENDING,
    Run,
    aend_run,
    child_config,
    current_run,
    end_run,
    start_run,
    stream_chunk,
)

if TYPE_CHECKING:
    from chainkit.runnables.base import Runnable
    from chainkit.runnables.config import RunnableConfig

_END: Any = object()


def _start(
    r: Runnable[Any, Any],
    input: Any,
    config: RunnableConfig | None,
    kwargs: dict[str, Any],
    aio: bool = False,
) -> tuple[Run, Any]:
    run = start_run(
        (config or {}).get("callbacks"),
        name=r.get_name(),
        run_type=r.run_type,
        inputs=input,
        config=config,  # type: ignore[arg-type]
        extra=r._run_extra(kwargs),
        aio=aio,
    )
    return run, child_config(config, run)  # type: ignore[arg-type]


def invoke(
    r: Runnable[Any, Any], input: Any, config: RunnableConfig | None, kwargs: dict[str, Any]
) -> Any:
    run, cfg = _start(r, input, config, kwargs)
    token = current_run.set(run)
    try:
        out = r._call(input, cfg, **kwargs)
    except BaseException as exc:
        end_run(run, error=exc)
        raise
    finally:
        current_run.reset(token)
    end_run(run, out)
    return out


async def ainvoke(
    r: Runnable[Any, Any], input: Any, config: RunnableConfig | None, kwargs: dict[str, Any]
) -> Any:
    run, cfg = _start(r, input, config, kwargs, aio=True)
    token = current_run.set(run)
    try:
        out = await r._acall(input, cfg, **kwargs)
    except BaseException as exc:
        current_run.reset(token)
        await aend_run(run, error=exc)
        raise
    current_run.reset(token)
    await aend_run(run, out)
    return out


def stream(
    r: Runnable[Any, Any], input: Any, config: RunnableConfig | None, kwargs: dict[str, Any]
) -> Iterator[Any]:
    return _drive(r, input, None, config, kwargs)


def astream(
    r: Runnable[Any, Any], input: Any, config: RunnableConfig | None, kwargs: dict[str, Any]
) -> AsyncIterator[Any]:
    return _adrive(r, input, None, config, kwargs)


def transform(
    r: Runnable[Any, Any],
    chunks: Iterator[Any],
    config: RunnableConfig | None,
    kwargs: dict[str, Any],
) -> Iterator[Any]:
    return _drive(r, None, chunks, config, kwargs)


def atransform(
    r: Runnable[Any, Any],
    chunks: AsyncIterator[Any],
    config: RunnableConfig | None,
    kwargs: dict[str, Any],
) -> AsyncIterator[Any]:
    return _adrive(r, None, chunks, config, kwargs)


def _drive(
    r: Runnable[Any, Any],
    input: Any,
    chunks: Iterator[Any] | None,
    config: RunnableConfig | None,
    kwargs: dict[str, Any],
) -> Iterator[Any]:
    if chunks is None:
        run, cfg = _start(r, input, config, kwargs)
        it = r._iter(input, cfg, **kwargs)
    elif r.streams_input:
        first = next(chunks, _END)
        # The input arrives as a stream: the run's inputs are filled in as it is consumed.
        run, cfg = _start(r, PENDING, config, kwargs)
        it = r._transform(_collect_inputs(run, first, chunks), cfg, **kwargs)
    else:
        # Not consumed incrementally: buffer it all, then start with the inputs known.
        whole, seen = None, False
        for chunk in chunks:
            whole, seen = add_chunks(whole, chunk), True
        run, cfg = _start(r, whole, config, kwargs)
        it = r._transform(iter((whole,) if seen else ()), cfg, **kwargs)
    outs: list[Any] = []
    error: BaseException | None = None
    try:
        while True:
            token = current_run.set(run)
            try:
                chunk = next(it, _END)
            finally:
                current_run.reset(token)
            if chunk is _END:
                break
            stream_chunk(run, chunk)
            outs.append(chunk)
            yield chunk
    except BaseException as exc:
        error = exc
        raise
    finally:
        # Close the step first, so its children end before this run does.
        close = getattr(it, "close", None)
        if close is not None:
            close()
        _fix_inputs(run)
        end_run(run, aggregate(outs), error)


async def _adrive(
    r: Runnable[Any, Any],
    input: Any,
    chunks: AsyncIterator[Any] | None,
    config: RunnableConfig | None,
    kwargs: dict[str, Any],
) -> AsyncIterator[Any]:
    if chunks is None:
        run, cfg = _start(r, input, config, kwargs, aio=True)
        it = r._aiter(input, cfg, **kwargs)
    elif r.streams_input:
        try:
            first = await chunks.__anext__()
        except StopAsyncIteration:
            first = _END
        run, cfg = _start(r, PENDING, config, kwargs, aio=True)
        it = r._atransform(_acollect_inputs(run, first, chunks), cfg, **kwargs)
    else:
        whole, seen = None, False
        async for chunk in chunks:
            whole, seen = add_chunks(whole, chunk), True
        run, cfg = _start(r, whole, config, kwargs, aio=True)
        it = r._atransform(_aiter_list((whole,) if seen else ()), cfg, **kwargs)
    outs: list[Any] = []
    error: BaseException | None = None
    try:
        while True:
            token = current_run.set(run)
            try:
                chunk = await it.__anext__()
            except StopAsyncIteration:
                break
            finally:
                current_run.reset(token)
            stream_chunk(run, chunk)
            outs.append(chunk)
            yield chunk
    except BaseException as exc:
        error = exc
        raise
    finally:
        aclose = getattr(it, "aclose", None)
        if aclose is not None:
            await aclose()
        _fix_inputs(run)
        await aend_run(run, aggregate(outs), error)


# A streamed input is kept as a list of chunks while it arrives, and aggregated once, when the
# run ends (`_fix_inputs`): merging message chunks pairwise on every chunk costs more than the
# rest of the observed path together.
class _Chunks(list[Any]):
    __slots__ = ()


def _collect_inputs(run: Run, first: Any, chunks: Iterator[Any]) -> Iterator[Any]:
    if first is _END:
        return
    seen = run.inputs = _Chunks((first,))
    yield first
    for chunk in chunks:
        seen.append(chunk)
        yield chunk


async def _acollect_inputs(run: Run, first: Any, chunks: AsyncIterator[Any]) -> AsyncIterator[Any]:
    if first is _END:
        return
    seen = run.inputs = _Chunks((first,))
    yield first
    async for chunk in chunks:
        seen.append(chunk)
        yield chunk


async def _aiter_list(items: tuple[Any, ...]) -> AsyncIterator[Any]:
    for item in items:
        yield item


def _fix_inputs(run: Run) -> None:
    if run.inputs is PENDING:
        run.inputs = None
    elif type(run.inputs) is _Chunks:
        run.inputs = aggregate(run.inputs)


def aggregate(chunks: list[Any]) -> Any:
    """`add_chunks` folded over ``chunks``, with the common cases done in one pass: strings are
    joined, and message chunks (whose ``+`` takes a list) merge all at once."""
    if len(chunks) < 2:
        return chunks[0] if chunks else None
    first = chunks[0]
    try:
        if type(first) is str:
            return "".join(chunks)
        if _merges_lists(type(first)):
            return first + chunks[1:]
    except TypeError:  # mixed types: fall back to the pairwise rule
        pass
    out = None
    for chunk in chunks:
        out = add_chunks(out, chunk)
    return out


def _merges_lists(cls: type) -> bool:
    # Message and generation chunks accept a list on the right of ``+``. They are recognised
    # without importing the message layer: if none was ever created, it is not loaded.
    messages = sys.modules.get("chainkit.messages")
    outputs = sys.modules.get("chainkit.models.outputs")
    return (messages is not None and issubclass(cls, messages.BaseMessageChunk)) or (
        outputs is not None and issubclass(cls, outputs.ChatGenerationChunk)
    )
