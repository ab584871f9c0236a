"""BaseChatModel over a provider's hooks: coercion, ids, usage, generate, streams, async."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from chainkit.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
)
from chainkit.models.base import BaseChatModel
from chainkit.models.outputs import ChatGeneration, ChatGenerationChunk, ChatResult, LLMResult
from chainkit.prompts import ChatPromptTemplate

USAGE = {"input_tokens": 2, "output_tokens": 3, "total_tokens": 5}


class Echo(BaseChatModel):
    """Sync-only provider without _stream: replies with the last message's text."""

    def __init__(self, *, model: str = "echo-1", temperature: float = 0.0, **kw: Any) -> None:
        super().__init__(**kw)
        self.model = model
        self.temperature = temperature
        self.calls: list[tuple[list[BaseMessage], Any, dict[str, Any]]] = []

    @property
    def _llm_type(self) -> str:
        return "echo"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model, "temperature": self.temperature}

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> ChatResult:
        self.calls.append((messages, stop, kwargs))
        reply = AIMessage(messages[-1].text, usage_metadata=dict(USAGE))
        return ChatResult(
            generations=[ChatGeneration(message=reply, generation_info={"finish_reason": "stop"})],
            llm_output={
                "token_usage": {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5},
                "model_name": self.model,
            },
        )


class Words(Echo):
    """Sync-only provider with _stream: one word per chunk, usage on the last chunk."""

    def __init__(self, *, delay: float = 0.0, **kw: Any) -> None:
        super().__init__(**kw)
        self.delay = delay
        self.closed = threading.Event()
        self.threads: set[str] = set()

    def _stream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> Iterator[ChatGenerationChunk]:
        words = messages[-1].text.split(" ")
        try:
            for i, word in enumerate(words):
                self.threads.add(threading.current_thread().name)
                if self.delay:
                    time.sleep(self.delay)
                last = i == len(words) - 1
                text = word if i == 0 else " " + word
                yield ChatGenerationChunk(
                    message=AIMessageChunk(text, usage_metadata=dict(USAGE) if last else None),
                    generation_info={"finish_reason": "stop"} if last else None,
                )
        finally:
            self.closed.set()


# ---- input coercion -------------------------------------------------------------------
class FakePromptValue:
    def to_messages(self) -> list[BaseMessage]:
        return [SystemMessage("sys"), HumanMessage("from prompt")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("hi", [HumanMessage("hi")]),
        ([HumanMessage("hi")], [HumanMessage("hi")]),
        ([("system", "s"), ("human", "hi")], [SystemMessage("s"), HumanMessage("hi")]),
        ([{"role": "user", "content": "hi"}], [HumanMessage("hi")]),
        (FakePromptValue(), [SystemMessage("sys"), HumanMessage("from prompt")]),
    ],
)
def test_inputs_are_coerced_to_messages(value: Any, expected: list[BaseMessage]) -> None:
    model = Echo()
    model.invoke(value)
    assert model.calls[0][0] == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [(42, "cannot convert int 42 to messages"), ([1, 2], "message at index 0")],
)
async def test_bad_input_raises_the_coercion_type_error(value: Any, message: str) -> None:
    model = Words()
    with pytest.raises(TypeError, match=message):
        model.invoke(value)
    with pytest.raises(TypeError, match=message):
        await model.ainvoke(value)
    with pytest.raises(TypeError, match=message):
        list(model.stream(value))
    with pytest.raises(TypeError, match=message):
        [c async for c in model.astream(value)]
    with pytest.raises(TypeError, match=message):
        model.generate([value])
    assert model.calls == []


# ---- invoke ---------------------------------------------------------------------------
def test_invoke_returns_the_reply_with_id_and_metadata() -> None:
    reply = Echo().invoke("hello")
    assert isinstance(reply, AIMessage)
    assert reply.content == "hello"
    assert reply.usage_metadata == USAGE
    assert reply.response_metadata == {"finish_reason": "stop"}
    assert reply.id is not None and reply.id.startswith("run-")


def test_provider_ids_and_metadata_win() -> None:
    class Own(Echo):
        def _generate(self, messages: list[BaseMessage], stop: Any = None, **kw: Any) -> ChatResult:
            msg = AIMessage("x", id="chatcmpl-1", response_metadata={"finish_reason": "length"})
            gen = ChatGeneration(message=msg, generation_info={"finish_reason": "stop", "x": 1})
            return ChatResult(generations=[gen])

    reply = Own().invoke("hi")
    assert reply.id == "chatcmpl-1"
    assert reply.response_metadata == {"finish_reason": "length", "x": 1}


