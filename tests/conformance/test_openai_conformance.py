"""ChatOpenAI passes the standard chat model suite against a real OpenAI-compatible server
(llama-cpp-python's, on the bundled SmolLM2, started once per test session)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chainkit.models import ChatOpenAI
from chainkit.models.base import BaseChatModel
from tests.conformance.chat_model_suite import ChatModelConformance
from tests.integration.llama_server import LlamaServer, shared_server, stop_shared_server

pytestmark = pytest.mark.integration

CANARY = "sk-conformance-canary-5e1f"


@pytest.fixture(scope="session")
def openai_server() -> Iterator[LlamaServer]:
    server = shared_server()  # the same process as tests/integration's llama_server fixture
    yield server
    stop_shared_server()


class TestChatOpenAILlamaCppServer(ChatModelConformance):
    streams_usage = False  # llama-cpp-python's server sends no usage in streams
    secrets = (CANARY,)

    @pytest.fixture(autouse=True)
    def _server(self, openai_server: LlamaServer) -> None:
        self.server = openai_server

    def chat_model(self) -> BaseChatModel:
        return ChatOpenAI(
            model=self.server.model, base_url=self.server.base_url, api_key=CANARY,
            temperature=0, seed=0, max_tokens=24,
        )
