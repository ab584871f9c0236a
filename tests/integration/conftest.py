"""Integration fixtures: a real llama.cpp OpenAI-compatible server on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.llama_server import LlamaServer, shared_server, stop_shared_server


@pytest.fixture(scope="session")
def llama_server() -> Iterator[LlamaServer]:
    """``python -m llama_cpp.server`` on the bundled SmolLM2, for the whole session; killed
    at the end. ``llama_server.base_url`` is its ``.../v1`` root."""
    server = shared_server()
    yield server
    stop_shared_server()
