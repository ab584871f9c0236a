"""The public surface, asserted exactly: adding or removing a public name is a decision."""

from __future__ import annotations

import chainkit
import chainkit.models

TOP_LEVEL = {
    "AIMessage", "AIMessageChunk", "AIMessagePromptTemplate", "BaseChatModel", "BaseMessage",
    "BaseMessageChunk", "ChainGraph", "ChainValidationError", "ChatAnthropic", "ChatGeneration",
    "ChatGenerationChunk", "ChatLlamaCpp", "ChatMessage", "ChatMessageChunk",
    "ChatMessagePromptTemplate", "ChatOpenAI", "ChatPromptTemplate", "ChatPromptValue",
    "ChatResult", "CommaSeparatedListOutputParser", "CompiledChain", "FakeListChatModel",
    "FunctionMessage", "FunctionMessageChunk", "GenericFakeChatModel", "HumanMessage",
    "HumanMessageChunk", "HumanMessagePromptTemplate", "JsonOutputParser", "LLMResult",
    "MessagesPlaceholder", "OutputParserException", "ParrotFakeChatModel", "PromptTemplate",
    "PromptValue", "PromptVariableError", "PydanticOutputParser", "RunInfo", "Runnable",
    "RunnableAssign", "RunnableBinding", "RunnableBranch", "RunnableConfig", "RunnableLambda",
    "RunnableParallel", "RunnablePassthrough", "RunnablePick", "RunnableRetry",
    "RunnableSequence", "RunnableWithFallbacks", "StrOutputParser", "StringPromptValue",
    "SystemMessage", "SystemMessageChunk", "SystemMessagePromptTemplate", "ToolMessage",
    "ToolMessageChunk", "__version__", "chain", "convert_to_messages", "init_chat_model",
}


def test_top_level_names_are_exactly_these() -> None:
    assert set(chainkit.__all__) == TOP_LEVEL


def test_every_top_level_name_resolves_to_the_object_of_its_home_module() -> None:
    import importlib

    for name in TOP_LEVEL - {"__version__"}:
        home = importlib.import_module(chainkit._EXPORTS[name])
        assert getattr(chainkit, name) is getattr(home, name), name


def test_models_names_resolve() -> None:
    for name in chainkit.models.__all__:
        assert getattr(chainkit.models, name) is not None, name


def test_models_all_matches_its_lazy_map() -> None:
    assert sorted(chainkit.models.__all__) == sorted(chainkit.models._EXPORTS)
