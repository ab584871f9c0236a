"""Prompts as runnables: every public call, sync and async, quiet and observed, and pipes."""

from __future__ import annotations

from typing import Any

import pytest

from chainkit.messages import HumanMessage, SystemMessage
from chainkit.prompts import (
    ChatPromptTemplate,
    ChatPromptValue,
    PromptTemplate,
    PromptVariableError,
    StringPromptValue,
)
from chainkit.runnables import RunnableLambda, RunnableSequence


@pytest.fixture
def chat() -> ChatPromptTemplate:
    return ChatPromptTemplate.from_messages([("system", "You are {role}."), ("human", "{q}")])


def expected(role: str, q: str) -> ChatPromptValue:
    return ChatPromptValue(messages=[SystemMessage(f"You are {role}."), HumanMessage(q)])


def test_invoke(chat: ChatPromptTemplate) -> None:
    assert chat.invoke({"role": "a", "q": "b"}) == expected("a", "b")


async def test_ainvoke(chat: ChatPromptTemplate) -> None:
    assert await chat.ainvoke({"role": "a", "q": "b"}) == expected("a", "b")


def test_batch(chat: ChatPromptTemplate) -> None:
    inputs = [{"role": str(i), "q": "x"} for i in range(5)]
    assert chat.batch(inputs) == [expected(str(i), "x") for i in range(5)]
    assert chat.batch([]) == []


async def test_abatch(chat: ChatPromptTemplate) -> None:
    inputs = [{"role": str(i), "q": "x"} for i in range(5)]
    assert await chat.abatch(inputs) == [expected(str(i), "x") for i in range(5)]


def test_batch_return_exceptions(chat: ChatPromptTemplate) -> None:
    out = chat.batch([{"role": "a", "q": "b"}, {"role": "a"}], return_exceptions=True)
    assert out[0] == expected("a", "b")
    assert isinstance(out[1], PromptVariableError)


async def test_abatch_return_exceptions(chat: ChatPromptTemplate) -> None:
    out = await chat.abatch([{"q": "b"}, {"role": "a", "q": "b"}], return_exceptions=True)
    assert isinstance(out[0], PromptVariableError)
    assert out[1] == expected("a", "b")


def test_stream(chat: ChatPromptTemplate) -> None:
    assert list(chat.stream({"role": "a", "q": "b"})) == [expected("a", "b")]


async def test_astream(chat: ChatPromptTemplate) -> None:
    assert [v async for v in chat.astream({"role": "a", "q": "b"})] == [expected("a", "b")]


def test_batch_as_completed(chat: ChatPromptTemplate) -> None:
    results = dict(chat.batch_as_completed([{"role": "a", "q": "1"}, {"role": "b", "q": "2"}]))
    assert results == {0: expected("a", "1"), 1: expected("b", "2")}


def test_errors_raise_on_every_path(chat: ChatPromptTemplate) -> None:
    with pytest.raises(PromptVariableError):
        chat.invoke({"q": "b"})
    with pytest.raises(PromptVariableError):
        list(chat.stream({"q": "b"}))
    with pytest.raises(PromptVariableError):
        chat.batch([{"q": "b"}, {"q": "c"}])


async def test_errors_raise_on_every_async_path(chat: ChatPromptTemplate) -> None:
    with pytest.raises(PromptVariableError):
        await chat.ainvoke({"q": "b"})
    with pytest.raises(PromptVariableError):
        [v async for v in chat.astream({"q": "b"})]
    with pytest.raises(PromptVariableError):
        await chat.abatch([{"q": "b"}])


def test_pipe_into_a_lambda(chat: ChatPromptTemplate) -> None:
    chain = chat | (lambda v: v.to_string())
    assert isinstance(chain, RunnableSequence)
    assert chain.invoke({"role": "a", "q": "b"}) == "System: You are a.\nHuman: b"
    assert list(chain.stream({"role": "a", "q": "b"})) == ["System: You are a.\nHuman: b"]
    assert chain.batch([{"role": "a", "q": "b"}] * 2) == ["System: You are a.\nHuman: b"] * 2


async def test_pipe_async(chat: ChatPromptTemplate) -> None:
    chain = chat | (lambda v: v.to_string())
    assert await chain.ainvoke({"role": "a", "q": "b"}) == "System: You are a.\nHuman: b"
    assert [c async for c in chain.astream({"role": "a", "q": "b"})] == [
        "System: You are a.\nHuman: b"
    ]


def test_string_prompt_pipes() -> None:
    prompt = PromptTemplate.from_template("Tell me about {topic}")
    chain = prompt | (lambda v: v.to_string().upper())
    assert chain.invoke({"topic": "owls"}) == "TELL ME ABOUT OWLS"
    assert chain.invoke("owls") == "TELL ME ABOUT OWLS"
    upstream = RunnableLambda(lambda x: {"topic": x * 2}) | prompt
    assert upstream.invoke("ab") == StringPromptValue(text="Tell me about abab")


def test_dict_upstream_feeds_the_variables(chat: ChatPromptTemplate) -> None:
    chain = {"role": lambda x: "terse", "q": lambda x: x} | chat
    assert chain.invoke("hi") == expected("terse", "hi")


def test_prompt_value_messages_flow_into_message_consumers(chat: ChatPromptTemplate) -> None:
    chain = chat | (lambda v: [m.type for m in v.to_messages()])
    assert chain.invoke({"role": "a", "q": "b"}) == ["system", "human"]


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str, Any]] = []

    def on_run_start(self, run: Any) -> None:
        self.events.append(("start", run.name, run.run_type, run.inputs))

    def on_run_end(self, run: Any) -> None:
        self.events.append(
            ("end", run.name, run.run_type, run.outputs if run.error is None else run.error)
        )


def test_observed_runs_have_type_prompt(chat: ChatPromptTemplate) -> None:
    recorder = Recorder()
    out = chat.invoke({"role": "a", "q": "b"}, {"callbacks": [recorder]})
    assert out == expected("a", "b")
    starts = [e for e in recorder.events if e[0] == "start"]
    assert starts[0][1:3] == ("ChatPromptTemplate", "prompt")
    assert starts[0][3] == {"role": "a", "q": "b"}
    assert any(e[0] == "end" and e[1] == "ChatPromptTemplate" for e in recorder.events)


async def test_observed_error_is_recorded_and_raised(chat: ChatPromptTemplate) -> None:
    recorder = Recorder()
    with pytest.raises(PromptVariableError):
        await chat.ainvoke({"q": "b"}, {"callbacks": [recorder]})
    ends = [e for e in recorder.events if e[0] == "end"]
    assert isinstance(ends[-1][3], PromptVariableError)


def test_observed_in_a_chain(chat: ChatPromptTemplate) -> None:
    recorder = Recorder()
    chain = chat | (lambda v: v.to_string())
    chain.invoke({"role": "a", "q": "b"}, {"callbacks": [recorder]})
    names = [(e[1], e[2]) for e in recorder.events if e[0] == "start"]
    assert ("ChatPromptTemplate", "prompt") in names


def test_with_config_and_bind_keep_working(chat: ChatPromptTemplate) -> None:
    assert chat.with_config(run_name="p").invoke({"role": "a", "q": "b"}) == expected("a", "b")
