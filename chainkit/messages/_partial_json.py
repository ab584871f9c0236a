"""Parse the JSON prefix a model has streamed so far, e.g. tool call arguments mid-stream.

``'{"city": "Par'`` parses as ``{'city': 'Par'}``: open strings, objects and arrays are closed,
and a dangling fragment that still does not parse (``'{"a": tr'``, ``'{"a": 1,'``) is cut back
until the text parses. Text that is not a JSON prefix raises ``ValueError``.
"""

from __future__ import annotations

import json
from typing import Any

_CLOSERS = {"{": "}", "[": "]"}


def parse_partial_json(text: str) -> Any:
    """Parse complete or truncated JSON text.

    Raises:
        ValueError: ``text`` is not a prefix of a JSON document.

    Example:
        >>> parse_partial_json('{"city": "Par')
        {'city': 'Par'}
        >>> parse_partial_json('[1, 2, {"a": tr')
        [1, 2, {}]
    """
    try:
        return json.loads(text, strict=False)
    except json.JSONDecodeError as error:
        first_error = error
    except RecursionError:  # model output nested thousands deep must not crash a stream
        raise ValueError("not a JSON prefix: nested too deeply to parse") from None
    repaired = _close_open_tokens(text)
    if repaired is None:
        raise ValueError(f"not a JSON prefix: {first_error}") from first_error
    body, closers = repaired
    # Cut back one character at a time: a half-written literal or a trailing comma is dropped.
    for end in range(len(body), 0, -1):
        try:
            return json.loads(body[:end] + closers, strict=False)
        except json.JSONDecodeError:
            continue
        except RecursionError:
            raise ValueError("not a JSON prefix: nested too deeply to parse") from None
    raise ValueError(f"not a JSON prefix: {first_error}") from first_error


def _close_open_tokens(text: str) -> tuple[str, str] | None:
    """Return ``text`` with any open string closed, and the brackets that close it.

    ``None`` when a closing bracket does not match, so no suffix can make ``text`` valid.
    """
    stack: list[str] = []
    in_string = False
    escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in _CLOSERS:
            stack.append(_CLOSERS[char])
        elif char in "}]" and (not stack or stack.pop() != char):
            return None
    body = text
    if in_string:
        if escaped:  # a lone backslash cannot end a string
            body = body[:-1]
        body += '"'
    return body, "".join(reversed(stack))


__all__ = [
    "parse_partial_json",
]
