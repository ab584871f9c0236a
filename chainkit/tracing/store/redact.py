"""Keeping secrets out of the trace store.

Two nets, both applied while a run is serialised (see `serialize`):

- by value: any string matching a known API-key shape (``sk-...``, ``Bearer ...``, AWS, GitHub,
  Google, Hugging Face, Slack keys) has the key replaced by a mask, wherever the string appears
  (inputs, outputs, parameters, error messages, reprs);
- by name: a value stored under a secret-sounding key (``api_key``, ``Authorization``,
  ``x-api-key``, ``password``, ...) is masked whole. In invocation parameters and metadata,
  where keys are code-defined, bare ``key``/``token``/``auth`` count too; in user inputs and
  outputs they do not, so a chain input ``{"key": ...}`` is kept.

pydantic ``SecretStr``/``SecretBytes`` values are always masked.

Example:
    >>> scrub("use sk-abcdefghijklmnop please")
    'use sk-********** please'
"""

from __future__ import annotations

import re

__all__ = [
    "MASK",
    "is_secret_key",
    "mask_secret_fields",
    "might_hold_secrets",
    "redact_json",
    "scrub",
]

MASK = "**********"

_KEY_SHAPES = re.compile(
    r"(?P<keep>sk-(?:ant-|proj-)?)[A-Za-z0-9_\-]{8,}"  # OpenAI, Anthropic and compatibles
    r"|(?P<keepb>[Bb]earer\s+)[A-Za-z0-9._~+/=\-]{8,}"  # an Authorization header's value
    r"|\bAKIA[0-9A-Z]{16}\b"  # AWS access key id
    r"|\bgh[pousr]_[A-Za-z0-9]{20,}"  # GitHub tokens
    r"|\bgithub_pat_[A-Za-z0-9_]{20,}"
    r"|\bAIza[0-9A-Za-z_\-]{30,}"  # Google API keys
    r"|\bhf_[A-Za-z0-9]{20,}"  # Hugging Face tokens
    r"|\bxox[abprs]-[A-Za-z0-9\-]{10,}"  # Slack tokens
)

# Names whose value is a secret wherever they appear (headers, params, inputs).
_STRICT = (
    r"api[_\-]?key|apikey|secret|secret[_\-]?key|client[_\-]?secret|password|passwd"
    r"|access[_\-]?token|refresh[_\-]?token|auth[_\-]?token|bearer[_\-]?token|id[_\-]?token"
    r"|session[_\-]?token|authorization|credentials?|cookie|set[_\-]cookie|private[_\-]?key"
)
# Also secrets in code-defined places (invocation params, metadata, pydantic fields).
_LOOSE = r"key|token|auth"
_SECRET_KEY = re.compile(rf"(^|[_\-.])({_STRICT})$", re.IGNORECASE)
_SECRET_KEY_LOOSE = re.compile(rf"(^|[_\-.])({_LOOSE})$", re.IGNORECASE)
# The same names as JSON object members with a string value, in compact JSON text. (Inside a
# JSON string every quote is escaped, so ``"name":"`` only matches a real member.)
_FIELD = r'"((?:[^"\\]*[_\-.])?(?:{names}))":"(?:[^"\\]|\\.)*"'
_SECRET_FIELD = re.compile(_FIELD.format(names=_STRICT), re.IGNORECASE)
_SECRET_FIELD_LOOSE = re.compile(_FIELD.format(names=f"{_STRICT}|{_LOOSE}"), re.IGNORECASE)


# Literal text every match of the patterns above contains: checked first (a fast C substring
# search), so the regexes only run over the rare text that might hold a secret.
_SHAPE_MARKERS = ("sk-", "earer", "AKIA", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_",
                  "AIza", "hf_", "xox")
_FIELD_MARKERS = tuple(f'{name}":"' for name in (
    "key", "secret", "password", "passwd", "token", "authorization", "credential",
    "credentials", "cookie",
))
_FIELD_MARKERS_LOOSE = (*_FIELD_MARKERS, 'auth":"')


def _mask(match: re.Match[str]) -> str:
    keep = match.group("keep") or match.group("keepb") or ""
    return keep + MASK


def scrub(text: str) -> str:
    """``text`` with every API-key-shaped substring masked (the ``sk-``/``Bearer`` prefix is
    kept, so a reader still sees what kind of value was there)."""
    if not any(marker in text for marker in _SHAPE_MARKERS):
        return text
    return _KEY_SHAPES.sub(_mask, text)


def _mask_field(match: re.Match[str]) -> str:
    return f'"{match.group(1)}":"{MASK}"'


def mask_secret_fields(json_text: str, *, loose: bool = False) -> str:
    """Compact JSON text with the string values of secret-named members masked (the same
    names as `is_secret_key`)."""
    lowered = json_text.lower()
    if not any(m in lowered for m in (_FIELD_MARKERS_LOOSE if loose else _FIELD_MARKERS)):
        return json_text
    return (_SECRET_FIELD_LOOSE if loose else _SECRET_FIELD).sub(_mask_field, json_text)


def might_hold_secrets(json_text: str, *, loose: bool = False) -> bool:
    """False when `redact_json` would certainly leave ``json_text`` unchanged (a cheap check:
    substring searches only). Callers check several documents joined, at once."""
    if any(marker in json_text for marker in _SHAPE_MARKERS):
        return True
    lowered = json_text.lower()
    return any(m in lowered for m in (_FIELD_MARKERS_LOOSE if loose else _FIELD_MARKERS))


def redact_json(json_text: str, *, loose: bool = False) -> str:
    """Compact JSON text with key-shaped strings and secret-named members masked."""
    return mask_secret_fields(scrub(json_text), loose=loose)


def is_secret_key(name: str, *, loose: bool = False) -> bool:
    """Whether a value stored under ``name`` is a secret.

    ``loose`` also matches bare ``key``/``token``/``auth`` names (code-defined parameters).
    """
    if _SECRET_KEY.search(name):
        return True
    return loose and _SECRET_KEY_LOOSE.search(name) is not None
