"""Built-in evaluators, result normalising, and the LLM judge (with a fake judge model)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from chainkit.evaluation import LLMJudge, exact_match, json_validity, llm_judge, string_similarity
from chainkit.evaluation.evaluators import normalize, prediction
from chainkit.evaluation.judge import parse_verdict
from chainkit.messages import AIMessage
from chainkit.models.fake import FakeListChatModel
from chainkit.tracing.store.records import Example, RunRecord

NOW = datetime.now(timezone.utc)


def run(outputs: Any) -> RunRecord:
    return RunRecord("r", "r", None, "p", "chain", "chain", "success", None, NOW, NOW,
                     {"q": "2+2?"}, outputs)


def example(outputs: Any) -> Example:
    return Example("e", "d", {"q": "2+2?"}, outputs, None, NOW)


def test_exact_match_unwraps_messages_and_single_key_dicts() -> None:
    assert exact_match(run(AIMessage(" 4 ")), example({"output": "4"})).score == 1.0
    assert exact_match(run({"answer": "4"}), example("4")).score == 1.0
    assert exact_match(run("5"), example({"output": "4"})).score == 0.0
    assert exact_match(run({"a": 1, "b": 2}), example({"b": 2, "a": 1})).score == 1.0
    assert prediction(run({"type": "ai", "content": "stored"})) == "stored"


def test_json_validity_and_similarity() -> None:
    assert json_validity(run('{"a": 1}'), example(None)).score == 1.0
    assert json_validity(run({"a": 1}), example(None)).score == 1.0
    bad = json_validity(run("{nope"), example(None))
    assert bad.score == 0.0 and bad.comment is not None and bad.comment.startswith("not JSON")
    assert string_similarity(run("hello world"), example("hello world")).score == 1.0
    score = string_similarity(run("hello world"), example("hello there")).score
    assert score is not None and 0.5 < score < 1.0


def test_normalize_rejects_unknown_shapes() -> None:
    assert normalize("k", None) == []
    assert normalize("k", True)[0].score == 1.0
    assert normalize("k", "label")[0].value == "label"
    with pytest.raises(TypeError, match="evaluator 'k' returned a non-numeric score 'high'"):
        normalize("k", {"score": "high"})
    with pytest.raises(TypeError, match="expected a number, a bool, a str, None"):
        normalize("k", [1])


@pytest.mark.parametrize(("reply", "score"), [
    ('{"score": 1, "reasoning": "right"}', 1.0),
    ('Sure!\n```json\n{"score": 0.25, "reasoning": "partly"}\n```', 0.25),
    ("Score: 0.8 because it is close", 0.8),
    ("I cannot judge this.", None),
    ('{"score": 7}', None),  # out of range, and no 0..1 score elsewhere
])
def test_parse_verdict(reply: str, score: float | None) -> None:
    assert parse_verdict(reply)[0] == score


def test_llm_judge_with_a_fake_model() -> None:
    judge_model = FakeListChatModel(responses=['{"score": 1, "reasoning": "correct"}',
                                               "no idea"])
    judge = llm_judge(judge_model, "correctness")
    assert judge.key == "correctness" and "correctness" in repr(judge)
    messages = judge.messages(run("4"), example({"output": "4"}))
    assert messages[0][0] == "system" and "Reference answer:\n4" in messages[1][1]
    good = judge(run("4"), example({"output": "4"}))
    assert (good.key, good.score, good.comment) == ("correctness", 1.0, "correct")
    unsure = judge(run("4"), example(None))
    assert unsure.score is None and unsure.comment is not None
    assert unsure.comment.startswith("no score in the judge's reply")
    custom = LLMJudge(judge_model, "Is it polite?")
    assert custom.key == "llm_judge" and custom.criterion == "Is it polite?"
    with pytest.raises(TypeError, match="the judge must be a chat model, got str"):
        LLMJudge("gpt")
    with pytest.raises(ValueError, match="criteria must be a name from"):
        LLMJudge(judge_model, "")
