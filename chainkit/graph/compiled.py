"""`CompiledChain`: a chain (or a `ChainGraph`) checked as a whole, with its plan computed once.

``chain.compile()`` validates the chain on its graph and returns a `CompiledChain` that runs the
chain itself: the compiled object's hooks *are* the chain's hooks (bound once, here), so a call
costs exactly what calling the chain costs. ``ChainGraph.compile()`` returns a `CompiledChain`
around a `_GraphRunner`, which executes the DAG by topological generations: the nodes of one
generation run concurrently (threads on the sync path, tasks on the async path). The plan —
generations, each node's input wiring — is data computed at compile time; the sync and async
drivers below only execute it.
"""

from __future__ import annotations

import contextvars
import warnings
from collections.abc import AsyncIterator, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import networkx as nx

from chainkit.graph import draw
from chainkit.graph._checks import Checker, input_flow, stream_report
from chainkit.graph.errors import ChainValidationError, ChainWarning, Problem
from chainkit.graph.view import END, START, Graph, graph_of
from chainkit.runnables._errors import annotate
from chainkit.runnables.base import Runnable, gather_limited, is_traced, step_config
from chainkit.runnables.config import RunnableConfig

if TYPE_CHECKING:
    from chainkit.graph.builder import ChainGraph

__all__ = ["CompiledChain", "Plan", "compile_graph", "compile_runnable"]


@dataclass(frozen=True)
class Plan:
    """What `compile()` worked out once, for running and for reading.

    Attributes:
        order: Node ids in topological order (input and output nodes left out).
        generations: Groups of node ids that can run at the same time, in order.
        streaming: The steps that emit a live stream (chunks as they come).
    """

    order: tuple[str, ...]
    generations: tuple[tuple[str, ...], ...]
    streaming: tuple[str, ...]


class CompiledChain(Runnable[Any, Any]):
    """A validated chain or graph; a `Runnable` like any other (invoke, stream, batch, ...).

    Attributes:
        runnable: What runs: the original chain, or the DAG executor of a `ChainGraph`.
        plan: The `Plan` computed at compile time.
        warnings: `Problem` objects with rule ``"buffering"``: steps that cut a stream short.

    Example:
        >>> app = (prompt | model | StrOutputParser()).compile(input_keys=["topic"])
        >>> app.invoke({"topic": "owls"})
        >>> app.plan.streaming
        ('step 2 FakeChatModel', 'step 3 StrOutputParser')
    """

    def __init__(self, runnable: Runnable[Any, Any], *, graph: Graph, plan: Plan,
                 warnings: list[Problem], builder: ChainGraph | None = None,
                 name: str | None = None) -> None:
        self.runnable = runnable
        self.name = name
        self.plan = plan
        self.warnings = list(warnings)
        self._graph = graph
        self._builder = builder
        # Graph views: a compiled `|` chain expands to its chain; a compiled DAG is one step.
        self._graph_kind = "compiled" if builder is None else "graph"
        self._graph_inner = runnable if builder is None else None
        # The hooks are the runnable's own, bound once: no extra call per invoke or chunk.
        self._call = runnable._call  # type: ignore[method-assign]
        self._acall = runnable._acall  # type: ignore[method-assign]
        self._iter = runnable._iter  # type: ignore[method-assign]
        self._aiter = runnable._aiter  # type: ignore[method-assign]
        self._transform = runnable._transform  # type: ignore[method-assign]
        self._atransform = runnable._atransform  # type: ignore[method-assign]
        self._run_extra = runnable._run_extra  # type: ignore[method-assign]
        self.run_type = runnable.run_type  # type: ignore[misc]
        self.streams_input = runnable.streams_input  # type: ignore[misc]
        self.inline = runnable.inline  # type: ignore[misc]

    def get_name(self, suffix: str | None = None) -> str:
        if self.name is None:
            return self.runnable.get_name(suffix)
        return f"{self.name}{suffix}" if suffix else self.name

    def __repr__(self) -> str:
        return f"CompiledChain({self.runnable!r})"

    @property
    def InputType(self) -> Any:  # LangChain's public name
        return self.runnable.InputType

    @property
    def OutputType(self) -> Any:  # LangChain's public name
        return self.runnable.OutputType

    def get_graph(self) -> Graph:
        """The graph validated at compile time."""
        return self._graph

    def compile(self, *, input_keys: Iterable[str] | None = None) -> CompiledChain:
        """Validate again (e.g. with ``input_keys``); without arguments, this chain itself."""
        if input_keys is None:
            return self
        if self._builder is not None:
            return self._builder.compile(input_keys=input_keys)
        return compile_runnable(self.runnable, input_keys)

    # ---- notebook display ---------------------------------------------------------------
    def _repr_svg_(self) -> str:
        return self._graph.draw_svg()

    def _repr_markdown_(self) -> str:
        return draw.markdown(self._graph)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return draw.mimebundle(self._graph, repr(self))


