"""How runs become rows: JSON shapes, secret masking, overhead, usage, runtime, prices."""

from __future__ import annotations

import dataclasses
import enum
import json
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr

from chainkit.messages import AIMessage, HumanMessage
from chainkit.tracing.client import Client
from chainkit.tracing.store import pricing
from chainkit.tracing.store.redact import is_secret_key, scrub
from chainkit.tracing.store.rows import merged_length, runtime_env
from chainkit.tracing.store.serialize import dumps, to_jsonable
from chainkit.tracing.store.writer import TraceStore


class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    password: str


class Settings(BaseModel):
    name: str
    api_key: SecretStr
    token: str


class Weird:
    def __repr__(self) -> str:
        return "Weird(sk-abcdefghijkl0123)"


def test_values_become_json() -> None:
    when = datetime(2024, 1, 2, tzinfo=timezone.utc)
    uid = uuid.UUID(int=1)
    out = to_jsonable({
        "msg": HumanMessage("hi"), "when": when, "id": uid, "path": Path("/a/b"),
        "color": Color.RED, "point": Point(1, "hunter2"), "nan": float("nan"),
        "set": {3}, "bytes": b"abc", "exc": ValueError("bad"), "weird": Weird(), 7: "seven",
    })
    assert out["msg"] == HumanMessage("hi").model_dump(mode="json")
    assert out["when"] == "2024-01-02T00:00:00+00:00" and out["id"] == str(uid)
    assert out["path"] == "/a/b" and out["color"] == "red"
    assert out["point"] == {"x": 1, "password": "**********"}
    assert out["nan"] == "nan" and out["set"] == [3] and out["bytes"] == "<3 bytes>"
    assert out["exc"] == {"type": "ValueError", "message": "bad"}
    assert out["weird"] == "Weird(sk-**********)" and out["7"] == "seven"
    json.dumps(out, allow_nan=False)


def test_pydantic_fields_are_masked_by_name_user_dict_keys_only_when_unambiguous() -> None:
    s = Settings(name="n", api_key=SecretStr("abc"), token="t0k")
    assert to_jsonable(s) == {"name": "n", "api_key": "**********", "token": "**********"}
    # user data: a plain "key"/"token" is data, an "api_key"/"Authorization" is a secret
    assert to_jsonable({"key": "k", "token": "t", "api_key": "a", "Authorization": "x"}) == {
        "key": "k", "token": "t", "api_key": "**********", "Authorization": "**********"
    }
    # code-defined parameters: loose
    assert to_jsonable({"key": "k", "max_tokens": 5}, loose=True) == {
        "key": "**********", "max_tokens": 5
    }


@pytest.mark.parametrize("text", [
    "sk-proj-abcdefghijklmnop", "sk-ant-api03-abcdefgh", "Bearer abc.def-ghij",
    "AKIAABCDEFGHIJKLMNOP", "ghp_abcdefghijklmnopqrstuvwx", "hf_abcdefghijklmnopqrstuvwx",
])
def test_key_shapes_are_scrubbed(text: str) -> None:
    assert "**********" in scrub(f"before {text} after")
    assert scrub("a skinny sk-short task") == "a skinny sk-short task"


def test_secret_key_names() -> None:
    for name in ("api_key", "OPENAI_API_KEY", "x-api-key", "Authorization", "password",
                 "client_secret", "Cookie"):
        assert is_secret_key(name), name
    for name in ("key", "token", "max_tokens", "monkey", "author"):
        assert not is_secret_key(name), name
    assert is_secret_key("token", loose=True) and not is_secret_key("max_tokens", loose=True)


def test_dumps_none_and_depth() -> None:
    assert dumps(None) is None
    nested: Any = []
    cur = nested
    for _ in range(50):
        cur.append([])
        cur = cur[0]
    assert json.loads(dumps(nested) or "null")  # deep values end in a repr, not a crash


def test_merged_length() -> None:
    assert merged_length([], 0, 10) == 0
    assert merged_length([(1, 3), (2, 5), (7, 8)], 0, 10) == 5
    assert merged_length([(-5, 2), (9, 20)], 0, 10) == 3


