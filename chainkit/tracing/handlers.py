"""`BaseCallbackHandler` and `AsyncCallbackHandler`: LangChain's callback handler interface, every
method a no-op, for those who like to subclass.

Subclassing is optional: `chainkit.tracing.callbacks.HandlerListener` calls any object with some
of these methods (same names, same signatures). Methods left as inherited here are not called.
"""

from __future__ import annotations

from typing import Any

from chainkit.messages import BaseMessage
from chainkit.models.outputs import LLMResult

__all__ = ["AsyncCallbackHandler", "BaseCallbackHandler"]


class BaseCallbackHandler:
    """A callback handler whose methods all do nothing; override the ones you need.

    Subclassing is optional: any object with some of these methods works as a handler.

    Example:
        >>> class Tokens(BaseCallbackHandler):
        ...     def on_llm_new_token(self, token, **kwargs):
        ...         print(token, end="")
        >>> chain.invoke({"topic": "owls"}, {"callbacks": [Tokens()]})
    """

    raise_error: bool = False
    run_inline: bool = False
    ignore_llm: bool = False
    ignore_chat_model: bool = False
    ignore_chain: bool = False
    ignore_agent: bool = False
    ignore_retriever: bool = False
    ignore_retry: bool = False
    ignore_custom_event: bool = False

    def on_llm_start(self, serialized: dict[str, Any], prompts: list[str], **kwargs: Any) -> Any:
        """A text model run starts."""

    def on_chat_model_start(
        self, serialized: dict[str, Any], messages: list[list[BaseMessage]], **kwargs: Any
    ) -> Any:
        """A chat model run starts; ``messages`` holds one message list per prompt."""

    def on_llm_new_token(self, token: str, *, chunk: Any = None, **kwargs: Any) -> Any:
        """A model streamed a chunk; ``chunk`` is a `ChatGenerationChunk`."""

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> Any:
        """A model run ended."""

    def on_llm_error(self, error: BaseException, **kwargs: Any) -> Any:
        """A model run raised."""

    def on_chain_start(self, serialized: dict[str, Any], inputs: Any, **kwargs: Any) -> Any:
        """A chain (or prompt, parser, lambda) run starts."""

    def on_chain_end(self, outputs: Any, **kwargs: Any) -> Any:
        """A chain run ended."""

    def on_chain_error(self, error: BaseException, **kwargs: Any) -> Any:
        """A chain run raised."""

    def on_tool_start(self, serialized: dict[str, Any], input_str: str, **kwargs: Any) -> Any:
        """A tool run starts."""

    def on_tool_end(self, output: Any, **kwargs: Any) -> Any:
        """A tool run ended."""

    def on_tool_error(self, error: BaseException, **kwargs: Any) -> Any:
        """A tool run raised."""

    def on_retriever_start(self, serialized: dict[str, Any], query: str, **kwargs: Any) -> Any:
        """A retriever run starts."""

    def on_retriever_end(self, documents: Any, **kwargs: Any) -> Any:
        """A retriever run ended."""

    def on_retriever_error(self, error: BaseException, **kwargs: Any) -> Any:
        """A retriever run raised."""

    def on_text(self, text: str, **kwargs: Any) -> Any:
        """Arbitrary text (kept for LangChain compatibility; chainkit does not emit it)."""

    def on_retry(self, retry_state: Any, **kwargs: Any) -> Any:
        """A retry (kept for LangChain compatibility; chainkit does not emit it)."""

    def on_custom_event(self, name: str, data: Any, **kwargs: Any) -> Any:
        """User code called `dispatch_custom_event` inside a run."""


class AsyncCallbackHandler(BaseCallbackHandler):
    """`BaseCallbackHandler` with ``async def`` methods; they are awaited, never block a loop.

    Example:
        >>> class Collect(AsyncCallbackHandler):
        ...     async def on_llm_new_token(self, token, **kwargs):
        ...         await queue.put(token)
        >>> await chain.ainvoke({"topic": "owls"}, {"callbacks": [Collect()]})
    """

    async def on_llm_start(
        self, serialized: dict[str, Any], prompts: list[str], **kwargs: Any
    ) -> None:
        """A text model run starts."""

    async def on_chat_model_start(
        self, serialized: dict[str, Any], messages: list[list[BaseMessage]], **kwargs: Any
    ) -> None:
        """A chat model run starts; ``messages`` holds one message list per prompt."""

    async def on_llm_new_token(
        self, token: str, *, chunk: Any = None, **kwargs: Any
    ) -> None:
        """A model streamed a chunk; ``chunk`` is a `ChatGenerationChunk`."""

    async def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        """A model run ended."""

    async def on_llm_error(self, error: BaseException, **kwargs: Any) -> None:
        """A model run raised."""

    async def on_chain_start(
        self, serialized: dict[str, Any], inputs: Any, **kwargs: Any
    ) -> None:
        """A chain (or prompt, parser, lambda) run starts."""

    async def on_chain_end(self, outputs: Any, **kwargs: Any) -> None:
        """A chain run ended."""

    async def on_chain_error(self, error: BaseException, **kwargs: Any) -> None:
        """A chain run raised."""

    async def on_tool_start(
        self, serialized: dict[str, Any], input_str: str, **kwargs: Any
    ) -> None:
        """A tool run starts."""

    async def on_tool_end(self, output: Any, **kwargs: Any) -> None:
        """A tool run ended."""

    async def on_tool_error(self, error: BaseException, **kwargs: Any) -> None:
        """A tool run raised."""

    async def on_retriever_start(
        self, serialized: dict[str, Any], query: str, **kwargs: Any
    ) -> None:
        """A retriever run starts."""

    async def on_retriever_end(self, documents: Any, **kwargs: Any) -> None:
        """A retriever run ended."""

    async def on_retriever_error(
        self, error: BaseException, **kwargs: Any
    ) -> None:
        """A retriever run raised."""

    async def on_text(self, text: str, **kwargs: Any) -> None:
        """Arbitrary text (kept for LangChain compatibility; chainkit does not emit it)."""

    async def on_retry(self, retry_state: Any, **kwargs: Any) -> None:
        """A retry (kept for LangChain compatibility; chainkit does not emit it)."""

    async def on_custom_event(
        self, name: str, data: Any, **kwargs: Any
    ) -> None:
        """User code called `dispatch_custom_event` inside a run."""
