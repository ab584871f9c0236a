"""The fake chat models pass the standard chat model suite."""

from __future__ import annotations

import itertools

from chainkit.models.base import BaseChatModel
from chainkit.models.fake import FakeListChatModel, GenericFakeChatModel
from tests.conformance.chat_model_suite import ChatModelConformance

REPLY = "Hello there, nice to meet you."


class TestFakeListChatModel(ChatModelConformance):
    honours_stop = False  # scripted replies ignore stop sequences

    def chat_model(self) -> BaseChatModel:
        return FakeListChatModel(responses=[REPLY])


class TestGenericFakeChatModel(ChatModelConformance):
    honours_stop = False

    def chat_model(self) -> BaseChatModel:
        return GenericFakeChatModel(messages=itertools.cycle([REPLY]))
