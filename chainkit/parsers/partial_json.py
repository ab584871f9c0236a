"""Incremental parsing of JSON that is still arriving, one piece at a time.

`PartialJsonDecoder` is a push decoder: ``feed(text)`` scans only the new text, keeping its
state between pieces (the stack of open arrays and objects, the key being read, an unfinished
string, number or literal), so streaming ``N`` characters costs ``O(N)`` scanning in total
however the text is split. ``value()`` completes the prefix the way LangChain's
``parse_partial_json`` does:

- open strings, arrays and objects are closed: ``{"a": "hel`` -> ``{'a': 'hel'}``,
  ``{"a": [1, 2`` -> ``{'a': [1, 2]}``;
- a trailing key without a value, a dangling ``,`` or ``:``, an unfinished literal (``tr``)
  or an unfinished escape are dropped: ``{"a`` -> ``{}``, ``[1, tr`` -> ``[1]``;
- an unfinished number shows its longest valid prefix: ``[1.5e`` -> ``[1.5]``.

A snapshot (what ``feed`` returns) copies only the open containers, the path being written:
the finished values inside them are the same objects in successive snapshots, so treat
snapshots as read-only. Copying a large open array for every change would make streaming
``O(N)`` per change, so once the open containers hold more items than the text fed since the
last snapshot pays for (`COPY_PER_CHAR` items per character), changes wait for more text:
small documents show every change, large ones a change every few pieces, ``O(N)`` in total.

The state machine that reads the text is `chainkit.parsers._json_scanner`; this module builds
the value so far from its state and spaces out the snapshots. The grammar is JSON's
(``json.loads(..., strict=False)`` by default: raw control characters are allowed inside
strings), without ``NaN``/``Infinity``, and at most 200 levels deep.
"""

from __future__ import annotations

from typing import Any, Final

# The decoder reads the scanner's state; `Container` stays importable from here.
from chainkit.parsers._json_scanner import _DONE, _FAILED, _NUMBER, MAX_DEPTH, NOTHING, JsonScanner
from chainkit.parsers._json_scanner import Container as Container
from chainkit.parsers.exceptions import OutputParserException, position, preview

__all__ = ["MAX_DEPTH", "NOTHING", "PartialJsonDecoder", "parse_partial_json"]

#: Items of open containers one character of input pays for copying into snapshots. Unspent
#: credit carries over, so copies cost at most ``COPY_PER_CHAR * N`` for ``N`` characters: a
#: change whose snapshot would copy more than the credit saved waits for more text. With
#: 4-character pieces, open containers of up to 256 items show every change.
COPY_PER_CHAR: Final = 64


def _open_size(stack: list[Container]) -> int:
    """Items in the open containers: what a snapshot copies."""
    return sum(map(len, stack))


def _same(a: Any, b: Any) -> bool:
    """Equal JSON values, telling ``1`` from ``1.0`` and ``True`` from ``1``."""
    return bool(a == b) and _same_types(a, b)  # == skips shared values at C speed


