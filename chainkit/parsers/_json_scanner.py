"""The state machine under `PartialJsonDecoder`: JSON read one piece at a time.

`JsonScanner` scans only the new text of each piece and keeps its state between pieces (the
stack of open arrays and objects, the key being read, an unfinished string, number or
literal), so scanning ``N`` characters costs ``O(N)`` in total however the text is split: only
the unfinished end of a string (an escape that may continue, at most 12 characters) is scanned
again with the next piece. A value is attached to its container as soon as it ends, and the
scanner marks each change of the value so far; `chainkit.parsers.partial_json` builds that
value from the state and decides when to show it.

The grammar is JSON's (``json.loads(..., strict=False)`` by default: raw control characters
are allowed inside strings), without ``NaN``/``Infinity``, and at most 200 levels deep.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from json import decoder as _json_decoder
from typing import Any, Final, Union

__all__ = ["MAX_DEPTH", "NOTHING", "Container", "JsonScanner"]

#: The deepest nesting of arrays and objects any chainkit JSON parser accepts.
MAX_DEPTH: Final = 200


class _Nothing:
    """The value of a prefix that holds no value yet (``''``, ``'tr'``, prose before ``{``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NOTHING"


NOTHING: Final = _Nothing()

# Scanner states.
_PROSE = 0  # before the first { or [ (find_start mode)
_VALUE = 1  # a value is expected
_FIRST_ITEM = 2  # just after [: a value or ]
_FIRST_KEY = 3  # just after {: a key or }
_KEY = 4  # after , in an object: a key
_COLON = 5
_AFTER = 6  # after a value in a container: , or the closer
_STRING = 7
_NUMBER = 8
_LITERAL = 9
_DONE = 10
_FAILED = 11

_WS = re.compile(r"[ \t\n\r]*")
_PROSE_RUN = re.compile(r"[^{\[]*")
# String body up to the closing quote; stops early only at the end of the text (possibly
# before a lone trailing backslash) or, in strict mode, at a raw control character.
_STR_RUN = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*', re.S)
_STR_RUN_STRICT = re.compile(r'[^"\\\x00-\x1f]*(?:\\.[^"\\\x00-\x1f]*)*', re.S)
_HIGH_SURROGATE = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}")
_NUM_RUN = re.compile(r"[-+0-9.eE]*")
_NUM_FULL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_LITERALS: dict[str, tuple[str, Any]] = {
    "t": ("true", True), "f": ("false", False), "n": ("null", None)
}
# The C string decoder behind json.loads (absent from typeshed): (text, end, strict) -> (str, end).
_scanstring: Callable[[str, int, bool], tuple[str, int]] = _json_decoder.scanstring  # type: ignore[attr-defined]

Container = Union[dict[str, Any], list[Any]]


def _same_scalar(a: Any, b: Any) -> bool:
    """Equal and of the same type: ``1`` then ``1.0`` is a change."""
    return type(a) is type(b) and a == b


def _number(text: str) -> int | float:
    """A JSON number token as ``json.loads`` reads it."""
    if "." in text or "e" in text or "E" in text:
        return float(text)
    return int(text)


def _starts_escape(raw: str, k: int) -> bool:
    """Whether the backslash at ``raw[k]`` starts an escape (``raw`` starts between escapes)."""
    j = k
    while j > 0 and raw[j - 1] == "\\":
        j -= 1
    return (k - j) % 2 == 0


def _hold_point(raw: str) -> int:
    """Where the decodable part of an unfinished string body ends.

    The rest, at most 12 characters, waits for more text: an unfinished escape (``\\``,
    ``\\u00``), or a high surrogate escape that a low one may follow (``\\ud83d``).
    """
    n = len(raw)
    k = raw.rfind("\\", max(0, n - 12))
    if k == -1 or not _starts_escape(raw, k):
        return n
    unfinished = k + 1 == n or (raw[k + 1] == "u" and n - k < 6)
    if not unfinished and not (k + 6 == n and _HIGH_SURROGATE.fullmatch(raw, k, n)):
        return n
    pair = k >= 6 and _HIGH_SURROGATE.fullmatch(raw, k - 6, k) and _starts_escape(raw, k - 6)
    return k - 6 if pair else k  # keep a surrogate pair together


class JsonScanner:
    """The scanning state of a JSON document arriving in pieces.

    `PartialJsonDecoder` builds on it. The scanner reads each piece (``_scan``) into its state
    (finished values in their containers, the unfinished scalar: ``_pending``) and marks what
    changes the value so far (``_dirty``); the decoder builds that value and shows it.

    Args:
        find_start: Skip text before the first ``{`` or ``[`` and ignore text after the
            document ends. Otherwise the text must be one JSON value.
        strict: Refuse raw control characters inside strings, like ``json.loads``.
    """

    __slots__ = (
        "_dirty", "_find_start", "_is_key", "_keys", "_lit", "_lit_value", "_lit_word", "_num",
        "_offset", "_result", "_shown_num", "_stack", "_state", "_str_parts", "_str_run",
        "_strict", "_tail", "append_only", "error", "error_pos", "replaced", "scanned",
    )

    def __init__(self, *, find_start: bool = False, strict: bool = False) -> None:
        self._find_start = find_start
        self._strict = strict
        self._str_run = _STR_RUN_STRICT if strict else _STR_RUN
        self._state = _PROSE if find_start else _VALUE
        self._stack: list[Container] = []
        # Per open container: the key whose value is being read (objects only; meaningful
        # only while that value is being read).
        self._keys: list[str] = []
        self._tail = ""  # the unfinished end of a string, held back until more text arrives
        self._str_parts: list[str] = []
        self._is_key = False
        self._num = ""
        self._lit = ""
        self._lit_word = ""
        self._lit_value: Any = None
        self._result: Any = NOTHING
        # The unfinished number's value in the last snapshot (NOTHING: not in it).
        self._shown_num: Any = NOTHING
        # The value has changed since the last snapshot (numbers aside: see _number_changed).
        self._dirty = False
        self._offset = 0
        #: Each value so far extends the previous one: containers only gained items and only
        #: their last item changed. A repeated object key (the last one wins) ends this.
        self.append_only = True
        #: ``(object, key, value)`` for each value the last scanned piece replaced in an
        #: object with a later value of the same key (oldest first).
        self.replaced: list[tuple[dict[str, Any], str, Any]] = []
        #: Characters scanned so far, counting re-scanned held-back text: ``O(N)`` for ``N`` fed.
        self.scanned = 0
        #: Why the text is not a JSON prefix, and where (an offset into all text fed).
        self.error: str | None = None
        self.error_pos = 0

    # ---- public ------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        """The document is complete."""
        return self._state == _DONE

    @property
    def failed(self) -> bool:
        """The text cannot be the start of a JSON document (see `error`)."""
        return self._state == _FAILED

    # ---- scanning ----------------------------------------------------------------------
    def _scan(self, text: str) -> None:
        state = self._state
        if state == _FAILED or (state == _DONE and self._find_start):
            self._offset += len(text)
            return
        if self.replaced:
            self.replaced = []
        s = self._tail + text if self._tail else text
        base = self._offset - len(self._tail)
        self._tail = ""
        self._offset += len(text)
        self.scanned += len(s)
        i, n = 0, len(s)
        while i < n:
            state = self._state
            if state >= _DONE and (state == _FAILED or self._find_start):
                return
            if state == _STRING:
                i = self._scan_string(s, i, base)
                continue
            if state == _NUMBER:
                j = _NUM_RUN.match(s, i).end()  # type: ignore[union-attr]
                if j > i:
                    self._num += s[i:j]
                if j == n:
                    return
                self._end_number(s, j, base)
                i = j
                continue
            if state == _LITERAL:
                i = self._scan_literal(s, i, base)
                continue
            if state == _PROSE:
                j = _PROSE_RUN.match(s, i).end()  # type: ignore[union-attr]
                if j == n:
                    return
                self._open(s[j], base + j)
                i = j + 1
                continue
            c = s[i]
            if c in " \t\n\r":
                i = _WS.match(s, i).end()  # type: ignore[union-attr]
                continue
            if state == _AFTER:
                self._after(c, base + i)
            elif state in (_VALUE, _FIRST_ITEM):
                if not self._start_value(c, state, s, i, base):
                    continue  # numbers and literals are scanned from their first character
            elif state in (_FIRST_KEY, _KEY):
                if c == '"':
                    self._start_string(is_key=True)
                elif c == "}" and state == _FIRST_KEY:
                    self._close()
                else:
                    hint = " or '}'" if state == _FIRST_KEY else " (no trailing comma)"
                    self._fail(base + i, f"expected a key in double quotes{hint}")
            elif state == _COLON:
                if c == ":":
                    self._state = _VALUE
                else:
                    self._fail(base + i, "expected ':' after the key")
            elif state == _DONE:
                self._fail(base + i, "unexpected text after the JSON value")
            i += 1

    def _start_value(self, c: str, state: int, s: str, i: int, base: int) -> bool:
        """Act on the first character of a value; False when it is left for its own scanner."""
        if c == '"':
            self._start_string(is_key=False)
        elif c == "{" or c == "[":
            self._open(c, base + i)
        elif c == "-" or "0" <= c <= "9":
            self._state = _NUMBER
            self._num = ""
            return False
        elif c in _LITERALS:
            self._lit_word, self._lit_value = _LITERALS[c]
            self._lit = ""
            self._state = _LITERAL
            return False
        elif c == "]" and state == _FIRST_ITEM:
            self._close()
        elif c == "N" or c == "I":
            self._fail(base + i, "NaN and Infinity are not valid JSON (use null or a number)")
        else:
            self._fail(base + i, f"expected a JSON value, got {s[i:i + 10]!r}")
        return True

    def _after(self, c: str, pos: int) -> None:
        is_list = type(self._stack[-1]) is list
        if c == ",":
            self._state = _VALUE if is_list else _KEY
        elif c == ("]" if is_list else "}"):
            self._close()
        else:
            self._fail(pos, f"expected ',' or {']' if is_list else '}'!r} after a value")

    def _open(self, c: str, pos: int) -> None:
        if len(self._stack) >= MAX_DEPTH:
            self._fail(pos, f"nesting deeper than {MAX_DEPTH} levels")
            return
        container: Container = {} if c == "{" else []
        self._stack.append(container)
        self._keys.append("")
        self._state = _FIRST_KEY if c == "{" else _FIRST_ITEM
        self._dirty = True

    def _close(self) -> None:
        self._keys.pop()
        self._complete(self._stack.pop())

    def _complete(self, value: Any) -> None:
        """A value has ended: attach it to its container, or finish the document.

        The value so far already showed the value as far as it was read: the caller marks
        what is new (`_dirty`).
        """
        if not self._stack:
            self._result = value
            self._state = _DONE
        else:
            top = self._stack[-1]
            if isinstance(top, list):
                top.append(value)
            else:
                key = self._keys[-1]
                if not self.append_only and key in top:
                    self.replaced.append((top, key, top[key]))
                top[key] = value
            self._state = _AFTER

    def _fail(self, pos: int, reason: str) -> None:
        self._state = _FAILED
        self.error = reason
        self.error_pos = pos

    # ---- strings -------------------------------------------------------------------------
    def _start_string(self, *, is_key: bool) -> None:
        self._state = _STRING
        self._is_key = is_key
        self._str_parts = []
        if not is_key:
            self._dirty = True  # an empty string appears

    def _scan_string(self, s: str, i: int, base: int) -> int:
        n = len(s)
        j = self._str_run.match(s, i).end()  # type: ignore[union-attr]
        if j < n and s[j] == '"':
            if self._decode(s[i:j], base + i):
                self._end_string()
            return j + 1
        if j < n and s[j] != "\\":
            self._fail(base + j, "raw control character inside a string")
            return n
        raw = s[i:]
        hold = _hold_point(raw)
        if self._decode(raw[:hold], base + i):
            self._tail = raw[hold:]
        return n

    def _decode(self, raw: str, pos: int) -> bool:
        """Decode a string body piece that ends between escapes; False if it is invalid."""
        if not raw:
            return True
        try:
            text = _scanstring(raw + '"', 0, self._strict)[0]
        except ValueError as exc:  # json.JSONDecodeError: a bad escape
            self._fail(pos + getattr(exc, "pos", 0), f"invalid string escape: {exc.args[0]}")
            return False
        self._str_parts.append(text)
        if not self._is_key:
            self._dirty = True
        return True

    def _end_string(self) -> None:
        text = "".join(self._str_parts)
        self._str_parts = []
        if self._is_key:
            self._keys[-1] = text
            self._state = _COLON
            if self.append_only and text in self._stack[-1]:
                self.append_only = False  # its value replaces an earlier one
        else:
            self._complete(text)

    # ---- numbers and literals ----------------------------------------------------------
    def _end_number(self, s: str, j: int, base: int) -> None:
        num = self._num
        if not _NUM_FULL.fullmatch(num):
            if num == "-" and s.startswith("I", j):
                reason = "-Infinity is not valid JSON (use null or a number)"
            else:
                reason = f"invalid number {num[:20]!r}"
            self._fail(base + j - len(num), reason)
            return
        try:
            value = _number(num)
        except ValueError as exc:  # an integer too long for int()
            self._fail(base + j - len(num), str(exc))
            return
        if not _same_scalar(value, self._shown_num):
            self._dirty = True
        self._shown_num = NOTHING
        self._complete(value)

    def _scan_literal(self, s: str, i: int, base: int) -> int:
        word, have = self._lit_word, len(self._lit)
        piece = s[i : i + len(word) - have]
        if not word.startswith(piece, have):
            self._fail(base + i - have, f"invalid literal; expected {word!r}")
            return len(s)
        self._lit += piece
        if len(self._lit) == len(word):
            self._dirty = True
            self._complete(self._lit_value)
        return i + len(piece)

    def _pending(self) -> Any:
        """The unfinished scalar being read, as far as it goes, or `NOTHING`."""
        state = self._state
        if state == _STRING and not self._is_key:
            parts = self._str_parts
            if len(parts) > 1:
                parts[:] = ["".join(parts)]
            return parts[0] if parts else ""
        if state == _NUMBER:
            m = _NUM_FULL.match(self._num)
            if m is None:
                return NOTHING
            try:
                return _number(m.group())
            except ValueError:
                return NOTHING
        return NOTHING

    def _number_changed(self) -> bool:
        """The unfinished number shows another value than in the last snapshot."""
        return not _same_scalar(self._pending(), self._shown_num)
