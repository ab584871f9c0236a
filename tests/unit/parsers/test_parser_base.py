"""BaseOutputParser and BaseTransformOutputParser: input handling, hooks, sync and async."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from chainkit.messages import AIMessage, AIMessageChunk, HumanMessage
from chainkit.models.outputs import ChatGeneration, Generation
from chainkit.parsers import BaseOutputParser, BaseTransformOutputParser, OutputParserException
from chainkit.runnables import RunnableLambda


class YesNo(BaseOutputParser[bool]):
    def parse(self, text: str) -> bool:
        answer = text.strip().lower()
        if answer not in ("yes", "no"):
            raise OutputParserException(f"expected yes or no, got {text!r}", llm_output=text)
        return answer == "yes"


class Seen(BaseOutputParser[Any]):
    """Overrides parse_result: invoke must hand it a Generation."""

    def parse_result(self, result: Sequence[Generation], *, partial: bool = False) -> Any:
        return result[0]


class Upper(BaseTransformOutputParser[str]):
    def parse(self, text: str) -> str:
        return text.upper()


def test_class_attributes() -> None:
    assert YesNo.run_type == "parser"
    assert YesNo.inline is True
    assert YesNo().InputType is not None


def test_invoke_str_and_message() -> None:
    assert YesNo().invoke(" Yes ") is True
    assert YesNo().invoke(AIMessage("no")) is False
    assert YesNo().invoke(HumanMessage("yes")) is True


def test_invoke_message_with_content_blocks_reads_the_text() -> None:
    msg = AIMessage([{"type": "text", "text": "ye"}, {"type": "image_url", "image_url": {}}, "s"])
    assert YesNo().invoke(msg) is True


async def test_ainvoke_str_and_message() -> None:
    assert await YesNo().ainvoke("yes") is True
    assert await YesNo().ainvoke(AIMessage("no")) is False


def test_parse_errors_propagate_with_their_type() -> None:
    with pytest.raises(OutputParserException, match="expected yes or no, got 'maybe'") as info:
        YesNo().invoke("maybe")
    assert info.value.llm_output == "maybe"


async def test_parse_errors_propagate_async() -> None:
    with pytest.raises(OutputParserException, match="expected yes or no"):
        await YesNo().ainvoke(AIMessage("maybe"))


@pytest.mark.parametrize("bad", [{"text": "yes"}, None, 3, b"yes"])
def test_non_text_input_is_a_type_error(bad: Any) -> None:
    with pytest.raises(TypeError, match=r"takes a str or a message .* got "):
        YesNo().invoke(bad)


async def test_non_text_input_is_a_type_error_async() -> None:
    with pytest.raises(TypeError, match="got dict"):
        await YesNo().ainvoke({"a": 1})  # type: ignore[arg-type]


def test_parse_result_override_receives_generations() -> None:
    gen = Seen().invoke(AIMessage("hi", id="m1"))
    assert isinstance(gen, ChatGeneration)
    assert gen.message.id == "m1" and gen.text == "hi"
    plain = Seen().invoke("hi")
    assert type(plain) is Generation and plain.text == "hi"


async def test_parse_result_override_async() -> None:
    gen = await Seen().ainvoke(AIMessage("hi"))
    assert isinstance(gen, ChatGeneration)


def test_default_parse_result_uses_the_first_generation() -> None:
    assert YesNo().parse_result([Generation(text="yes"), Generation(text="no")]) is True


async def test_aparse_and_aparse_result() -> None:
    assert await YesNo().aparse("no") is False
    assert await YesNo().aparse_result([Generation(text="yes")]) is True


def test_parse_with_prompt_parses_the_completion() -> None:
    assert YesNo().parse_with_prompt("yes", prompt=None) is True  # type: ignore[arg-type]


def test_missing_pieces_say_what_is_missing() -> None:
    class Empty(BaseOutputParser[str]):
        pass

    with pytest.raises(NotImplementedError, match="Empty does not implement parse"):
        Empty().invoke("x")
    with pytest.raises(NotImplementedError, match="Empty has no format instructions"):
        Empty().get_format_instructions()
    with pytest.raises(NotImplementedError, match="_type"):
        _ = Empty()._type


def test_stream_of_a_plain_parser_yields_one_value() -> None:
    assert list(YesNo().stream("yes")) == [True]


def test_transform_of_a_plain_parser_buffers_chunks() -> None:
    chunks = [AIMessageChunk("y"), AIMessageChunk("es")]
    assert list(YesNo().transform(iter(chunks))) == [True]


async def test_atransform_of_a_plain_parser_buffers_chunks(aiter_of: Any) -> None:
    out = [x async for x in YesNo().atransform(aiter_of(["n", "o"]))]
    assert out == [False]


def test_transform_parser_parses_each_chunk() -> None:
    assert Upper.streams_input is True
    assert list(Upper().transform(iter(["ab", AIMessageChunk("cd")]))) == ["AB", "CD"]
    assert list(Upper().stream(AIMessage("hi"))) == ["HI"]
    assert Upper().invoke("hi") == "HI"


async def test_transform_parser_parses_each_chunk_async(aiter_of: Any) -> None:
    out = [x async for x in Upper().atransform(aiter_of(["ab", AIMessageChunk("cd")]))]
    assert out == ["AB", "CD"]
    assert [x async for x in Upper().astream("hi")] == ["HI"]


def test_transform_rejects_non_text_chunks() -> None:
    with pytest.raises(TypeError, match="got int"):
        list(Upper().transform(iter(["a", 1])))


def test_parsers_compose_in_a_chain() -> None:
    chain = RunnableLambda(lambda topic: AIMessage(f"yes, {topic}")) | RunnableLambda(
        lambda m: m.text.split(",")[0]
    ) | YesNo()
    assert chain.invoke("owls") is True
    upper_chain = RunnableLambda(lambda x: x) | Upper()
    assert list(upper_chain.stream("abc")) == ["ABC"]


async def test_parsers_compose_in_a_chain_async() -> None:
    chain = RunnableLambda(lambda x: AIMessage(x)) | YesNo()
    assert await chain.ainvoke("no") is False
    assert await chain.abatch(["yes", "no"]) == [True, False]


def test_batch_with_return_exceptions() -> None:
    out = YesNo().batch(["yes", "maybe"], return_exceptions=True)
    assert out[0] is True and isinstance(out[1], OutputParserException)


def test_declared_fields_are_keyword_arguments_like_langchain() -> None:
    class Boolean(BaseOutputParser[bool]):
        true_val: str = "YES"
        false_val: str = "NO"

        def parse(self, text: str) -> bool:
            return text.strip().upper() == self.true_val

    assert Boolean().invoke("yes") is True
    custom = Boolean(true_val="OUI", name="oui")
    assert custom.invoke("oui") is True and custom.get_name() == "oui"
    assert Boolean.true_val == "YES"  # the class default is untouched
    with pytest.raises(TypeError, match="unexpected keyword argument 'truth'; its fields are: "
                       "false_val, name, true_val"):
        Boolean(truth="x")
