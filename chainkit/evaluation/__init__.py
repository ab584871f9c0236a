"""Evaluate chains on datasets of examples, locally: run, judge, store, compare.

Example:
    >>> from chainkit.evaluation import evaluate, exact_match, llm_judge
    >>> from chainkit.tracing import Client
    >>> client = Client()
    >>> client.create_dataset("capitals")
    >>> client.create_example({"country": "France"}, "Paris", dataset="capitals")
    >>> results = evaluate(chain, "capitals", evaluators=[exact_match, llm_judge(judge_model)])
    >>> results.summary()["scores"]
"""

from __future__ import annotations

from chainkit.evaluation.evaluators import (
    EvaluationResult,
    Evaluator,
    exact_match,
    json_validity,
    string_similarity,
)
from chainkit.evaluation.judge import CRITERIA, LLMJudge, llm_judge
from chainkit.evaluation.report import ExperimentResults, ResultRow
from chainkit.evaluation.runner import aevaluate, evaluate

__all__ = [
    "CRITERIA",
    "EvaluationResult",
    "Evaluator",
    "ExperimentResults",
    "LLMJudge",
    "ResultRow",
    "aevaluate",
    "evaluate",
    "exact_match",
    "json_validity",
    "llm_judge",
    "string_similarity",
]