# ---- compiling ---------------------------------------------------------------------------
def compile_runnable(
    runnable: Runnable[Any, Any], input_keys: Iterable[str] | None = None
) -> CompiledChain:
    """Validate ``runnable`` as a whole; return it as a `CompiledChain` (`Runnable.compile`).

    Raises:
        ChainValidationError: Lists every problem found.
    """
    if isinstance(runnable, CompiledChain):
        return runnable.compile(input_keys=input_keys)
    keys = _key_list(input_keys)
    graph = graph_of(runnable)
    checker = Checker()
    checker.run_graph(graph, input_flow(keys))
    if checker.problems:
        raise ChainValidationError(checker.problems, f"chain `{runnable.get_name()}`")
    report = stream_report(runnable)
    steps = graph.nx.subgraph([n for n in graph.nodes if n not in (START, END)])
    plan = Plan(
        tuple(nx.topological_sort(steps)),
        tuple(tuple(g) for g in nx.topological_generations(steps)),
        tuple(report.streaming),
    )
    _warn(report.warnings)
    return CompiledChain(runnable, graph=graph, plan=plan, warnings=report.warnings)


def compile_graph(builder: ChainGraph, input_keys: Iterable[str] | None = None) -> CompiledChain:
    """Validate a `ChainGraph` and return it as a `CompiledChain` (`ChainGraph.compile`)."""
    keys = _key_list(input_keys)
    problems = builder.structure_problems()
    graph = builder.get_graph()
    if not any(p.rule in ("cycle", "no_entry") for p in problems):
        checker = Checker()
        checker.run_graph(graph, input_flow(keys, "the graph input"), keyed_over_input=True)
        problems += checker.problems
    if problems:
        raise ChainValidationError(problems, f"graph `{builder.name}`")
    finish = builder.finish()
    assert finish is not None  # no "no_finish" problem
    nodes = builder.nodes
    steps = graph.nx.subgraph(nodes)
    generations = tuple(tuple(g) for g in nx.topological_generations(steps))
    report = stream_report(nodes[finish], f"node `{finish}`")
    plan = Plan(tuple(nx.topological_sort(steps)), generations, tuple(report.streaming))
    runner = _GraphRunner(builder.name, graph, generations)
    _warn(report.warnings)
    return CompiledChain(runner, graph=graph, plan=plan, warnings=report.warnings,
                         builder=builder)


def _key_list(input_keys: Iterable[str] | None) -> list[str] | None:
    if input_keys is None:
        return None
    if isinstance(input_keys, str):
        raise TypeError(
            f"input_keys must be a list of key names, got the str {input_keys!r}; "
            f"write input_keys=[{input_keys!r}]"
        )
    keys = list(input_keys)
    bad = [k for k in keys if not isinstance(k, str)]
    if bad:
        raise TypeError(f"input_keys must be str, got {bad!r:.80}")
    return keys


def _warn(found: list[Problem]) -> None:
    for problem in found:
        # stacklevel 4: the user's .compile() call (here <- compile_* <- .compile <- user).
        warnings.warn(problem.message, ChainWarning, stacklevel=4)


# ---- running a DAG -----------------------------------------------------------------------
class _Step:
    """One node of the plan: what to run and where its input comes from."""

    __slots__ = ("entry", "keyed", "name", "plain", "runnable", "tag")

    def __init__(self, name: str, runnable: Runnable[Any, Any], keyed: tuple[tuple[str, str], ...],
                 plain: str) -> None:
        self.name = name
        self.runnable = runnable
        self.keyed = keyed  # (key, source node)
        self.plain = plain  # the un-keyed source (START for the graph input)
        self.entry = plain == START and not keyed
        self.tag = f"graph:node:{name}"

    def input(self, results: dict[str, Any]) -> Any:
        base = results[self.plain]
        if not self.keyed:
            return base
        values = {key: results[source] for key, source in self.keyed}
        if isinstance(base, dict):
            return {**base, **values}
        if self.plain != START:
            raise TypeError(
                f"node {self.name!r} merges its keyed inputs {sorted(values)} over the output "
                f"of node {self.plain!r}, which must be a dict; got {type(base).__name__}: "
                f"{base!r:.60}"
            )
        return values


def _node_config(config: RunnableConfig | None, step: _Step) -> RunnableConfig:
    """A traced node's config: tagged, and its run named after the node (as LangGraph does)."""
    cfg = step_config(config, step.tag)
    return cast(RunnableConfig, {**(cfg or {}), "run_name": step.name})


class _Generation:
    __slots__ = ("inline", "steps", "threaded")

    def __init__(self, steps: list[_Step]) -> None:
        self.steps = steps
        self.inline = [s for s in steps if s.runnable.inline]
        self.threaded = [s for s in steps if not s.runnable.inline]


