"""A tiny progress bar on stderr (no dependency), for `evaluate`.

Shown only on a terminal, unless forced with ``progress=True`` or ``CHAINKIT_PROGRESS=1``;
redrawn at most ten times a second; safe to update from several threads.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import TextIO

from typing_extensions import Self

__all__ = ["ProgressBar"]

_WIDTH = 24


class ProgressBar:
    """``desc [#########.........] 12/40 30% 1.2s``, redrawn in place.

    Args:
        total: Number of steps.
        desc: Text before the bar.
        enabled: True/False to force; None: on when ``stream`` is a terminal or
            ``$CHAINKIT_PROGRESS`` is true.
        stream: Where to draw (default stderr).

    Example:
        >>> with ProgressBar(3, desc="eval") as bar:
        ...     for _ in range(3):
        ...         bar.update()
    """

    def __init__(
        self,
        total: int,
        *,
        desc: str = "",
        enabled: bool | None = None,
        stream: TextIO | None = None,
    ) -> None:
        self.total = max(0, total)
        self.desc = desc
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            forced = os.environ.get("CHAINKIT_PROGRESS", "").strip().lower()
            enabled = forced in ("1", "true", "yes", "on") or _isatty(self.stream)
        self.enabled = enabled
        self.done = 0
        self._start = time.monotonic()
        self._last_draw = 0.0
        self._lock = threading.Lock()

    def update(self, n: int = 1) -> None:
        with self._lock:
            self.done = min(self.total, self.done + n)
            now = time.monotonic()
            if self.enabled and (now - self._last_draw >= 0.1 or self.done == self.total):
                self._last_draw = now
                self._draw(now)

    def _draw(self, now: float) -> None:
        frac = self.done / self.total if self.total else 1.0
        filled = int(frac * _WIDTH)
        bar = "#" * filled + "." * (_WIDTH - filled)
        prefix = f"{self.desc} " if self.desc else ""
        self.stream.write(
            f"\r{prefix}[{bar}] {self.done}/{self.total} {frac:4.0%} {now - self._start:.1f}s"
        )
        self.stream.flush()

    def close(self) -> None:
        """Finish the line (the bar stays visible above what follows)."""
        if self.enabled:
            with self._lock:
                self._draw(time.monotonic())
                self.stream.write("\n")
                self.stream.flush()
            self.enabled = False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real file
        return False