def test_stop_and_kwargs_reach_the_provider() -> None:
    model = Echo()
    model.invoke("hi", stop=["\n"], seed=3)
    assert model.calls[0][1:] == (["\n"], {"seed": 3})


def test_callable_form() -> None:
    model = Echo()
    reply = model([HumanMessage("Translate: I love programming.")], stop=["!"])
    assert isinstance(reply, AIMessage)
    assert reply.content == "Translate: I love programming."
    assert model.calls[0][1] == ["!"]


def test_no_generations_is_a_clear_error() -> None:
    class Empty(Echo):
        def _generate(self, messages: list[BaseMessage], stop: Any = None, **kw: Any) -> ChatResult:
            return ChatResult(generations=[])

    with pytest.raises(ValueError, match="Empty returned no generations"):
        Empty().invoke("hi")


def test_a_model_without_generate_or_stream() -> None:
    class Nothing(BaseChatModel):
        pass

    with pytest.raises(NotImplementedError, match="neither _generate nor _stream"):
        Nothing().invoke("hi")


def test_stream_only_provider_can_invoke() -> None:
    class StreamOnly(BaseChatModel):
        def _stream(self, messages: list[BaseMessage], stop: Any = None, **kw: Any) -> Any:
            yield ChatGenerationChunk(message=AIMessageChunk("a"))
            yield ChatGenerationChunk(
                message=AIMessageChunk("b"), generation_info={"finish_reason": "stop"}
            )

    reply = StreamOnly().invoke("hi")
    assert type(reply) is AIMessage
    assert reply.content == "ab"
    assert reply.response_metadata == {"finish_reason": "stop"}
    assert StreamOnly().generate([["x"]]).generations[0][0].text == "ab"


def test_hooks_are_decided_once_per_class() -> None:
    assert not Echo._native_stream and Echo._native_generate
    assert Words._native_stream and not Words._native_astream and not Words._native_agenerate


# ---- generate -------------------------------------------------------------------------
def test_generate_sums_token_usage_across_prompts() -> None:
    result = Echo(model="m-1").generate([[HumanMessage("a")], ["b"]])
    assert isinstance(result, LLMResult)
    assert [[g.text for g in gens] for gens in result.generations] == [["a"], ["b"]]
    assert result.llm_output == {
        "token_usage": {"prompt_tokens": 4, "completion_tokens": 6, "total_tokens": 10},
        "model_name": "m-1",
    }
    assert result.run is not None and len(result.run) == 2
    assert result.run[0].run_id != result.run[1].run_id
    first = result.generations[0][0]
    assert isinstance(first, ChatGeneration)
    assert first.message.id == f"run-{result.run[0].run_id}"
    assert first.generation_info == {"finish_reason": "stop"}


async def test_agenerate_matches_generate_and_runs_concurrently() -> None:
    class Slow(Echo):
        def _generate(self, messages: list[BaseMessage], stop: Any = None, **kw: Any) -> ChatResult:
            time.sleep(0.2)
            return super()._generate(messages, stop, **kw)

    model = Slow()
    start = time.perf_counter()
    result = await model.agenerate([["a"], ["b"], ["c"]])
    assert time.perf_counter() - start < 0.5  # three 0.2 s calls, in parallel threads
    expected = Echo().generate([["a"], ["b"], ["c"]])
    assert [[g.text for g in gens] for gens in result.generations] == [["a"], ["b"], ["c"]]
    assert result.llm_output == expected.llm_output


def test_generate_wants_a_list_of_prompts() -> None:
    with pytest.raises(TypeError, match=r"generate\(\) takes a list of prompts"):
        Echo().generate("hi")  # type: ignore[arg-type]


def test_combine_llm_outputs() -> None:
    combined = Echo()._combine_llm_outputs(
        [
            {"token_usage": {"total_tokens": 1, "details": {"cached": 1}}, "model_name": "a"},
            None,
            {"token_usage": {"total_tokens": 2, "details": {"cached": 2}, "x": None}},
            {"model_name": "b", "system_fingerprint": "fp"},
        ]
    )
    assert combined == {
        "token_usage": {"total_tokens": 3, "details": {"cached": 3}},
        "model_name": "a",
        "system_fingerprint": "fp",
    }
    assert Echo()._combine_llm_outputs([None, {}]) == {}


class Recorder:
    def __init__(self) -> None:
        self.started: list[Any] = []
        self.ended: list[Any] = []

    def on_run_start(self, run: Any) -> None:
        self.started.append(run)

    def on_run_end(self, run: Any) -> None:
        self.ended.append(run)


