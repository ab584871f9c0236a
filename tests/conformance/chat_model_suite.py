"""The standard tests every chat model passes.

Subclass `ChatModelConformance` in a ``test_*.py`` file, override `chat_model` and set the
class flags that describe the model; pytest collects the inherited tests::

    from tests.conformance.chat_model_suite import ChatModelConformance

    class TestChatLlamaCpp(ChatModelConformance):
        deterministic = True          # temperature 0: the same prompt gives the same reply

        def chat_model(self) -> BaseChatModel:
            return ChatLlamaCpp(model_path=..., temperature=0, max_tokens=32)

`chat_model()` is called once per use and should return a fresh, ready model (cache anything
expensive, like loaded weights, at module level). Each test sends a few short prompts.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from chainkit.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, SystemMessage
from chainkit.models.base import BaseChatModel
from chainkit.models.outputs import ChatGeneration, LLMResult


class _PromptValue:
    """A stand-in PromptValue: anything with ``to_messages()`` is accepted as input."""

    def __init__(self, messages: list[BaseMessage]) -> None:
        self._messages = messages

    def to_messages(self) -> list[BaseMessage]:
        return list(self._messages)


class _Recorder:
    def __init__(self) -> None:
        self.runs: list[Any] = []

    def on_run_start(self, run: Any) -> None:
        self.runs.append(run)


class ChatModelConformance:
    """Behaviour shared by every chat model; subclass it (named ``Test...``) per model."""

    #: Replies are reproducible (temperature 0), so a stream must add up to an invoke.
    deterministic: ClassVar[bool] = True
    #: ``invoke`` replies carry ``usage_metadata`` and ``generate`` sums ``token_usage``.
    returns_usage: ClassVar[bool] = True
    #: The aggregated stream carries ``usage_metadata`` (on its final chunk).
    streams_usage: ClassVar[bool] = True
    #: The model stops before a stop sequence (fakes ignore stop sequences).
    honours_stop: ClassVar[bool] = True
    #: Replies carry ``response_metadata["finish_reason"]``.
    reports_finish_reason: ClassVar[bool] = True
    #: Strings (API keys...) that must never appear in the model's repr.
    secrets: ClassVar[tuple[str, ...]] = ()

    prompt: ClassVar[str] = "Say hello in five words or fewer."
    stop_prompt: ClassVar[str] = "Write the numbers from 1 to 5, separated by commas, nothing else."
    stop_sequence: ClassVar[str] = ","

    def chat_model(self) -> BaseChatModel:
        """A fresh model to test; subclasses override this."""
        raise NotImplementedError("override chat_model() to return the model under test")

    # ---- invoke ------------------------------------------------------------------------
    def test_invoke_returns_ai_message(self) -> None:
        reply = self.chat_model().invoke(self.prompt)
        assert isinstance(reply, AIMessage)
        assert reply.text.strip(), f"empty reply: {reply!r}"
        assert isinstance(reply.id, str) and reply.id

    @pytest.mark.parametrize("form", ["str", "messages", "tuples", "prompt_value"])
    def test_invoke_accepts_input_forms(self, form: str) -> None:
        messages = [SystemMessage("You are terse."), HumanMessage(self.prompt)]
        value: Any = {
            "str": self.prompt,
            "messages": messages,
            "tuples": [("system", "You are terse."), ("human", self.prompt)],
            "prompt_value": _PromptValue(messages),
        }[form]
        reply = self.chat_model().invoke(value)
        assert isinstance(reply, AIMessage) and reply.text.strip()

    async def test_ainvoke(self) -> None:
        reply = await self.chat_model().ainvoke(self.prompt)
        assert isinstance(reply, AIMessage) and reply.text.strip()
        if self.deterministic:
            assert reply.text == self.chat_model().invoke(self.prompt).text

    def test_callable_form(self) -> None:
        reply = self.chat_model()([HumanMessage(self.prompt)])
        assert isinstance(reply, AIMessage) and reply.text.strip()

    def test_usage_metadata(self) -> None:
        if not self.returns_usage:
            pytest.skip("model does not report usage")
        reply = self.chat_model().invoke(self.prompt)
        usage = reply.usage_metadata
        assert usage is not None, f"no usage_metadata on {reply!r}"
        assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
        assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]

    def test_finish_reason(self) -> None:
        if not self.reports_finish_reason:
            pytest.skip("model does not report a finish reason")
        reply = self.chat_model().invoke(self.prompt)
        assert reply.response_metadata.get("finish_reason"), reply.response_metadata

    # ---- streaming ---------------------------------------------------------------------
    def _check_chunks(self, chunks: list[Any]) -> AIMessageChunk:
        assert chunks, "the stream yielded nothing"
        assert all(isinstance(c, AIMessageChunk) for c in chunks), chunks
        assert chunks[-1].chunk_position == "last"
        assert all(c.chunk_position is None for c in chunks[:-1])
        total = chunks[0] + chunks[1:] if len(chunks) > 1 else chunks[0]
        assert isinstance(total, AIMessageChunk)
        assert total.text.strip()
        assert len({c.id for c in chunks}) == 1, "every chunk of a stream has the same id"
        return total

    def test_stream(self) -> None:
        total = self._check_chunks(list(self.chat_model().stream(self.prompt)))
        if self.deterministic:
            assert total.text == self.chat_model().invoke(self.prompt).text

    async def test_astream(self) -> None:
        chunks = [c async for c in self.chat_model().astream(self.prompt)]
        total = self._check_chunks(chunks)
        if self.deterministic:
            sync_chunks = list(self.chat_model().stream(self.prompt))
            assert [c.content for c in chunks] == [c.content for c in sync_chunks]
            assert total.text == self.chat_model().invoke(self.prompt).text

    def test_stream_usage(self) -> None:
        if not self.streams_usage:
            pytest.skip("model does not report usage when streaming")
        total = self._check_chunks(list(self.chat_model().stream(self.prompt)))
        usage = total.usage_metadata
        assert usage is not None, "no usage_metadata in the aggregated stream"
        assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
        assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]

    def test_stream_can_stop_early(self) -> None:
        model = self.chat_model()
        stream = model.stream(self.prompt)
        first = next(iter(stream))
        assert isinstance(first, AIMessageChunk)
        close = getattr(stream, "close", None)
        if close is not None:
            close()
        # Whatever the stream held (a lock, a connection) was released: the model still works.
        assert model.invoke(self.prompt).text.strip()

    async def test_astream_can_stop_early(self) -> None:
        model = self.chat_model()
        stream = model.astream(self.prompt)
        first = await stream.__anext__()
        assert isinstance(first, AIMessageChunk)
        await stream.aclose()  # type: ignore[attr-defined]
        assert (await model.ainvoke(self.prompt)).text.strip()

    # ---- many calls ----------------------------------------------------------------------
    def test_batch(self) -> None:
        replies = self.chat_model().batch([self.prompt, self.prompt])
        assert len(replies) == 2
        assert all(isinstance(r, AIMessage) and r.text.strip() for r in replies)

    async def test_abatch(self) -> None:
        replies = await self.chat_model().abatch([self.prompt, self.prompt])
        assert len(replies) == 2
        assert all(isinstance(r, AIMessage) and r.text.strip() for r in replies)

    def _check_llm_result(self, result: LLMResult) -> None:
        assert isinstance(result, LLMResult)
        assert len(result.generations) == 2
        gens = [g[0] for g in result.generations]
        assert all(isinstance(g, ChatGeneration) and g.text.strip() for g in gens)
        assert result.run is not None and len(result.run) == 2
        if self.returns_usage:
            assert result.llm_output is not None
            token_usage = result.llm_output.get("token_usage")
            assert token_usage, result.llm_output
            totals = [
                g.message.usage_metadata["total_tokens"]  # type: ignore[union-attr]
                for g in gens
                if isinstance(g, ChatGeneration)
            ]
            assert token_usage["total_tokens"] == sum(totals)

    def test_generate(self) -> None:
        result = self.chat_model().generate([[HumanMessage(self.prompt)], [self.prompt]])
        self._check_llm_result(result)

    async def test_agenerate(self) -> None:
        result = await self.chat_model().agenerate([[HumanMessage(self.prompt)], [self.prompt]])
        self._check_llm_result(result)

    # ---- parameters, tracing, errors --------------------------------------------------------
    def test_stop_sequence(self) -> None:
        recorder = _Recorder()
        reply = self.chat_model().invoke(
            self.stop_prompt, {"callbacks": [recorder]}, stop=[self.stop_sequence]
        )
        assert isinstance(reply, AIMessage)
        params = recorder.runs[0].extra["invocation_params"]
        assert params["stop"] == [self.stop_sequence]
        if self.honours_stop:
            assert self.stop_sequence not in reply.text, reply.text

    def test_traced_run(self) -> None:
        recorder = _Recorder()
        model = self.chat_model()
        reply = model.invoke(self.prompt, {"callbacks": [recorder]})
        (run,) = recorder.runs
        assert run.run_type == "chat_model"
        assert run.extra["invocation_params"]["_type"] == model._llm_type
        assert reply.id == f"run-{run.id}" or not reply.id.startswith("run-")  # type: ignore[union-attr]

    @pytest.mark.parametrize("bad", [42, [1, 2]])
    async def test_bad_input_is_a_type_error(self, bad: Any) -> None:
        model = self.chat_model()
        with pytest.raises(TypeError, match="cannot convert"):
            model.invoke(bad)
        with pytest.raises(TypeError, match="cannot convert"):
            await model.ainvoke(bad)

    def test_repr_hides_secrets(self) -> None:
        text = repr(self.chat_model())
        assert text.startswith(type(self.chat_model()).__name__ + "(")
        for secret in self.secrets:
            assert secret not in text
