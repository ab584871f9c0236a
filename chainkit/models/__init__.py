"""Chat models: the base class, result types, fakes for tests, and one module per provider.

Provider modules (llama.cpp, OpenAI-compatible, Anthropic) load lazily on first use, so their
optional dependencies are only needed by those who use them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chainkit._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "BaseChatModel": "chainkit.models.base",
    "LanguageModelInput": "chainkit.models.base",
    "LLMResult": "chainkit.models.outputs",
    "ChatResult": "chainkit.models.outputs",
    "ChatGeneration": "chainkit.models.outputs",
    "ChatGenerationChunk": "chainkit.models.outputs",
    "Generation": "chainkit.models.outputs",
    "RunInfo": "chainkit.models.outputs",
    "FakeListChatModel": "chainkit.models.fake",
    "GenericFakeChatModel": "chainkit.models.fake",
    "ParrotFakeChatModel": "chainkit.models.fake",
    "generate_from_stream": "chainkit.models.base",
    "agenerate_from_stream": "chainkit.models.base",
    "convert_to_json_schema": "chainkit.models.structured",
    "ChatLlamaCpp": "chainkit.models.llamacpp",
    "ChatOpenAI": "chainkit.models.openai",
    "ChatAnthropic": "chainkit.models.anthropic",
    "init_chat_model": "chainkit.models.init",
}

# Spelled out (not sorted(_EXPORTS)) so type checkers see the re-exports.
__all__ = [
    "BaseChatModel",
    "ChatAnthropic",
    "ChatGeneration",
    "ChatGenerationChunk",
    "ChatLlamaCpp",
    "ChatOpenAI",
    "ChatResult",
    "FakeListChatModel",
    "Generation",
    "GenericFakeChatModel",
    "LLMResult",
    "LanguageModelInput",
    "ParrotFakeChatModel",
    "RunInfo",
    "agenerate_from_stream",
    "convert_to_json_schema",
    "generate_from_stream",
    "init_chat_model",
]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)


if TYPE_CHECKING:  # pragma: no cover
    from chainkit.models.anthropic import ChatAnthropic
    from chainkit.models.base import (
        BaseChatModel,
        LanguageModelInput,
        agenerate_from_stream,
        generate_from_stream,
    )
    from chainkit.models.fake import FakeListChatModel, GenericFakeChatModel, ParrotFakeChatModel
    from chainkit.models.init import init_chat_model
    from chainkit.models.llamacpp import ChatLlamaCpp
    from chainkit.models.openai import ChatOpenAI
    from chainkit.models.outputs import (
        ChatGeneration,
        ChatGenerationChunk,
        ChatResult,
        Generation,
        LLMResult,
        RunInfo,
    )
    from chainkit.models.structured import convert_to_json_schema
