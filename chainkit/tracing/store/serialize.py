"""Turning run inputs, outputs and parameters into JSON text for the store.

Messages, ``LLMResult`` and any pydantic model become ``model_dump(mode="json")``; dataclasses,
mappings and sequences are walked; UUIDs, datetimes, paths and enums become strings; anything
else becomes its ``repr`` (shortened). On the way, secrets are masked (see `redact`), strings
longer than the size limit are cut with a marker, and a document still over the limit is
replaced by a truncated preview, so the stored JSON always parses.

Runs on the store's writer thread, never in the chain's call.

Example:
    >>> dumps({"q": "hi", "api_key": "abc"}, loose=True)
    '{"q":"hi","api_key":"**********"}'
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import math
import uuid
from collections.abc import Mapping, Sequence
from pathlib import PurePath
from typing import Any, cast

from pydantic import BaseModel, SecretBytes, SecretStr

from chainkit.tracing.store.redact import (
    MASK,
    is_secret_key,
    might_hold_secrets,
    redact_json,
    scrub,
)

__all__ = ["DEFAULT_MAX_CHARS", "TRUNCATED", "dumps", "dumps_all", "to_jsonable"]

DEFAULT_MAX_CHARS = 64 * 1024
"""Default size limit (characters of JSON) for one stored value."""

TRUNCATED = "chainkit_truncated"
"""Key of the object that replaces a document over the size limit: ``{TRUNCATED: <original
size>, "preview": <the first characters of its JSON>}``."""

_MAX_DEPTH = 24
_MAX_REPR = 2000
_MAX_ITEMS = 10_000


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [truncated: {len(text)} chars]"


def to_jsonable(value: Any, *, max_chars: int = DEFAULT_MAX_CHARS, loose: bool = False) -> Any:
    """A JSON-ready copy of ``value`` with secrets masked and long strings cut.

    Args:
        value: Anything.
        max_chars: Strings longer than this are cut, with a ``[truncated: N chars]`` marker.
        loose: Mask values under bare ``key``/``token``/``auth`` names too (use for parameters
            and metadata, whose keys are code-defined; not for user inputs).
    """
    return _walk(value, max_chars, loose, 0)


def _walk(value: Any, limit: int, loose: bool, depth: int) -> Any:
    if value is None or value is True or value is False or type(value) is int:
        return value
    if isinstance(value, str):
        return _cut(scrub(value), limit)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if depth >= _MAX_DEPTH:
        return _cut(scrub(repr(value)), _MAX_REPR)
    if isinstance(value, Mapping):
        return _walk_mapping(value, limit, loose, depth)
    if isinstance(value, (list, tuple, set, frozenset)):
        seq = value if isinstance(value, (list, tuple)) else list(value)
        out = [_walk(v, limit, loose, depth + 1) for v in seq[:_MAX_ITEMS]]
        if len(value) > _MAX_ITEMS:
            out.append(f"… [truncated: {len(value)} items]")
        return out
    if isinstance(value, (SecretStr, SecretBytes)):
        return MASK
    if isinstance(value, BaseModel):
        try:
            dumped = value.model_dump(mode="json")
        except Exception:  # a model with a field pydantic cannot dump: its repr will do
            return _cut(scrub(repr(value)), _MAX_REPR)
        # Field names are code-defined: mask secret-sounding ones loosely.
        return _walk(dumped, limit, True, depth + 1)
    return _walk_other(value, limit, loose, depth)


def _walk_mapping(value: Mapping[Any, Any], limit: int, loose: bool, depth: int) -> Any:
    out: dict[str, Any] = {}
    for i, (k, v) in enumerate(value.items()):
        if i >= _MAX_ITEMS:
            out[TRUNCATED] = len(value)
            break
        key = k if isinstance(k, str) else str(k)
        if is_secret_key(key, loose=loose) and isinstance(v, (str, bytes, SecretStr, SecretBytes)):
            out[scrub(key)] = MASK
        else:
            out[scrub(key)] = _walk(v, limit, loose, depth + 1)
    return out


def _walk_other(value: Any, limit: int, loose: bool, depth: int) -> Any:
    if isinstance(value, int):  # bool and int subclasses (IntEnum falls to the enum rule)
        return value.value if isinstance(value, enum.Enum) else int(value)
    if isinstance(value, enum.Enum):
        return _walk(value.value, limit, loose, depth + 1)
    if isinstance(value, (uuid.UUID, PurePath)):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(value)} bytes>"
    if isinstance(value, BaseException):
        return {"type": type(value).__name__, "message": _cut(scrub(str(value)), limit)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name, None) for f in dataclasses.fields(value)}
        return _walk(fields, limit, True, depth + 1)
    try:
        text = repr(value)
    except Exception:
        text = f"<unrepresentable {type(value).__name__}>"
    return _cut(scrub(text), _MAX_REPR)


def dumps(
    value: Any, *, max_chars: int = DEFAULT_MAX_CHARS, loose: bool = False
) -> str | None:
    """``value`` as compact JSON text (None stays None), secrets masked, at most about
    ``max_chars`` characters.

    The common case (plain data, messages, pydantic models, a document under the limit) is
    one C-level JSON encoding plus a substring pre-check for secrets. Otherwise (a document
    too large, NaN, cycles, odd keys) the value is walked with `to_jsonable`: first with its
    long strings cut (at the limit, then a quarter, then a thirty-second of it), keeping its
    structure; if still too large it becomes ``{TRUNCATED: size, "preview": <its first
    max_chars characters>}``.
    """
    return dumps_all([(value, loose)], max_chars=max_chars)[0]


def dumps_all(
    items: Sequence[tuple[Any, bool]], *, max_chars: int = DEFAULT_MAX_CHARS
) -> list[str | None]:
    """`dumps` of several ``(value, loose)`` pairs, with one secret pre-check for them all
    (a run's inputs, outputs and parameters are written together)."""
    out: list[str | None] = []
    fast: list[int] = []
    for value, loose in items:
        if value is None:
            out.append(None)
            continue
        try:
            text: str | None = _encode_fast(value)
        except (TypeError, ValueError, RecursionError):
            text = None
        if text is None or len(text) > max_chars:
            out.append(_dumps_slow(value, max_chars, loose))
        else:
            fast.append(len(out))
            out.append(text)
    if fast:
        loose_any = False
        for i in fast:
            loose_any = loose_any or items[i][1]
        if might_hold_secrets("\n".join([out[i] or "" for i in fast]), loose=loose_any):
            for i in fast:
                out[i] = redact_json(out[i] or "", loose=items[i][1])
    return out


def _encode_fast(value: Any) -> str:
    cls = type(value)
    if cls is dict and not value:
        return "{}"
    if _is_trusted(cls):
        # Messages, prompt values, generations: pydantic-core writes the JSON in one C call,
        # with no Python dict in between (several times faster than model_dump + encode).
        return cast(str, value.__pydantic_serializer__.to_json(value).decode())
    if cls is list and value and all(_is_trusted(type(v)) for v in value):
        return f"[{','.join([v.__pydantic_serializer__.to_json(v).decode() for v in value])}]"
    return _ENCODER.encode(value)


def _dumps_slow(value: Any, max_chars: int, loose: bool) -> str:
    text = _encode(to_jsonable(value, max_chars=max_chars, loose=loose))
    for limit in (max_chars // 4, max_chars // 32):
        if len(text) <= max_chars:
            return text
        text = _encode(to_jsonable(value, max_chars=max(limit, 16), loose=loose))
    if len(text) > max_chars:
        text = _encode({TRUNCATED: len(text), "preview": text[:max_chars]})
    return text


def _encode(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# Our own value types: their fields hold no secrets by name (provider payloads inside them
# still get the key-shape scrub), so their dumps are not walked again.
_TRUSTED_MODULES = ("chainkit.messages", "chainkit.prompts", "chainkit.models.outputs")


_trusted: dict[type, bool] = {}


def _is_trusted(cls: type) -> bool:
    trusted = _trusted.get(cls)
    if trusted is None:
        trusted = _trusted[cls] = (
            issubclass(cls, BaseModel) and cls.__module__.startswith(_TRUSTED_MODULES)
        )
    return trusted


def _default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        try:
            dumped = value.model_dump(mode="json")
        except Exception:
            return repr(value)
        if _is_trusted(type(value)):
            return dumped
        return _walk(dumped, DEFAULT_MAX_CHARS * 16, True, 1)  # mask secret field names
    if isinstance(value, (SecretStr, SecretBytes)):
        return MASK
    if isinstance(value, (set, frozenset)):
        return list(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _walk(value, DEFAULT_MAX_CHARS * 16, True, 1)
    return _walk_other(value, DEFAULT_MAX_CHARS * 16, False, 1)


# Built once: ``json.dumps`` with arguments builds an encoder per call.
_ENCODER = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_default
)