def test_root_row_records_usage_overhead_and_runtime(
    db_path: Path, chain_factory: Any
) -> None:
    store = TraceStore(db_path)
    try:
        chain_factory().invoke({"x": "y"}, {"callbacks": [store]})
        assert store.flush()
    finally:
        store.close()
    client = Client(db_path)
    [root] = client.list_runs(is_root=True)
    [model] = client.list_runs(run_type="chat_model")
    assert (model.model, model.input_tokens, model.output_tokens) == ("fake", 2, 2)
    assert (root.input_tokens, root.output_tokens, root.total_tokens) == (2, 2, 4)
    assert root.n_runs == 4
    assert root.latency_ms is not None and model.latency_ms is not None
    assert root.overhead_ms == pytest.approx(root.latency_ms - model.latency_ms, abs=0.01)
    assert root.extra["runtime"] == runtime_env()
    assert set(runtime_env()) == {"python", "implementation", "os", "machine", "chainkit"}
    assert "_type" in model.invocation_params
    assert model.outputs["type"] == "ai" and model.outputs["content"] == "hello world"
    assert model.inputs["messages"][0]["content"] == "hi y"


def test_errors_are_recorded_with_their_notes(db_path: Path) -> None:
    from chainkit.runnables import RunnableLambda

    def boom(x: Any) -> Any:
        raise KeyError("missing")

    chain = RunnableLambda(lambda x: x, name="first") | RunnableLambda(boom, name="boom")
    store = TraceStore(db_path)
    try:
        with pytest.raises(KeyError):
            chain.invoke(1, {"callbacks": [store]})
        store.flush()
    finally:
        store.close()
    runs = Client(db_path).list_runs(error=True)
    assert {r.name for r in runs} == {"boom", "RunnableSequence"}
    assert all(r.error and r.error.startswith("KeyError: 'missing'") for r in runs)
    assert [r.name for r in Client(db_path).list_runs(error=False)] == ["first"]


def test_prices() -> None:
    assert pricing.cost("gpt-4o-mini-2024-07-18", 1_000_000, 0) == pytest.approx(0.15)
    assert pricing.cost("openai/gpt-4o", 0, 1_000_000) == pytest.approx(10.0)
    assert pricing.cost("smollm2", 100, 100) is None
    pricing.set_price("my-model", 1, 2)
    assert pricing.cost("my-model-v2", 1_000_000, 1_000_000) == pytest.approx(3.0)
    with pytest.raises(ValueError, match="prices must be >= 0"):
        pricing.set_price("m", -1, 0)


def test_messages_round_trip_readably() -> None:
    text = dumps([AIMessage("a", usage_metadata={"input_tokens": 1, "output_tokens": 1,
                                                 "total_tokens": 2})])
    assert text is not None
    assert json.loads(text)[0]["usage_metadata"]["total_tokens"] == 2


@pytest.mark.parametrize("loose", [False, True])
def test_fast_and_walked_encodings_agree(loose: bool) -> None:
    values: list[Any] = [
        {"q": "hi", "headers": {"Authorization": "Bearer abcdefgh123", "X-Api-Key": "k"}},
        {"key": "k", "token": "t", "api_key": "a", "nested": [{"password": "p"}]},
        ["sk-abcdefghijklmnop", {"note": 'quoted \\"api_key\\":\\"x\\" text'}],
        Settings(name="n", api_key=SecretStr("s"), token="t"),
        HumanMessage("my key is sk-abcdefghijklmnop"),
        [HumanMessage("é 😀"), AIMessage("x", additional_kwargs={"api_key": "a"})],
        {},
        {"when": datetime(2024, 1, 1, tzinfo=timezone.utc), "point": Point(1, "pw")},
        "plain text", 3, 2.5, True,
    ]
    for value in values:
        text = dumps(value, loose=loose)
        assert text is not None
        assert json.loads(text) == to_jsonable(value, loose=loose), value


def test_messages_are_encoded_by_pydantic_core_with_the_same_text() -> None:
    """Chainkit's own value types skip the Python walk; the JSON is what the walk gives."""
    message = AIMessage("Bearer abcdefgh12345678 and é", response_metadata={"n": 1})
    text = dumps(message)
    assert text is not None and "abcdefgh12345678" not in text and "é" in text
    walked = json.dumps(message.model_dump(mode="json"), ensure_ascii=False,
                        separators=(",", ":"))
    assert text == scrub(walked)
