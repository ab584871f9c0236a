"""Small helpers for chat model parameters: secret-safe reprs and summing token counts."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import SecretBytes, SecretStr

SECRET_NAME = re.compile(
    r"(^|_)(api_?key|key|secret|password|passwd|token|access_token|auth|authorization"
    r"|credentials?)$",
    re.IGNORECASE,
)
"""Attribute and dict-key names whose string values are secrets."""

_MASK = "**********"


def redacted(name: str, value: Any) -> str:
    """``repr(value)``, with secrets masked: pydantic secrets, secret-named strings and
    secret-named keys of dicts (e.g. an ``Authorization`` header)."""
    if isinstance(value, (SecretStr, SecretBytes)):
        return f"{type(value).__name__}('{_MASK}')"
    if isinstance(value, (str, bytes)) and SECRET_NAME.search(name):
        return repr(_MASK)
    if isinstance(value, Mapping):
        items = ", ".join(f"{k!r}: {redacted(str(k), v)}" for k, v in value.items())
        return "{" + items + "}"
    return repr(value)


def sum_counts(left: Mapping[str, Any], right: Mapping[str, Any]) -> dict[str, Any]:
    total = dict(left)
    for key, value in right.items():
        if value is None:
            continue
        if isinstance(value, Mapping):
            total[key] = sum_counts(total.get(key) or {}, value)
        elif key in total and isinstance(total[key], (int, float)):
            total[key] += value
        else:
            total[key] = value
    return total