def _same_types(a: Any, b: Any) -> bool:
    """Equal values (``a == b``) whose numbers and booleans also have the same types."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return all(map(_same_types, a, b))
    if isinstance(a, dict):
        return all(_same_types(value, b[key]) for key, value in a.items())
    return True


class PartialJsonDecoder(JsonScanner):
    """Push decoder for a JSON document arriving in pieces; yields the value so far.

    Args:
        find_start: Skip text before the first ``{`` or ``[`` (prose, a Markdown fence) and
            ignore text after the document ends. Otherwise the text must be one JSON value.
        previews: ``feed`` returns the completed prefix whenever it changes (spaced out for
            large documents: see `COPY_PER_CHAR`). Without, ``feed`` returns nothing and only
            tracks the state (`done`, `failed`).
        strict: Refuse raw control characters inside strings, like ``json.loads``.

    Example:
        >>> d = PartialJsonDecoder()
        >>> d.feed('{"a": "hel')
        [{'a': 'hel'}]
        >>> d.feed('lo", "b": [1, 2')
        [{'a': 'hello', 'b': [1, 2]}]
        >>> d.feed("]}"), d.done
        ([], True)
    """

    __slots__ = ("_credit", "_last", "_previews")

    def __init__(
        self, *, find_start: bool = False, previews: bool = True, strict: bool = False
    ) -> None:
        super().__init__(find_start=find_start, strict=strict)
        self._previews = previews
        self._last: Any = NOTHING
        # Copying credit left, in items (see COPY_PER_CHAR).
        self._credit = 0

    # ---- the value so far ----------------------------------------------------------------
    def feed(self, text: str) -> list[Any]:
        """Scan the next piece; return ``[value so far]`` if it changed (with previews on).

        See `COPY_PER_CHAR` for when a change in a large document waits for more text. A
        piece in which the text stops being JSON returns nothing.
        """
        self._scan(text)
        if not self._previews or self._state == _FAILED:
            return []
        self._credit += COPY_PER_CHAR * len(text)
        if not self._dirty and not (self._state == _NUMBER and self._number_changed()):
            return []
        if self._state == _DONE:
            return self._snapshot()
        size = _open_size(self._stack)
        if size > self._credit:
            return []
        self._credit -= size
        return self._snapshot()

    def flush(self) -> list[Any]:
        """The value so far if its last change is still held back (see `feed`), else nothing."""
        if not self._previews or self._state == _FAILED:
            return []
        if not self._dirty and not (self._state == _NUMBER and self._number_changed()):
            return []
        return self._snapshot()

    def value(self) -> Any:
        """The document so far with open strings, arrays and objects closed, or `NOTHING`.

        A fresh copy of the open containers; the finished values in them are shared.
        """
        if self._state == _DONE:
            return self._result
        return self.open_value(0)

    def open_value(self, depth: int) -> Any:
        """The value so far of the open container ``depth`` levels down (0: the document)."""
        child = self._pending()
        keys = self._keys
        stack = self._stack
        for level in range(len(stack) - 1, depth - 1, -1):
            container = stack[level]
            if child is NOTHING:
                child = container.copy()
            elif isinstance(container, list):
                child = [*container, child]  # one exact-size allocation
            else:
                child = {**container, keys[level]: child}
        return child

    def frontier(self) -> tuple[list[Container], list[str], Any]:
        """The state behind `value`, for following a document's growth without copying it.

        Returns:
            The open containers, outermost first, holding their finished items; per open
            object the key of the item being written (the item after the finished ones); and
            the unfinished scalar being written in the innermost container, or `NOTHING`.
            The lists are the decoder's own: read them, never change them, and expect them
            to change on the next `feed`.
        """
        return self._stack, self._keys, self._pending()

    def _snapshot(self) -> list[Any]:
        self._dirty = False
        if self._state == _NUMBER:
            self._shown_num = self._pending()
        value = self.value()
        if value is NOTHING or (not self.append_only and _same(value, self._last)):
            return []
        self._last = value
        return [value]


def parse_partial_json(s: str, *, strict: bool = False) -> Any:
    """Parse a complete or truncated JSON document, closing what is still open.

    Args:
        s: JSON text, possibly cut off anywhere.
        strict: Refuse raw control characters inside strings.

    Raises:
        OutputParserException: ``s`` is not the start of a JSON document (or holds no value
            yet, like ``''`` or ``'tr'``).

    Example:
        >>> parse_partial_json('{"name": "Ada", "langs": ["en", "fr')
        {'name': 'Ada', 'langs': ['en', 'fr']}
        >>> parse_partial_json('[1, 2, {"a": tr')
        [1, 2, {}]
    """
    decoder = PartialJsonDecoder(previews=False, strict=strict)
    decoder.feed(s)
    if decoder.failed:
        pos = decoder.error_pos
        raise OutputParserException(
            f"Invalid JSON output: {decoder.error}; got {preview(s, pos)} "
            f"(error at {position(s, pos)})",
            observation=decoder.error,
            llm_output=s,
        )
    value = decoder.value()
    if value is NOTHING:
        raise OutputParserException(
            f"Invalid JSON output: expected a JSON value; got {preview(s)}",
            observation="expected a JSON value",
            llm_output=s,
        )
    return value
