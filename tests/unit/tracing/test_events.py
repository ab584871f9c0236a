"""`astream_events` / `stream_events`: exact event sequences, filters, errors, cancellation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from chainkit.messages import AIMessageChunk, BaseMessage, HumanMessage
from chainkit.models.base import BaseChatModel
from chainkit.models.fake import FakeListChatModel
from chainkit.models.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from chainkit.prompts.values import ChatPromptValue
from chainkit.runnables import RunnableLambda, RunnableParallel, RunnableSequence
from chainkit.tracing import adispatch_custom_event, dispatch_custom_event


async def _events(runnable: Any, input: Any, **kwargs: Any) -> list[dict[str, Any]]:
    return [e async for e in runnable.astream_events(input, **kwargs)]


def _ev(event: str, name: str, data: dict[str, Any], tags: list[str], depth: int) -> dict[str, Any]:
    return {"event": event, "name": name, "data": data, "tags": tags, "metadata": {},
            "run_id": "<id>", "parent_ids": ["<id>"] * depth}


def _chunks(model_factory: Any, norm: Any) -> list[AIMessageChunk]:
    return norm(list(model_factory().stream([HumanMessage("hi 1")])))


async def test_prompt_model_parser_events_match_langchain(
    chain: Any, model_factory: Any, norm: Any
) -> None:
    c0, c1, c2 = _chunks(model_factory, norm)
    whole = c0 + c1 + c2
    messages = {"messages": [[HumanMessage("hi 1")]]}
    pv = ChatPromptValue(messages=[HumanMessage("hi 1")])
    s1, s2, s3 = ["seq:step:1"], ["seq:step:2"], ["seq:step:3"]
    root, prompt, model, parser = ("RunnableSequence", "ChatPromptTemplate",
                                   "GenericFakeChatModel", "StrOutputParser")
    expected = [
        _ev("on_chain_start", root, {"input": {"x": 1}}, [], 0),
        _ev("on_prompt_start", prompt, {"input": {"x": 1}}, s1, 1),
        _ev("on_prompt_end", prompt, {"output": pv, "input": {"x": 1}}, s1, 1),
        _ev("on_chat_model_start", model, {"input": messages}, s2, 1),
        _ev("on_chat_model_stream", model, {"chunk": c0}, s2, 1),
        _ev("on_parser_start", parser, {}, s3, 1),
        _ev("on_parser_stream", parser, {"chunk": "hello"}, s3, 1),
        _ev("on_chain_stream", root, {"chunk": "hello"}, [], 0),
        _ev("on_chat_model_stream", model, {"chunk": c1}, s2, 1),
        _ev("on_parser_stream", parser, {"chunk": " "}, s3, 1),
        _ev("on_chain_stream", root, {"chunk": " "}, [], 0),
        _ev("on_chat_model_stream", model, {"chunk": c2}, s2, 1),
        _ev("on_parser_stream", parser, {"chunk": "world"}, s3, 1),
        _ev("on_chain_stream", root, {"chunk": "world"}, [], 0),
        _ev("on_chat_model_end", model, {"output": whole, "input": messages}, s2, 1),
        _ev("on_parser_end", parser, {"output": "hello world", "input": whole}, s3, 1),
        _ev("on_chain_end", root, {"output": "hello world"}, [], 0),
    ]
    events = await _events(chain, {"x": 1})
    assert norm(events) == expected
    root_id = events[0]["run_id"]
    assert all(e["parent_ids"] == [root_id] for e in events if e["name"] != root)
    assert len({e["run_id"] for e in events}) == 4


async def test_the_last_model_chunk_carries_usage(chain: Any) -> None:
    events = await _events(chain, {"x": 1}, include_types=["chat_model"])
    streams = [e["data"]["chunk"] for e in events if e["event"] == "on_chat_model_stream"]
    assert [c.usage_metadata for c in streams[:-1]] == [None, None]
    assert streams[-1].usage_metadata == {"input_tokens": 2, "output_tokens": 2, "total_tokens": 4}
    assert streams[-1].chunk_position == "last"


async def test_a_bare_chat_model(model_factory: Any, norm: Any) -> None:
    c0, c1, c2 = _chunks(model_factory, norm)
    events = await _events(model_factory(), "hi 1")
    name = "GenericFakeChatModel"
    assert norm(events) == [
        _ev("on_chat_model_start", name, {"input": "hi 1"}, [], 0),
        _ev("on_chat_model_stream", name, {"chunk": c0}, [], 0),
        _ev("on_chat_model_stream", name, {"chunk": c1}, [], 0),
        _ev("on_chat_model_stream", name, {"chunk": c2}, [], 0),
        _ev("on_chat_model_end", name, {"output": c0 + c1 + c2}, [], 0),
    ]


async def test_parallel_branches_and_nested_parent_ids(norm: Any) -> None:
    def add(x: int) -> int:
        return x + 1

    inner = RunnableSequence(RunnableLambda(add), RunnableLambda(add), name="inner")
    par = RunnableParallel(a=inner, b=RunnableLambda(add, name="b"))
    events = await _events(par, 1, include_types=["chain"])
    by = {(e["event"], e["name"]): e for e in events}
    root_id = by[("on_chain_start", "RunnableParallel")]["run_id"]
    inner_id = by[("on_chain_start", "inner")]["run_id"]
    assert by[("on_chain_start", "inner")]["parent_ids"] == [root_id]
    assert by[("on_chain_start", "inner")]["tags"] == ["map:key:a"]
    adds = [e for e in events if e["name"] == "add" and e["event"] == "on_chain_start"]
    assert [e["parent_ids"] for e in adds] == [[root_id, inner_id]] * 2
    assert by[("on_chain_end", "RunnableParallel")]["data"] == {"output": {"a": 3, "b": 2}}
    streams = [e["data"]["chunk"] for e in events
               if e["event"] == "on_chain_stream" and e["name"] == "RunnableParallel"]
    assert sorted(streams, key=str) == [{"a": 3}, {"b": 2}]
    # every run starts before it ends, and a child ends before its parent
    order = [(e["event"].rsplit("_", 1)[1], e["run_id"]) for e in events]
    for run_id in {r for _, r in order}:
        kinds = [k for k, r in order if r == run_id]
        assert kinds[0] == "start" and kinds[-1] == "end"
    assert order[-1] == ("end", root_id)


@pytest.mark.parametrize(
    ("filters", "names"),
    [
        ({"include_names": ["StrOutputParser"]}, {"StrOutputParser"}),
        ({"include_types": ["chat_model"]}, {"GenericFakeChatModel"}),
        ({"include_tags": ["seq:step:1"]}, {"ChatPromptTemplate"}),
        ({"exclude_types": ["chain", "chat_model"]}, {"ChatPromptTemplate", "StrOutputParser"}),
        ({"exclude_tags": ["seq:step:2", "seq:step:3"]}, {"RunnableSequence",
                                                          "ChatPromptTemplate"}),
        ({"exclude_names": ["RunnableSequence"], "include_types": ["prompt", "chain"]},
         {"ChatPromptTemplate"}),
    ],
)
async def test_filters_apply_to_every_event(
    chain: Any, filters: dict[str, Any], names: set[str]
) -> None:
    events = await _events(chain, {"x": 1}, **filters)
    assert {e["name"] for e in events} == names


async def test_the_root_can_be_filtered_out_by_tags() -> None:
    chain = RunnableLambda(lambda x: x, name="a").with_config(tags=["skip"])
    events = await _events(chain, 1, exclude_tags=["skip"])
    assert events == []


async def test_an_error_mid_stream_raises_after_the_events_so_far() -> None:
    from chainkit.parsers import StrOutputParser
    from chainkit.prompts import ChatPromptTemplate

    model = FakeListChatModel(responses=["abc"], error_on_chunk_number=1)
    chain = ChatPromptTemplate.from_messages([("human", "{x}")]) | model | StrOutputParser()
    seen = []
    with pytest.raises(Exception) as info:
        async for event in chain.astream_events({"x": 1}):
            seen.append(event["event"])
    assert type(info.value).__name__ == "FakeListChatModelError"
    assert seen == ["on_chain_start", "on_prompt_start", "on_prompt_end", "on_chat_model_start",
                    "on_chat_model_stream", "on_parser_start", "on_parser_stream",
                    "on_chain_stream"]


class Recording(BaseChatModel):
    """A model whose async stream records how it was stopped."""

    stopped: list[str]

    def __init__(self) -> None:
        super().__init__()
        object.__setattr__(self, "stopped", [])

    @property
    def _llm_type(self) -> str:
        return "recording"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {}

    def _generate(self, messages: list[BaseMessage], stop: Any = None, **kw: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessageChunk("x"))])

    async def _astream(
        self, messages: list[BaseMessage], stop: Any = None, **kw: Any
    ) -> AsyncIterator[ChatGenerationChunk]:
        try:
            for i in range(1000):
                yield ChatGenerationChunk(message=AIMessageChunk(f"t{i} "))
                await asyncio.sleep(0.001)
        except asyncio.CancelledError:
            self.stopped.append("cancelled")
            raise
        except GeneratorExit:
            self.stopped.append("closed")
            raise
        finally:
            self.stopped.append("finally")


async def test_breaking_out_cancels_and_closes_the_model_stream() -> None:
    model = Recording()
    chain = RunnableLambda(lambda x: x) | model
    events = chain.astream_events("hi")
    n = 0
    async for event in events:
        if event["event"] == "on_chat_model_stream":
            n += 1
            if n == 3:
                break
    await events.aclose()  # type: ignore[attr-defined]
    assert model.stopped[-1] == "finally"
    assert model.stopped[0] in ("cancelled", "closed")


async def test_cancelling_the_consumer_task_stops_the_model() -> None:
    model = Recording()

    async def consume() -> None:
        async for _ in model.astream_events("hi"):
            pass

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert model.stopped[-1] == "finally"


async def test_custom_events_from_config_and_from_the_current_run() -> None:
    def sync_step(x: int, config: Any) -> int:
        dispatch_custom_event("with_config", {"x": x}, config)
        dispatch_custom_event("from_context", x)
        return x

    async def async_step(x: int) -> int:
        await adispatch_custom_event("async", [x])
        return x

    chain = RunnableLambda(sync_step) | RunnableLambda(async_step)
    events = await _events(chain, 5)
    custom = [e for e in events if e["event"] == "on_custom_event"]
    assert [(e["name"], e["data"]) for e in custom] == [
        ("with_config", {"x": 5}), ("from_context", 5), ("async", [5])]
    starts = {e["name"]: e for e in events if e["event"] == "on_chain_start"}
    assert custom[0]["run_id"] == starts["sync_step"]["run_id"]
    assert custom[2]["run_id"] == starts["async_step"]["run_id"]
    assert custom[0]["parent_ids"] == [starts["RunnableSequence"]["run_id"]]
    assert custom[0]["tags"] == ["seq:step:1"]


async def test_custom_events_from_a_streaming_generator() -> None:
    async def gen(chunks: AsyncIterator[int]) -> AsyncIterator[int]:
        async for c in chunks:
            dispatch_custom_event("seen", c)
            yield c

    events = await _events(RunnableLambda(lambda x: x) | gen, 7)
    assert [(e["name"], e["data"]) for e in events if e["event"] == "on_custom_event"] == [
        ("seen", 7)]


def test_custom_events_need_a_str_name_and_are_dropped_when_nobody_listens() -> None:
    with pytest.raises(TypeError, match="custom event name must be a str"):
        dispatch_custom_event(1, {})  # type: ignore[arg-type]
    dispatch_custom_event("nobody", {})  # outside any run: nothing to tell
    assert RunnableLambda(lambda x: dispatch_custom_event("quiet", x) or x).invoke(1) == 1


def test_unsupported_versions_are_rejected_at_the_call(chain: Any) -> None:
    with pytest.raises(ValueError, match=r"version 'v1' is not supported.*\['v2'\]"):
        chain.astream_events({"x": 1}, version="v1")
    with pytest.raises(ValueError, match="supported versions"):
        chain.stream_events({"x": 1}, version="v3")


def test_stream_events_is_the_sync_twin(chain: Any, norm: Any) -> None:
    events = list(chain.stream_events({"x": 1}))
    async_events = asyncio.run(_events(chain, {"x": 1}))
    assert norm(events) == norm(async_events)
    assert events[-1]["data"] == {"output": "hello world"}


async def test_stream_events_works_inside_a_running_loop(chain: Any) -> None:
    names = [e["event"] for e in chain.stream_events({"x": 1})]  # e.g. a notebook cell
    assert names[0] == "on_chain_start" and names[-1] == "on_chain_end"


def test_stream_events_raises_errors_and_closes_early() -> None:
    def boom(x: Any) -> Any:
        raise KeyError("bad")

    it: Iterator[dict[str, Any]] = (RunnableLambda(lambda x: x) | boom).stream_events(1)
    with pytest.raises(KeyError):
        list(it)
    model = Recording()
    it2 = model.stream_events("hi")
    for event in it2:
        if event["event"] == "on_chat_model_stream":
            break
    it2.close()  # type: ignore[attr-defined]
    # closing cancelled the worker's run and waited for it: the model's stream is closed
    assert model.stopped == ["cancelled", "finally"]


async def test_a_failing_tool_emits_on_tool_error() -> None:
    from chainkit.runnables import Runnable

    class Search(Runnable[Any, Any]):
        run_type = "tool"

        def _call(self, input: Any, config: Any, **kw: Any) -> Any:
            raise LookupError("no results")

    seen = []
    with pytest.raises(LookupError):
        async for event in (RunnableLambda(lambda x: x) | Search()).astream_events({"q": 1}):
            seen.append(event)
    assert [e["event"] for e in seen] == ["on_chain_start", "on_chain_start", "on_chain_stream",
                                          "on_chain_end", "on_tool_start", "on_tool_error"]
    error = seen[-1]["data"]
    assert isinstance(error["error"], LookupError) and error["input"] == {"q": 1}
