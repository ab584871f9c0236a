"""Notebook display: graphs, compiled chains and plain runnables render as an SVG picture."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from chainkit.graph import ChainGraph, draw
from chainkit.models.fake import FakeListChatModel
from chainkit.parsers import StrOutputParser
from chainkit.prompts import ChatPromptTemplate


def chain() -> object:
    prompt = ChatPromptTemplate.from_messages([("human", "{question}")])
    return prompt | FakeListChatModel(responses=["x"]) | StrOutputParser()


def _is_svg(text: str) -> bool:
    return ET.fromstring(text).tag == "{http://www.w3.org/2000/svg}svg"


def test_plain_runnable_shows_its_graph_and_text() -> None:
    c = chain()
    bundle = c._repr_mimebundle_()  # type: ignore[attr-defined]
    assert set(bundle) == {"image/svg+xml", "text/plain"}
    assert _is_svg(bundle["image/svg+xml"])
    assert bundle["text/plain"] == repr(c)


def test_graph_display_hooks() -> None:
    graph = chain().get_graph()  # type: ignore[attr-defined]
    assert _is_svg(graph._repr_svg_())
    assert graph._repr_markdown_() == f"```mermaid\n{graph.draw_mermaid()}```\n"
    bundle = graph._repr_mimebundle_()
    assert _is_svg(bundle["image/svg+xml"]) and bundle["text/plain"] == repr(graph)


def test_compiled_chain_and_dag_display_hooks() -> None:
    compiled = chain().compile()  # type: ignore[attr-defined]
    assert _is_svg(compiled._repr_svg_())
    assert compiled._repr_markdown_().startswith("```mermaid\nflowchart TD\n")
    assert compiled._repr_mimebundle_()["text/plain"] == repr(compiled)
    g = ChainGraph("app")
    g.add_node("only", lambda x: x)
    app = g.compile()
    assert "only" in app._repr_svg_()
    text = app._repr_mimebundle_()["text/plain"]
    assert text == "CompiledChain(ChainGraph('app', nodes=['only']))"


def test_a_drawing_failure_still_shows_the_text(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(graph: object) -> str:
        raise RuntimeError("layout bug")

    monkeypatch.setattr(draw, "svg", broken)
    c = chain()
    assert c._repr_mimebundle_() == {"text/plain": repr(c)}  # type: ignore[attr-defined]