def test_generate_with_callbacks_traces_one_run_per_prompt() -> None:
    rec = Recorder()
    result = Echo().generate([["a"], ["b"]], stop=["x"], callbacks=[rec], tags=["t"])
    assert [r.run_type for r in rec.ended] == ["chat_model", "chat_model"]
    assert result.run is not None
    assert [info.run_id for info in result.run] == [r.id for r in rec.ended]
    assert rec.ended[0].outputs.id == f"run-{rec.ended[0].id}"
    assert rec.ended[0].tags == ["t"]
    params = rec.started[0].extra["invocation_params"]
    assert params == {"model_name": "echo-1", "temperature": 0.0, "_type": "echo", "stop": ["x"]}


async def test_agenerate_with_callbacks_records_errors() -> None:
    class Boom(Echo):
        def _generate(self, messages: list[BaseMessage], stop: Any = None, **kw: Any) -> ChatResult:
            raise RuntimeError("provider down")

    rec = Recorder()
    with pytest.raises(RuntimeError, match="provider down"):
        await Boom().agenerate([["a"]], callbacks=[rec])
    assert isinstance(rec.ended[0].error, RuntimeError)


def test_observed_invoke_uses_the_run_id_and_invocation_params() -> None:
    rec = Recorder()
    reply = Echo(temperature=0.5).invoke("hi", {"callbacks": [rec]}, stop=["."], seed=1)
    (run,) = rec.ended
    assert reply.id == f"run-{run.id}"
    assert run.extra["invocation_params"] == {
        "model_name": "echo-1", "temperature": 0.5, "_type": "echo", "stop": ["."], "seed": 1,
    }


# ---- streaming ------------------------------------------------------------------------
def test_stream_yields_chunks_that_merge_into_the_reply_with_usage() -> None:
    chunks = list(Words().stream("a b c"))
    assert [c.content for c in chunks] == ["a", " b", " c", ""]
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    assert len({c.id for c in chunks}) == 1
    assert chunks[-1].chunk_position == "last"
    total = chunks[0] + chunks[1:]
    assert total.content == "a b c"
    assert total.usage_metadata == USAGE
    assert total.response_metadata == {"finish_reason": "stop"}
    assert total.chunk_position == "last"


def test_a_provider_marked_last_chunk_is_not_followed_by_another() -> None:
    class Marked(Echo):
        def _stream(self, messages: list[BaseMessage], stop: Any = None, **kw: Any) -> Any:
            yield ChatGenerationChunk(message=AIMessageChunk("x", chunk_position="last"))

    assert [c.content for c in Marked().stream("hi")] == ["x"]


def test_stream_without_provider_stream_is_one_last_chunk() -> None:
    (chunk,) = list(Echo().stream("hi there"))
    assert isinstance(chunk, AIMessageChunk)
    assert chunk.content == "hi there"
    assert chunk.usage_metadata == USAGE
    assert chunk.chunk_position == "last"
    assert chunk.id is not None and chunk.id.startswith("run-")


def test_disable_streaming_yields_one_chunk() -> None:
    model = Words(disable_streaming=True)
    (chunk,) = list(model.stream("a b"))
    assert chunk.content == "a b" and chunk.chunk_position == "last"
    assert repr(model).startswith("Words(disable_streaming=True, model='echo-1'")


def test_streaming_flag_makes_invoke_use_the_stream() -> None:
    model = Words()
    model.streaming = True
    reply = model.invoke("a b")
    assert type(reply) is AIMessage and reply.content == "a b"
    assert model.calls == []  # _generate was not called
    assert model.closed.is_set()


def test_closing_a_stream_early_closes_the_provider_iterator() -> None:
    model = Words()
    stream = model.stream("a b c d")
    assert next(stream).content == "a"
    assert not model.closed.is_set()
    stream.close()  # type: ignore[attr-defined]
    assert model.closed.is_set()


async def test_closing_an_astream_early_closes_the_sync_provider_iterator() -> None:
    model = Words(delay=0.01)
    stream = model.astream("a b c d e f")
    assert (await stream.__anext__()).content == "a"
    await stream.aclose()  # type: ignore[attr-defined]
    assert model.closed.is_set()  # closed by the time aclose returns


async def test_sync_provider_astream_does_not_block_the_loop() -> None:
    model = Words(delay=0.02)
    ticks = 0
    done = False

    async def ticker() -> None:
        nonlocal ticks
        while not done:
            await asyncio.sleep(0.005)
            ticks += 1

    task = asyncio.create_task(ticker())
    chunks = [c.content async for c in model.astream("a b c d e")]  # ~100 ms of blocking work
    done = True
    await task
    assert chunks == ["a", " b", " c", " d", " e", ""]
    assert ticks >= 8
    assert all(name.startswith("chainkit-stream") for name in model.threads)


