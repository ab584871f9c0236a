"""LangChain-style callback handlers: method mapping, sync and async delivery, failures."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import pytest

from chainkit.messages import AIMessageChunk, HumanMessage
from chainkit.models.outputs import ChatGeneration, ChatGenerationChunk, LLMResult
from chainkit.runnables import RunnableLambda
from chainkit.tracing import AsyncCallbackHandler, BaseCallbackHandler


class Logger:
    """A duck-typed handler (no base class) with LangChain's signatures."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any, dict[str, Any]]] = []

    def on_chain_start(self, serialized: dict[str, Any], inputs: Any, **kw: Any) -> None:
        self.calls.append(("chain_start", inputs, kw))

    def on_chain_end(self, outputs: Any, **kw: Any) -> None:
        self.calls.append(("chain_end", outputs, kw))

    def on_chain_error(self, error: BaseException, **kw: Any) -> None:
        self.calls.append(("chain_error", error, kw))

    def on_chat_model_start(
        self, serialized: dict[str, Any], messages: list[list[Any]], **kw: Any
    ) -> None:
        self.calls.append(("chat_model_start", messages, kw))

    def on_llm_new_token(self, token: str, *, chunk: Any = None, **kw: Any) -> None:
        self.calls.append(("token", (token, chunk), kw))

    def on_llm_end(self, response: LLMResult, **kw: Any) -> None:
        self.calls.append(("llm_end", response, kw))

    def on_llm_error(self, error: BaseException, **kw: Any) -> None:
        self.calls.append(("llm_error", error, kw))

    def names(self) -> list[str]:
        return [name for name, _, _ in self.calls]


EXPECTED_STREAM = [
    "chain_start", "chain_start", "chain_end", "chat_model_start", "token", "chain_start",
    "token", "token", "llm_end", "chain_end", "chain_end",
]


