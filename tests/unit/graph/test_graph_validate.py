"""`Runnable.compile()`: one failing chain per data-flow rule (message asserted), valid chains of
every combinator kind passing, and the buffering warning."""

from __future__ import annotations

import warnings
from typing import Any, TypedDict

import pytest

from chainkit.graph import ChainValidationError, ChainWarning, CompiledChain
from chainkit.messages import AIMessage
from chainkit.models.fake import FakeListChatModel
from chainkit.parsers import JsonOutputParser, StrOutputParser
from chainkit.prompts import ChatPromptTemplate, MessagesPlaceholder, PromptTemplate
from chainkit.runnables import RunnableLambda, RunnableParallel
from chainkit.runnables.branch import RunnableBranch
from chainkit.runnables.passthrough import RunnableAssign, RunnablePassthrough, RunnablePick


def qc_prompt() -> ChatPromptTemplate:
    return ChatPromptTemplate.from_messages([("human", "{question} {context}")])


def model(reply: str = "hello world") -> FakeListChatModel:
    return FakeListChatModel(responses=[reply])


def problems_of(chain: Any, **kw: Any) -> list[Any]:
    with pytest.raises(ChainValidationError) as info:
        chain.compile(**kw)
    return info.value.problems


# ---- missing_variable ------------------------------------------------------------------------
def test_issue_example_names_both_steps_and_the_fix() -> None:
    chain = RunnableParallel(question=RunnablePassthrough()) | qc_prompt() | model()
    with pytest.raises(ChainValidationError) as info:
        chain.compile()
    [problem] = info.value.problems
    assert problem.rule == "missing_variable"
    assert problem.steps == ("step 2 ChatPromptTemplate", "step 1 RunnableParallel")
    assert problem.message == (
        "step 2 `ChatPromptTemplate` needs `context`; step 1 `RunnableParallel` provides "
        "`question`. Fix: add `context` to the output of step 1 `RunnableParallel`, or fill "
        "it in advance with `prompt.partial(context=...)`."
    )
    assert str(info.value) == (
        "chain `RunnableSequence` failed validation with 1 problem(s):\n"
        f"  1. [missing_variable] {problem.message}"
    )
    assert isinstance(info.value, ValueError)


def test_first_step_input_is_unknown_unless_input_keys_given() -> None:
    prompt = qc_prompt()
    assert isinstance(prompt.compile(), CompiledChain)  # no false positive
    [problem] = problems_of(prompt, input_keys=["question"])
    assert problem.message == (
        "`ChatPromptTemplate` needs `context`; the chain input provides `question`. Fix: pass "
        "`context` in the input and list it in compile(input_keys=[...]), add a step that "
        "computes it (e.g. `RunnablePassthrough.assign(context=...)`), or fill it in advance "
        "with `prompt.partial(context=...)`."
    )
    assert prompt.compile(input_keys=["question", "context"]).invoke(
        {"question": "q", "context": "c"}
    ).to_string() == "Human: q c"


def test_passthrough_forwards_what_it_receives() -> None:
    chain = RunnableParallel(question=RunnablePassthrough()) | RunnablePassthrough() | qc_prompt()
    [problem] = problems_of(chain)
    assert problem.steps == ("step 3 ChatPromptTemplate", "step 1 RunnableParallel")


def test_assign_provides_upstream_keys_and_its_own() -> None:
    chain = (
        RunnableParallel(question=RunnablePassthrough())
        | RunnablePassthrough.assign(x=lambda d: 1)
        | qc_prompt()
    )
    [problem] = problems_of(chain)
    assert problem.message.startswith(
        "step 3 `ChatPromptTemplate` needs `context`; step 2 `RunnableAssign<x>` provides "
        "`question`, `x`."
    )
    ok = (
        RunnableParallel(question=RunnablePassthrough())
        | RunnablePassthrough.assign(context=lambda d: "ctx")
        | qc_prompt()
    )
    assert ok.compile().invoke("q").to_string() == "Human: q ctx"


def test_pick_list_provides_the_picked_keys() -> None:
    chain = (
        RunnableParallel(question=RunnablePassthrough(), context=lambda x: "c", extra=lambda x: 1)
        | RunnablePick(["question"])
        | qc_prompt()
    )
    [problem] = problems_of(chain)
    assert problem.message.startswith(
        "step 3 `ChatPromptTemplate` needs `context`; step 2 `RunnablePick<question>` provides "
        "`question`."
    )


def test_pick_of_a_missing_key() -> None:
    [problem] = problems_of(RunnableParallel(a=lambda x: 1) | RunnablePick("b"))
    assert problem.rule == "missing_variable"
    assert problem.message == (
        "step 2 `RunnablePick<b>` needs `b`; step 1 `RunnableParallel` provides `a`. Fix: add "
        "`b` to the output of step 1 `RunnableParallel`."
    )


