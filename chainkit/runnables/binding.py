"""`RunnableBinding`: a runnable with some call arguments fixed (``bind``) or some config fixed
(``with_config``).

A binding is transparent: it records no run of its own. Each call merges the bound keyword
arguments (the call's win) and the bound config (`merge_configs`) and calls the bound
runnable's *public* method, so a config that carries callbacks is observed as usual. Nothing
is merged when there is nothing to merge. Attributes it does not have are read from the bound
runnable: ``model.bind(stop=["\\n"]).model_name`` works.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any

from chainkit.runnables.base import Input, Output, Runnable
from chainkit.runnables.config import RunnableConfig, check_config, merge_configs

# Keyword arguments whose values never appear in a repr.
_SECRET = re.compile(
    r"(api_?key|secret|password|passwd|credential|authorization|(^|_)token$)", re.IGNORECASE
)


class RunnableBinding(Runnable[Input, Output]):
    """``bound`` with fixed keyword arguments and/or config.

    Example:
        >>> terse = model.bind(stop=["\\n"], max_tokens=20)
        >>> terse.invoke("Name a colour")        # model.invoke(..., stop=["\\n"], max_tokens=20)
        >>> tagged = chain.with_config(tags=["demo"], run_name="colours")
    """

    def __init__(
        self,
        bound: Runnable[Input, Output],
        kwargs: Mapping[str, Any] | None = None,
        config: RunnableConfig | None = None,
    ) -> None:
        if not isinstance(bound, Runnable):
            raise TypeError(
                f"RunnableBinding needs a Runnable to bind, got {type(bound).__name__}: "
                f"{bound!r:.60}"
            )
        self.bound: Runnable[Input, Output] = bound
        self.kwargs: dict[str, Any] = dict(kwargs or {})
        self.config: RunnableConfig = check_config(config) or {}
        # Composites treat a binding like the step it wraps.
        self.streams_input = bound.streams_input  # type: ignore[misc]
        self.inline = bound.inline  # type: ignore[misc]

    def __getattr__(self, name: str) -> Any:
        # Only reached for attributes a binding lacks. "bound" itself missing means the object
        # is half-built (copy, unpickling): do not recurse.
        if name == "bound" or name.startswith("__"):
            raise AttributeError(name)
        try:
            return getattr(self.bound, name)
        except AttributeError:
            raise AttributeError(
                f"neither {type(self).__name__} nor the bound {type(self.bound).__name__} has "
                f"attribute {name!r}"
            ) from None

    def get_name(self, suffix: str | None = None) -> str:
        run_name = self.config.get("run_name")
        if self.name is None and run_name is None:
            return self.bound.get_name(suffix)
        name = self.name or str(run_name)
        return f"{name}{suffix}" if suffix else name

    @property
    def run_type(self) -> str:  # type: ignore[override]
        return self.bound.run_type

    def __repr__(self) -> str:
        kwargs = {k: "***" if _SECRET.search(k) else v for k, v in self.kwargs.items()}
        config = {k: v for k, v in self.config.items() if k != "callbacks"}
        return f"RunnableBinding(bound={self.bound!r}, kwargs={kwargs!r}, config={config!r})"

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

    # ---- composing bindings ---------------------------------------------------------------
    def bind(self, **kwargs: Any) -> RunnableBinding[Input, Output]:
        """A binding of the same runnable with these keyword arguments added (they win)."""
        return RunnableBinding(self.bound, {**self.kwargs, **kwargs}, self.config)

    def with_config(
        self, config: RunnableConfig | None = None, **kwargs: Any
    ) -> RunnableBinding[Input, Output]:
        """A binding of the same runnable with this config merged over the bound one."""
        extra = check_config({**(config or {}), **kwargs})
        return RunnableBinding(self.bound, self.kwargs, merge_configs(self.config, extra))

    # ---- merging: once, for every method --------------------------------------------------
    def _cfg(self, config: RunnableConfig | None) -> RunnableConfig | None:
        if not self.config:
            return config
        return merge_configs(self.config, check_config(config))

    def _kw(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        if not kwargs:
            return self.kwargs
        return {**self.kwargs, **kwargs} if self.kwargs else kwargs

    def _cfgs(
        self, config: RunnableConfig | list[RunnableConfig] | None
    ) -> RunnableConfig | list[RunnableConfig] | None:
        if isinstance(config, list):
            if not self.config:
                return config
            return [merge_configs(self.config, check_config(c)) for c in config]
        return self._cfg(config)

    # ---- public methods: straight to the bound runnable's (no run for the binding) -------
    def invoke(self, input: Input, config: RunnableConfig | None = None, **kwargs: Any) -> Output:
        return self.bound.invoke(input, self._cfg(config), **self._kw(kwargs))

    async def ainvoke(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Output:
        return await self.bound.ainvoke(input, self._cfg(config), **self._kw(kwargs))

    def stream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        return self.bound.stream(input, self._cfg(config), **self._kw(kwargs))

    def astream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        return self.bound.astream(input, self._cfg(config), **self._kw(kwargs))

    def transform(
        self, input: Iterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        return self.bound.transform(input, self._cfg(config), **self._kw(kwargs))

    def atransform(
        self, input: AsyncIterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        return self.bound.atransform(input, self._cfg(config), **self._kw(kwargs))

    def batch(
        self,
        inputs: Sequence[Input],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Output]:
        return self.bound.batch(
            inputs, self._cfgs(config), return_exceptions=return_exceptions, **self._kw(kwargs)
        )

    async def abatch(
        self,
        inputs: Sequence[Input],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Output]:
        return await self.bound.abatch(
            inputs, self._cfgs(config), return_exceptions=return_exceptions, **self._kw(kwargs)
        )

    def batch_as_completed(
        self,
        inputs: Sequence[Input],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> Iterator[tuple[int, Output | Exception]]:
        return self.bound.batch_as_completed(
            inputs, self._cfgs(config), return_exceptions=return_exceptions, **self._kw(kwargs)
        )

    def abatch_as_completed(
        self,
        inputs: Sequence[Input],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> AsyncIterator[tuple[int, Output | Exception]]:
        return self.bound.abatch_as_completed(
            inputs, self._cfgs(config), return_exceptions=return_exceptions, **self._kw(kwargs)
        )

    # ---- hooks: what composites call in their quiet path; same as the public methods ------
    def _call(self, input: Any, config: RunnableConfig | None, **kwargs: Any) -> Any:
        return self.bound.invoke(input, self._cfg(config), **self._kw(kwargs))

    async def _acall(self, input: Any, config: RunnableConfig | None, **kwargs: Any) -> Any:
        return await self.bound.ainvoke(input, self._cfg(config), **self._kw(kwargs))

    def _iter(self, input: Any, config: RunnableConfig | None, **kwargs: Any) -> Iterator[Any]:
        return self.bound.stream(input, self._cfg(config), **self._kw(kwargs))

    def _aiter(
        self, input: Any, config: RunnableConfig | None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        return self.bound.astream(input, self._cfg(config), **self._kw(kwargs))

    def _transform(
        self, chunks: Iterator[Any], config: RunnableConfig | None, **kwargs: Any
    ) -> Iterator[Any]:
        return self.bound.transform(chunks, self._cfg(config), **self._kw(kwargs))

    def _atransform(
        self, chunks: AsyncIterator[Any], config: RunnableConfig | None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        return self.bound.atransform(chunks, self._cfg(config), **self._kw(kwargs))
