"""Shared pieces for the tracing tests: the reference chain, recorders and normalisers."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from chainkit.messages import AIMessage, BaseMessage
from chainkit.models.fake import GenericFakeChatModel
from chainkit.parsers import StrOutputParser
from chainkit.prompts import ChatPromptTemplate
from chainkit.runnables import Runnable

REPLY = "hello world"


def make_model(reply: str = REPLY) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=itertools.cycle([AIMessage(reply)]))


def make_chain(reply: str = REPLY) -> Runnable[Any, Any]:
    """``ChatPromptTemplate | GenericFakeChatModel | StrOutputParser``, LangChain's example."""
    prompt = ChatPromptTemplate.from_messages([("human", "hi {x}")])
    return prompt | make_model(reply) | StrOutputParser()


def normalize(value: Any) -> Any:
    """Replace what differs between runs (ids, timestamps) with placeholders."""
    if isinstance(value, BaseMessage):
        return value.model_copy(update={"id": None}) if value.id else value
    if isinstance(value, list):
        return [normalize(v) for v in value]
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in ("id", "run_id") and isinstance(item, str):
                out[key] = "<id>"
            elif key == "parent_ids":
                out[key] = ["<id>"] * len(item)
            elif key in ("start_time", "end_time") and item is not None:
                out[key] = "<time>"
            else:
                out[key] = normalize(item)
        if str(out.get("path", "")).endswith(("/end_time", "/start_time")):
            out["value"] = "<time>"
        return out
    return value


class Recorder:
    """A chainkit listener that records every run event."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self.runs: list[Any] = []

    def on_run_start(self, run: Any) -> None:
        self.runs.append(run)
        self.events.append(("start", run))

    def on_run_stream(self, run: Any, chunk: Any) -> None:
        self.events.append(("stream", (run, chunk)))

    def on_run_end(self, run: Any) -> None:
        self.events.append(("end", run))

    def on_custom_event(self, run: Any, name: str, data: Any) -> None:
        self.events.append(("custom", (run, name, data)))

    def by_name(self, name: str) -> Any:
        return next(r for r in self.runs if r.name == name)


@pytest.fixture
def chain() -> Runnable[Any, Any]:
    return make_chain()


@pytest.fixture
def chain_factory() -> Callable[..., Runnable[Any, Any]]:
    return make_chain


@pytest.fixture
def model_factory() -> Callable[..., GenericFakeChatModel]:
    return make_model


@pytest.fixture
def norm() -> Callable[[Any], Any]:
    return normalize


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()
