"""`RunnableRetry`: call a runnable again when it raises one of the listed exception types.

The retry decisions live once, in `_Attempts` (which error is retried, how long to wait, when to
give up) and `_BatchAttempts` (which batch items to run again). The sync and async drivers only
call, sleep and loop: ``time.sleep`` on one path, ``asyncio.sleep`` on the other.

Waits grow exponentially with random jitter, like LangChain's (tenacity's
``wait_exponential_jitter``): before attempt ``n + 1`` the wait is
``min(wait_max, wait_initial * exp_base ** (n - 1) + uniform(0, jitter))``.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any

from chainkit.runnables._errors import add_note
from chainkit.runnables._sync import aclosing, closing
from chainkit.runnables.base import Input, Output, Runnable, coerce_to_runnable, step_config
from chainkit.runnables.config import RunnableConfig, config_list

_JITTER_KEYS = frozenset({"initial", "max", "exp_base", "jitter"})
_PENDING: Any = object()


class RunnableRetry(Runnable[Input, Output]):
    """Retry ``bound`` on the listed exceptions, waiting longer between each attempt.

    Args:
        bound: The runnable to call.
        retry_if_exception_type: Exception types that trigger a retry; others propagate at once.
        wait_exponential_jitter: Wait between attempts (``False``: retry immediately).
        stop_after_attempt: Attempts in total, the first included.
        wait_initial: Wait before the second attempt, in seconds (jitter added).
        wait_max: Upper bound of any wait, in seconds.
        exponential_jitter_params: LangChain's way to set ``initial``, ``max``, ``exp_base``
            (default 2) and ``jitter`` (default ``wait_initial``); overrides the two above.

    A batch retries only the inputs that failed with a retried exception. A stream is retried
    only while no chunk has been yielded yet; an input stream (``transform``) is buffered first
    so that it can be replayed.

    Example:
        >>> flaky = RunnableLambda(call_api).with_retry(stop_after_attempt=5)
        >>> RunnableRetry(RunnableLambda(call_api), retry_if_exception_type=(TimeoutError,),
        ...               wait_initial=0.1, wait_max=2.0).invoke("q")
    """

    def __init__(
        self,
        bound: Runnable[Input, Output],
        *,
        retry_if_exception_type: type[BaseException] | tuple[type[BaseException], ...] = (
            Exception,
        ),
        wait_exponential_jitter: bool = True,
        stop_after_attempt: int = 3,
        wait_initial: float = 1.0,
        wait_max: float = 10.0,
        exponential_jitter_params: Mapping[str, float] | None = None,
        name: str | None = None,
    ) -> None:
        self.bound: Runnable[Input, Output] = coerce_to_runnable(bound)
        self.retry_if_exception_type = _exception_types(retry_if_exception_type)
        if isinstance(stop_after_attempt, bool) or not isinstance(stop_after_attempt, int) or (
            stop_after_attempt < 1
        ):
            raise ValueError(
                f"stop_after_attempt must be an int >= 1 (attempts in total), got "
                f"{stop_after_attempt!r}"
            )
        self.stop_after_attempt = stop_after_attempt
        self.wait_exponential_jitter = bool(wait_exponential_jitter)
        params = dict(exponential_jitter_params or {})
        unknown = params.keys() - _JITTER_KEYS
        if unknown:
            raise ValueError(
                f"unknown exponential_jitter_params key(s) {sorted(unknown)}; valid keys: "
                f"{sorted(_JITTER_KEYS)}"
            )
        self.wait_initial = float(params.get("initial", wait_initial))
        self.wait_max = float(params.get("max", wait_max))
        self.exp_base = float(params.get("exp_base", 2.0))
        self.jitter = float(params.get("jitter", self.wait_initial))
        for label, value in (
            ("wait_initial", self.wait_initial),
            ("wait_max", self.wait_max),
            ("jitter", self.jitter),
        ):
            if value < 0:
                raise ValueError(f"{label} must be >= 0 seconds, got {value!r}")
        self.name = name

    def get_name(self, suffix: str | None = None) -> str:
        # Named after what it retries, as in LangChain's traces.
        return self.bound.get_name(suffix) if self.name is None else super().get_name(suffix)

    def __repr__(self) -> str:
        types = ", ".join(t.__name__ for t in self.retry_if_exception_type)
        return (
            f"RunnableRetry(bound={self.bound!r}, retry_if_exception_type=({types},), "
            f"stop_after_attempt={self.stop_after_attempt})"
        )

    @property
    def InputType(self) -> Any:  # LangChain's public name
        return self.bound.InputType

    @property
    def OutputType(self) -> Any:  # LangChain's public name
        return self.bound.OutputType

    def get_input_schema(self) -> type[Any]:
        return self.bound.get_input_schema()

    def get_output_schema(self) -> type[Any]:
        return self.bound.get_output_schema()

    def wait_before(self, attempt: int) -> float:
        """Seconds to wait before attempt number ``attempt`` (2 or more)."""
        if not self.wait_exponential_jitter:
            return 0.0
        wait = self.wait_initial * self.exp_base ** (attempt - 2) + random.uniform(0, self.jitter)
        return max(0.0, min(wait, self.wait_max))

    # ---- one call: sync and async drivers of `_Attempts` -----------------------------------
    def _call(self, input: Any, config: RunnableConfig | None, **kwargs: Any) -> Any:
        attempts = _Attempts(self)
        while True:
            try:
                return self.bound.invoke(input, attempts.config(config), **kwargs)
            except Exception as exc:
                wait = attempts.retry_after(exc)
                if wait is None:
                    raise
            time.sleep(wait)

    async def _acall(self, input: Any, config: RunnableConfig | None, **kwargs: Any) -> Any:
        attempts = _Attempts(self)
        while True:
            try:
                return await self.bound.ainvoke(input, attempts.config(config), **kwargs)
            except Exception as exc:
                wait = attempts.retry_after(exc)
                if wait is None:
                    raise
            await asyncio.sleep(wait)

    # ---- streams: retried only until the first chunk -------------------------------------
    def _iter(self, input: Any, config: RunnableConfig | None, **kwargs: Any) -> Iterator[Any]:
        attempts = _Attempts(self)
        while True:
            with closing(self.bound.stream(input, attempts.config(config), **kwargs)) as it:
                try:
                    first = next(it)
                except StopIteration:
                    return
                except Exception as exc:
                    wait = attempts.retry_after(exc)
                    if wait is None:
                        raise
                else:
                    yield first
                    yield from it
                    return
            time.sleep(wait)

    async def _aiter(
        self, input: Any, config: RunnableConfig | None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        attempts = _Attempts(self)
        while True:
            async with aclosing(self.bound.astream(input, attempts.config(config), **kwargs)) as it:
                try:
                    first = await it.__anext__()
                except StopAsyncIteration:
                    return
                except Exception as exc:
                    wait = attempts.retry_after(exc)
                    if wait is None:
                        raise
                else:
                    yield first
                    async for chunk in it:
                        yield chunk
                    return
            await asyncio.sleep(wait)

    # ---- batches: only failed inputs run again --------------------------------------------
    def batch(
        self,
        inputs: Sequence[Input],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Output]:
        state = _BatchAttempts(self, inputs, config)
        while True:
            todo, configs = state.todo()
            outs = self.bound.batch(todo, configs, return_exceptions=True, **kwargs)
            wait = state.record(outs)
            if wait is None:
                return state.outputs(return_exceptions)
            time.sleep(wait)

    async def abatch(
        self,
        inputs: Sequence[Input],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Output]:
        state = _BatchAttempts(self, inputs, config)
        while True:
            todo, configs = state.todo()
            outs = await self.bound.abatch(todo, configs, return_exceptions=True, **kwargs)
            wait = state.record(outs)
            if wait is None:
                return state.outputs(return_exceptions)
            await asyncio.sleep(wait)


class _Attempts:
    """The retry decisions for one call: count attempts, pick the wait, know when to stop."""

    __slots__ = ("number", "retry")

    def __init__(self, retry: RunnableRetry[Any, Any]) -> None:
        self.retry = retry
        self.number = 1

    def config(self, config: RunnableConfig | None) -> RunnableConfig | None:
        """The config of the current attempt (tagged ``retry:attempt:N`` from the second)."""
        return config if self.number == 1 else step_config(config, f"retry:attempt:{self.number}")

    def retryable(self, exc: BaseException) -> bool:
        return isinstance(exc, self.retry.retry_if_exception_type)

    def retry_after(self, exc: BaseException) -> float | None:
        """Seconds to wait before retrying after ``exc``, or None when ``exc`` should propagate."""
        if not self.retryable(exc):
            return None
        if self.number >= self.retry.stop_after_attempt:
            self.give_up(exc)
            return None
        self.number += 1
        return self.retry.wait_before(self.number)

    def give_up(self, exc: BaseException) -> None:
        add_note(exc, f"{self.retry.get_name()}: gave up after {self.number} attempt(s)")


class _BatchAttempts:
    """The retry decisions for a batch: which inputs still need a run, and the final outputs."""

    def __init__(
        self,
        retry: RunnableRetry[Any, Any],
        inputs: Sequence[Any],
        config: RunnableConfig | list[RunnableConfig] | None,
    ) -> None:
        self.attempts = _Attempts(retry)
        self.inputs = list(inputs)
        self.configs = config_list(config, len(self.inputs))
        self.results: list[Any] = [_PENDING] * len(self.inputs)
        self.pending = list(range(len(self.inputs)))

    def todo(self) -> tuple[list[Any], list[RunnableConfig]]:
        """The inputs to run in this round, with their configs."""
        configs = [self.attempts.config(self.configs[i]) or {} for i in self.pending]
        return [self.inputs[i] for i in self.pending], configs

    def record(self, outs: Sequence[Any]) -> float | None:
        """Store a round's outputs; return the wait before the next round, or None when done."""
        failed: list[int] = []
        for i, out in zip(self.pending, outs, strict=True):
            self.results[i] = out
            if isinstance(out, Exception) and self.attempts.retryable(out):
                failed.append(i)
        self.pending = failed
        if not failed:
            return None
        wait = self.attempts.retry_after(self.results[failed[0]])
        if wait is None:
            for i in failed[1:]:
                self.attempts.give_up(self.results[i])
        return wait

    def outputs(self, return_exceptions: bool) -> list[Any]:
        if not return_exceptions:
            for out in self.results:
                if isinstance(out, Exception):
                    raise out
        return self.results


def _exception_types(
    types: type[BaseException] | tuple[type[BaseException], ...],
) -> tuple[type[BaseException], ...]:
    if isinstance(types, type):
        types = (types,)
    if (
        not isinstance(types, tuple)
        or not types
        or not all(isinstance(t, type) and issubclass(t, BaseException) for t in types)
    ):
        raise TypeError(
            "retry_if_exception_type must be an exception class or a non-empty tuple of them, "
            f"got {types!r:.80}"
        )
    return types
