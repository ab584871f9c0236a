"""Drawings: Mermaid (exact text), ASCII, SVG (parses as XML), DOT, PNG via Graphviz."""

from __future__ import annotations

import os
import stat
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from chainkit.graph import ChainGraph, Graph
from chainkit.models.fake import FakeListChatModel
from chainkit.parsers import StrOutputParser
from chainkit.prompts import ChatPromptTemplate
from chainkit.runnables import RunnableLambda, RunnableParallel
from chainkit.runnables.passthrough import RunnablePassthrough

SVG = "{http://www.w3.org/2000/svg}"


def sequence() -> Graph:
    prompt = ChatPromptTemplate.from_messages([("human", "{question}")])
    return (prompt | FakeListChatModel(responses=["x"]) | StrOutputParser()).get_graph()


def parallel() -> Graph:
    retrieve = RunnableLambda(lambda x: x, name="retrieve")
    return RunnableParallel(question=RunnablePassthrough(), context=retrieve).get_graph()


def dag() -> Graph:
    g = ChainGraph("rag")
    g.add_node("retrieve", lambda x: x)
    g.add_node("rewrite", lambda x: x)
    g.add_node("answer", ChatPromptTemplate.from_messages([("human", "{question} {context}")]))
    g.add_edge("retrieve", "answer", key="context")
    g.add_edge("rewrite", "answer", key="question")
    return g.compile().get_graph()


# ---- Mermaid ---------------------------------------------------------------------------------
def test_mermaid_of_a_sequence() -> None:
    assert sequence().draw_mermaid() == (
        "flowchart TD\n"
        '    __start__(["__start__"])\n'
        '    ChatPromptTemplate["ChatPromptTemplate"]\n'
        '    FakeListChatModel["FakeListChatModel"]\n'
        '    StrOutputParser["StrOutputParser"]\n'
        '    __end__(["__end__"])\n'
        "    __start__ --> ChatPromptTemplate\n"
        "    ChatPromptTemplate --> FakeListChatModel\n"
        "    FakeListChatModel --> StrOutputParser\n"
        "    StrOutputParser --> __end__\n"
    )


def test_mermaid_of_a_parallel() -> None:
    assert parallel().draw_mermaid() == (
        "flowchart TD\n"
        '    __start__(["__start__"])\n'
        '    RunnablePassthrough["RunnablePassthrough"]\n'
        '    retrieve["retrieve"]\n'
        '    RunnableParallel{{"RunnableParallel"}}\n'
        '    __end__(["__end__"])\n'
        "    __start__ --> RunnablePassthrough\n"
        "    __start__ --> retrieve\n"
        '    RunnablePassthrough -->|"question"| RunnableParallel\n'
        '    retrieve -->|"context"| RunnableParallel\n'
        "    RunnableParallel --> __end__\n"
    )


def test_mermaid_of_a_builder_dag() -> None:
    assert dag().draw_mermaid() == (
        "flowchart TD\n"
        '    __start__(["__start__"])\n'
        '    retrieve["retrieve"]\n'
        '    rewrite["rewrite"]\n'
        '    answer["answer"]\n'
        '    __end__(["__end__"])\n'
        "    __start__ --> retrieve\n"
        "    __start__ --> rewrite\n"
        '    retrieve -->|"context"| answer\n'
        '    rewrite -->|"question"| answer\n'
        "    answer --> __end__\n"
    )


def test_mermaid_escapes_names_and_avoids_keywords() -> None:
    g = ChainGraph()
    g.add_node("end", lambda x: x)
    g.add_node('say "hi" <b>', lambda x: x)
    g.add_edge("end", 'say "hi" <b>', key="a&b")
    text = g.get_graph().draw_mermaid()
    assert '    end_["end"]' in text
    assert '    say__hi___b_["say #quot;hi#quot; #lt;b#gt;"]' in text
    assert '    end_ -->|"a#amp;b"| say__hi___b_' in text


# ---- ASCII -----------------------------------------------------------------------------------
def test_ascii_of_a_sequence() -> None:
    assert sequence().draw_ascii() == "\n".join([
        "     +-----------+",
        "     | __start__ |",
        "     +-----------+",
        "           |",
        "           v",
        "+--------------------+",
        "| ChatPromptTemplate |",
        "+--------------------+",
        "           |",
        "           v",
        " +-------------------+",
        " | FakeListChatModel |",
        " +-------------------+",
        "           |",
        "           v",
        "  +-----------------+",
        "  | StrOutputParser |",
        "  +-----------------+",
        "           |",
        "           v",
        "      +---------+",
        "      | __end__ |",
        "      +---------+",
    ])


def test_ascii_of_a_dag_labels_keyed_edges() -> None:
    text = dag().draw_ascii()
    lines = text.splitlines()
    assert any("| retrieve |   | rewrite |" in line for line in lines)
    assert "context v v question" in text
    assert lines[-2].strip() == "| __end__ |"


def test_ascii_routes_long_edges_around_boxes() -> None:
    g = ChainGraph()
    for n in ("a", "b", "c"):
        g.add_node(n, lambda x: x)
    g.add_edge("a", "b").add_edge("b", "c", key="x").add_edge("a", "c", key="y")
    text = g.get_graph().draw_ascii()
    box_b = next(line for line in text.splitlines() if "| b |" in line)
    assert box_b.rstrip().endswith("|")  # the long edge passes beside b, not through it
    assert "x" in text and "y" in text


# ---- SVG -------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [sequence, parallel, dag])
def test_svg_parses_and_draws_every_node(make: object) -> None:
    graph = make()  # type: ignore[operator]
    root = ET.fromstring(graph.draw_svg())
    assert root.tag == f"{SVG}svg"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    for node in graph.nodes.values():
        assert node.name in texts
    assert len(root.findall(f".//{SVG}g/{SVG}rect")) == len(graph.nodes)
    assert len(root.findall(f"{SVG}path")) >= len(graph.edges)


def test_svg_labels_keyed_edges_and_escapes_text() -> None:
    g = ChainGraph("a<b")
    g.add_node("x & y", lambda x: x)
    g.add_node("z", lambda x: x)
    g.add_edge("x & y", "z", key="<k>")
    root = ET.fromstring(g.get_graph().draw_svg())
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "x & y" in texts and "<k>" in texts
    assert root.find(f"{SVG}title").text == "a<b"  # type: ignore[union-attr]


# ---- Graphviz --------------------------------------------------------------------------------
def test_dot_text() -> None:
    text = dag().draw_dot()
    assert text.startswith('digraph "rag" {\n')
    assert '  "retrieve" -> "answer" [label="context"];\n' in text


def test_png_without_graphviz_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    with pytest.raises(RuntimeError, match=r"Graphviz `dot` program.*apt install graphviz"):
        sequence().draw_png()


def test_png_runs_dot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "dot"
    fake.write_text(
        "#!/bin/sh\n"
        'test "$1" = "-Tpng" || exit 3\n'
        "cat > /dev/null\n"
        "printf '\\211PNG-fake'\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(tmp_path) + os.pathsep + os.environ.get("PATH", ""))
    assert sequence().draw_png() == b"\x89PNG-fake"
    out = tmp_path / "g.png"
    assert sequence().draw_png(str(out)) is None
    assert out.read_bytes() == b"\x89PNG-fake"
    fake.write_text("#!/bin/sh\necho 'syntax error' >&2\nexit 1\n")
    with pytest.raises(RuntimeError, match="syntax error"):
        sequence().draw_png()
