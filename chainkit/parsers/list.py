"""`CommaSeparatedListOutputParser`: ``"red, green, blue"`` -> ``['red', 'green', 'blue']``.

The text is read as CSV, like LangChain's ``csv.reader(..., skipinitialspace=True)``: items
are separated by commas and by line breaks, spaces after a separator are skipped, and an item
in double quotes may hold commas (``"a, b"``) and doubled quotes (``""``). A push decoder
reads it, so a stream yields each item (as a one-item list) as soon as its separator arrives.
"""

from __future__ import annotations

import re
from typing import Any

from chainkit.parsers.base import BaseTransformOutputParser, StreamDecoder

__all__ = ["CommaSeparatedListOutputParser"]

# Decoder states, named after CPython's csv reader.
_START_RECORD = 0  # at the start of a line: a line break here is an empty line, no item
_START_FIELD = 1
_IN_FIELD = 2
_IN_QUOTED = 3
_QUOTE_IN_QUOTED = 4  # a quote inside a quoted item: its end, or the first of ""

_UNQUOTED_RUN = re.compile(r"[^,\r\n]*")


class CsvItemDecoder(StreamDecoder[list[str]]):
    """Push decoder: ``feed`` returns ``[[item], ...]`` for each item completed.

    Example:
        >>> d = CsvItemDecoder()
        >>> d.feed("red, gre"), d.feed("en, blue"), d.flush()
        ([['red']], [['green']], [['blue']])
    """

    __slots__ = ("_field", "_state")

    def __init__(self) -> None:
        self._state = _START_RECORD
        self._field: list[str] = []

    def feed(self, text: str) -> list[list[str]]:
        out: list[list[str]] = []
        i, n = 0, len(text)
        while i < n:
            state = self._state
            if state == _IN_QUOTED:
                j = text.find('"', i)
                if j == -1:
                    self._field.append(text[i:])
                    break
                self._field.append(text[i:j])
                self._state = _QUOTE_IN_QUOTED
                i = j + 1
                continue
            if state == _IN_FIELD:
                j = _UNQUOTED_RUN.match(text, i).end()  # type: ignore[union-attr]
                self._field.append(text[i:j])
                if j == n:
                    break
                i = j
            c = text[i]
            if state == _START_RECORD:
                if c not in "\r\n":
                    self._state = _START_FIELD
                    continue
            elif state == _START_FIELD and c == " ":
                pass  # skipinitialspace
            elif state == _START_FIELD and c == '"':
                self._state = _IN_QUOTED
            elif state == _QUOTE_IN_QUOTED and c == '"':
                self._field.append('"')
                self._state = _IN_QUOTED
            elif c == ",":
                out.append(self._take())
                self._state = _START_FIELD
            elif c in "\r\n":
                out.append(self._take())
                self._state = _START_RECORD
            else:  # ordinary text (after a closing quote, kept as is, like csv)
                self._state = _IN_FIELD
                continue
            i += 1
        return out

    def flush(self) -> list[list[str]]:
        if self._state == _START_RECORD:
            return []
        self._state = _START_RECORD
        return [self._take()]

    def _take(self) -> list[str]:
        item = "".join(self._field)
        self._field = []
        return [item]


class CommaSeparatedListOutputParser(BaseTransformOutputParser[list[str]]):
    """Parse a comma-separated answer into a list of strings; stream it item by item.

    Example:
        >>> parser = CommaSeparatedListOutputParser()
        >>> parser.invoke("red, green, blue")
        ['red', 'green', 'blue']
        >>> list(parser.transform(iter(["red, gr", "een, blue"])))
        [['red'], ['green'], ['blue']]
    """

    def parse(self, text: str) -> list[str]:
        """Split ``text`` into items (see the module docstring for the CSV rules)."""
        decoder = CsvItemDecoder()
        return [item for (item,) in (*decoder.feed(text), *decoder.flush())]

    def get_format_instructions(self) -> str:
        return (
            "Your response should be a list of comma separated values, "
            "eg: `foo, bar, baz` or `foo,bar,baz`"
        )

    def _decoder(self) -> StreamDecoder[list[str]]:
        return CsvItemDecoder()

    @property
    def _type(self) -> str:
        return "comma-separated-list"

    @property
    def OutputType(self) -> Any:
        return list[str]
