"""A trace database with a few traces in it, for the viewer and CLI tests."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from chainkit.messages import AIMessage
from chainkit.models.fake import GenericFakeChatModel
from chainkit.parsers import StrOutputParser
from chainkit.prompts import ChatPromptTemplate
from chainkit.runnables import RunnableLambda
from chainkit.tracing import _enable
from chainkit.tracing._enable import tracing

XSS = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>'


def fill(path: Path) -> None:
    """Two traces in project "web": a prompt | model | parser chain fed an HTML-injection
    attempt, and a failing lambda."""
    model = GenericFakeChatModel(messages=itertools.cycle([AIMessage("hello world")]))
    chain = ChatPromptTemplate.from_messages([("human", "hi {x}")]) | model | StrOutputParser()
    with tracing(project="web", db_path=path):
        chain.invoke({"x": XSS})
        with contextlib.suppress(ZeroDivisionError):
            RunnableLambda(lambda x: 1 / 0, name="divide").invoke(2)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "traces.db"
    _enable._shutdown()
    fill(path)
    yield path
    _enable._shutdown()
