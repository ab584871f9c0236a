"""Turning a failed exchange into a typed error with a readable, secret-free message.

Every message has the same shape, so a log line says what happened without the traceback::

    OpenAI API error 429 Too Many Requests for POST https://api.openai.com/v1/chat/completions:
    rate_limit_exceeded: Rate limit reached for gpt-4o-mini (request id req_123)
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from chainkit.models.http.errors import APIError, APIStatusError, ErrorResponse, status_error_class

REDACTED = "***"
_MAX_SERVER_TEXT = 500
_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "openai-request-id")


def safe_url(url: str) -> str:
    """``url`` without user info, query or fragment, any of which may carry a secret."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret replaced by ``***``."""
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, REDACTED)
    return text


def server_message(body: Any) -> str:
    """The human part of an error body, in the shapes OpenAI, Anthropic and common
    OpenAI-compatible servers use: ``{"error": {"type", "message"}}``, ``{"error": "..."}``,
    ``{"detail": ...}``, ``{"message": ...}``; otherwise the text itself."""
    if isinstance(body, Mapping):
        error = body.get("error", body)
        if isinstance(error, Mapping):
            message = error.get("message") or error.get("detail")
            kind = error.get("type") or error.get("code")
            if message is not None:
                text = message if isinstance(message, str) else json.dumps(message)
                return f"{kind}: {text}" if isinstance(kind, str) and kind else text
        elif isinstance(error, str):
            return error
        if "detail" in body:
            detail = body["detail"]
            return detail if isinstance(detail, str) else json.dumps(detail)[:_MAX_SERVER_TEXT]
        return json.dumps(body)[:_MAX_SERVER_TEXT]
    text = str(body).strip()
    return text if len(text) <= _MAX_SERVER_TEXT else text[:_MAX_SERVER_TEXT] + "..."


def parse_body(text: str) -> Any:
    """The error body as JSON if it is JSON, else the text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def request_id(headers: Mapping[str, str]) -> str | None:
    for name in _REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return value
    return None


def status_error(
    provider: str,
    method: str,
    url: str,
    status_code: int,
    headers: Mapping[str, str],
    text: str,
    secrets: Iterable[str] = (),
) -> APIStatusError:
    """The typed error for an HTTP error response; ``url`` must already be `safe_url`."""
    secrets = tuple(secrets)
    text = scrub(text, secrets)
    headers = {name: scrub(value, secrets) for name, value in headers.items()}
    response = ErrorResponse(status_code, headers, text)
    body = parse_body(text)
    rid = request_id(response.headers)
    try:
        reason = f" {HTTPStatus(status_code).phrase}"
    except ValueError:
        reason = " Overloaded" if status_code == 529 else ""
    message = f"{provider} API error {status_code}{reason} for {method} {url}"
    detail = server_message(body) if text.strip() else ""
    if detail:
        message += f": {detail}"
    if rid:
        message += f" (request id {rid})"
    return status_error_class(status_code)(
        message, status_code=status_code, response=response, body=body, request_id=rid,
        provider=provider, method=method, url=url,
    )


def event_error(
    provider: str,
    method: str,
    url: str,
    status_code: int,
    body: Any,
    secrets: Iterable[str] = (),
) -> APIStatusError:
    """The typed error for an error *event* inside a 200 stream (``status_code`` is the one
    the provider documents for that error type)."""
    text = scrub(json.dumps(body), secrets)
    body = json.loads(text)
    message = (
        f"{provider} API error event in the stream of {method} {url} "
        f"(as status {status_code}): {server_message(body)}"
    )
    return status_error_class(status_code)(
        message, status_code=status_code, body=body, provider=provider, method=method, url=url,
    )


def with_context(
    cls: type[APIError], provider: str, method: str, url: str, what: str,
    secrets: Iterable[str] = (),
) -> APIError:
    """A non-status error (connection, timeout, bad body) with the usual context."""
    message = f"{provider} API {what} for {method} {url}"
    return cls(scrub(message, secrets), provider=provider, method=method, url=url)
