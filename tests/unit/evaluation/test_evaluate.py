"""`evaluate` / `aevaluate`: every example runs, is judged, linked to its trace and stored as
an experiment; failures and bad evaluators are recorded, not raised."""

from __future__ import annotations

import io
import itertools
from typing import Any

import pytest

from chainkit.evaluation import (
    EvaluationResult,
    aevaluate,
    evaluate,
    exact_match,
    string_similarity,
)
from chainkit.evaluation._progress import ProgressBar
from chainkit.messages import AIMessage
from chainkit.models.fake import GenericFakeChatModel
from chainkit.parsers import StrOutputParser
from chainkit.prompts import ChatPromptTemplate
from chainkit.runnables import RunnableLambda
from chainkit.tracing.client import Client, NotFoundError

CAPITALS = {"France": "Paris", "Italy": "Rome", "Spain": "Barcelona"}  # one wrong


def lookup(inputs: dict[str, str]) -> str:
    return CAPITALS[inputs["country"]]


def test_evaluate_runs_judges_links_and_stores(client: Client,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    def shouts(run: Any, example: Any) -> dict[str, Any]:
        return {"score": run.outputs.isupper(), "comment": "all caps?"}

    results = evaluate(RunnableLambda(lookup, name="lookup"), "capitals",
                       evaluators=[exact_match, string_similarity, shouts],
                       max_concurrency=2, metadata={"version": 3}, client=client)
    summary = results.summary()
    assert summary["examples"] == 3 and summary["errors"] == 0
    assert summary["scores"]["exact_match"] == pytest.approx(2 / 3)
    assert summary["scores"]["shouts"] == 0.0
    assert 0 < summary["scores"]["string_similarity"] < 1
    printed = capsys.readouterr().out
    assert "exact_match" in printed and "3 examples, 0 errors" in printed
    # rows are in dataset order, each linked to its stored trace
    assert [r.example.inputs["country"] for r in results] == ["France", "Italy", "Spain"]
    for row in results:
        assert row.run is not None and row.run.id == row.result.run_id
        assert row.run.project == results.experiment_name
        assert row.run.metadata["example_id"] == row.example.id
    # the experiment, its results and the feedback on each trace are stored
    exp = client.read_experiment(results.experiment_name)
    assert exp.metadata["version"] == 3 and exp.metadata["target"] == "lookup"
    stored = client.list_experiment_results(exp)
    assert [r.outputs for r in stored] == ["Paris", "Rome", "Barcelona"]
    assert [r.scores["exact_match"] for r in stored] == [1.0, 1.0, 0.0]
    feedback = client.list_feedback(run_ids=[r.run_id for r in stored if r.run_id],
                                    key="exact_match")
    assert sorted(f.score for f in feedback) == [0.0, 1.0, 1.0]
    assert {f.source for f in feedback} == {"evaluator"}


async def test_aevaluate_matches_evaluate(client: Client) -> None:
    target = RunnableLambda(lookup)
    sync = evaluate(target, "capitals", [exact_match], client=client, print_summary=False)
    asyn = await aevaluate(target, "capitals", [exact_match], client=client,
                           print_summary=False)
    assert asyn.summary()["scores"] == sync.summary()["scores"]
    assert [r.result.outputs for r in asyn] == [r.result.outputs for r in sync]
    cmp = client.compare_experiments([sync.experiment_name, asyn.experiment_name])
    assert len(cmp["rows"]) == 3 and len(cmp["summary"]) == 2


def test_chain_errors_and_bad_evaluators_are_recorded(client: Client) -> None:
    def flaky(inputs: dict[str, str]) -> str:
        if inputs["country"] == "Italy":
            raise RuntimeError("no answer")
        return lookup(inputs)

    def broken(run: Any, example: Any) -> float:
        raise ValueError("evaluator bug")

    results = evaluate(flaky, "capitals", [exact_match, broken], client=client,
                       print_summary=False, experiment_name="flaky-1")
    assert results.summary()["errors"] == 1
    italy = next(r for r in results if r.example.inputs["country"] == "Italy")
    assert italy.result.error is not None and "RuntimeError: no answer" in italy.result.error
    assert italy.evaluations == []
    france = next(r for r in results if r.example.inputs["country"] == "France")
    bug = next(e for e in france.evaluations if e.key == "broken")
    assert bug.score is None and bug.comment == "evaluator raised ValueError: evaluator bug"
    with pytest.raises(ValueError, match="experiment 'flaky-1' already exists"):
        evaluate(flaky, "capitals", [exact_match], client=client, experiment_name="flaky-1")


def test_keyword_evaluators_and_chains_of_models(client: Client) -> None:
    def same_city(outputs: str, reference_outputs: dict[str, str]) -> bool:
        return outputs == reference_outputs["output"]

    model = GenericFakeChatModel(messages=itertools.cycle([AIMessage("Paris")]))
    chain = ChatPromptTemplate.from_messages([("human", "Capital of {country}?")]) | model \
        | StrOutputParser()
    results = evaluate(chain, "capitals", [same_city, exact_match], client=client,
                       print_summary=False, max_concurrency=1)
    assert results.summary()["scores"] == {"exact_match": pytest.approx(1 / 3),
                                           "same_city": pytest.approx(1 / 3)}
    assert results.summary()["total_tokens"] is not None  # read from the traces
    [root] = client.list_runs(project=results.experiment_name, is_root=True, limit=1)
    assert client.read_trace(root.trace_id)[2].run_type == "chat_model"


def test_evaluate_errors_name_the_problem(client: Client) -> None:
    with pytest.raises(NotFoundError, match="no dataset 'nope'; datasets: 'capitals'"):
        evaluate(lookup, "nope", [exact_match], client=client)
    client.create_dataset("empty")
    with pytest.raises(ValueError, match="dataset 'empty' has no examples"):
        evaluate(lookup, "empty", [exact_match], client=client)
    with pytest.raises(TypeError, match="an evaluator must be callable, got int"):
        evaluate(lookup, "capitals", [42], client=client)  # type: ignore[list-item]
    with pytest.raises(ValueError, match="max_concurrency must be a positive int"):
        evaluate(lookup, "capitals", [exact_match], client=client, max_concurrency=0)

    def odd(run: Any, example: Any) -> object:
        return object()

    results = evaluate(lookup, "capitals", [odd], client=client, print_summary=False)
    comment = next(iter(results)).evaluations[0].comment
    assert comment is not None and "expected a number, a bool" in comment


def test_progress_bar_draws_only_when_enabled() -> None:
    out = io.StringIO()
    with ProgressBar(3, desc="exp", enabled=True, stream=out) as bar:
        for _ in range(3):
            bar.update()
    assert "exp [" in out.getvalue() and "3/3 100%" in out.getvalue()
    assert out.getvalue().endswith("\n")
    quiet = io.StringIO()  # not a terminal: nothing drawn unless forced
    with ProgressBar(3, stream=quiet) as bar:
        bar.update(3)
    assert quiet.getvalue() == ""


def test_progress_forced_by_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAINKIT_PROGRESS", "1")
    assert ProgressBar(1, stream=io.StringIO()).enabled


def test_evaluation_result_shapes(client: Client) -> None:
    def many(run: Any, example: Any) -> dict[str, Any]:
        return {"results": [{"key": "a", "score": 1}, EvaluationResult("b", 0.5), 0.25]}

    results = evaluate(lookup, "capitals", [many], client=client, print_summary=False)
    assert results.summary()["scores"] == {"a": 1.0, "b": 0.5, "many": 0.25}
