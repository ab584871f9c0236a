"""`stream_display` / `astream_display`: watch a chain's output arrive, token by token.

In a notebook the cell shows one output area that grows as chunks come in (an IPython display
handle, updated in place); in a terminal or script the new text is printed with ``flush``. Both
return the whole output, aggregated the way chainkit aggregates streams (strings and message
chunks concatenate, partial JSON objects replace the previous one).

The view is a push decoder (`StreamView.add` per chunk, `StreamView.close` at the end), so the
sync and async functions are the same few-line loop over ``stream`` and ``astream``.
"""

from __future__ import annotations

import pprint
from collections.abc import Callable
from html import escape
from typing import Any, TypeVar

from chainkit.messages import BaseMessage
from chainkit.notebook._live import LiveArea
from chainkit.runnables import Runnable, RunnableConfig
from chainkit.runnables._sync import add_chunks

__all__ = ["StreamView", "astream_display", "stream_display"]

Input = TypeVar("Input")
Output = TypeVar("Output")

_PRE = (
    "white-space:pre-wrap;word-break:break-word;margin:0;padding:6px 10px;"
    "border-left:3px solid #047857;font-family:ui-monospace,SFMono-Regular,Menlo,monospace;"
    "font-size:13px"
)
_CURSOR = '<span style="opacity:0.6">&#9612;</span>'


def _as_text(value: Any) -> tuple[str, bool]:
    """``(text, is_text)``: strings and messages read as their text, anything else pretty."""
    if isinstance(value, str):
        return value, True
    if isinstance(value, BaseMessage):
        return value.text, True
    return pprint.pformat(value, width=88, sort_dicts=False), False


class StreamView:
    """Shows an aggregating stream: live in a notebook, as printed text elsewhere.

    Args:
        interval: Least seconds between two notebook updates (the last is always shown).
        write: Where plain text goes outside a notebook (default: ``print`` with flush).

    Example:
        >>> printed = []
        >>> view = StreamView(write=printed.append)  # outside a notebook: plain text
        >>> view.add("Hel")
        >>> view.add("lo")
        >>> view.close(), "".join(printed)
        ('Hello', 'Hello\\n')
    """

    __slots__ = ("_area", "_printed", "_write", "chunks", "final")

    def __init__(
        self, *, interval: float = 0.05, write: Callable[[str], None] | None = None
    ) -> None:
        self._area = LiveArea(interval=interval)
        self._write = write or _print
        self._printed = ""
        self.final: Any = None
        self.chunks = 0

    def add(self, chunk: Any) -> None:
        """Take one chunk: aggregate it and show the output so far."""
        self.final = add_chunks(self.final, chunk)
        self.chunks += 1
        text, is_text = _as_text(self.final)
        if self._area.active:
            self._area.show(self._html(text, streaming=True), text)
        elif is_text:
            self._print_text(text)

    def close(self) -> Any:
        """Show the final output (no cursor) and return it."""
        text, is_text = _as_text(self.final) if self.chunks else ("", True)
        if self._area.active:
            self._area.show(self._html(text, streaming=False), text, final=True)
        elif is_text:
            self._print_text(text)
            self._write("\n")
        else:
            self._write(text + "\n")
        return self.final

    def _print_text(self, text: str) -> None:
        # Print only what is new; if the aggregate was rewritten rather than extended (rare),
        # start a new line with the whole text.
        new = text[len(self._printed):] if text.startswith(self._printed) else "\n" + text
        if new:
            self._write(new)
        self._printed = text

    @staticmethod
    def _html(text: str, *, streaming: bool) -> str:
        return f'<pre style="{_PRE}">{escape(text)}{_CURSOR if streaming else ""}</pre>'


def _print(text: str) -> None:
    print(text, end="", flush=True)


def stream_display(
    runnable: Runnable[Input, Output],
    input: Input,
    config: RunnableConfig | None = None,
    *,
    interval: float = 0.05,
    **kwargs: Any,
) -> Output:
    """Stream ``runnable`` on ``input``, showing the output live, and return it aggregated.

    Works in a notebook cell (where an event loop is already running) as in a script.

    Args:
        runnable: Any runnable, e.g. ``prompt | model | StrOutputParser()``.
        input: Its input.
        config: Its config (callbacks, tags, ...).
        interval: Least seconds between two notebook updates.
        **kwargs: Passed on to ``runnable.stream``.

    Returns:
        The aggregated output: a string, an ``AIMessageChunk``, the last partial JSON, ...

    Example:
        >>> answer = stream_display(prompt | model | StrOutputParser(), {"topic": "owls"})
    """
    view = StreamView(interval=interval)
    try:
        for chunk in runnable.stream(input, config, **kwargs):
            view.add(chunk)
    finally:
        final = view.close()
    return final  # type: ignore[no-any-return]


async def astream_display(
    runnable: Runnable[Input, Output],
    input: Input,
    config: RunnableConfig | None = None,
    *,
    interval: float = 0.05,
    **kwargs: Any,
) -> Output:
    """Async `stream_display`: ``answer = await astream_display(chain, {...})``."""
    view = StreamView(interval=interval)
    try:
        async for chunk in runnable.astream(input, config, **kwargs):
            view.add(chunk)
    finally:
        final = view.close()
    return final  # type: ignore[no-any-return]
