"""`astream_log`: the exact op sequence, the state the ops rebuild, filters, errors."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import jsonpatch
import pytest

from chainkit.messages import AIMessageChunk, HumanMessage
from chainkit.models.fake import FakeListChatModel
from chainkit.prompts.values import ChatPromptValue
from chainkit.runnables import RunnableLambda, RunnableParallel, RunnableSequence
from chainkit.tracing import RunLog, RunLogPatch


async def _patches(runnable: Any, input: Any, **kwargs: Any) -> list[RunLogPatch]:
    return [p async for p in runnable.astream_log(input, **kwargs)]


def _ops(patches: list[RunLogPatch]) -> list[dict[str, Any]]:
    return [op for p in patches for op in p.ops]


def _entry(name: str, type_: str, tags: list[str]) -> dict[str, Any]:
    return {
        "id": "<id>", "name": name, "type": type_, "tags": tags, "metadata": {},
        "start_time": "<time>", "streamed_output": [], "streamed_output_str": [],
        "final_output": None, "end_time": None,
    }


def _add(path: str, value: Any) -> dict[str, Any]:
    return {"op": "add", "path": path, "value": value}


def _model_chunks(model_factory: Any, norm: Any) -> list[AIMessageChunk]:
    return norm(list(model_factory().stream([HumanMessage("hi 1")])))


async def test_prompt_model_parser_ops_match_langchain(
    chain: Any, model_factory: Any, norm: Any
) -> None:
    c0, c1, c2 = _model_chunks(model_factory, norm)
    whole = c0 + c1 + c2
    m, p = "/logs/GenericFakeChatModel", "/logs/StrOutputParser"
    expected = [
        [{"op": "replace", "path": "", "value": {
            "id": "<id>", "streamed_output": [], "final_output": None, "logs": {},
            "name": "RunnableSequence", "type": "chain"}}],
        [_add("/logs/ChatPromptTemplate", _entry("ChatPromptTemplate", "prompt", ["seq:step:1"]))],
        [_add("/logs/ChatPromptTemplate/final_output",
              ChatPromptValue(messages=[HumanMessage("hi 1")])),
         _add("/logs/ChatPromptTemplate/end_time", "<time>")],
        [_add(m, _entry("GenericFakeChatModel", "llm", ["seq:step:2"]))],
        [_add(f"{m}/streamed_output_str/-", "hello"), _add(f"{m}/streamed_output/-", c0)],
        [_add(p, _entry("StrOutputParser", "parser", ["seq:step:3"]))],
        [_add(f"{p}/streamed_output/-", "hello")],
        [_add("/streamed_output/-", "hello"),
         {"op": "replace", "path": "/final_output", "value": "hello"}],
        [_add(f"{m}/streamed_output_str/-", " "), _add(f"{m}/streamed_output/-", c1)],
        [_add(f"{p}/streamed_output/-", " ")],
        [_add("/streamed_output/-", " "),
         {"op": "replace", "path": "/final_output", "value": "hello "}],
        [_add(f"{m}/streamed_output_str/-", "world"), _add(f"{m}/streamed_output/-", c2)],
        [_add(f"{p}/streamed_output/-", "world")],
        [_add("/streamed_output/-", "world"),
         {"op": "replace", "path": "/final_output", "value": "hello world"}],
        [_add(f"{m}/final_output", {
            "generations": [[{"text": "hello world", "generation_info": {"finish_reason": "stop"},
                              "type": "ChatGenerationChunk", "message": whole}]],
            "llm_output": None, "run": None, "type": "LLMResult"}),
         _add(f"{m}/end_time", "<time>")],
        [_add(f"{p}/final_output", {"output": "hello world"}), _add(f"{p}/end_time", "<time>")],
    ]
    patches = await _patches(chain, {"x": 1})
    assert all(type(p) is RunLogPatch for p in patches)
    assert [norm(p.ops) for p in patches] == expected


async def test_jsonpatch_rebuilds_the_final_state(chain: Any) -> None:
    patches = await _patches(chain, {"x": 1})
    logs = [log async for log in chain.astream_log({"x": 1}, diff=False)]
    assert all(type(log) is RunLog for log in logs)
    final = logs[-1].state
    rebuilt = jsonpatch.apply_patch(None, copy.deepcopy(_ops(patches)))
    summed = patches[0]
    for patch in patches[1:]:
        summed = summed + patch
    assert isinstance(summed, RunLog) and summed.state == rebuilt
    # The diff=False run is a second run: compare everything but ids and times.
    assert final["final_output"] == rebuilt["final_output"] == "hello world"
    assert final["streamed_output"] == rebuilt["streamed_output"] == ["hello", " ", "world"]
    assert list(final["logs"]) == list(rebuilt["logs"]) == [
        "ChatPromptTemplate", "GenericFakeChatModel", "StrOutputParser"]
    assert rebuilt["logs"]["StrOutputParser"]["streamed_output"] == ["hello", " ", "world"]
    assert rebuilt["logs"]["GenericFakeChatModel"]["streamed_output_str"] == ["hello", " ", "world"]
    assert rebuilt["logs"]["StrOutputParser"]["end_time"] is not None
    # Each cumulative log holds every op so far.
    assert len(logs[-1].ops) == len(_ops(patches))


async def test_a_bare_chat_model_has_the_quickstart_shape(model_factory: Any, norm: Any) -> None:
    c0, c1, c2 = _model_chunks(model_factory, norm)
    model = model_factory()
    patches = await _patches(model, "hi 1")
    whole = c0 + c1 + c2
    assert [norm(p.ops) for p in patches] == [
        [{"op": "replace", "path": "", "value": {
            "id": "<id>", "streamed_output": [], "final_output": None, "logs": {},
            "name": "GenericFakeChatModel", "type": "llm"}}],
        [_add("/streamed_output/-", c0)],
        [_add("/streamed_output/-", c1)],
        [_add("/streamed_output/-", c2)],
        [{"op": "replace", "path": "/final_output", "value": {
            "generations": [[{"text": "hello world", "generation_info": {"finish_reason": "stop"},
                              "message": whole}]],
            "llm_output": None, "run": None}}],
    ]


async def test_parallel_root_gets_fine_grained_final_output_diffs() -> None:
    def slow(x: int) -> int:  # sync: runs in a worker thread on the async path
        return x * 10

    par = RunnableParallel(a=RunnableLambda(slow, name="a"), b=RunnableLambda(slow, name="b"))
    patches = await _patches(par, 2)
    ops = _ops(patches)
    root_final = [op for op in ops if op["path"].startswith("/final_output")]
    assert root_final[0]["op"] == "replace" and len(root_final[0]["value"]) == 1
    assert root_final[1]["op"] == "add" and root_final[1]["path"] in ("/final_output/a",
                                                                      "/final_output/b")
    state = jsonpatch.apply_patch(None, copy.deepcopy(ops))
    assert state["final_output"] == {"a": 20, "b": 20}
    assert sorted(state["logs"]) == ["a", "b"]
    assert state["logs"]["a"]["final_output"] == {"output": 20}
    assert state["logs"]["a"]["tags"] == ["map:key:a"]


async def test_dict_outputs_diff_per_key_and_rebuild() -> None:
    async def gen(chunks: Any) -> Any:
        async for _ in chunks:
            yield {"text": "a", "n": [1]}
            yield {"text": "b", "n": [2]}
            yield {"extra": {"k": "v"}}

    from chainkit.runnables._sync import AddableDict

    async def addable(chunks: Any) -> Any:
        async for c in gen(chunks):
            yield AddableDict(c)

    patches = await _patches(RunnableLambda(addable), None)
    ops = _ops(patches)
    finals = [op for op in ops if op["path"].startswith("/final_output")]
    assert finals == [
        {"op": "replace", "path": "/final_output", "value": {"text": "a", "n": [1]}},
        {"op": "replace", "path": "/final_output/text", "value": "ab"},
        {"op": "add", "path": "/final_output/n/1", "value": 2},
        {"op": "add", "path": "/final_output/extra", "value": {"k": "v"}},
    ]
    state = jsonpatch.apply_patch(None, copy.deepcopy(ops))
    assert state["final_output"] == {"text": "ab", "n": [1, 2], "extra": {"k": "v"}}
    # streamed chunks kept as they were, not changed by later final_output ops
    assert state["streamed_output"] == [{"text": "a", "n": [1]}, {"text": "b", "n": [2]},
                                        {"extra": {"k": "v"}}]


async def test_repeated_names_get_numbered_keys_and_nested_chains_are_flat() -> None:
    def f(x: int) -> int:
        return x + 1

    inner = RunnableSequence(RunnableLambda(f), RunnableLambda(f), name="inner")
    chain = inner | RunnableLambda(f)
    patches = await _patches(chain, 0)
    state = jsonpatch.apply_patch(None, copy.deepcopy(_ops(patches)))
    assert list(state["logs"]) == ["inner", "f", "f:2", "f:3"]
    assert state["logs"]["f:3"]["final_output"] == {"output": 3}
    assert state["logs"]["inner"]["tags"] == ["seq:step:1"]
    assert state["final_output"] == 3


@pytest.mark.parametrize(
    ("filters", "keys"),
    [
        ({"include_names": ["StrOutputParser"]}, ["StrOutputParser"]),
        ({"include_types": ["llm"]}, ["GenericFakeChatModel"]),
        ({"include_tags": ["seq:step:1"]}, ["ChatPromptTemplate"]),
        ({"exclude_names": ["StrOutputParser"]}, ["ChatPromptTemplate", "GenericFakeChatModel"]),
        ({"exclude_types": ["prompt", "llm"]}, ["StrOutputParser"]),
        ({"exclude_tags": ["seq:step:2"]}, ["ChatPromptTemplate", "StrOutputParser"]),
        ({"include_types": ["llm", "parser"], "exclude_names": ["StrOutputParser"]},
         ["GenericFakeChatModel"]),
    ],
)
async def test_filters_choose_the_logged_children(
    chain: Any, filters: dict[str, Any], keys: list[str]
) -> None:
    patches = await _patches(chain, {"x": 1}, **filters)
    state = jsonpatch.apply_patch(None, copy.deepcopy(_ops(patches)))
    assert list(state["logs"]) == keys
    assert state["final_output"] == "hello world"  # the root is always there


async def test_without_the_streamed_output_list(chain: Any) -> None:
    patches = await _patches(chain, {"x": 1}, with_streamed_output_list=False)
    ops = _ops(patches)
    assert not [op for op in ops if op["path"] == "/streamed_output/-"]
    assert jsonpatch.apply_patch(None, copy.deepcopy(ops))["final_output"] == "hello world"


async def test_an_error_mid_stream_is_raised_after_the_patches_so_far(chain_factory: Any) -> None:
    from chainkit.parsers import StrOutputParser
    from chainkit.prompts import ChatPromptTemplate

    model = FakeListChatModel(responses=["abc"], error_on_chunk_number=1)
    chain = ChatPromptTemplate.from_messages([("human", "{x}")]) | model | StrOutputParser()
    seen: list[RunLogPatch] = []
    with pytest.raises(Exception) as info:  # its type is checked below
        async for patch in chain.astream_log({"x": 1}):
            seen.append(patch)
    assert type(info.value).__name__ == "FakeListChatModelError"
    ops = _ops(seen)
    state = jsonpatch.apply_patch(None, copy.deepcopy(ops))
    assert state["streamed_output"] == ["a"]
    model_entry = state["logs"]["FakeListChatModel"]
    assert model_entry["final_output"] is None and model_entry["end_time"] is not None


async def test_stops_early_when_the_consumer_breaks(chain: Any) -> None:
    async for patch in chain.astream_log({"x": 1}):
        assert patch.ops[0]["op"] == "replace"
        break
    await asyncio.sleep(0)  # nothing left running; no warnings


async def test_inside_a_traced_run_logs_only_its_own_tree(chain: Any) -> None:
    async def outer(x: Any, config: Any) -> Any:
        patches = [p async for p in chain.astream_log(x, config)]
        return jsonpatch.apply_patch(None, copy.deepcopy(_ops(patches)))

    class Nop:
        def on_run_start(self, run: Any) -> None:
            pass

    state = await RunnableLambda(outer).ainvoke({"x": 1}, {"callbacks": [Nop()]})
    assert state["name"] == "RunnableSequence" and state["final_output"] == "hello world"
    assert list(state["logs"]) == ["ChatPromptTemplate", "GenericFakeChatModel", "StrOutputParser"]


# ---- RunLogPatch / RunLog values ------------------------------------------------------------
def test_patch_addition_repr_and_equality() -> None:
    a = RunLogPatch({"op": "replace", "path": "", "value": {"streamed_output": [], "logs": {}}})
    b = RunLogPatch({"op": "add", "path": "/streamed_output/-", "value": "hi"})
    log = a + b
    assert type(log) is RunLog
    assert log.state == {"streamed_output": ["hi"], "logs": {}}
    assert log.ops == a.ops + b.ops
    log2 = log + b
    assert log2.state == {"streamed_output": ["hi", "hi"], "logs": {}}
    assert log.state == {"streamed_output": ["hi"], "logs": {}}  # unchanged
    assert repr(b) == "RunLogPatch({'op': 'add', 'path': '/streamed_output/-', 'value': 'hi'})"
    assert repr(log) == "RunLog({'logs': {}, 'streamed_output': ['hi']})"
    assert b == RunLogPatch({"op": "add", "path": "/streamed_output/-", "value": "hi"})
    assert log != a and log == a + b
    with pytest.raises(TypeError):
        a + 1  # type: ignore[operator]


def test_multi_op_patch_repr_matches_langchain() -> None:
    patch = RunLogPatch(
        {"op": "add", "path": "/streamed_output/-", "value": "hello"},
        {"op": "replace", "path": "/final_output", "value": "hello"},
    )
    assert repr(patch) == (
        "RunLogPatch({'op': 'add', 'path': '/streamed_output/-', 'value': 'hello'},\n"
        " {'op': 'replace', 'path': '/final_output', 'value': 'hello'})"
    )


def test_bad_filter_arguments_are_rejected_at_the_call(chain: Any) -> None:
    with pytest.raises(TypeError, match="include_names must be a list of strings"):
        chain.astream_log({"x": 1}, include_names="StrOutputParser")


def test_a_config_that_is_not_a_dict_is_rejected_at_the_call(chain: Any) -> None:
    with pytest.raises(TypeError, match=r"config must be a dict.*got str"):
        chain.astream_log({"x": 1}, "tags")
    with pytest.raises(TypeError, match=r"config must be a dict.*got list"):
        chain.astream_events({"x": 1}, ["tags"])
    with pytest.raises(TypeError, match="config must be a dict"):
        chain.stream_events({"x": 1}, 3)
