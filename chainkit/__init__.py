"""chainkit: compose LLM applications from small, typed, fast parts.

``prompt | model | parser`` with LangChain's public names, a fraction of its overhead, and a real
local model that runs offline. Public names are imported lazily, so ``import chainkit`` is cheap.

Example:
    >>> from chainkit import ChatPromptTemplate, StrOutputParser, init_chat_model
    >>> chain = ChatPromptTemplate.from_messages([("human", "Say hi to {name}")]) \\
    ...     | init_chat_model() | StrOutputParser()
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chainkit._lazy import lazy_exports

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # messages
    **{
        name: "chainkit.messages"
        for name in (
            "BaseMessage", "BaseMessageChunk", "SystemMessage", "HumanMessage", "AIMessage",
            "FunctionMessage", "ToolMessage", "ChatMessage", "SystemMessageChunk",
            "HumanMessageChunk", "AIMessageChunk", "FunctionMessageChunk", "ToolMessageChunk",
            "ChatMessageChunk", "convert_to_messages",
        )
    },
    # runnables
    **{
        name: "chainkit.runnables"
        for name in (
            "Runnable", "RunnableConfig", "RunnableLambda", "RunnableParallel", "RunnableSequence",
            "RunnablePassthrough", "RunnableAssign", "RunnablePick", "RunnableBranch",
            "RunnableRetry", "RunnableWithFallbacks", "RunnableBinding", "chain",
        )
    },
    # prompts
    **{
        name: "chainkit.prompts"
        for name in (
            "PromptTemplate", "ChatPromptTemplate", "MessagesPlaceholder", "PromptValue",
            "StringPromptValue", "ChatPromptValue", "PromptVariableError",
            "SystemMessagePromptTemplate", "HumanMessagePromptTemplate",
            "AIMessagePromptTemplate", "ChatMessagePromptTemplate",
        )
    },
    # parsers
    **{
        name: "chainkit.parsers"
        for name in (
            "StrOutputParser", "JsonOutputParser", "PydanticOutputParser",
            "CommaSeparatedListOutputParser", "OutputParserException",
        )
    },
    # models
    **{
        name: "chainkit.models"
        for name in (
            "BaseChatModel", "LLMResult", "ChatGeneration", "ChatGenerationChunk", "ChatResult",
            "RunInfo", "FakeListChatModel", "GenericFakeChatModel", "ParrotFakeChatModel",
            "ChatLlamaCpp", "ChatOpenAI", "ChatAnthropic", "init_chat_model",
        )
    },
    # structure
    **{
        name: "chainkit.graph"
        for name in ("ChainGraph", "CompiledChain", "ChainValidationError")
    },
}

__all__ = sorted([*_EXPORTS, "__version__"])


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from chainkit.graph import ChainGraph, ChainValidationError, CompiledChain
    from chainkit.messages import (
        AIMessage,
        AIMessageChunk,
        BaseMessage,
        BaseMessageChunk,
        ChatMessage,
        ChatMessageChunk,
        FunctionMessage,
        FunctionMessageChunk,
        HumanMessage,
        HumanMessageChunk,
        SystemMessage,
        SystemMessageChunk,
        ToolMessage,
        ToolMessageChunk,
        convert_to_messages,
    )
    from chainkit.models import (
        BaseChatModel,
        ChatAnthropic,
        ChatGeneration,
        ChatGenerationChunk,
        ChatLlamaCpp,
        ChatOpenAI,
        ChatResult,
        FakeListChatModel,
        GenericFakeChatModel,
        LLMResult,
        ParrotFakeChatModel,
        RunInfo,
        init_chat_model,
    )
    from chainkit.parsers import (
        CommaSeparatedListOutputParser,
        JsonOutputParser,
        OutputParserException,
        PydanticOutputParser,
        StrOutputParser,
    )
    from chainkit.prompts import (
        AIMessagePromptTemplate,
        ChatMessagePromptTemplate,
        ChatPromptTemplate,
        ChatPromptValue,
        HumanMessagePromptTemplate,
        MessagesPlaceholder,
        PromptTemplate,
        PromptValue,
        PromptVariableError,
        StringPromptValue,
        SystemMessagePromptTemplate,
    )
    from chainkit.runnables import (
        Runnable,
        RunnableAssign,
        RunnableBinding,
        RunnableBranch,
        RunnableConfig,
        RunnableLambda,
        RunnableParallel,
        RunnablePassthrough,
        RunnablePick,
        RunnableRetry,
        RunnableSequence,
        RunnableWithFallbacks,
        chain,
    )
