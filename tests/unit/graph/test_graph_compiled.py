"""`CompiledChain` of a ``|`` chain: runs the chain itself (same results, same runs), its plan,
and concurrency of independent branches."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from chainkit.graph import CompiledChain, compile_runnable
from chainkit.models.fake import FakeListChatModel
from chainkit.parsers import StrOutputParser
from chainkit.prompts import ChatPromptTemplate
from chainkit.runnables import RunnableLambda, RunnableParallel
from chainkit.runnables.passthrough import RunnablePassthrough


def chain() -> Any:
    prompt = ChatPromptTemplate.from_messages([("human", "{question}")])
    return prompt | FakeListChatModel(responses=["hello world"]) | StrOutputParser()


def test_compiled_chain_runs_the_chain_hooks_directly() -> None:
    c = chain()
    compiled = c.compile()
    assert compiled._call == c._call and compiled._iter == c._iter  # no wrapper per call
    assert compiled.get_name() == "RunnableSequence"
    assert compiled.run_type == c.run_type
    assert compiled.InputType is c.InputType
    assert repr(compiled) == f"CompiledChain({c!r})"


def test_compile_is_idempotent() -> None:
    compiled = chain().compile()
    assert compiled.compile() is compiled
    assert compile_runnable(compiled) is compiled
    again = compiled.compile(input_keys=["question"])
    assert isinstance(again, CompiledChain) and again.runnable is compiled.runnable


async def test_same_run_events_as_the_uncompiled_chain() -> None:
    c = chain()

    async def events(r: Any) -> list[tuple[str, str]]:
        out = []
        async for e in r.astream_events({"question": "q"}, version="v2"):
            out.append((e["event"], e["name"]))
        return out

    assert await events(c.compile()) == await events(c)


def test_a_compiled_chain_nests_in_another_chain() -> None:
    inner = chain().compile()
    outer = RunnableLambda(lambda x: {"question": x}) | inner
    compiled = outer.compile()
    assert compiled.invoke("q") == "hello world"
    assert [n for n in outer.get_graph().nodes][1:4] == [
        "RunnableLambda", "ChatPromptTemplate", "FakeListChatModel"
    ]


def _sleep(x: Any) -> Any:
    time.sleep(0.2)
    return x


async def _asleep(x: Any) -> Any:
    await asyncio.sleep(0.2)
    return x


def test_plan_groups_independent_branches() -> None:
    par = RunnableParallel(a=_sleep, b=_sleep) | (lambda d: d["a"] + d["b"])
    compiled = par.compile()
    assert compiled.plan.generations == (("_sleep", "_sleep:2"), ("RunnableParallel",),
                                         ("RunnableLambda",))
    assert compiled.plan.order[0] == "_sleep"
    t0 = time.perf_counter()
    assert compiled.invoke(1) == 2
    assert time.perf_counter() - t0 < 0.35


async def test_independent_branches_run_concurrently_async() -> None:
    for fn in (_sleep, _asleep):
        compiled = RunnableParallel(a=fn, b=fn, c=RunnablePassthrough()).compile()
        t0 = time.perf_counter()
        assert await compiled.ainvoke(1) == {"a": 1, "b": 1, "c": 1}
        assert time.perf_counter() - t0 < 0.35
