"""RunnableBinding: ``bind`` (fixed kwargs) and ``with_config`` (fixed config)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from chainkit.runnables import Runnable, RunnableBinding, RunnableConfig, RunnableLambda


class Echo(Runnable[str, dict[str, Any]]):
    """Returns what it was called with; has an attribute of its own."""

    model_name = "echo-1"

    def describe(self) -> str:
        return f"Echo({self.model_name})"

    def _call(self, input: str, config: RunnableConfig | None, **kwargs: Any) -> dict[str, Any]:
        cfg = config or {}
        return {
            "input": input,
            "kwargs": kwargs,
            "tags": cfg.get("tags"),
            "metadata": cfg.get("metadata"),
        }


class Recorder:
    """A listener: records the name and tags of every run that ends."""

    def __init__(self) -> None:
        self.ended: list[tuple[str, list[str]]] = []

    def on_run_end(self, run: Any) -> None:
        self.ended.append((run.name, list(run.tags)))


def test_bound_kwargs_reach_the_runnable_on_every_path(every_path: Any) -> None:
    bound = Echo().bind(stop=["\n"])
    assert isinstance(bound, RunnableBinding)
    every_path(
        bound,
        "hi",
        {"input": "hi", "kwargs": {"stop": ["\n"]}, "tags": None, "metadata": None},
    )


def test_call_kwargs_win_over_bound_ones() -> None:
    bound = Echo().bind(stop=["\n"], temperature=0)
    assert bound.invoke("x", stop=["."])["kwargs"] == {"stop": ["."], "temperature": 0}
    assert asyncio.run(bound.ainvoke("x", stop=["."]))["kwargs"] == {
        "stop": ["."],
        "temperature": 0,
    }


def test_bind_on_a_binding_merges() -> None:
    first = Echo().bind(a=1, b=1)
    second = first.bind(b=2, c=3)
    assert second.bound is first.bound
    assert second.invoke("x")["kwargs"] == {"a": 1, "b": 2, "c": 3}
    assert first.invoke("x")["kwargs"] == {"a": 1, "b": 1}  # the original is unchanged


def test_with_config_merges_into_each_call() -> None:
    tagged = Echo().with_config(tags=["bound"], metadata={"k": 1})
    out = tagged.invoke("x", {"tags": ["call"], "metadata": {"j": 2}})
    assert out["tags"] == ["bound", "call"]
    assert out["metadata"] == {"k": 1, "j": 2}
    assert tagged.with_config(tags=["more"]).invoke("x")["tags"] == ["bound", "more"]


def test_with_config_and_bind_combine() -> None:
    r = Echo().with_config(tags=["t"]).bind(n=1)
    out = r.invoke("x")
    assert out["tags"] == ["t"] and out["kwargs"] == {"n": 1}


def test_batch_with_config_list_merges_each() -> None:
    tagged = Echo().with_config(tags=["bound"]).bind(n=1)
    outs = tagged.batch(["a", "b"], [{"tags": ["first"]}, {"tags": ["second"]}])
    assert [o["tags"] for o in outs] == [["bound", "first"], ["bound", "second"]]
    assert all(o["kwargs"] == {"n": 1} for o in outs)
    outs = asyncio.run(tagged.abatch(["a", "b"], [{"tags": ["x"]}, {}]))
    assert [o["tags"] for o in outs] == [["bound", "x"], ["bound"]]


def test_binding_in_a_chain_uses_the_bound_kwargs() -> None:
    chain = RunnableLambda(str.strip) | Echo().bind(n=1) | (lambda d: d["kwargs"]["n"])
    assert chain.invoke("  x ") == 1
    assert asyncio.run(chain.ainvoke(" x ")) == 1
    assert list(chain.stream(" x ")) == [1]


def test_lambda_bind_passes_kwargs_to_the_function() -> None:
    r = RunnableLambda(lambda x, scale=1: x * scale).bind(scale=3)
    assert r.invoke(2) == 6
    assert list(r.stream(2)) == [6]


def test_config_may_carry_callbacks() -> None:
    rec = Recorder()
    r = RunnableLambda(str.upper, name="upper").with_config(callbacks=[rec], run_name="shout")
    assert r.invoke("a") == "A"
    assert asyncio.run(r.ainvoke("b")) == "B"
    assert list(r.stream("c")) == ["C"]
    assert rec.ended == [("shout", []), ("shout", []), ("shout", [])]


def test_binding_records_no_run_of_its_own() -> None:
    rec = Recorder()
    chain = RunnableLambda(str.upper, name="upper").bind() | RunnableLambda(str.lower, name="low")
    chain.invoke("a", {"callbacks": [rec]})
    assert sorted(name for name, _ in rec.ended) == ["RunnableSequence", "low", "upper"]
    assert dict(rec.ended)["upper"] == ["seq:step:1"]


class ChainEnds:
    """A LangChain-style callback handler that records which chains ended."""

    def __init__(self) -> None:
        self.ended: list[Any] = []

    def on_chain_end(self, outputs: Any, **kwargs: Any) -> None:
        self.ended.append(outputs)


def test_callbacks_bound_inside_a_traced_chain_see_their_subtree_only() -> None:
    outer, inner = ChainEnds(), ChainEnds()
    sub = (RunnableLambda(lambda x: x + 1) | RunnableLambda(lambda x: x * 10)).with_config(
        callbacks=[inner])
    chain = RunnableLambda(lambda x: x - 1) | sub | RunnableLambda(str)
    assert chain.invoke(1, {"callbacks": [outer]}) == "10"
    # The subtree: its sequence and its two steps; the outer handler sees every run.
    assert sorted(map(str, inner.ended)) == ["1", "10", "10"]
    assert len(outer.ended) == 6
    inner.ended.clear()
    assert asyncio.run(chain.ainvoke(1, {"callbacks": [outer]})) == "10"
    assert sorted(map(str, inner.ended)) == ["1", "10", "10"]


def test_callbacks_bound_inside_an_untraced_chain_make_the_step_a_root() -> None:
    inner = ChainEnds()
    chain = RunnableLambda(lambda x: x) | RunnableLambda(str).with_config(callbacks=[inner])
    assert chain.invoke(5) == "5"
    assert inner.ended == ["5"]


# ---- attribute fall-through -----------------------------------------------------------------
def test_attributes_fall_through_to_the_bound_runnable() -> None:
    bound = Echo().bind(stop=["x"])
    assert bound.model_name == "echo-1"
    assert bound.describe() == "Echo(echo-1)"
    assert bound.bind(n=1).model_name == "echo-1"


def test_missing_attribute_names_both() -> None:
    match = "neither RunnableBinding nor the bound Echo has attribute 'nope'"
    with pytest.raises(AttributeError, match=match):
        Echo().bind().nope  # noqa: B018


def test_names_types_and_flags_follow_the_bound_runnable() -> None:
    upper = RunnableLambda(str.upper, name="upper")
    b = upper.bind()
    assert b.get_name() == "upper"
    assert b.run_type == upper.run_type
    assert b.with_config(run_name="loud").get_name() == "loud"
    def same(chunks: Any) -> Any:
        yield from chunks

    assert RunnableLambda(same).bind().streams_input is True
    assert upper.bind().streams_input is False


def test_repr_hides_secrets() -> None:
    r = Echo().bind(api_key="sk-secret", max_tokens=5, auth_token="t0k", stop=["\n"])
    text = repr(r)
    assert "sk-secret" not in text and "t0k" not in text
    assert text == (
        "RunnableBinding(bound=Echo(), kwargs={'api_key': '***', 'max_tokens': 5, "
        "'auth_token': '***', 'stop': ['\\n']}, config={})"
    )


def test_construction_and_config_errors() -> None:
    match = "RunnableBinding needs a Runnable to bind, got builtin_function_or_method"
    with pytest.raises(TypeError, match=match):
        RunnableBinding(len)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown config key"):
        RunnableBinding(Echo(), config={"tagz": []})  # type: ignore[typeddict-unknown-key]
    tagged = Echo().with_config(tags=["t"])
    with pytest.raises(TypeError, match="config must be a dict"):
        tagged.invoke("x", "not a config")  # type: ignore[arg-type]
