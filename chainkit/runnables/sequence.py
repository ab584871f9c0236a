"""`RunnableSequence`: ``a | b | c``, each step's output the next step's input.

Unobserved, ``invoke`` is a plain loop over the steps' ``_call`` hooks (no config copies, no
runs). On the async path, consecutive steps that would each hop to a worker thread anyway (plain
sync functions) share one hop. Streaming chains each step's ``transform`` onto the previous
step's stream, so the first token of a model reaches the caller through every streaming step
after it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from chainkit.runnables._errors import annotate
from chainkit.runnables._sync import aclosing
from chainkit.runnables.base import Input, Output, Runnable, is_traced, step_config
from chainkit.runnables.config import RunnableConfig


class RunnableSequence(Runnable[Input, Output]):
    """Steps run one after another; built with ``|``.

    Example:
        >>> chain = prompt | model | StrOutputParser()
        >>> chain.steps[1] is model
        True
    """

    __slots__ = ("_async_plan", "_rest", "first", "last", "middle", "name", "steps")

    def __init__(self, *steps: Runnable[Any, Any], name: str | None = None) -> None:
        flat: list[Runnable[Any, Any]] = []
        for step in steps:
            if not isinstance(step, Runnable):
                raise TypeError(
                    f"RunnableSequence step {len(flat) + 1} is {type(step).__name__}, "
                    "not a Runnable"
                )
            # Flatten unnamed inner sequences so a | b | c is one level deep.
            if type(step) is RunnableSequence and step.name is None:
                flat.extend(step.steps)
            else:
                flat.append(step)
        if len(flat) < 2:
            raise ValueError(f"a RunnableSequence needs at least 2 steps, got {len(flat)}")
        self.steps: tuple[Runnable[Any, Any], ...] = tuple(flat)
        self.first = flat[0]
        self.middle = tuple(flat[1:-1])
        self.last = flat[-1]
        self.name = name
        self._rest = tuple(flat[1:])
        self._async_plan = _plan_async(flat)
        # The chain consumes its input incrementally exactly when its first step does.
        self.streams_input = flat[0].streams_input  # type: ignore[misc]

    def __repr__(self) -> str:
        return "\n| ".join(repr(s) for s in self.steps)

    @property
    def InputType(self) -> Any:  # LangChain's public name
        return self.first.InputType

    @property
    def OutputType(self) -> Any:  # LangChain's public name
        return self.last.OutputType

    def get_input_schema(self) -> type[Any]:
        return self.first.get_input_schema()

    def get_output_schema(self) -> type[Any]:
        return self.last.get_output_schema()

    def __or__(self, other: Any) -> RunnableSequence[Input, Any]:
        from chainkit.runnables.base import coerce_to_runnable

        if self.name is None:
            return RunnableSequence(*self.steps, coerce_to_runnable(other))
        return RunnableSequence(self, coerce_to_runnable(other))

    def __ror__(self, other: Any) -> RunnableSequence[Any, Output]:
        from chainkit.runnables.base import coerce_to_runnable

        if self.name is None:
            return RunnableSequence(coerce_to_runnable(other), *self.steps)
        return RunnableSequence(coerce_to_runnable(other), self)

    def _fail(self, exc: BaseException, i: int) -> None:
        where = f"step {i + 1}/{len(self.steps)}"
        annotate(exc, id(self), self.get_name(), where, self.steps[i].get_name())

    # ---- one call -------------------------------------------------------------------
    def _call(self, input: Any, config: RunnableConfig | None, **kwargs: Any) -> Any:
        i = 0
        try:
            if config is None or not is_traced(config):
                x = self.first._call(input, config, **kwargs)
                for i, step in enumerate(self._rest, 1):  # noqa: B007 - i used on error
                    x = step._call(x, config)
                return x
            x = input
            for i, step in enumerate(self.steps):
                cfg = step_config(config, f"seq:step:{i + 1}")
                x = step.invoke(x, cfg, **kwargs) if i == 0 else step.invoke(x, cfg)
            return x
        except Exception as exc:
            self._fail(exc, i)
            raise

    async def _acall(self, input: Any, config: RunnableConfig | None, **kwargs: Any) -> Any:
        i = 0
        try:
            if config is None or not is_traced(config):
                x = input
                for i, stop in self._async_plan:
                    kw = kwargs if i == 0 else {}
                    if stop == i + 1:
                        x = await self.steps[i]._acall(x, config, **kw)
                    else:
                        x = await asyncio.to_thread(self._call_steps, i, stop, x, config, kw)
                return x
            x = input
            for i, step in enumerate(self.steps):
                cfg = step_config(config, f"seq:step:{i + 1}")
                x = await (step.ainvoke(x, cfg, **kwargs) if i == 0 else step.ainvoke(x, cfg))
            return x
        except Exception as exc:
            self._fail(exc, i)
            raise

    def _call_steps(
        self, start: int, stop: int, x: Any, config: RunnableConfig | None, kwargs: dict[str, Any]
    ) -> Any:
        """Steps ``start..stop-1`` in a row, sync (in one worker thread, from `_acall`)."""
        i = start
        try:
            x = self.steps[start]._call(x, config, **kwargs)
            for i in range(start + 1, stop):
                x = self.steps[i]._call(x, config)
            return x
        except Exception as exc:
            self._fail(exc, i)
            raise

    # ---- streams --------------------------------------------------------------------
    # Each step's transform is chained onto the previous step's stream, and ONE guard wraps
    # the end of the chain: no per-step wrapper generators on the per-chunk path. On error the
    # guard finds the failing step from the traceback (the deepest frame whose ``self`` is one
    # of our steps); on exit it closes every step's iterator, downstream first, so a consumer
    # that stops early runs each step's ``finally`` at once.

    def _iter(self, input: Any, config: RunnableConfig | None, **kwargs: Any) -> Iterator[Any]:
        if is_traced(config):
            first = self.first.stream(input, step_config(config, "seq:step:1"), **kwargs)
        else:
            first = self.first._iter(input, config, **kwargs)
        return self._guard(*self._chain(first, config, 1, {}))

    def _transform(
        self, chunks: Iterator[Any], config: RunnableConfig | None, **kwargs: Any
    ) -> Iterator[Any]:
        return self._guard(*self._chain(chunks, config, 0, kwargs))

    async def _aiter(
        self, input: Any, config: RunnableConfig | None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        if is_traced(config):
            first = self.first.astream(input, step_config(config, "seq:step:1"), **kwargs)
        else:
            first = self.first._aiter(input, config, **kwargs)
        async with aclosing(self._aguard(*self._achain(first, config, 1, {}))) as it:
            async for chunk in it:
                yield chunk

    async def _atransform(
        self, chunks: AsyncIterator[Any], config: RunnableConfig | None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        async with aclosing(self._aguard(*self._achain(chunks, config, 0, kwargs))) as it:
            async for chunk in it:
                yield chunk

    def _chain(
        self, it: Iterator[Any], config: RunnableConfig | None, start: int, kwargs: dict[str, Any]
    ) -> tuple[Iterator[Any], list[Iterator[Any]]]:
        """Chain steps ``start..`` onto ``it``; ``kwargs`` go to the chain's first step only."""
        traced = is_traced(config)
        parts = [it]
        for i in range(start, len(self.steps)):
            step = self.steps[i]
            kw = kwargs if i == 0 else {}
            if traced:
                it = step.transform(it, step_config(config, f"seq:step:{i + 1}"), **kw)
            else:
                it = step._transform(it, config, **kw)
            parts.append(it)
        return it, parts

    def _achain(
        self,
        it: AsyncIterator[Any],
        config: RunnableConfig | None,
        start: int,
        kwargs: dict[str, Any],
    ) -> tuple[AsyncIterator[Any], list[AsyncIterator[Any]]]:
        traced = is_traced(config)
        parts = [it]
        for i in range(start, len(self.steps)):
            step = self.steps[i]
            kw = kwargs if i == 0 else {}
            if traced:
                it = step.atransform(it, step_config(config, f"seq:step:{i + 1}"), **kw)
            else:
                it = step._atransform(it, config, **kw)
            parts.append(it)
        return it, parts

    def _guard(self, it: Iterator[Any], parts: list[Iterator[Any]]) -> Iterator[Any]:
        try:
            yield from it
        except Exception as exc:
            self._fail(exc, self._failed_step(exc))
            raise
        finally:
            for part in reversed(parts):
                close = getattr(part, "close", None)
                if close is not None:
                    close()

    async def _aguard(
        self, it: AsyncIterator[Any], parts: list[AsyncIterator[Any]]
    ) -> AsyncIterator[Any]:
        try:
            async for chunk in it:
                yield chunk
        except Exception as exc:
            self._fail(exc, self._failed_step(exc))
            raise
        finally:
            # A step that stops reading its input does not close it, and an unclosed async
            # generator is only finalized later by the event loop: close them all, in order.
            for part in reversed(parts):
                aclose = getattr(part, "aclose", None)
                if aclose is not None:
                    await aclose()

    def _failed_step(self, exc: BaseException) -> int:
        """Index of the step an exception came from: the deepest traceback frame whose
        ``self`` is one of this sequence's steps (error path only)."""
        index = {id(step): i for i, step in enumerate(self.steps)}
        found = 0
        tb = exc.__traceback__
        while tb is not None:
            owner = tb.tb_frame.f_locals.get("self")
            if owner is not None and id(owner) in index:
                found = index[id(owner)]
            tb = tb.tb_next
        return found


def _plan_async(steps: Sequence[Runnable[Any, Any]]) -> tuple[tuple[int, int], ...]:
    """Split the steps into ``(start, stop)`` runs for `_acall`: a run of two or more steps
    whose async path only moves their sync work to a thread is called in one thread hop."""
    plan: list[tuple[int, int]] = []
    i = 0
    while i < len(steps):
        stop = i + 1
        if steps[i].async_in_thread:
            while stop < len(steps) and steps[stop].async_in_thread:
                stop += 1
        plan.append((i, stop))
        i = stop
    return tuple(plan)
