"""Results of legacy OpenAI function calls (superseded by tool messages)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from chainkit.messages.base import BaseMessage, BaseMessageChunk, MessageContent


class FunctionMessage(BaseMessage):
    """The result of a function call, for models using OpenAI's legacy function calling.

    Prefer :class:`~chainkit.messages.ToolMessage` with models that support tools.

    Example:
        >>> FunctionMessage('{"temp": 21}', name="get_weather")
        FunctionMessage(content='{"temp": 21}', name='get_weather')
    """

    name: str
    """The name of the function that was called."""

    type: Literal["function"] = "function"
    """Always ``"function"``."""

    if TYPE_CHECKING:  # keeps content positional for type checkers; see BaseMessage.__init__
        def __init__(self, content: MessageContent, **kwargs: Any) -> None: ...


class FunctionMessageChunk(FunctionMessage, BaseMessageChunk):
    """A streamed piece of a :class:`FunctionMessage`; only chunks of the same name merge.

    Example:
        >>> FunctionMessageChunk("a", name="f") + FunctionMessageChunk("b", name="f")
        FunctionMessageChunk(content='ab', name='f')
    """

    type: Literal["FunctionMessageChunk"] = "FunctionMessageChunk"  # type: ignore[assignment]
    """Always ``"FunctionMessageChunk"``."""

    if TYPE_CHECKING:  # keeps content positional for type checkers; see BaseMessage.__init__
        def __init__(self, content: MessageContent, **kwargs: Any) -> None: ...

    def _merged_fields(self, others: Sequence[BaseMessageChunk]) -> dict[str, Any]:
        for other in others:
            if other.name != self.name:
                raise self._incompatible(other, "name")
        return super()._merged_fields(others)


__all__ = [
    "FunctionMessage",
    "FunctionMessageChunk",
]
