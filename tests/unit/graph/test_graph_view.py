"""`Runnable.get_graph()`: nodes, kinds, labels, edges and the networkx view."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import networkx as nx

from chainkit.graph import END, START, Edge, Graph
from chainkit.models.fake import FakeListChatModel
from chainkit.parsers import StrOutputParser
from chainkit.prompts import ChatPromptTemplate
from chainkit.runnables import RunnableLambda, RunnableParallel, RunnableSequence
from chainkit.runnables.branch import RunnableBranch
from chainkit.runnables.passthrough import RunnablePassthrough

ROOT = Path(__file__).resolve().parents[3]


def prompt() -> ChatPromptTemplate:
    return ChatPromptTemplate.from_messages([("human", "{question}")])


def test_sequence_is_a_path_from_input_to_output() -> None:
    model = FakeListChatModel(responses=["x"])
    graph = (prompt() | model | StrOutputParser()).get_graph()
    assert isinstance(graph, Graph)
    assert isinstance(graph.nx, nx.DiGraph)
    assert list(graph.nodes) == [START, "ChatPromptTemplate", "FakeListChatModel",
                                 "StrOutputParser", END]
    assert [n.kind for n in graph.nodes.values()] == [
        "input", "prompt", "chat_model", "parser", "output"
    ]
    assert graph.edges == [
        Edge(START, "ChatPromptTemplate"),
        Edge("ChatPromptTemplate", "FakeListChatModel"),
        Edge("FakeListChatModel", "StrOutputParser"),
        Edge("StrOutputParser", END),
    ]
    assert nx.is_directed_acyclic_graph(graph.nx)
    assert graph.nx.nodes["FakeListChatModel"]["kind"] == "chat_model"
    assert graph.nodes["FakeListChatModel"].runnable is model
    assert graph.nodes["FakeListChatModel"].label == "step 2 `FakeListChatModel`"
    assert graph.first_node() is graph.nodes[START]
    assert graph.last_node() is graph.nodes[END]
    assert repr(graph) == "Graph('RunnableSequence', 5 nodes, 4 edges)"


def test_nodes_expose_schemas() -> None:
    graph = (prompt() | FakeListChatModel(responses=["x"])).get_graph()
    schema = graph.nodes["ChatPromptTemplate"].input_schema
    assert set(schema.model_json_schema()["properties"]) == {"question"}
    assert graph.nodes[START].input_schema is not None  # the chain's input schema
    assert graph.nodes[START].output_schema is None
    assert graph.nodes[END].input_schema is None
    assert graph.nodes["FakeListChatModel"].output_schema is not None


def test_parallel_fans_out_and_joins_with_keyed_edges() -> None:
    par = RunnableParallel(a=RunnablePassthrough(), b=lambda x: x)
    graph = (par | (lambda d: d)).get_graph()
    assert set(graph.nx.successors(START)) == {"RunnablePassthrough", "RunnableLambda"}
    join = graph.nodes["RunnableParallel"]
    assert join.join and join.kind == "parallel" and join.runnable is par
    assert sorted(graph.in_edges("RunnableParallel")) == [
        Edge("RunnableLambda", "RunnableParallel", "b"),
        Edge("RunnablePassthrough", "RunnableParallel", "a"),
    ]
    assert graph.nodes["RunnableLambda"].label == "step 1 `RunnableParallel` › branch `b` › " \
        "`RunnableLambda`"
    assert list(graph.nx.successors("RunnableParallel")) == ["RunnableLambda:2"]


def test_assign_join_also_receives_the_input() -> None:
    graph = RunnablePassthrough.assign(n=lambda d: 1).get_graph()
    join = graph.nodes["RunnableAssign<n>"]
    assert join.kind == "assign"
    assert sorted(graph.in_edges(join.id)) == [
        Edge("RunnableLambda", "RunnableAssign<n>", "n"),
        Edge(START, "RunnableAssign<n>", None),
    ]


def test_nested_sequences_are_expanded() -> None:
    inner = RunnableSequence(RunnableLambda(lambda x: x, name="a"),
                             RunnableLambda(lambda x: x, name="b"), name="inner")
    graph = (RunnableLambda(lambda x: x, name="first") | inner).get_graph()
    assert list(graph.nodes) == [START, "first", "a", "b", END]
    assert graph.nodes["b"].label == "step 2 `inner` › step 2 `b`"


def test_bindings_and_retries_show_what_they_wrap_branches_are_one_node() -> None:
    model = FakeListChatModel(responses=["x"])
    chain = prompt() | model.bind(stop=["\n"]).with_retry() | StrOutputParser()
    assert list(chain.get_graph().nodes) == [START, "ChatPromptTemplate", "FakeListChatModel",
                                             "StrOutputParser", END]
    branch = RunnableBranch((lambda x: True, prompt()), prompt())
    graph = (branch | model.with_fallbacks([model])).get_graph()
    assert [n.kind for n in graph.nodes.values()] == ["input", "branch", "fallbacks", "output"]


def test_repeated_names_get_numbered_ids() -> None:
    graph = (RunnableLambda(lambda x: x) | (lambda x: x) | (lambda x: x)).get_graph()
    assert list(graph.nodes) == [START, "RunnableLambda", "RunnableLambda:2",
                                 "RunnableLambda:3", END]
    assert {n.name for n in graph.nodes.values()} == {START, "RunnableLambda", END}


def test_import_chainkit_does_not_import_networkx_until_asked() -> None:
    code = (
        "import sys, chainkit\n"
        "from chainkit.runnables import RunnableLambda\n"
        "chain = RunnableLambda(lambda x: x) | (lambda x: x)\n"
        "assert 'networkx' not in sys.modules, 'too early'\n"
        "chain.get_graph()\n"
        "assert 'networkx' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
