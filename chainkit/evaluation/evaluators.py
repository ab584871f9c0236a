"""Evaluators: functions that judge one run against one example.

An evaluator is any callable ``(run, example) -> result``, or one whose parameters are named
from ``inputs``, ``outputs``, ``reference_outputs`` (LangSmith's keyword form). ``run`` is a
`RunRecord` whose ``outputs`` is the chain's actual return value; ``example`` an `Example`.
A result is a number or bool (the score), a dict (``key``, ``score``, ``value``, ``comment``,
or ``results``: a list of those), an `EvaluationResult`, or None (no judgement). Its key
defaults to the evaluator's name.

Built in: `exact_match`, `json_validity`, `string_similarity` (difflib, no embeddings), and
`chainkit.evaluation.judge.llm_judge` (any chat model as the judge).
"""

from __future__ import annotations

import difflib
import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chainkit.tracing.store.records import Example, RunRecord

__all__ = [
    "EvaluationResult",
    "Evaluator",
    "exact_match",
    "json_validity",
    "prediction",
    "reference",
    "string_similarity",
]

Evaluator = Callable[..., Any]
_KEYWORD_PARAMS = frozenset(("inputs", "outputs", "reference_outputs", "run", "example"))


@dataclass(frozen=True)
class EvaluationResult:
    """One judgement: a named score (0-1 for the built-ins), a value, a comment.

    Example:
        >>> EvaluationResult(key="tone", score=0.5, comment="a little curt")
    """

    key: str
    score: float | None = None
    value: Any = None
    comment: str | None = None


def _is_message(value: dict[str, Any]) -> bool:
    """A message as stored in a trace (``model_dump`` of a message)."""
    return isinstance(value.get("type"), str) and "content" in value


def _unwrap(value: Any) -> Any:
    text = getattr(value, "text", None)
    if isinstance(text, str) and hasattr(value, "content"):
        return text  # a message: its text
    if isinstance(value, dict):
        if _is_message(value):
            content = value["content"]
            return content if isinstance(content, str) else json.dumps(content)
        if len(value) == 1:
            return next(iter(value.values()))
    return value


def prediction(run: RunRecord) -> Any:
    """What the chain answered: a message's text, a single-key dict's value, or the output."""
    return _unwrap(run.outputs)


def reference(example: Example) -> Any:
    """The expected answer: a single-key dict's value (``{"output": ...}``), or the outputs."""
    return _unwrap(example.outputs)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else json.dumps(value, sort_keys=True)


def exact_match(run: RunRecord, example: Example) -> EvaluationResult:
    """1.0 if the prediction equals the reference (strings compared stripped), else 0.0."""
    got, want = prediction(run), reference(example)
    same = got.strip() == want.strip() if isinstance(got, str) and isinstance(want, str) \
        else got == want
    return EvaluationResult("exact_match", 1.0 if same else 0.0)


def json_validity(run: RunRecord, example: Example) -> EvaluationResult:
    """1.0 if the prediction is JSON (a parsed dict/list, or a string that parses), else 0.0."""
    got = run.outputs
    if isinstance(got, list) or (isinstance(got, dict) and not _is_message(got)):
        return EvaluationResult("json_validity", 1.0)
    got = _unwrap(got)  # a message: its text
    try:
        json.loads(got if isinstance(got, str) else "")
    except ValueError as exc:
        return EvaluationResult("json_validity", 0.0, comment=f"not JSON: {exc}")
    return EvaluationResult("json_validity", 1.0)


def string_similarity(run: RunRecord, example: Example) -> EvaluationResult:
    """How alike prediction and reference are as text: difflib's ratio, 0.0 to 1.0."""
    ratio = difflib.SequenceMatcher(None, _text(prediction(run)), _text(reference(example)))
    return EvaluationResult("string_similarity", round(ratio.ratio(), 4))


def evaluator_key(evaluator: Evaluator) -> str:
    """The default key of an evaluator's results: its ``key`` attribute, else its name."""
    key = getattr(evaluator, "key", None)
    if isinstance(key, str) and key:
        return key
    return str(getattr(evaluator, "__name__", None) or type(evaluator).__name__)


def as_call(evaluator: Evaluator) -> Callable[[RunRecord, Example], Any]:
    """``evaluator`` as ``(run, example) -> result``; keyword-style evaluators are adapted
    (their signature is read once, here).

    Raises:
        TypeError: ``evaluator`` is not callable.
    """
    if not callable(evaluator):
        raise TypeError(f"an evaluator must be callable, got {type(evaluator).__name__}: "
                        f"{evaluator!r:.60}")
    try:
        params = inspect.signature(evaluator).parameters
    except (TypeError, ValueError):
        return evaluator
    names = set(params)
    if not names or not names <= _KEYWORD_PARAMS or not names & {"inputs", "outputs",
                                                                 "reference_outputs"}:
        return evaluator

    def call(run: RunRecord, example: Example) -> Any:
        given = {"inputs": example.inputs, "outputs": run.outputs,
                 "reference_outputs": example.outputs, "run": run, "example": example}
        return evaluator(**{k: given[k] for k in names})

    return call


def normalize(key: str, result: Any) -> list[EvaluationResult]:
    """An evaluator's return value as a list of `EvaluationResult`.

    Raises:
        TypeError: The value has none of the accepted shapes (they are listed).
    """
    if result is None:
        return []
    if isinstance(result, EvaluationResult):
        return [result]
    if isinstance(result, (bool, int, float)):
        return [EvaluationResult(key, float(result))]
    if isinstance(result, dict):
        if "results" in result:
            return [r for item in result["results"] for r in normalize(key, item)]
        score = result.get("score")
        if isinstance(score, bool):
            score = float(score)
        if score is not None and not isinstance(score, (int, float)):
            raise TypeError(f"evaluator {key!r} returned a non-numeric score {score!r}")
        return [EvaluationResult(
            str(result.get("key") or key), None if score is None else float(score),
            result.get("value"), result.get("comment") or result.get("reasoning"),
        )]
    if isinstance(result, str):
        return [EvaluationResult(key, value=result)]
    raise TypeError(
        f"evaluator {key!r} returned {type(result).__name__} {result!r:.60}; expected a "
        "number, a bool, a str, None, an EvaluationResult, or a dict with key/score/value/"
        "comment (or 'results': a list of those)"
    )
