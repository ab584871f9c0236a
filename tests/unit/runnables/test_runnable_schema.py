"""schema_for and the input/output schemas of runnables."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from chainkit.runnables import RunnableLambda
from chainkit.runnables.schema import schema_for


class Question(BaseModel):
    text: str


def test_schema_for_builds_a_named_root_model() -> None:
    model = schema_for("AgeInput", int)
    assert model.__name__ == "AgeInput"
    assert model.model_json_schema() == {"title": "AgeInput", "type": "integer"}
    assert model.model_validate(3).root == 3  # type: ignore[attr-defined]


def test_schema_for_is_cached_by_name_and_type() -> None:
    assert schema_for("A", int) is schema_for("A", int)
    assert schema_for("A", int) is not schema_for("B", int)
    assert schema_for("A", int) is not schema_for("A", str)
    assert schema_for("L", list[int]) is schema_for("L", list[int])


def test_a_pydantic_model_is_its_own_schema() -> None:
    assert schema_for("Whatever", Question) is Question


def test_any_gives_an_open_schema() -> None:
    assert schema_for("AnyInput", Any).model_json_schema() == {"title": "AnyInput"}


def test_lambda_schemas_follow_annotations() -> None:
    def ask(q: Question) -> str:
        return q.text

    r = RunnableLambda(ask)
    assert r.get_input_schema() is Question
    assert r.input_schema is Question
    assert r.get_output_jsonschema() == {"title": "askOutput", "type": "string"}
    # A chain takes what its first step takes and returns what its last step returns.
    chain = r | str.upper
    assert chain.get_input_schema() is Question
    assert chain.get_output_schema() is chain.last.get_output_schema()
    assert r.bind().get_input_schema() is Question
    assert r.with_retry().get_output_schema() is r.get_output_schema()
    assert RunnableLambda(lambda x: x).get_input_jsonschema() == {"title": "RunnableLambdaInput"}
