"""The error every parser raises when model output does not have the expected shape.

::

    ValueError
    └── OutputParserException      bad output: carries the raw text (``llm_output``)

A parser raises `OutputParserException` only for bad *model output*; a bad argument from the
caller (a dict where a string was expected) stays a `TypeError`, so code that retries on bad
output never retries a programming error.
"""

from __future__ import annotations

from typing import Any

__all__ = ["OutputParserException"]

#: How many characters of bad output an error message shows.
PREVIEW_WIDTH = 60


class OutputParserException(ValueError):
    """Model output that a parser could not turn into the expected value.

    Args:
        error: The message (or the exception being re-raised).
        observation: A short explanation that may be shown to the model so it can fix its
            answer (for example in a retry prompt).
        llm_output: The raw model output that failed to parse.
        send_to_llm: Whether a caller driving a model should send ``observation`` and
            ``llm_output`` back to it; both are then required.

    Raises:
        ValueError: ``send_to_llm`` is true but ``observation`` or ``llm_output`` is missing.

    Example:
        >>> from chainkit.parsers import JsonOutputParser, OutputParserException
        >>> try:
        ...     JsonOutputParser().invoke("Sure! here you go")
        ... except OutputParserException as e:
        ...     print(e.llm_output)
        Sure! here you go
    """

    def __init__(
        self,
        error: Any,
        observation: str | None = None,
        llm_output: str | None = None,
        send_to_llm: bool = False,
    ) -> None:
        super().__init__(error)
        if send_to_llm and (observation is None or llm_output is None):
            raise ValueError(
                "OutputParserException(send_to_llm=True) needs both 'observation' and "
                "'llm_output'"
            )
        self.observation = observation
        self.llm_output = llm_output
        self.send_to_llm = send_to_llm


def preview(text: str, pos: int = 0, width: int = PREVIEW_WIDTH) -> str:
    """A short ``repr`` of ``text`` for an error message, centred on ``pos`` when it is far in.

    ``repr`` keeps control characters and lone surrogates printable.

    Example:
        >>> preview("Sure! here is what you asked for", width=10)
        "'Sure! here'..."
        >>> preview("x" * 50 + "!", pos=50, width=10)
        "...'xxxxxxxxx!'"
    """
    if len(text) <= width:
        return repr(text)
    start = 0 if pos < width * 3 // 4 else min(pos - width // 2, len(text) - width)
    piece = repr(text[start : start + width])
    return ("..." if start else "") + piece + ("..." if start + width < len(text) else "")


def position(text: str, pos: int) -> str:
    """``"line L column C"`` (1-based) of offset ``pos`` in ``text``."""
    line = text.count("\n", 0, pos) + 1
    column = pos - text.rfind("\n", 0, pos)
    return f"line {line} column {column}"
