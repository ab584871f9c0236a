"""The canary API key, and the checks that it never leaks.

Every client in the reliability suite is built with `CANARY` as its API key. It must appear
nowhere a user or a log could see it: not in an error's message, repr, notes or formatted
traceback (causes included), not in a log line, not in a repr, not in a trace file, not in a
serialized chain. In the requests a server receives it appears exactly once: in the
authentication header.
"""

from __future__ import annotations

import traceback
import uuid
from collections.abc import Iterable
from typing import Any

__all__ = ["CANARY", "assert_key_only_in_auth", "assert_no_canary", "leaks"]

CANARY = f"sk-CANARY-{uuid.uuid4()}"
#: Pieces of the key that must not appear either (a truncated or split key is still a leak).
_FRAGMENTS = (CANARY, CANARY[len("sk-CANARY-"):], CANARY[-12:])


def leaks(text: str) -> bool:
    return any(fragment in text for fragment in _FRAGMENTS)


def _error_texts(error: BaseException) -> list[str]:
    texts: list[str] = []
    seen: set[int] = set()
    stack: list[BaseException | None] = [error]
    while stack:
        exc = stack.pop()
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        texts += [str(exc), repr(exc), *map(str, getattr(exc, "__notes__", ()))]
        texts += [repr(arg) for arg in exc.args]
        texts += [repr(v) for k, v in vars(exc).items() if not k.startswith("__")] if hasattr(
            exc, "__dict__") else []
        # The chain a traceback shows (and error trackers record): the cause, and the
        # context unless ``raise ... from`` suppressed it.
        stack.append(exc.__cause__)
        if not exc.__suppress_context__:
            stack.append(exc.__context__)
    texts.append("".join(traceback.format_exception(error)))
    return texts


def assert_no_canary(thing: Any) -> None:
    """Fail if the canary key (or a piece of it) is anywhere in ``thing``: a string, an
    exception (message, repr, args, attributes, notes, the chain a traceback shows, the
    formatted traceback), or a list of those."""
    if isinstance(thing, BaseException):
        texts = _error_texts(thing)
    elif isinstance(thing, (str, bytes)):
        texts = [thing.decode("utf-8", "replace") if isinstance(thing, bytes) else thing]
    elif isinstance(thing, Iterable):
        for item in thing:
            assert_no_canary(item)
        return
    else:
        texts = [str(thing), repr(thing)]
    for text in texts:
        assert not leaks(text), f"the API key leaked into: {text[:300]!r}"


def assert_key_only_in_auth(requests: Iterable[Any], provider: str) -> None:
    """In every captured request the key appears once, in the auth header, nowhere else."""
    header = "x-api-key" if provider == "anthropic" else "authorization"
    expected = CANARY if provider == "anthropic" else f"Bearer {CANARY}"
    for request in requests:
        raw = request.raw.decode("latin-1")
        assert raw.count(CANARY) == 1, f"key appears {raw.count(CANARY)} times in a request"
        assert request.headers.get(header) == expected, f"key missing from the {header} header"
        rest = raw.replace(f"{header}: {expected}", "", 1)
        assert not leaks(rest), "the key appears outside the auth header"