def test_a_chain_maps_onto_langchain_methods(chain: Any) -> None:
    log = Logger()
    assert chain.invoke({"x": 1}, {"callbacks": [log], "tags": ["t"]}) == "hello world"
    assert log.names() == [
        "chain_start", "chain_start", "chain_end", "chat_model_start", "llm_end",
        "chain_start", "chain_end", "chain_end",
    ]
    root_start, prompt_start = log.calls[0], log.calls[1]
    assert root_start[1] == {"x": 1}
    assert root_start[2]["parent_run_id"] is None and root_start[2]["tags"] == ["t"]
    assert root_start[2]["name"] == "RunnableSequence"
    assert prompt_start[2]["parent_run_id"] == root_start[2]["run_id"]
    assert prompt_start[2]["tags"] == ["t", "seq:step:1"]
    assert prompt_start[2]["run_type"] == "prompt"
    _, messages, kw = log.calls[3]
    assert messages == [[HumanMessage("hi 1")]]
    assert kw["invocation_params"]["_type"] == "generic-fake-chat-model"
    _, result, _ = log.calls[4]
    assert isinstance(result, LLMResult)
    gen = result.generations[0][0]
    assert type(gen) is ChatGeneration and gen.text == "hello world"
    assert gen.generation_info == {"finish_reason": "stop"}
    assert result.llm_output == {
        "token_usage": {"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4},
        "model_name": "fake",
    }
    assert log.calls[-1][1] == "hello world"


def test_streaming_calls_on_llm_new_token_per_chunk(chain: Any) -> None:
    log = Logger()
    assert "".join(chain.stream({"x": 1}, {"callbacks": [log]})) == "hello world"
    assert log.names() == EXPECTED_STREAM
    tokens = [args for name, args, _ in log.calls if name == "token"]
    assert [t for t, _ in tokens] == ["hello", " ", "world"]
    assert all(isinstance(c, ChatGenerationChunk) for _, c in tokens)
    assert isinstance(tokens[0][1].message, AIMessageChunk)
    result = next(args for name, args, _ in log.calls if name == "llm_end")
    gen = result.generations[0][0]
    assert type(gen) is ChatGenerationChunk and gen.text == "hello world"
    assert result.llm_output is None  # a streamed reply, as in LangChain
    # A streamed input is not known at start: LangChain's placeholder.
    parser_start = [args for name, args, _ in log.calls if name == "chain_start"][2]
    assert parser_start == {"input": ""}


async def test_async_calls_deliver_every_event_before_returning(chain: Any) -> None:
    log = Logger()
    out = [c async for c in chain.astream({"x": 1}, {"callbacks": [log]})]
    assert "".join(out) == "hello world"
    assert log.names() == EXPECTED_STREAM


def test_errors_reach_the_error_methods(model_factory: Any) -> None:
    log = Logger()

    def boom(x: Any) -> Any:
        raise ValueError("bad")

    with pytest.raises(ValueError, match="bad"):
        (RunnableLambda(lambda x: x) | boom).invoke(1, {"callbacks": [log]})
    assert log.names() == ["chain_start", "chain_start", "chain_end", "chain_start",
                           "chain_error", "chain_error"]
    assert isinstance(log.calls[-1][1], ValueError)


def test_a_subset_of_methods_is_enough(chain: Any) -> None:
    ends: list[Any] = []

    class OnlyEnd:
        def on_chain_end(self, outputs: Any, **kw: Any) -> None:
            ends.append(outputs)

    chain.invoke({"x": 1}, {"callbacks": [OnlyEnd()]})
    assert ends[-1] == "hello world" and len(ends) == 3


def test_base_handler_subclass_gets_chat_starts_on_llm_start(chain: Any) -> None:
    prompts: list[list[str]] = []

    class Legacy(BaseCallbackHandler):
        def on_llm_start(self, serialized: dict[str, Any], prompts_: list[str], **kw: Any) -> None:
            prompts.append(prompts_)

    chain.invoke({"x": 1}, {"callbacks": [Legacy()]})
    assert prompts == [["Human: hi 1"]]


def test_ignore_flags_are_honoured(chain: Any) -> None:
    seen: list[str] = []

    class NoChains(BaseCallbackHandler):
        ignore_chain = True

        def on_chain_start(self, serialized: Any, inputs: Any, **kw: Any) -> None:
            seen.append("chain")

        def on_llm_end(self, response: Any, **kw: Any) -> None:
            seen.append("llm")

    chain.invoke({"x": 1}, {"callbacks": [NoChains()]})
    assert seen == ["llm"]


def test_a_raising_handler_is_detached_and_the_result_stands(
    chain: Any, caplog: pytest.LogCaptureFixture
) -> None:
    calls = []

    class Bad(BaseCallbackHandler):
        def on_chain_start(self, serialized: Any, inputs: Any, **kw: Any) -> None:
            calls.append(1)
            raise RuntimeError("handler bug")

    good = Logger()
    with caplog.at_level(logging.ERROR, logger="chainkit.tracing"):
        assert chain.invoke({"x": 1}, {"callbacks": [Bad(), good]}) == "hello world"
    assert calls == [1]
    assert len(good.calls) == 8
    assert "handler bug" in caplog.text


async def test_a_raising_async_handler_is_detached(
    chain: Any, caplog: pytest.LogCaptureFixture
) -> None:
    calls = []

    class Bad(AsyncCallbackHandler):
        async def on_chain_start(self, serialized: Any, inputs: Any, **kw: Any) -> None:
            calls.append(1)
            raise RuntimeError("async handler bug")

    with caplog.at_level(logging.ERROR, logger="chainkit.tracing"):
        assert await chain.ainvoke({"x": 1}, {"callbacks": [Bad()]}) == "hello world"
    assert calls == [1]
    assert "async handler bug" in caplog.text


class AsyncLog(AsyncCallbackHandler):
    def __init__(self) -> None:
        self.names: list[str] = []

    async def on_chain_start(self, serialized: Any, inputs: Any, **kw: Any) -> None:
        await asyncio.sleep(0.001)  # really suspends: ordering must still hold
        self.names.append("chain_start")

    async def on_chain_end(self, outputs: Any, **kw: Any) -> None:
        self.names.append("chain_end")

    async def on_llm_new_token(self, token: str, **kw: Any) -> None:
        await asyncio.sleep(0)
        self.names.append("token")


async def test_async_handlers_are_awaited_in_order_before_ainvoke_returns(chain: Any) -> None:
    log = AsyncLog()
    await chain.ainvoke({"x": 1}, {"callbacks": [log]})
    assert log.names == ["chain_start", "chain_start", "chain_end", "chain_start",
                         "chain_end", "chain_end"]
    log.names.clear()
    [c async for c in chain.astream({"x": 1}, {"callbacks": [log]})]
    assert log.names == ["chain_start", "chain_start", "chain_end", "token", "chain_start",
                         "token", "token", "chain_end", "chain_end"]


def test_async_handlers_run_on_a_sync_call(chain: Any) -> None:
    log = AsyncLog()
    chain.invoke({"x": 1}, {"callbacks": [log]})
    assert log.names == ["chain_start", "chain_start", "chain_end", "chain_start",
                         "chain_end", "chain_end"]


async def test_async_handlers_run_on_a_sync_call_inside_a_running_loop(chain: Any) -> None:
    log = AsyncLog()
    chain.invoke({"x": 1}, {"callbacks": [log]})  # e.g. a notebook cell
    assert len(log.names) == 6


async def test_sync_handlers_never_run_on_the_event_loop_thread(chain: Any) -> None:
    loop_thread = threading.get_ident()
    threads: list[int] = []
    order: list[str] = []

    class Slow(BaseCallbackHandler):
        def on_chain_start(self, serialized: Any, inputs: Any, **kw: Any) -> None:
            threads.append(threading.get_ident())
            order.append("start")

        def on_chain_end(self, outputs: Any, **kw: Any) -> None:
            threads.append(threading.get_ident())
            order.append("end")

    await chain.ainvoke({"x": 1}, {"callbacks": [Slow()]})
    assert order == ["start", "start", "end", "start", "end", "end"]
    assert loop_thread not in threads


async def test_sync_and_async_handlers_on_the_same_call(chain: Any) -> None:
    sync_log, async_log = Logger(), AsyncLog()
    await chain.ainvoke({"x": 1}, {"callbacks": [sync_log, async_log]})
    assert len(sync_log.calls) == 8 and len(async_log.names) == 6


def test_custom_events_reach_on_custom_event() -> None:
    from chainkit.tracing import dispatch_custom_event

    got = []

    class Custom(BaseCallbackHandler):
        def on_custom_event(self, name: str, data: Any, **kw: Any) -> None:
            got.append((name, data, kw["run_id"]))

    def step(x: int) -> int:
        dispatch_custom_event("progress", {"at": x})
        return x

    class RunIds:
        def __init__(self) -> None:
            self.ids: list[Any] = []

        def on_run_start(self, run: Any) -> None:
            self.ids.append(run.id)

    ids = RunIds()
    RunnableLambda(step).invoke(3, {"callbacks": [Custom(), ids]})
    assert got == [("progress", {"at": 3}, ids.ids[0])]


class Tool:
    """A minimal tool-typed runnable (the tool classes live elsewhere)."""

    @staticmethod
    def make(fail: bool = False) -> Any:
        from chainkit.runnables import Runnable

        class Search(Runnable[Any, Any]):
            run_type = "tool"

            def _call(self, input: Any, config: Any, **kw: Any) -> Any:
                if fail:
                    raise LookupError("no results")
                return f"results for {input['q']}"

        return Search()


def test_tool_runs_map_onto_on_tool_methods() -> None:
    calls: list[tuple[str, Any, dict[str, Any]]] = []

    class ToolLog(BaseCallbackHandler):
        def on_tool_start(self, serialized: Any, input_str: str, **kw: Any) -> None:
            calls.append(("start", input_str, kw))

        def on_tool_end(self, output: Any, **kw: Any) -> None:
            calls.append(("end", output, kw))

        def on_tool_error(self, error: BaseException, **kw: Any) -> None:
            calls.append(("error", error, kw))

    assert Tool.make().invoke({"q": "owls"}, {"callbacks": [ToolLog()]}) == "results for owls"
    assert [(n, v) for n, v, _ in calls] == [("start", "{'q': 'owls'}"),
                                             ("end", "results for owls")]
    assert calls[0][2]["inputs"] == {"q": "owls"} and calls[0][2]["name"] == "Search"
    calls.clear()
    with pytest.raises(LookupError):
        Tool.make(fail=True).invoke({"q": "x"}, {"callbacks": [ToolLog()]})
    assert [n for n, _, _ in calls] == ["start", "error"]
    assert isinstance(calls[1][1], LookupError)


async def test_async_custom_events_reach_async_handlers() -> None:
    from chainkit.tracing import adispatch_custom_event

    got = []

    class Custom(AsyncCallbackHandler):
        async def on_custom_event(self, name: str, data: Any, **kw: Any) -> None:
            got.append((name, data, sorted(kw)))

    async def step(x: int) -> int:
        await adispatch_custom_event("tick", x)
        return x

    await RunnableLambda(step).ainvoke(1, {"callbacks": [Custom()], "tags": ["t"]})
    assert got == [("tick", 1, ["metadata", "run_id", "tags"])]
