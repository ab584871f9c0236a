"""LLM-as-judge: any chat model scores a run's answer against a criterion.

The judge sees the input, the answer and (when the example has one) the reference answer, and
replies with JSON ``{"score": <0..1>, "reasoning": "..."}``. Replies that wrap the JSON in
prose or a code fence, or say ``Score: 0.8``, are understood too; a reply with no score gives
a result with no score and the reply as the comment (never an exception).
"""

from __future__ import annotations

import json
import re
from typing import Any

from chainkit.evaluation.evaluators import EvaluationResult, prediction, reference
from chainkit.tracing.store.records import Example, RunRecord

__all__ = ["CRITERIA", "LLMJudge", "llm_judge"]

CRITERIA: dict[str, str] = {
    "correctness": "Is the answer correct and consistent with the reference answer (if given)?",
    "helpfulness": "Does the answer help the user with what they asked, completely?",
    "conciseness": "Is the answer brief and to the point, without unneeded detail?",
    "relevance": "Does the answer stay on the topic of the input?",
    "harmlessness": "Is the answer free of harmful, offensive or dangerous content?",
}
"""Named criteria; any other text is used as the criterion itself."""

_SYSTEM = (
    "You are a strict, impartial evaluator. Judge the answer against the criterion. Reply "
    'with only a JSON object: {"score": <a number from 0 to 1>, "reasoning": "<one or two '
    'sentences>"}. 1 means the criterion is fully met, 0 not at all.'
)
_OBJECT = re.compile(r"\{.*\}", re.DOTALL)
_SCORE = re.compile(r"score\W{0,3}\s*([01](?:\.\d+)?|\.\d+)", re.IGNORECASE)


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=1)


def parse_verdict(text: str) -> tuple[float | None, str]:
    """``(score, reasoning)`` from a judge's reply; score None when there is none in 0..1."""
    match = _OBJECT.search(text)
    if match:
        try:
            data = json.loads(match.group(0))
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("score"), (int, float)):
            score = float(data["score"])
            if 0.0 <= score <= 1.0:
                return score, str(data.get("reasoning") or data.get("comment") or "")
    found = _SCORE.search(text)
    if found:
        return float(found.group(1)), text.strip()
    return None, text.strip()


class LLMJudge:
    """An evaluator that asks a chat model to score answers on one criterion.

    Args:
        model: Any chat model (``invoke(messages) -> AIMessage``).
        criteria: A name from `CRITERIA` or the criterion's text.
        key: The results' key (default: the criterion's name, or ``"llm_judge"``).

    Example:
        >>> from chainkit.models.fake import FakeListChatModel
        >>> judge = LLMJudge(FakeListChatModel(responses=['{"score": 1, "reasoning": "ok"}']))
        >>> evaluate(chain, "qa", evaluators=[judge])
    """

    def __init__(self, model: Any, criteria: str = "correctness", *, key: str | None = None):
        if not hasattr(model, "invoke"):
            raise TypeError(f"the judge must be a chat model, got {type(model).__name__}")
        if not isinstance(criteria, str) or not criteria.strip():
            raise ValueError(f"criteria must be a name from {sorted(CRITERIA)} or a "
                             f"criterion's text, got {criteria!r}")
        self.model = model
        self.criterion = CRITERIA.get(criteria, criteria)
        self.key = key or (criteria if criteria in CRITERIA else "llm_judge")

    def __repr__(self) -> str:
        return f"LLMJudge(model={type(self.model).__name__}, key={self.key!r})"

    def messages(self, run: RunRecord, example: Example) -> list[tuple[str, str]]:
        """The conversation sent to the judge."""
        parts = [f"Criterion: {self.criterion}", f"Input:\n{_show(example.inputs)}",
                 f"Answer:\n{_show(prediction(run))}"]
        if example.outputs is not None:
            parts.append(f"Reference answer:\n{_show(reference(example))}")
        return [("system", _SYSTEM), ("human", "\n\n".join(parts))]

    def __call__(self, run: RunRecord, example: Example) -> EvaluationResult:
        reply = self.model.invoke(self.messages(run, example))
        text = getattr(reply, "text", None)
        text = text if isinstance(text, str) else str(getattr(reply, "content", reply))
        score, reasoning = parse_verdict(text)
        if score is None:
            return EvaluationResult(self.key, None, comment=f"no score in the judge's reply: "
                                                          f"{reasoning[:300]}")
        return EvaluationResult(self.key, score, comment=reasoning or None)


def llm_judge(model: Any, criteria: str = "correctness", *, key: str | None = None) -> LLMJudge:
    """An `LLMJudge` evaluator (see there)."""
    return LLMJudge(model, criteria, key=key)
