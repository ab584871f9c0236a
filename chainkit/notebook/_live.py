"""One output area rewritten in place: a display handle in a notebook, nothing elsewhere.

`LiveArea` is shared by `stream_display` and the progress bar. In a notebook (an IPython
kernel) it shows an HTML/text bundle and updates it in place, at most every ``interval``
seconds, so a fast token stream does not flood the front end. Outside a kernel it is inert
and the callers print plain text instead.
"""

from __future__ import annotations

import sys
import time
from importlib import import_module
from typing import Any

__all__ = ["LiveArea", "in_notebook"]


def in_notebook() -> bool:
    """True inside an IPython kernel (Jupyter, VS Code, nbclient), where display handles work.

    IPython is looked up in ``sys.modules`` rather than imported: code running in a kernel has
    it loaded already, and a plain script should not pay for importing it.
    """
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    shell = get_ipython() if get_ipython is not None else None
    return getattr(shell, "kernel", None) is not None


class LiveArea:
    """A notebook output area that shows the latest ``(html, text)`` pair, throttled.

    Example:
        >>> area = LiveArea()
        >>> area.show("<b>1/2</b>", "1/2")
        >>> area.show("<b>2/2</b>", "2/2", final=True)
    """

    __slots__ = ("_handle", "_interval", "_last", "_pending", "active")

    def __init__(self, *, interval: float = 0.05) -> None:
        self.active = in_notebook()
        self._interval = interval
        self._handle: Any = None
        self._last = 0.0
        self._pending: dict[str, str] | None = None

    def show(self, html: str, text: str, *, final: bool = False) -> None:
        """Show this content now, or soon: updates closer than ``interval`` are coalesced,
        except the ``final`` one, which is always shown."""
        if not self.active:
            return
        bundle = {"text/html": html, "text/plain": text}
        now = time.monotonic()
        if not final and self._handle is not None and now - self._last < self._interval:
            self._pending = bundle
            return
        self._pending = None
        self._last = now
        if self._handle is None:
            # Loaded already (we run in a kernel); looked up untyped, IPython ships no stubs.
            display: Any = import_module("IPython.display").display
            self._handle = display(bundle, raw=True, display_id=True)
        else:
            self._handle.update(bundle, raw=True)

    def flush(self) -> None:
        """Show the last coalesced update, if one is waiting."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self.show(pending["text/html"], pending["text/plain"], final=True)
