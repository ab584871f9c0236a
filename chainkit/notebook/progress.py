"""`batch_with_progress`: ``runnable.batch`` with a small progress bar.

Built on ``batch_as_completed`` / ``abatch_as_completed``, so the bar moves as each input
finishes, whatever the order, and the results still come back in input order. In a notebook
the bar is an HTML ``<progress>`` element updated in place; elsewhere a one-line text bar is
redrawn with a carriage return. No dependency beyond chainkit.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from html import escape
from typing import Any, TypeVar

from chainkit.notebook._live import LiveArea
from chainkit.runnables import Runnable, RunnableConfig

__all__ = ["ProgressBar", "abatch_with_progress", "batch_with_progress"]

Input = TypeVar("Input")
Output = TypeVar("Output")

_WIDTH = 24  # characters in the text bar


class ProgressBar:
    """Counts finished items out of ``total`` and draws the count as a bar.

    Args:
        total: How many items will finish.
        description: A label shown before the bar.
        write: Where the text bar goes outside a notebook (default: ``print`` with flush).

    Example:
        >>> lines = []
        >>> bar = ProgressBar(2, "demo", write=lines.append)
        >>> bar.advance()
        >>> bar.advance(failed=True)
        >>> bar.close()
        >>> lines[-2].strip()
        'demo [████████████████████████] 2/2 (1 failed) 0.0s'
    """

    __slots__ = ("_area", "_start", "_write", "description", "done", "failed", "total")

    def __init__(
        self, total: int, description: str = "", *, write: Callable[[str], None] | None = None
    ) -> None:
        if isinstance(total, bool) or not isinstance(total, int) or total < 0:
            raise ValueError(f"total must be an int >= 0, got {total!r}")
        self.total = total
        self.description = description
        self.done = 0
        self.failed = 0
        self._write = write or _print
        self._area = LiveArea(interval=0.1)
        self._start = time.monotonic()
        self._draw()

    def advance(self, *, failed: bool = False) -> None:
        """One more item finished (``failed``: it ended with an exception)."""
        self.done += 1
        self.failed += failed
        self._draw()

    def close(self, error: BaseException | None = None) -> None:
        """Draw the final state; ``error`` (the batch stopped on it) is named in the bar."""
        self._draw(final=True, error=error)
        if not self._area.active:
            self._write("\n")

    def _summary(self, error: BaseException | None) -> str:
        parts = [f"{self.done}/{self.total}"]
        if self.failed:
            parts.append(f"({self.failed} failed)")
        if error is not None:
            parts.append(f"stopped: {type(error).__name__}")
        parts.append(f"{time.monotonic() - self._start:.1f}s")
        return " ".join(parts)

    def _draw(self, *, final: bool = False, error: BaseException | None = None) -> None:
        summary = self._summary(error)
        filled = _WIDTH * self.done // self.total if self.total else _WIDTH
        bar = "█" * filled + "·" * (_WIDTH - filled)
        label = f"{self.description} " if self.description else ""
        text = f"{label}[{bar}] {summary}"
        if not self._area.active:
            self._write("\r" + text)
            return
        colour = "#b91c1c" if error is not None or self.failed else "#047857"
        html = (
            '<div style="font-family:ui-monospace,SFMono-Regular,Menlo,monospace;'
            f'font-size:12px">{escape(label)}<progress value="{self.done}" '
            f'max="{max(self.total, 1)}" style="width:16em;vertical-align:middle;'
            f'accent-color:{colour}"></progress> <span style="color:{colour}">'
            f"{escape(summary)}</span></div>"
        )
        self._area.show(html, text, final=final)


def _print(text: str) -> None:
    print(text, end="", flush=True)


def _label(runnable: Runnable[Any, Any], description: str | None) -> str:
    return runnable.get_name() if description is None else description


def batch_with_progress(
    runnable: Runnable[Input, Output],
    inputs: Sequence[Input],
    config: RunnableConfig | list[RunnableConfig] | None = None,
    *,
    return_exceptions: bool = False,
    description: str | None = None,
    **kwargs: Any,
) -> list[Output]:
    """``runnable.batch(inputs, ...)`` with a progress bar; outputs in input order.

    Args:
        runnable: What to run on every input.
        inputs: The inputs.
        config: One config for all inputs or one per input (``max_concurrency`` applies).
        return_exceptions: Put a failed input's exception in its slot instead of raising.
        description: The bar's label (default: the runnable's name).
        **kwargs: Passed on to each call.

    Example:
        >>> results = batch_with_progress(chain, [{"text": t} for t in texts],
        ...                               {"max_concurrency": 2})
    """
    items = list(inputs)
    bar = ProgressBar(len(items), _label(runnable, description))
    results: list[Any] = [None] * len(items)
    try:
        for index, output in runnable.batch_as_completed(
            items, config, return_exceptions=return_exceptions, **kwargs
        ):
            results[index] = output
            bar.advance(failed=isinstance(output, Exception))
    except BaseException as exc:
        bar.close(error=exc)
        raise
    bar.close()
    return results


async def abatch_with_progress(
    runnable: Runnable[Input, Output],
    inputs: Sequence[Input],
    config: RunnableConfig | list[RunnableConfig] | None = None,
    *,
    return_exceptions: bool = False,
    description: str | None = None,
    **kwargs: Any,
) -> list[Output]:
    """Async `batch_with_progress`, over ``abatch_as_completed``."""
    items = list(inputs)
    bar = ProgressBar(len(items), _label(runnable, description))
    results: list[Any] = [None] * len(items)
    try:
        async for index, output in runnable.abatch_as_completed(
            items, config, return_exceptions=return_exceptions, **kwargs
        ):
            results[index] = output
            bar.advance(failed=isinstance(output, Exception))
    except BaseException as exc:
        bar.close(error=exc)
        raise
    bar.close()
    return results
