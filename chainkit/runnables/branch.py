"""`RunnableBranch`: run the first branch whose condition holds, else the default.

Conditions are evaluated in order on the step's input and only until one is true; the chosen
branch then runs on the same input (and, when streaming, its stream is forwarded). Errors from
a condition or a branch keep their type and get a ``chain path`` note naming which one failed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

from chainkit.runnables._errors import annotate
from chainkit.runnables._sync import aclosing
from chainkit.runnables.base import Input, Output, Runnable, coerce_to_runnable, step_config
from chainkit.runnables.config import RunnableConfig

_DEFAULT = -1  # index of the default branch in error notes and tags


class RunnableBranch(Runnable[Input, Output]):
    """``RunnableBranch((cond, runnable), ..., default)``: a chain's if / elif / else.

    Each condition is a runnable or a callable returning something truthy; each branch and the
    default are runnables, callables or dicts (coerced as in ``|``).

    Example:
        >>> route = RunnableBranch(
        ...     (lambda x: x < 0, lambda x: "negative"),
        ...     (lambda x: x == 0, lambda x: "zero"),
        ...     lambda x: "positive",
        ... )
        >>> route.invoke(-3), route.invoke(0), route.invoke(5)
        ('negative', 'zero', 'positive')
    """

    def __init__(self, *branches: Any, name: str | None = None) -> None:
        if len(branches) < 2:
            raise ValueError(
                "RunnableBranch needs at least one (condition, runnable) pair and a default, got "
                f"{len(branches)} argument(s)"
            )
        *pairs, default = branches
        if not _coercible(default):
            raise TypeError(
                "RunnableBranch default (the last argument) must be a Runnable, a callable or a "
                f"dict, got {type(default).__name__}: {default!r:.60}"
            )
        self.branches: list[tuple[Runnable[Any, Any], Runnable[Any, Any]]] = []
        for i, pair in enumerate(pairs, 1):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError(
                    f"RunnableBranch argument {i} must be a (condition, runnable) pair, got "
                    f"{type(pair).__name__}: {pair!r:.60}"
                )
            condition, runnable = pair
            for role, part in (("condition", condition), ("runnable", runnable)):
                if not _coercible(part) or (role == "condition" and isinstance(part, Mapping)):
                    raise TypeError(
                        f"RunnableBranch argument {i}: the {role} must be a Runnable or a "
                        f"callable, got {type(part).__name__}: {part!r:.60}"
                    )
            self.branches.append((coerce_to_runnable(condition), coerce_to_runnable(runnable)))
        self.default: Runnable[Any, Any] = coerce_to_runnable(default)
        self.name = name

    def __repr__(self) -> str:
        pairs = ", ".join(f"({c!r}, {r!r})" for c, r in self.branches)
        return f"RunnableBranch(branches=[{pairs}], default={self.default!r})"

    def _fail(self, exc: BaseException, where: str, step: Runnable[Any, Any]) -> None:
        annotate(exc, id(self), self.get_name(), where, step.get_name())

    # ---- choosing: the conditions run through their public methods, so they are observed ---
    def _choose(self, input: Any, config: RunnableConfig | None) -> tuple[int, Runnable[Any, Any]]:
        for i, (condition, runnable) in enumerate(self.branches):
            try:
                holds = condition.invoke(input, step_config(config, f"condition:{i + 1}"))
            except Exception as exc:
                self._fail(exc, f"condition {i + 1}", condition)
                raise
            if holds:
                return i, runnable
        return _DEFAULT, self.default

    async def _achoose(
        self, input: Any, config: RunnableConfig | None
    ) -> tuple[int, Runnable[Any, Any]]:
        for i, (condition, runnable) in enumerate(self.branches):
            try:
                holds = await condition.ainvoke(input, step_config(config, f"condition:{i + 1}"))
            except Exception as exc:
                self._fail(exc, f"condition {i + 1}", condition)
                raise
            if holds:
                return i, runnable
        return _DEFAULT, self.default

    def _where(self, i: int, config: RunnableConfig | None) -> tuple[str, RunnableConfig | None]:
        """The error-note label and child config of branch ``i``."""
        label = "default" if i == _DEFAULT else f"branch {i + 1}"
        tag = "branch:default" if i == _DEFAULT else f"branch:{i + 1}"
        return label, step_config(config, tag)

    # ---- running the chosen branch -------------------------------------------------------
    def _call(self, input: Any, config: RunnableConfig | None, **kwargs: Any) -> Any:
        i, runnable = self._choose(input, config)
        label, cfg = self._where(i, config)
        try:
            return runnable.invoke(input, cfg, **kwargs)
        except Exception as exc:
            self._fail(exc, label, runnable)
            raise

    async def _acall(self, input: Any, config: RunnableConfig | None, **kwargs: Any) -> Any:
        i, runnable = await self._achoose(input, config)
        label, cfg = self._where(i, config)
        try:
            return await runnable.ainvoke(input, cfg, **kwargs)
        except Exception as exc:
            self._fail(exc, label, runnable)
            raise

    # The conditions need the whole input, so the base class buffers an input stream and
    # calls these.
    def _iter(self, input: Any, config: RunnableConfig | None, **kwargs: Any) -> Iterator[Any]:
        i, runnable = self._choose(input, config)
        label, cfg = self._where(i, config)
        try:
            yield from runnable.stream(input, cfg, **kwargs)
        except Exception as exc:
            self._fail(exc, label, runnable)
            raise

    async def _aiter(
        self, input: Any, config: RunnableConfig | None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        i, runnable = await self._achoose(input, config)
        label, cfg = self._where(i, config)
        try:
            async with aclosing(runnable.astream(input, cfg, **kwargs)) as it:
                async for chunk in it:
                    yield chunk
        except Exception as exc:
            self._fail(exc, label, runnable)
            raise


def _coercible(thing: object) -> bool:
    return isinstance(thing, (Runnable, Mapping)) or callable(thing)
