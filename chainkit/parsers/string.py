"""`StrOutputParser`: a model's message (or string) as plain text."""

from __future__ import annotations

from typing import Any

from chainkit.parsers.base import BaseTransformOutputParser

__all__ = ["StrOutputParser"]


class StrOutputParser(BaseTransformOutputParser[str]):
    """The text of a message (its string content, or its text blocks joined), or a string as is.

    Streaming yields each chunk's text as it arrives, empty chunks included (the last chunk
    of a model stream often carries only usage data and yields ``''``), as LangChain does.

    Example:
        >>> from chainkit.messages import AIMessage, AIMessageChunk
        >>> StrOutputParser().invoke(AIMessage("J'adore la programmation."))
        "J'adore la programmation."
        >>> list(StrOutputParser().transform(iter([AIMessageChunk("Hel"), AIMessageChunk("lo")])))
        ['Hel', 'lo']
    """

    def parse(self, text: str) -> str:
        """Return ``text`` unchanged."""
        return text

    def get_format_instructions(self) -> str:
        raise NotImplementedError("StrOutputParser accepts any text; it has no format instructions")

    @property
    def _type(self) -> str:
        return "default"

    @property
    def OutputType(self) -> Any:
        return str