async def test_sync_provider_ainvoke_does_not_block_the_loop() -> None:
    class Slow(Echo):
        def _generate(self, messages: list[BaseMessage], stop: Any = None, **kw: Any) -> ChatResult:
            time.sleep(0.1)
            return super()._generate(messages, stop, **kw)

    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        for _ in range(1000):
            await asyncio.sleep(0.005)
            ticks += 1

    task = asyncio.create_task(ticker())
    reply = await Slow().ainvoke("hi")
    task.cancel()
    assert reply.content == "hi"
    assert ticks >= 8


async def test_astream_errors_keep_their_type() -> None:
    class Fails(Echo):
        def _stream(self, messages: list[BaseMessage], stop: Any = None, **kw: Any) -> Any:
            yield ChatGenerationChunk(message=AIMessageChunk("a"))
            raise ConnectionError("dropped")

    seen = []
    with pytest.raises(ConnectionError, match="dropped"):
        async for chunk in Fails().astream("hi"):
            seen.append(chunk.content)
    assert seen == ["a"]


async def test_async_parity() -> None:
    for model in (Echo(), Words()):
        sync_reply = model.invoke("a b c")
        async_reply = await model.ainvoke("a b c")
        assert sync_reply.content == async_reply.content
        assert sync_reply.usage_metadata == async_reply.usage_metadata
        sync_chunks = [c.content for c in model.stream("a b c")]
        async_chunks = [c.content async for c in model.astream("a b c")]
        assert sync_chunks == async_chunks
        sync_batch = [m.content for m in model.batch(["x", "y"])]
        async_batch = [m.content for m in await model.abatch(["x", "y"])]
        assert sync_batch == async_batch == ["x", "y"]


async def test_transform_buffers_the_input_then_streams() -> None:
    def parts() -> Iterator[str]:
        yield "a "
        yield "b"

    async def aparts() -> Any:
        yield "a "
        yield "b"

    assert [c.content for c in Words().transform(parts())] == ["a", " b", ""]
    assert [c.content async for c in Words().atransform(aparts())] == ["a", " b", ""]


# ---- repr and tools -------------------------------------------------------------------
def test_repr_shows_params_and_hides_secrets() -> None:
    model = Echo(model="m", temperature=0.2)
    model.api_key = SecretStr("sk-very-secret")  # type: ignore[attr-defined]
    model.token = "plain-secret"  # type: ignore[attr-defined]
    model.default_headers = {"Authorization": "Bearer abc", "X-Trace": "1"}  # type: ignore[attr-defined]
    text = repr(model)
    assert text.startswith("Echo(model='m', temperature=0.2, ")
    assert "api_key=SecretStr('**********')" in text
    assert "token='**********'" in text
    assert "{'Authorization': '**********', 'X-Trace': '1'}" in text
    for secret in ("sk-very-secret", "plain-secret", "abc"):
        assert secret not in text
    assert "api_key" not in model._identifying_params


def test_bind_tools_is_not_supported_by_default() -> None:
    with pytest.raises(NotImplementedError, match="Echo does not support tool calling"):
        Echo().bind_tools([])


def test_run_type_and_name() -> None:
    assert Echo.run_type == "chat_model"
    assert Echo().get_name() == "Echo"
    assert Echo(name="mine").get_name() == "mine"


# ---- in a chain -----------------------------------------------------------------------
async def test_prompt_then_model_invokes_and_streams() -> None:
    chain = ChatPromptTemplate.from_messages([("system", "s"), ("human", "{text}")]) | Words()
    assert chain.invoke({"text": "a b"}).content == "a b"
    assert [c.content for c in chain.stream({"text": "a b"})] == ["a", " b", ""]
    assert [c.content async for c in chain.astream({"text": "a b"})] == ["a", " b", ""]


def test_input_and_output_schemas() -> None:
    schema = Echo().get_input_jsonschema()
    refs = [option.get("$ref") for option in schema["anyOf"]]
    assert "#/$defs/StringPromptValue" in refs and "#/$defs/ChatPromptValue" in refs
    assert Echo().OutputType is AIMessage


def test_invocation_params_keep_the_models_own_stop_when_the_call_gives_none() -> None:
    from chainkit.models.fake import FakeListChatModel

    class WithStop(FakeListChatModel):
        @property
        def _identifying_params(self) -> dict[str, object]:
            return {**super()._identifying_params, "stop": ["\n"]}

    model = WithStop(responses=["hi"])
    extra = model._run_extra({"stop": None})
    assert extra is not None and extra["invocation_params"]["stop"] == ["\n"]
    extra = model._run_extra({"stop": ["END"]})
    assert extra is not None and extra["invocation_params"]["stop"] == ["END"]
