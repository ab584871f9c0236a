"""`ChainGraph`: the data-flow contract, every structural rule, concurrency, sync and async."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from chainkit.graph import ChainGraph, ChainValidationError, CompiledChain
from chainkit.models.fake import FakeListChatModel
from chainkit.parsers import StrOutputParser
from chainkit.prompts import ChatPromptTemplate
from chainkit.runnables import RunnableLambda
from chainkit.runnables._errors import chain_path


def rag() -> ChainGraph:
    prompt = ChatPromptTemplate.from_messages([("human", "{question} | {context}")])
    g = ChainGraph("rag")
    g.add_node("retrieve", lambda x: f"docs about {x['question']}")
    g.add_node("answer", prompt | FakeListChatModel(responses=["an answer"]) | StrOutputParser())
    g.add_edge("retrieve", "answer", key="context")
    g.set_entry("retrieve")
    g.set_finish("answer")
    return g


def problems_of(g: ChainGraph, **kw: Any) -> list[Any]:
    with pytest.raises(ChainValidationError) as info:
        g.compile(**kw)
    return info.value.problems


# ---- running --------------------------------------------------------------------------------
async def test_compiled_graph_is_a_runnable_sync_and_async() -> None:
    app = rag().compile(input_keys=["question"])
    assert isinstance(app, CompiledChain)
    x = {"question": "owls"}
    assert app.invoke(x) == "an answer"
    assert await app.ainvoke(x) == "an answer"
    assert "".join(app.stream(x)) == "an answer"
    assert "".join([c async for c in app.astream(x)]) == "an answer"
    assert app.batch([x, x]) == ["an answer"] * 2
    assert await app.abatch([x, x]) == ["an answer"] * 2
    assert app.get_name() == "rag"


async def test_astream_events_sees_the_nodes() -> None:
    app = rag().compile()
    events = [e async for e in app.astream_events({"question": "owls"}, version="v2")]
    starts = [e["name"] for e in events if e["event"].endswith("_start")]
    assert starts == ["rag", "retrieve", "answer", "ChatPromptTemplate", "FakeListChatModel",
                      "StrOutputParser"]
    assert "graph:node:answer" in next(e for e in events if e["name"] == "answer")["tags"]
    assert events[0]["event"] == "on_chain_start" and events[0]["name"] == "rag"


def _echo_graph(edges: list[tuple[str, str, str | None]], nodes: dict[str, Any],
                finish: str) -> CompiledChain:
    g = ChainGraph()
    for name, fn in nodes.items():
        g.add_node(name, fn)
    for s, t, k in edges:
        g.add_edge(s, t, key=k)
    g.set_finish(finish)
    return g.compile()


def test_keyed_edges_merge_over_a_dict_input() -> None:
    seen: list[Any] = []
    app = _echo_graph(
        [("a", "b", "context")],
        {"a": lambda x: "A", "b": lambda x: seen.append(x) or "done"},
        "b",
    )
    assert app.invoke({"question": "q", "context": "old"}) == "done"
    assert seen == [{"question": "q", "context": "A"}]


def test_keyed_edges_alone_when_the_input_is_not_a_dict() -> None:
    app = _echo_graph([("a", "b", "k")], {"a": lambda x: x * 2, "b": lambda d: d}, "b")
    assert app.invoke(3) == {"k": 6}


def test_unkeyed_edge_passes_the_output_as_is() -> None:
    app = _echo_graph([("a", "b", None)], {"a": lambda x: x + 1, "b": lambda x: x * 10}, "b")
    assert app.invoke(1) == 20


def test_keyed_and_unkeyed_edges_together() -> None:
    app = _echo_graph(
        [("a", "c", None), ("b", "c", "extra")],
        {"a": lambda x: {"from_a": 1}, "b": lambda x: 2, "c": lambda d: d},
        "c",
    )
    assert app.invoke("in") == {"from_a": 1, "extra": 2}
    bad = _echo_graph(
        [("a", "c", None), ("b", "c", "extra")],
        {"a": lambda x: "not a dict", "b": lambda x: 2, "c": lambda d: d},
        "c",
    )
    with pytest.raises(TypeError, match="node 'c' merges its keyed inputs"):
        bad.invoke("in")


def test_default_entries_and_finish() -> None:
    g = ChainGraph()
    g.add_node("a", lambda x: x + 1)
    g.add_node("b", lambda x: x + 2)
    g.add_node("sum", lambda d: d["a"] + d["b"])
    g.add_edge("a", "sum", key="a")
    g.add_edge("b", "sum", key="b")
    assert g.entries() == ("a", "b") and g.finish() == "sum"
    assert g.compile().invoke(1) == 5


async def test_errors_keep_their_type_and_name_the_node() -> None:
    def boom(x: Any) -> Any:
        raise KeyError("nope")

    app = _echo_graph([("a", "b", None)], {"a": boom, "b": lambda x: x}, "b")
    with pytest.raises(KeyError) as info:
        app.invoke(1)
    assert chain_path(info.value) == "ChainGraph › node 'a' › boom"
    with pytest.raises(KeyError):
        await app.ainvoke(1)
    with pytest.raises(KeyError):
        list(app.stream(1))


# ---- concurrency ----------------------------------------------------------------------------
def _two_slow_branches(fn: Any) -> CompiledChain:
    g = ChainGraph()
    g.add_node("left", fn)
    g.add_node("right", fn)
    g.add_node("join", lambda d: (d["left"], d["right"]))
    g.add_edge("left", "join", key="left")
    g.add_edge("right", "join", key="right")
    return g.compile()


def _sleep(x: Any) -> Any:
    time.sleep(0.2)
    return x


async def _asleep(x: Any) -> Any:
    await asyncio.sleep(0.2)
    return x


def test_independent_branches_run_concurrently_sync() -> None:
    app = _two_slow_branches(_sleep)
    assert app.plan.generations == (("left", "right"), ("join",))
    t0 = time.perf_counter()
    assert app.invoke(1) == (1, 1)
    assert time.perf_counter() - t0 < 0.35


async def test_independent_branches_run_concurrently_async() -> None:
    for fn in (_sleep, _asleep):
        app = _two_slow_branches(RunnableLambda(fn))
        t0 = time.perf_counter()
        assert await app.ainvoke(1) == (1, 1)
        assert time.perf_counter() - t0 < 0.35


def test_max_concurrency_is_respected() -> None:
    app = _two_slow_branches(_sleep)
    t0 = time.perf_counter()
    app.invoke(1, {"max_concurrency": 1})
    assert time.perf_counter() - t0 >= 0.39


# ---- validation rules -----------------------------------------------------------------------
def test_cycle() -> None:
    g = ChainGraph()
    for n in ("a", "b", "c"):
        g.add_node(n, lambda x: x)
    g.add_edge("a", "b").add_edge("b", "c").add_edge("c", "b", key="again")
    g.set_entry("a").set_finish("c")
    cycle = [p for p in problems_of(g) if p.rule == "cycle"]
    assert [p.message for p in cycle] == [
        "nodes `b` -> `c` -> `b` form a cycle; a chain graph runs each node once, after the "
        "nodes it depends on. Fix: remove one of these edges (loop inside a node instead, e.g. "
        "with a RunnableLambda)."
    ]


def test_unreachable() -> None:
    g = ChainGraph()
    for n in ("a", "b", "lost"):
        g.add_node(n, lambda x: x)
    g.add_edge("a", "b").add_edge("lost", "b", key="k")
    g.set_entry("a").set_finish("b")
    [problem] = problems_of(g)
    assert problem.rule == "unreachable" and problem.steps == ("node lost",)
    assert problem.message == (
        "node `lost` cannot be reached from the entry node(s) `a`. Fix: add an edge into it, "
        "add it to set_entry(...), or remove it."
    )


def test_no_path_to_finish() -> None:
    g = ChainGraph()
    for n in ("a", "b", "side"):
        g.add_node(n, lambda x: x)
    g.add_edge("a", "b").add_edge("a", "side")
    g.set_finish("b")
    [problem] = problems_of(g)
    assert problem.rule == "no_path_to_finish"
    assert problem.message == (
        "node `side`'s output never reaches the finish node `b`. Fix: add an edge from it "
        "toward `b`, or remove it."
    )


def test_duplicate_name() -> None:
    g = ChainGraph()
    g.add_node("a", lambda x: x).add_node("a", lambda x: x)
    [problem] = problems_of(g)
    assert problem.rule == "duplicate_name"
    assert problem.message == "2 nodes are named `a`. Fix: give each add_node a unique name."


def test_edges_to_unknown_nodes() -> None:
    g = ChainGraph()
    g.add_node("a", lambda x: x)
    g.add_edge("a", "ghost").set_finish("a")
    [problem] = problems_of(g)
    assert problem.rule == "unknown_node" and problem.steps == ("node ghost",)
    assert problem.message == (
        "edge `a` -> `ghost` names unknown node `ghost`; the nodes are `a`. Fix: "
        "add_node('ghost', ...) first, or correct the name."
    )
    g.set_entry("nobody")
    assert [p.rule for p in problems_of(g)] == ["unknown_node", "unknown_node", "no_entry"]


def test_no_entry_and_no_finish() -> None:
    [problem] = problems_of(ChainGraph())
    assert (problem.rule, problem.message) == (
        "no_entry", "the graph has no nodes. Fix: add_node(...)."
    )
    loop = ChainGraph()
    loop.add_node("a", lambda x: x).add_node("b", lambda x: x)
    loop.add_edge("a", "b").add_edge("b", "a")
    no_entry = next(p for p in problems_of(loop) if p.rule == "no_entry")
    assert no_entry.message == (
        "the graph has no entry node (every node has an incoming edge). Fix: set_entry(name) "
        "on the node that takes the graph input."
    )
    g = ChainGraph()
    g.add_node("a", lambda x: x).add_node("b", lambda x: x)
    [problem] = problems_of(g)
    assert problem.rule == "no_finish"
    assert problem.message.startswith(
        "the graph has no finish node: nodes without outgoing edges are `a`, `b`."
    )


def test_edge_wiring_rules() -> None:
    g = ChainGraph()
    for n in ("a", "b", "c"):
        g.add_node(n, lambda x: x)
    g.add_edge("a", "c").add_edge("b", "c")
    [problem] = problems_of(g)
    assert problem.rule == "ambiguous_input"
    assert problem.steps == ("node c", "node a", "node b")
    assert problem.message == (
        "node `c` has 2 un-keyed incoming edges (from `a`, `b`) but takes only one value. Fix: "
        "give the edges keys (add_edge(..., key=\"name\")) so the node receives a dict."
    )
    g = ChainGraph()
    for n in ("a", "b", "c"):
        g.add_node(n, lambda x: x)
    g.add_edge("a", "c", key="k").add_edge("b", "c", key="k")
    [problem] = problems_of(g)
    assert problem.rule == "duplicate_key"
    assert problem.message == (
        "node `c` receives key `k` from `a`, `b`. Fix: give each edge its own key."
    )
    g = ChainGraph()
    g.add_node("a", lambda x: x).add_node("b", lambda x: x)
    g.add_edge("a", "b").set_entry("a", "b").set_finish("b")
    [problem] = problems_of(g)
    assert problem.rule == "entry_has_input"
    assert problem.message == (
        "entry node `b` also has incoming edges (from `a`); an entry receives the graph input. "
        "Fix: remove it from set_entry(...) or remove those edges."
    )
    g = ChainGraph()
    g.add_node("a", lambda x: x).add_node("b", lambda x: x)
    g.add_edge("a", "b", key="x").add_edge("a", "b", key="y")
    [problem] = problems_of(g)
    assert problem.rule == "duplicate_key"
    assert problem.message == (
        "two edges go from `a` to `b`. Fix: keep one; to pass the output under two keys, add a "
        "node that copies it."
    )


def test_missing_prompt_variable_in_a_node() -> None:
    g = rag()
    g.add_node("extra", lambda x: x)  # also unreachable: both problems are reported
    problems = problems_of(g, input_keys=["topic"])
    assert [p.rule for p in problems] == ["unreachable", "missing_variable"]
    assert problems[1].message == (
        "node `answer` › step 1 `ChatPromptTemplate` needs `question`; the input of node "
        "`answer` (`context` from node `retrieve`, the graph input) provides `context`, "
        "`topic`. Fix: add an edge that delivers it (`add_edge(\"<node>\", 'answer', "
        "key='question')`), or pass it in the graph input and declare it with "
        "compile(input_keys=[...]), or fill it with `prompt.partial(question=...)`."
    )
    assert rag().compile(input_keys=["question"]).invoke({"question": "q"}) == "an answer"


def test_type_mismatch_across_an_edge() -> None:
    g = ChainGraph()
    g.add_node("model", FakeListChatModel(responses=["x"]))
    g.add_node("prompt", ChatPromptTemplate.from_messages([("human", "{a}{b}")]))
    g.add_edge("model", "prompt")
    [problem] = problems_of(g)
    assert problem.rule == "type_mismatch"
    assert problem.steps == ("node prompt", "node model")


def test_add_node_and_edge_check_their_arguments() -> None:
    g = ChainGraph()
    with pytest.raises(TypeError, match="non-empty str"):
        g.add_node("", lambda x: x)
    with pytest.raises(ValueError, match="reserved"):
        g.add_node("__start__", lambda x: x)
    with pytest.raises(TypeError, match="cannot use int"):
        g.add_node("x", 3)
    with pytest.raises(TypeError, match="edge key"):
        g.add_edge("a", "b", key="")
    with pytest.raises(ValueError, match="at least one"):
        g.set_entry()


def test_recompile_with_input_keys() -> None:
    app = rag().compile()
    with pytest.raises(ChainValidationError):
        app.compile(input_keys=["topic"])
    assert app.compile() is app