class _GraphRunner(Runnable[Any, Any]):
    """Executes a validated `ChainGraph`, generation by generation."""

    def __init__(self, name: str, graph: Graph,
                 generations: tuple[tuple[str, ...], ...]) -> None:
        self.name = name
        steps: dict[str, _Step] = {}
        for node_id in (n for g in generations for n in g):
            edges = graph.in_edges(node_id)
            keyed = tuple((e.key, e.source) for e in edges if e.key is not None)
            plain = next((e.source for e in edges if e.key is None), START)
            runnable = graph.nodes[node_id].runnable
            assert runnable is not None
            steps[node_id] = _Step(node_id, runnable, keyed, plain)
        self.generations = [_Generation([steps[n] for n in g]) for g in generations]
        self.finish = self.generations[-1].steps[0]

    def __repr__(self) -> str:
        names = [s.name for g in self.generations for s in g.steps]
        return f"ChainGraph({self.name!r}, nodes={names})"

    def _fail(self, exc: BaseException, step: _Step) -> None:
        annotate(exc, id(self), self.get_name(), f"node {step.name!r}", step.runnable.get_name())

    # ---- sync driver --------------------------------------------------------------------
    def _run(self, step: _Step, results: dict[str, Any], config: RunnableConfig | None,
             kwargs: dict[str, Any]) -> Any:
        kw = kwargs if step.entry else {}
        try:
            x = step.input(results)
            if is_traced(config):
                return step.runnable.invoke(x, _node_config(config, step), **kw)
            return step.runnable._call(x, config, **kw)
        except Exception as exc:
            self._fail(exc, step)
            raise

    def _run_until(self, input: Any, config: RunnableConfig | None, kwargs: dict[str, Any],
                   stop: int) -> dict[str, Any]:
        results: dict[str, Any] = {START: input}
        for generation in self.generations[:stop]:
            threaded = generation.threaded
            if len(threaded) <= 1:
                for step in generation.steps:
                    results[step.name] = self._run(step, results, config, kwargs)
                continue
            limit = (config or {}).get("max_concurrency") or len(threaded)
            with ThreadPoolExecutor(max_workers=min(limit, len(threaded))) as pool:
                futures = [
                    (s, pool.submit(contextvars.copy_context().run, self._run, s, results,
                                    config, kwargs))
                    for s in threaded
                ]
                try:
                    for step in generation.inline:
                        results[step.name] = self._run(step, results, config, kwargs)
                    for step, future in futures:
                        results[step.name] = future.result()
                finally:
                    for _, future in futures:
                        future.cancel()
        return results

    def _call(self, input: Any, config: RunnableConfig | None, **kwargs: Any) -> Any:
        results = self._run_until(input, config, kwargs, len(self.generations))
        return results[self.finish.name]

    def _iter(self, input: Any, config: RunnableConfig | None, **kwargs: Any) -> Iterator[Any]:
        results = self._run_until(input, config, kwargs, len(self.generations) - 1)
        step = self.finish
        try:
            x = step.input(results)
            kw = kwargs if step.entry else {}
            if is_traced(config):
                yield from step.runnable.stream(x, _node_config(config, step), **kw)
            else:
                yield from step.runnable._iter(x, config, **kw)
        except Exception as exc:
            self._fail(exc, step)
            raise

    # ---- async driver -------------------------------------------------------------------
    async def _arun(self, step: _Step, results: dict[str, Any], config: RunnableConfig | None,
                    kwargs: dict[str, Any]) -> Any:
        kw = kwargs if step.entry else {}
        try:
            x = step.input(results)
            if is_traced(config):
                return await step.runnable.ainvoke(x, _node_config(config, step), **kw)
            return await step.runnable._acall(x, config, **kw)
        except Exception as exc:
            self._fail(exc, step)
            raise

    async def _arun_until(self, input: Any, config: RunnableConfig | None,
                          kwargs: dict[str, Any], stop: int) -> dict[str, Any]:
        results: dict[str, Any] = {START: input}
        limit = (config or {}).get("max_concurrency")
        for generation in self.generations[:stop]:
            steps = generation.steps
            if len(steps) == 1:
                results[steps[0].name] = await self._arun(steps[0], results, config, kwargs)
                continue
            values = await gather_limited(
                [self._arun(s, results, config, kwargs) for s in steps], limit
            )
            for step, value in zip(steps, values, strict=True):
                results[step.name] = value
        return results

    async def _acall(self, input: Any, config: RunnableConfig | None, **kwargs: Any) -> Any:
        results = await self._arun_until(input, config, kwargs, len(self.generations))
        return results[self.finish.name]

    async def _aiter(self, input: Any, config: RunnableConfig | None,
                     **kwargs: Any) -> AsyncIterator[Any]:
        results = await self._arun_until(input, config, kwargs, len(self.generations) - 1)
        step = self.finish
        try:
            x = step.input(results)
            kw = kwargs if step.entry else {}
            if is_traced(config):
                stream = step.runnable.astream(x, _node_config(config, step), **kw)
            else:
                stream = step.runnable._aiter(x, config, **kw)
            async for chunk in stream:
                yield chunk
        except Exception as exc:
            self._fail(exc, step)
            raise
