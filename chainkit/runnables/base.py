"""`Runnable`: the one protocol every chainkit part speaks.

A subclass implements its work once, in up to four hooks:

- ``_call(input, config, **kw)``: the sync work. Pure steps implement only this; ``ainvoke``
  runs it inline (no thread hop for microseconds of CPU).
- ``_acall``: only where the async path does real I/O differently (HTTP, user coroutines).
- ``_transform(chunks, config, **kw)`` / ``_atransform``: steps that consume a stream (parsers,
  models, generator lambdas). Without them, a step buffers its input stream and calls ``_call``.
- ``_iter`` / ``_aiter``: producers (models); by default derived from ``_transform``.

The public methods (``invoke``, ``stream``, ``batch`` and their async twins) are defined here
once. Each first asks "is anybody observing?" — one dict lookup — and, if not, calls the hook
directly with no run object, no config copy and no wrapper generator. The observed path lives
in ``_observed.py``.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterator,
    Mapping,
    Sequence,
)
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast

import chainkit.tracing.context as _ctx
from chainkit.runnables import _observed
from chainkit.runnables._sync import aclosing, add_chunks
from chainkit.runnables.config import CONFIG_KEYS, RunnableConfig, check_config, config_list

if TYPE_CHECKING:
    from chainkit.runnables.binding import RunnableBinding
    from chainkit.runnables.fallbacks import RunnableWithFallbacks
    from chainkit.runnables.retry import RunnableRetry
    from chainkit.runnables.sequence import RunnableSequence

Input = TypeVar("Input", contravariant=True)
Output = TypeVar("Output", covariant=True)
Other = TypeVar("Other")
T = TypeVar("T")


def _quiet(config: RunnableConfig | None) -> bool:
    """True when nobody observes this call: no callbacks in config, no global listener."""
    if config is not None:
        if type(config) is dict and type(config.get("callbacks")) is _ctx.ParentRun:
            return False  # a child of a traced call: the root checked this config
        if type(config) is not dict or not config.keys() <= CONFIG_KEYS:
            check_config(config)
        if config.get("callbacks") or _ctx.global_listeners:
            check_config(config)  # the observed path reads every value: check them first
            return False
    return not _ctx.global_listeners


class Runnable(Generic[Input, Output]):
    """A unit of work that can be invoked, batched, streamed and composed with ``|``.

    Example:
        >>> from chainkit import RunnableLambda
        >>> double = RunnableLambda(lambda x: x * 2)
        >>> (double | (lambda x: x + 1)).invoke(3)
        7
    """

    name: str | None = None
    run_type: ClassVar[str] = "chain"
    #: Steps cheap enough that a parallel branch runs them inline instead of in a thread.
    inline: ClassVar[bool] = False
    #: Whether ``transform`` consumes its input incrementally (False: it buffers the input).
    streams_input: ClassVar[bool] = False
    #: Whether the async path only runs the sync ``_call`` in a worker thread (plain-function
    #: lambdas); a sequence then runs consecutive such steps in a single thread hop.
    async_in_thread: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A class that says explicitly whether it streams its input (e.g. one whose
        # `_transform` buffers) keeps its word.
        if "_transform" in cls.__dict__ and "streams_input" not in cls.__dict__:
            cls.streams_input = True

    # ---- identity -----------------------------------------------------------------
    def get_name(self, suffix: str | None = None) -> str:
        name = self.name or type(self).__name__
        return f"{name}{suffix}" if suffix else name

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    # ---- hooks for subclasses --------------------------------------------------------
    def _call(self, input: Any, config: RunnableConfig | None, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not implement _call")

    async def _acall(self, input: Any, config: RunnableConfig | None, **kwargs: Any) -> Any:
        return self._call(input, config, **kwargs)

    def _iter(self, input: Any, config: RunnableConfig | None, **kwargs: Any) -> Iterator[Any]:
        # A generator, so `stream()` does no work (and raises nothing) until iterated, like
        # `astream()`.
        if self.streams_input:
            yield from self._transform(iter((input,)), config, **kwargs)
        else:
            yield self._call(input, config, **kwargs)

    async def _aiter(
        self, input: Any, config: RunnableConfig | None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        if self.streams_input:
            async with aclosing(self._atransform(_aiter_one(input), config, **kwargs)) as it:
                async for chunk in it:
                    yield chunk
        else:
            yield await self._acall(input, config, **kwargs)

    def _transform(
        self, chunks: Iterator[Any], config: RunnableConfig | None, **kwargs: Any
    ) -> Iterator[Any]:
        final = None
        for chunk in chunks:
            final = add_chunks(final, chunk)
        yield from self._iter(final, config, **kwargs)

    async def _atransform(
        self, chunks: AsyncIterator[Any], config: RunnableConfig | None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        final = None
        async for chunk in chunks:
            final = add_chunks(final, chunk)
        async with aclosing(self._aiter(final, config, **kwargs)) as it:
            async for out in it:
                yield out

    def _run_extra(self, kwargs: Mapping[str, Any]) -> dict[str, Any] | None:
        """Extra data for this call's run record (models add ``invocation_params``)."""
        return None

    # ---- public API: one call ----------------------------------------------------------
    def invoke(self, input: Input, config: RunnableConfig | None = None, **kwargs: Any) -> Output:
        """Run on one input and return its output."""
        if _quiet(config):
            return cast(Output, self._call(input, config, **kwargs))
        return cast(Output, _observed.invoke(self, input, config, kwargs))

    async def ainvoke(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Output:
        """Async `invoke`. Pure steps run inline; only real I/O awaits."""
        if _quiet(config):
            return cast(Output, await self._acall(input, config, **kwargs))
        return cast(Output, await _observed.ainvoke(self, input, config, kwargs))

    def stream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        """Yield the output in chunks as soon as they are produced."""
        if _quiet(config):
            return self._iter(input, config, **kwargs)
        return _observed.stream(self, input, config, kwargs)

    def astream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        """Async `stream`."""
        if _quiet(config):
            return self._aiter(input, config, **kwargs)
        return _observed.astream(self, input, config, kwargs)

    def transform(
        self, input: Iterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        """Consume a stream of input chunks, yield output chunks."""
        if _quiet(config):
            return self._transform(iter(input), config, **kwargs)
        return _observed.transform(self, iter(input), config, kwargs)

    def atransform(
        self, input: AsyncIterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        """Async `transform`."""
        if _quiet(config):
            return self._atransform(input, config, **kwargs)
        return _observed.atransform(self, input, config, kwargs)

    # ---- public API: many calls ---------------------------------------------------------
    def batch(
        self,
        inputs: Sequence[Input],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Output]:
        """Invoke on every input, concurrently in threads (at most ``max_concurrency``).

        Outputs come back in input order. With ``return_exceptions=True`` a failed input's
        slot holds its exception instead of raising.
        """
        inputs = list(inputs)
        if not inputs:
            return []
        configs = config_list(config, len(inputs))
        if len(inputs) == 1:
            return [self._one(inputs[0], configs[0], return_exceptions, kwargs)]
        workers = _max_concurrency(configs[0], len(inputs))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="chainkit-batch") as ex:
            futures = [
                ex.submit(
                    contextvars.copy_context().run, self._one, x, c, return_exceptions, kwargs
                )
                for x, c in zip(inputs, configs, strict=True)
            ]
            try:
                return [f.result() for f in futures]
            except BaseException:
                for f in futures:
                    f.cancel()
                raise

    def _one(
        self, input: Any, config: RunnableConfig | None, return_exceptions: bool, kwargs: Any
    ) -> Any:
        if not return_exceptions:
            return self.invoke(input, config, **kwargs)
        try:
            return self.invoke(input, config, **kwargs)
        except Exception as exc:
            return exc

    def batch_as_completed(
        self,
        inputs: Sequence[Input],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> Iterator[tuple[int, Output | Exception]]:
        """Like `batch`, but yield ``(index, output)`` pairs as each input finishes."""
        inputs = list(inputs)
        if not inputs:
            return
        configs = config_list(config, len(inputs))
        workers = _max_concurrency(configs[0], len(inputs))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="chainkit-batch") as ex:
            pending: dict[Future[Any], int] = {
                ex.submit(
                    contextvars.copy_context().run, self._one, x, c, return_exceptions, kwargs
                ): i
                for i, (x, c) in enumerate(zip(inputs, configs, strict=True))
            }
            try:
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for f in done:
                        yield pending.pop(f), f.result()
            finally:
                for f in pending:
                    f.cancel()

    async def abatch(
        self,
        inputs: Sequence[Input],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Output]:
        """Async `batch`: tasks on the running loop, at most ``max_concurrency`` at once."""
        inputs = list(inputs)
        if not inputs:
            return []
        configs = config_list(config, len(inputs))
        limit = concurrency_limit(configs[0])
        coros = [
            self._aone(x, c, return_exceptions, kwargs)
            for x, c in zip(inputs, configs, strict=True)
        ]
        return await gather_limited(coros, limit)

    async def _aone(
        self, input: Any, config: RunnableConfig | None, return_exceptions: bool, kwargs: Any
    ) -> Any:
        if not return_exceptions:
            return await self.ainvoke(input, config, **kwargs)
        try:
            return await self.ainvoke(input, config, **kwargs)
        except Exception as exc:
            return exc

    async def abatch_as_completed(
        self,
        inputs: Sequence[Input],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> AsyncIterator[tuple[int, Output | Exception]]:
        """Async `batch_as_completed`."""
        inputs = list(inputs)
        if not inputs:
            return
        configs = config_list(config, len(inputs))
        limit = concurrency_limit(configs[0])
        sem = asyncio.Semaphore(limit) if limit else None

        async def run(i: int, x: Any, c: RunnableConfig | None) -> tuple[int, Any]:
            if sem is None:
                return i, await self._aone(x, c, return_exceptions, kwargs)
            async with sem:
                return i, await self._aone(x, c, return_exceptions, kwargs)

        tasks = [
            asyncio.ensure_future(run(i, x, c))
            for i, (x, c) in enumerate(zip(inputs, configs, strict=True))
        ]
        try:
            for fut in asyncio.as_completed(tasks):
                yield await fut
        finally:
            for t in tasks:
                t.cancel()
            # Let cancelled tasks finish, so none is destroyed while pending.
            await asyncio.gather(*tasks, return_exceptions=True)

    # ---- observation ------------------------------------------------------------------
    def astream_log(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Stream `RunLogPatch` objects (JSON-patch ops) describing the run as it happens."""
        from chainkit.tracing.log import astream_log

        return astream_log(self, input, config, **kwargs)

    def astream_events(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Any:
        """Stream event dicts (``on_chain_start``, ``on_chat_model_stream``, ...) as runs go."""
        from chainkit.tracing.events import astream_events

        return astream_events(self, input, config, **kwargs)

    def stream_events(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Any:
        """Sync twin of `astream_events`."""
        from chainkit.tracing.events import stream_events

        return stream_events(self, input, config, **kwargs)

    # ---- composition ------------------------------------------------------------------
    def __or__(self, other: Any) -> RunnableSequence[Input, Any]:
        from chainkit.runnables.sequence import RunnableSequence

        return RunnableSequence(self, coerce_to_runnable(other))

    def __ror__(self, other: Any) -> RunnableSequence[Any, Output]:
        from chainkit.runnables.sequence import RunnableSequence

        return RunnableSequence(coerce_to_runnable(other), self)

    def pipe(self, *others: Any, name: str | None = None) -> RunnableSequence[Input, Any]:
        """``a.pipe(b, c)`` is ``a | b | c``."""
        from chainkit.runnables.sequence import RunnableSequence

        return RunnableSequence(self, *(coerce_to_runnable(o) for o in others), name=name)

    def bind(self, **kwargs: Any) -> RunnableBinding[Input, Output]:
        """Fix keyword arguments for every call, e.g. ``model.bind(stop=["\\n"])``."""
        from chainkit.runnables.binding import RunnableBinding

        return RunnableBinding(self, kwargs=kwargs)

    def with_config(
        self, config: RunnableConfig | None = None, **kwargs: Any
    ) -> RunnableBinding[Input, Output]:
        """Fix config entries (tags, run_name, callbacks, ...) for every call."""
        from chainkit.runnables.binding import RunnableBinding

        merged = {**(config or {}), **kwargs}
        return RunnableBinding(self, config=check_config(merged))

    def with_retry(
        self,
        *,
        retry_if_exception_type: tuple[type[BaseException], ...] = (Exception,),
        wait_exponential_jitter: bool = True,
        exponential_jitter_params: Mapping[str, float] | None = None,
        stop_after_attempt: int = 3,
    ) -> RunnableRetry[Input, Output]:
        """Retry failed calls, with exponential backoff and jitter between attempts.

        ``exponential_jitter_params`` (LangChain's name) may set ``initial``, ``max``,
        ``exp_base`` and ``jitter`` of the backoff, in seconds.
        """
        from chainkit.runnables.retry import RunnableRetry

        return RunnableRetry(
            self,
            retry_if_exception_type=retry_if_exception_type,
            wait_exponential_jitter=wait_exponential_jitter,
            exponential_jitter_params=exponential_jitter_params,
            stop_after_attempt=stop_after_attempt,
        )

    def with_fallbacks(
        self,
        fallbacks: Sequence[Runnable[Input, Output]],
        *,
        exceptions_to_handle: tuple[type[BaseException], ...] = (Exception,),
        exception_key: str | None = None,
    ) -> RunnableWithFallbacks[Input, Output]:
        """Try ``fallbacks`` in order when this runnable raises one of ``exceptions_to_handle``."""
        from chainkit.runnables.fallbacks import RunnableWithFallbacks

        return RunnableWithFallbacks(
            self,
            fallbacks,
            exceptions_to_handle=exceptions_to_handle,
            exception_key=exception_key,
        )

    def assign(self, **kwargs: Any) -> RunnableSequence[Input, dict[str, Any]]:
        """Pipe into `RunnablePassthrough.assign`: add keys computed from this output dict."""
        from chainkit.runnables.passthrough import RunnableAssign

        return self | RunnableAssign(kwargs)

    def pick(self, keys: str | list[str]) -> RunnableSequence[Input, Any]:
        """Pipe into a `RunnablePick`: keep one key (its value) or several keys (a dict)."""
        from chainkit.runnables.passthrough import RunnablePick

        return self | RunnablePick(keys)

    # ---- schemas ----------------------------------------------------------------------
    @property
    def InputType(self) -> Any:  # LangChain's public name
        return Any

    @property
    def OutputType(self) -> Any:  # LangChain's public name
        return Any

    def get_input_schema(self) -> type[Any]:
        from chainkit.runnables.schema import schema_for

        return schema_for(self.get_name("Input"), self.InputType)

    def get_output_schema(self) -> type[Any]:
        from chainkit.runnables.schema import schema_for

        return schema_for(self.get_name("Output"), self.OutputType)

    @property
    def input_schema(self) -> type[Any]:
        return self.get_input_schema()

    @property
    def output_schema(self) -> type[Any]:
        return self.get_output_schema()

    def get_input_jsonschema(self) -> dict[str, Any]:
        return cast(dict[str, Any], self.get_input_schema().model_json_schema())

    def get_output_jsonschema(self) -> dict[str, Any]:
        return cast(dict[str, Any], self.get_output_schema().model_json_schema())

    # ---- structure --------------------------------------------------------------------
    def get_graph(self) -> Any:
        """The chain as a `chainkit.graph.Graph` (networkx-backed)."""
        from chainkit.graph import graph_of

        return graph_of(self)

    def compile(self, *, input_keys: Sequence[str] | None = None) -> Any:
        """Validate the whole chain now and return a `CompiledChain` (see `chainkit.graph`).

        ``input_keys``: the keys of the input dict, if known, so that missing prompt
        variables are found now rather than at the first call."""
        from chainkit.graph import compile_runnable

        return compile_runnable(self, input_keys)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """Notebook display: the chain drawn as SVG, plus the text repr."""
        from chainkit.graph import draw, graph_of

        return draw.mimebundle(graph_of(self), repr(self))


async def _aiter_one(value: T) -> AsyncIterator[T]:
    yield value


def concurrency_limit(config: RunnableConfig | None) -> int | None:
    """``config["max_concurrency"]``, checked: a positive int, or None for no limit."""
    limit = (config or {}).get("max_concurrency")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"max_concurrency must be a positive int or None, got {limit!r}")
    return limit


def _max_concurrency(config: RunnableConfig | None, n: int) -> int:
    # Threads for a sync batch: one per input, at most max_concurrency (32 when unset).
    return min(n, concurrency_limit(config) or 32)


async def gather_limited(coros: Sequence[Awaitable[T]], limit: int | None) -> list[T]:
    """Await ``coros`` concurrently, at most ``limit`` (checked by `concurrency_limit`) at once;
    on failure cancel the rest."""
    if limit is not None and limit < len(coros):
        sem = asyncio.Semaphore(limit)

        async def bounded(c: Awaitable[T]) -> T:
            async with sem:
                return await c

        coros = [bounded(c) for c in coros]
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def coerce_to_runnable(thing: Any) -> Runnable[Any, Any]:
    """Turn what may stand in a chain into a runnable: runnables as they are, callables into
    `RunnableLambda`, dicts into `RunnableParallel`."""
    if isinstance(thing, Runnable):
        return thing
    if isinstance(thing, Mapping):
        from chainkit.runnables.parallel import RunnableParallel

        return RunnableParallel(dict(thing))
    if callable(thing):
        from chainkit.runnables.lambda_ import RunnableLambda

        return RunnableLambda(cast(Callable[..., Any], thing))
    raise TypeError(
        f"cannot use {type(thing).__name__} {thing!r:.60} in a chain: expected a Runnable, "
        "a callable, or a dict of those"
    )


def is_traced(config: RunnableConfig | None) -> bool:
    """True inside an observed run (the config carries the parent run)."""
    return config is not None and isinstance(config.get("callbacks"), _ctx.ParentRun)


def step_config(config: RunnableConfig | None, tag: str) -> RunnableConfig | None:
    """The config for one child step: unchanged when unobserved, else tagged with ``tag``."""
    if config is None:
        return None
    parent = config.get("callbacks")
    if not isinstance(parent, _ctx.ParentRun):
        return config
    return cast(RunnableConfig, {**config, "callbacks": _ctx.ParentRun(parent.run, (tag,))})