def test_lambda_output_is_unknown_so_no_false_positive() -> None:
    chain = RunnableParallel(question=RunnablePassthrough()) | (lambda d: d) | qc_prompt()
    chain.compile()


class Out(TypedDict):
    question: str


def test_typed_dict_return_hint_declares_keys() -> None:
    def shape(x: str) -> Out:
        return {"question": x}

    [problem] = problems_of(RunnableLambda(shape) | qc_prompt())
    assert problem.steps == ("step 2 ChatPromptTemplate", "step 1 shape")


def test_partial_and_optional_variables_are_not_required() -> None:
    partial = qc_prompt().partial(context="fixed")
    RunnableParallel(question=RunnablePassthrough()).pipe(partial).compile()
    with_history = ChatPromptTemplate.from_messages(
        [MessagesPlaceholder("history", optional=True), ("human", "{question}")]
    )
    RunnableParallel(question=RunnablePassthrough()).pipe(with_history).compile()


def test_every_problem_is_listed_not_just_the_first() -> None:
    chain = (
        RunnableParallel(question=RunnablePassthrough())
        | qc_prompt()
        | model()
        | StrOutputParser()
        | ChatPromptTemplate.from_messages([("human", "{a}{b}")])
    )
    problems = problems_of(chain)
    assert [p.rule for p in problems] == ["missing_variable", "type_mismatch"]


def test_nested_steps_are_named_by_their_path() -> None:
    [problem] = problems_of(RunnableParallel(answer=qc_prompt()), input_keys=["question"])
    assert problem.steps == ("branch answer › ChatPromptTemplate", "the chain input")
    one = PromptTemplate.from_template("{question}")
    branch = RunnableBranch((lambda x: True, qc_prompt()), one)
    [problem] = problems_of(branch, input_keys=["question"])
    assert problem.steps[0] == "RunnableBranch › branch 1 ChatPromptTemplate"
    fallbacks = PromptTemplate.from_template("{question}").with_fallbacks([qc_prompt()])
    [problem] = problems_of(fallbacks, input_keys=["question"])
    assert problem.steps[0] == "PromptTemplateWithFallbacks › fallback 1 ChatPromptTemplate"


def test_a_bound_inner_chain_is_checked() -> None:
    inner = RunnableParallel(question=RunnablePassthrough()) | qc_prompt()
    outer = RunnableLambda(lambda x: x) | inner.with_config(tags=["x"])
    [problem] = problems_of(outer)
    assert problem.steps == ("step 2 RunnableSequence › step 2 ChatPromptTemplate",
                             "step 2 RunnableSequence › step 1 RunnableParallel")


# ---- type_mismatch ---------------------------------------------------------------------------
def test_parser_after_a_dict() -> None:
    [problem] = problems_of(RunnableParallel(a=lambda x: 1) | StrOutputParser())
    assert problem.rule == "type_mismatch"
    assert problem.steps == ("step 2 StrOutputParser", "step 1 RunnableParallel")
    assert problem.message == (
        "step 2 `StrOutputParser` accepts BaseMessage | str, but receives dict (keys `a`) from "
        "step 1 `RunnableParallel`. Fix: put a chat model (or a prompt and a model) before the "
        "parser, or turn the value into text first, e.g. `| (lambda d: d[\"answer\"])`."
    )


def test_prompt_with_two_variables_after_a_model() -> None:
    [problem] = problems_of(model() | ChatPromptTemplate.from_messages([("human", "{a} {b}")]))
    assert problem.message == (
        "step 2 `ChatPromptTemplate` accepts dict, but receives AIMessage from step 1 "
        "`FakeListChatModel`. Fix: a prompt with several variables needs a dict of them (`a`, "
        "`b`): map the value into one first, e.g. with a dict step `{\"a\": "
        "RunnablePassthrough(), ...}`, or use a prompt with one variable."
    )


def test_prompt_with_one_variable_takes_any_value() -> None:
    follow_up = ChatPromptTemplate.from_messages([("human", "Rephrase: {text}")])
    chain = PromptTemplate.from_template("{q}") | model() | StrOutputParser() | follow_up
    chain.compile()


def test_model_after_a_plain_dict() -> None:
    [problem] = problems_of(RunnableParallel(question=RunnablePassthrough()) | model())
    assert problem.message.startswith(
        "step 2 `FakeListChatModel` accepts BaseMessage | PromptValue | dict | list | str | "
        "tuple, but receives dict (keys `question`) from step 1 `RunnableParallel`. Fix: put a "
        "prompt template before the model"
    )


def test_lambda_type_hints_are_used() -> None:
    def count(x: str) -> int:
        return len(x)

    [problem] = problems_of(RunnableLambda(count) | StrOutputParser())
    assert problem.message.startswith(
        "step 2 `StrOutputParser` accepts BaseMessage | str, but receives int from step 1 "
        "`count`."
    )

    def wants_int(x: int) -> int:
        return x

    [problem] = problems_of(model() | StrOutputParser() | RunnableLambda(wants_int))
    assert problem.message.startswith(
        "step 3 `wants_int` accepts int, but receives str from step 2 `StrOutputParser`. Fix: "
        "insert a step that turns str into int"
    )

    def text(m: AIMessage) -> str:
        return str(m.content)

    (model() | RunnableLambda(text)).compile()


