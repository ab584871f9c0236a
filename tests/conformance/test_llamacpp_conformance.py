"""ChatLlamaCpp passes the standard chat model suite, in-process on the bundled SmolLM2."""

from __future__ import annotations

import pytest

from chainkit.models import ChatLlamaCpp
from chainkit.models.base import BaseChatModel
from tests.conformance.chat_model_suite import ChatModelConformance

pytestmark = pytest.mark.integration


class TestChatLlamaCpp(ChatModelConformance):
    deterministic = True  # temperature 0 and a fixed seed

    def chat_model(self) -> BaseChatModel:
        # Cheap: the weights are loaded once per process and shared by every instance.
        return ChatLlamaCpp(temperature=0, seed=0, max_tokens=24)
