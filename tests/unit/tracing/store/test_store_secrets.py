"""A canary key given to a model (api_key, invocation params, headers, metadata, error text)
never reaches the trace database's bytes; big values are cut with a marker."""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from chainkit.messages import AIMessage, BaseMessage
from chainkit.models.base import BaseChatModel
from chainkit.models.http.testing import Reply, ScriptedServer
from chainkit.models.openai import ChatOpenAI
from chainkit.models.outputs import ChatGeneration, ChatResult
from chainkit.prompts import ChatPromptTemplate
from chainkit.runnables import RunnableLambda
from chainkit.tracing._enable import enable, tracing
from chainkit.tracing.client import Client
from chainkit.tracing.store.serialize import TRUNCATED

CANARY = f"sk-CANARY-{uuid.uuid4()}"


class CarelessModel(BaseChatModel):
    """A provider that puts its key and headers in its identifying params."""

    def __init__(self, api_key: SecretStr, headers: dict[str, str]) -> None:
        super().__init__()
        self.api_key = api_key
        self.headers = headers
        self.model = "careless-1"

    @property
    def _llm_type(self) -> str:
        return "careless"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model": self.model, "api_key": self.api_key, "headers": self.headers,
                "token": CANARY, "note": f"key is {CANARY}"}

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  **kwargs: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage("ok"))])


def _db_bytes(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))


def _completion() -> dict[str, Any]:
    return {"id": "c1", "object": "chat.completion", "model": "gpt-4o-mini",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": "hi"}}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}


def test_canary_key_never_reaches_the_database(db_path: Path) -> None:
    headers = {"Authorization": f"Bearer {CANARY}", "x-api-key": CANARY}
    careless = CarelessModel(api_key=SecretStr(CANARY), headers=headers)
    server = ScriptedServer(Reply.json(_completion()), Reply.json(_completion()))
    openai = ChatOpenAI(model="gpt-4o-mini", api_key=CANARY, base_url="http://llm.test/v1",
                        default_headers=headers, http_client=server.client())
    prompt = ChatPromptTemplate.from_messages([("human", "{q}")])

    def leaky(_: Any) -> Any:
        raise ValueError(f"upstream rejected {CANARY}")

    store = enable("secrets", db_path=db_path)
    (prompt | careless).invoke({"q": "hi"}, api_key=CANARY, headers=headers,  # type: ignore[call-arg]
                               config={"metadata": {"openai_api_key": CANARY}})
    (prompt | openai).invoke({"q": "hi"})
    openai.invoke("hello", stop=["\n"])
    with contextlib.suppress(ValueError):
        RunnableLambda(leaky).invoke({"secret": CANARY, "q": f"my key is {CANARY}"})
    assert store.flush()
    assert CANARY in server.requests[0].headers["authorization"]  # it was used
    store.close()
    data = _db_bytes(db_path)
    assert CANARY.encode() not in data
    assert CANARY.split("sk-")[1].encode() not in data
    runs = Client(db_path).list_runs(project="secrets", run_type="chat_model")
    careless_run = next(r for r in runs if r.model == "careless-1")
    params = careless_run.invocation_params
    assert params["api_key"] == "**********" and params["token"] == "**********"
    assert params["headers"] == {"Authorization": "**********", "x-api-key": "**********"}
    assert params["note"] == "key is sk-**********"
    assert careless_run.metadata == {"openai_api_key": "**********"}


def test_large_inputs_are_truncated_with_a_marker(db_path: Path) -> None:
    echo = RunnableLambda(lambda x: x, name="echo")
    with tracing(project="big", db_path=db_path) as store:
        assert store is not None
        store._rows.max_chars = 1000
        echo.invoke({"text": "x" * 5000, "short": "kept"})
        echo.invoke([f"item {i}" for i in range(500)])
    cut, preview = sorted(Client(db_path).list_runs(project="big"), key=lambda r: r.start_time)
    # long strings are cut (the document keeps its shape) ...
    assert cut.inputs["short"] == "kept"
    assert cut.inputs["text"] == "x" * 250 + "… [truncated: 5000 chars]"
    assert cut.outputs == cut.inputs
    # ... and a document that is big by its many parts becomes a marked preview
    assert preview.inputs[TRUNCATED] > 1000
    assert preview.inputs["preview"].startswith('["item 0","item 1"')
    assert len(preview.inputs["preview"]) == 1000