def test_assign_after_a_non_dict() -> None:
    [problem] = problems_of(model() | StrOutputParser() | RunnablePassthrough.assign(n=len))
    assert problem.rule == "type_mismatch"
    assert problem.steps == ("step 3 RunnableAssign<n>", "step 2 StrOutputParser")


# ---- valid chains of every kind -------------------------------------------------------------
def _valid_chains() -> dict[str, Any]:
    prompt = ChatPromptTemplate.from_messages([("human", "{question}")])
    return {
        "sequence": prompt | model() | StrOutputParser(),
        "parallel": RunnableParallel(question=RunnablePassthrough(), context=lambda x: "c")
        | qc_prompt() | model() | StrOutputParser(),
        "assign": RunnablePassthrough.assign(context=lambda d: "c") | qc_prompt() | model(),
        "pick": RunnableParallel(question=RunnablePassthrough(), n=lambda x: 1)
        | RunnablePick(["question"]) | prompt,
        "lambda": RunnableLambda(lambda x: {"question": x}) | prompt,
        "branch": RunnableBranch((lambda x: x == "a", prompt), prompt) | model(),
        "retry": (prompt | model()).with_retry(stop_after_attempt=2) | StrOutputParser(),
        "fallbacks": prompt | model().with_fallbacks([model()]) | StrOutputParser(),
        "binding": prompt | model().bind(stop=["\n"]) | StrOutputParser(),
        "config": (prompt | model()).with_config(tags=["t"]) | JsonOutputParser(),
        "assign_class": RunnableAssign({"context": lambda d: "c"}) | qc_prompt(),
    }


@pytest.mark.parametrize("kind", sorted(_valid_chains()))
def test_valid_chain_of_each_kind_compiles(kind: str) -> None:
    chain = _valid_chains()[kind]
    compiled = chain.compile(input_keys=["question"])
    assert isinstance(compiled, CompiledChain)
    assert compiled.runnable is chain


async def test_compiled_chain_gives_the_same_results_sync_and_async() -> None:
    chain = _valid_chains()["parallel"]
    compiled = chain.compile()
    assert compiled.invoke("q") == "hello world"
    assert await compiled.ainvoke("q") == "hello world"
    assert "".join(compiled.stream("q")) == "hello world"
    assert "".join([c async for c in compiled.astream("q")]) == "hello world"
    assert compiled.batch(["a", "b"]) == ["hello world"] * 2
    assert await compiled.abatch(["a", "b"]) == ["hello world"] * 2


def test_input_keys_must_be_a_list() -> None:
    with pytest.raises(TypeError, match=r"input_keys=\['question'\]"):
        qc_prompt().compile(input_keys="question")  # type: ignore[arg-type]


# ---- buffering warnings ---------------------------------------------------------------------
def test_buffering_step_between_streaming_steps_warns() -> None:
    prompt = ChatPromptTemplate.from_messages([("human", "{question}")])
    chain = prompt | model() | (lambda m: m) | StrOutputParser()
    with pytest.warns(ChainWarning) as record:
        compiled = chain.compile()
    [problem] = compiled.warnings
    assert problem.rule == "buffering"
    assert problem.steps == ("step 3 RunnableLambda", "step 2 FakeListChatModel")
    assert problem.message == (
        "step 3 `RunnableLambda` buffers the stream from step 2 `FakeListChatModel`: it waits "
        "for the whole output, so the steps after it get it in one piece instead of chunk by "
        "chunk. Fix: make it a generator function that takes the chunks and yields as it goes "
        "(`def f(chunks): for chunk in chunks: yield ...`), or move it after the streaming "
        "steps."
    )
    assert [str(w.message) for w in record] == [problem.message]
    assert record[0].filename == __file__  # points at the compile() call


def test_streaming_chains_do_not_warn() -> None:
    def upper(chunks: Any) -> Any:
        for chunk in chunks:
            yield chunk.upper()

    prompt = ChatPromptTemplate.from_messages([("human", "{question}")])
    chains = [
        prompt | model() | StrOutputParser(),
        prompt | model() | StrOutputParser() | RunnableLambda(upper),
        prompt | model() | StrOutputParser() | (lambda s: s.upper()),  # last: nothing later
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for chain in chains:
            assert chain.compile().warnings == []


def test_plan_names_the_streaming_steps() -> None:
    prompt = ChatPromptTemplate.from_messages([("human", "{question}")])
    compiled = (prompt | model() | StrOutputParser()).compile()
    assert compiled.plan.streaming == ("step 2 FakeListChatModel", "step 3 StrOutputParser")
