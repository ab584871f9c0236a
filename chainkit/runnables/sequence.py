"""`RunnableSequence`: ``a | b | c``, each step's output the next step's input.

Unobserved, ``invoke`` is a plain loop over the steps' ``_call`` hooks (no config copies, no
runs). Streaming chains each step's ``transform`` onto the previous step's stream, so the first
token of a model reaches the caller through every streaming step after it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from chainkit.runnables._errors import annotate
from chainkit.runnables.base import Input, Output, Runnable, is_traced, step_config
from chainkit.runnables.config import RunnableConfig


class RunnableSequence(Runnable[Input, Output]):
    """Steps run one after another; built with ``|``.

    Example:
        >>> chain = prompt | model | StrOutputParser()
        >>> chain.steps[1] is model
        True
    """

    __slots__ = ("first", "last", "middle", "name", "steps")

    def __init__(self, *steps: Runnable[Any, Any], name: str | None = None) -> None:
        flat: list[Runnable[Any, Any]] = []
        for step in steps:
            if not isinstance(step, Runnable):
                raise TypeError(
                    f"RunnableSequence step {len(flat) + 1} is {type(step).__name__}, not a Runnable"
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

    def __repr__(self) -> str:
        return "\n| ".join(repr(s) for s in self.steps)

    @property
    def InputType(self) -> Any:  # noqa: N802
        return self.first.InputType

    @property
    def OutputType(self) -> Any:  # noqa: N802
        return self.last.OutputType

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
        annotate(exc, id(self), self.get_name(), f"step {i + 1}/{len(self.steps)}", self.steps[i].get_name())

    # ---- one call -------------------------------------------------------------------
    def _call(self, input: Any, config: RunnableConfig | None, **kwargs: Any) -> Any:
        i = 0
        try:
            if not is_traced(config):
                x = self.first._call(input, config, **kwargs)
                for i, step in enumerate(self.steps[1:], 1):  # noqa: B007 - i used on error
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
            if not is_traced(config):
                x = await self.first._acall(input, config, **kwargs)
                for i, step in enumerate(self.steps[1:], 1):  # noqa: B007
                    x = await step._acall(x, config)
                return x
            x = input
            for i, step in enumerate(self.steps):
                cfg = step_config(config, f"seq:step:{i + 1}")
                x = await (step.ainvoke(x, cfg, **kwargs) if i == 0 else step.ainvoke(x, cfg))
            return x
        except Exception as exc:
            self._fail(exc, i)
            raise

    # ---- streams --------------------------------------------------------------------
    def _iter(self, input: Any, config: RunnableConfig | None, **kwargs: Any) -> Iterator[Any]:
        return self._pipe(self.steps[0].stream(input, step_config(config, "seq:step:1"), **kwargs)
                          if is_traced(config) else self.first._iter(input, config, **kwargs),
                          config, 1)

    def _transform(
        self, chunks: Iterator[Any], config: RunnableConfig | None, **kwargs: Any
    ) -> Iterator[Any]:
        return self._pipe(chunks, config, 0)

    def _pipe(self, it: Iterator[Any], config: RunnableConfig | None, start: int) -> Iterator[Any]:
        if start:
            it = self._guard(it, 0)
        traced = is_traced(config)
        for i in range(start, len(self.steps)):
            step = self.steps[i]
            it = (step.transform(it, step_config(config, f"seq:step:{i + 1}")) if traced
                  else step._transform(it, config))
            it = self._guard(it, i)
        return it

    def _guard(self, it: Iterator[Any], i: int) -> Iterator[Any]:
        try:
            yield from it
        except Exception as exc:
            self._fail(exc, i)
            raise

    async def _aiter(
        self, input: Any, config: RunnableConfig | None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        first = (self.steps[0].astream(input, step_config(config, "seq:step:1"), **kwargs)
                 if is_traced(config) else self.first._aiter(input, config, **kwargs))
        async for chunk in self._apipe(first, config, 1):
            yield chunk

    async def _atransform(
        self, chunks: AsyncIterator[Any], config: RunnableConfig | None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        async for chunk in self._apipe(chunks, config, 0):
            yield chunk

    def _apipe(
        self, it: AsyncIterator[Any], config: RunnableConfig | None, start: int
    ) -> AsyncIterator[Any]:
        if start:
            it = self._aguard(it, 0)
        traced = is_traced(config)
        for i in range(start, len(self.steps)):
            step = self.steps[i]
            it = (step.atransform(it, step_config(config, f"seq:step:{i + 1}")) if traced
                  else step._atransform(it, config))
            it = self._aguard(it, i)
        return it

    async def _aguard(self, it: AsyncIterator[Any], i: int) -> AsyncIterator[Any]:
        try:
            async for chunk in it:
                yield chunk
        except Exception as exc:
            self._fail(exc, i)
            raise
        finally:
            aclose = getattr(it, "aclose", None)
            if aclose is not None:
                await aclose()
