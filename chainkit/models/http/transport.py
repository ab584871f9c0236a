"""`HTTPTransport`: one pooled HTTP client per model, with timeouts, retries, SSE and typed errors.

Everything that decides lives once, in helpers shared by both: which response is an error
(`_check_response`), what a stream event means (`StreamAttempt` around the provider's push
decoder, in ``_stream``), whether to retry (`RetryPolicy`), which client to use
(`ClientPool`, in ``_clients``). The sync and async methods differ only in
their I/O: ``send``/``await send``, ``iter_bytes``/``aiter_bytes``, ``sleep``/``await sleep``.

Timeouts:
    ``timeout`` bounds a whole attempt, from sending the request to the last byte of the
    answer (for a stream, the consumer's time between chunks counts too); ``read_timeout``
    bounds each wait for the next bytes (default: ``timeout``). The HTTP library enforces
    ``read_timeout``; the total is checked each time bytes arrive, so a server trickling one
    byte every few seconds still times out, at most one read late.
Connections:
    Created on first use, pooled (keep-alive), closed by `close`/`aclose`; an async client
    per event loop. See ``_clients``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncGenerator, Callable, Iterator, Mapping, Sequence
from contextlib import aclosing
from typing import Any, TypeVar

from chainkit.models.http import _describe
from chainkit.models.http._clients import ClientPool
from chainkit.models.http._lib import classify_http_error, httpx, is_http_error
from chainkit.models.http._stream import EventDecoder, ServerErrorEvent, StreamAttempt
from chainkit.models.http.errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
)
from chainkit.models.http.retry import RetryPolicy

__all__ = ["EventDecoder", "HTTPTransport", "ServerErrorEvent"]

logger = logging.getLogger("chainkit.models.http")

T = TypeVar("T")

_HTTP_ERROR_TEXT: dict[type[APIError], str] = {
    APITimeoutError: "request timed out",
    APIConnectionError: "connection failed",
}
# Indirections so that tests can record the waits instead of sleeping through them.
_sleep = time.sleep
_asleep = asyncio.sleep
_LIMITS = httpx.Limits(max_connections=1000, max_keepalive_connections=100)
#: The default cap on one answer's body (a whole stream included): 32 MiB.
MAX_RESPONSE_BYTES = 32 << 20


class HTTPTransport:
    """The HTTP side of a provider: JSON requests and SSE streams to one base URL.

    Args:
        provider: Name used in errors and logs (``"OpenAI"``).
        base_url: Prefix of every request path.
        headers: Sent with every request (authorization included).
        secrets: Values scrubbed from every error message (the API key).
        timeout: Total seconds per attempt (``None``: no limit).
        read_timeout: Seconds to wait for the next bytes (``None``: ``timeout``).
        retry: When and how long to wait before retrying.
        http_client / http_async_client: Clients to use instead of the pooled ones.
        max_response_bytes: The largest answer body accepted, a stream's included
            (``None``: no limit); a larger one raises `APIResponseValidationError`.

    Example:
        >>> t = HTTPTransport("OpenAI", "http://127.0.0.1:8080/v1")
        >>> t.post("/chat/completions", {"model": "m", "messages": []})  # doctest: +SKIP
    """

    def __init__(
        self,
        provider: str,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        secrets: Sequence[str] = (),
        timeout: float | None = 60.0,
        read_timeout: float | None = None,
        retry: RetryPolicy | None = None,
        http_client: Any = None,
        http_async_client: Any = None,
        max_response_bytes: int | None = MAX_RESPONSE_BYTES,
    ) -> None:
        for name, value in (("timeout", timeout), ("read_timeout", read_timeout)):
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be a positive number of seconds or None, "
                                 f"got {value!r}")
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.read_timeout = read_timeout
        self.max_response_bytes = max_response_bytes
        self.retry = retry or RetryPolicy()
        self._headers = {"content-type": "application/json", **(headers or {})}
        self._secrets = tuple(s for s in secrets if s)
        http_timeout = httpx.Timeout(read_timeout if read_timeout is not None else timeout)
        self.clients = ClientPool(self._headers, http_timeout, http_client, http_async_client)
        self._shown_paths: dict[str, str] = {}  # path -> URL as errors show it

    def __repr__(self) -> str:
        return f"HTTPTransport({self.provider!r}, {_describe.safe_url(self.base_url)!r})"

    def close(self) -> None:
        """Close the pooled sync client; safe to call twice. Async clients close with
        `aclose`, or when their event loop shuts down."""
        self.clients.close()

    async def aclose(self) -> None:
        """Close the pooled sync client and this event loop's async client."""
        await self.clients.aclose()

    # ---- one JSON request ------------------------------------------------------------
    def post(
        self, path: str, body: Mapping[str, Any], *, retry: RetryPolicy | None = None
    ) -> Any:
        """POST ``body`` as JSON to ``path``; return the decoded JSON answer.

        ``retry`` overrides this transport's policy for this call.
        """
        url, shown, content = self.base_url + path, self._shown(path), _dumps(body)
        attempt = 0
        while True:
            try:
                return self._post_once(url, shown, content)
            except APIError as err:
                delay = self._retry_delay(retry or self.retry, attempt, err)
                if delay is None:
                    raise
            _sleep(delay)
            attempt += 1

    async def apost(
        self, path: str, body: Mapping[str, Any], *, retry: RetryPolicy | None = None
    ) -> Any:
        """Async `post`."""
        url, shown, content = self.base_url + path, self._shown(path), _dumps(body)
        attempt = 0
        while True:
            try:
                return await self._apost_once(url, shown, content)
            except APIError as err:
                delay = self._retry_delay(retry or self.retry, attempt, err)
                if delay is None:
                    raise
            await _asleep(delay)
            attempt += 1

    def _post_once(self, url: str, shown: str, content: bytes) -> Any:
        deadline = self.deadline()
        client = self.clients.sync()
        try:
            response = client.send(
                client.build_request("POST", url, content=content, **self.clients.sync_extra),
                stream=True,
            )
            try:
                parts, size = [], 0
                for part in response.iter_bytes():
                    parts.append(part)
                    size += len(part)
                    self.check_size(size, shown)
                    self.check_deadline(deadline, shown)
            finally:
                response.close()
        except Exception as exc:
            if is_http_error(exc):
                raise self._http_error(exc, shown) from exc
            raise
        return self._check_response(response, b"".join(parts), shown)

    async def _apost_once(self, url: str, shown: str, content: bytes) -> Any:
        deadline = self.deadline()
        client = await self.clients.aready()
        try:
            response = await client.send(
                client.build_request("POST", url, content=content, **self.clients.async_extra),
                stream=True,
            )
            try:
                parts, size = [], 0
                async for part in response.aiter_bytes():
                    parts.append(part)
                    size += len(part)
                    self.check_size(size, shown)
                    self.check_deadline(deadline, shown)
            finally:
                await response.aclose()
        except Exception as exc:
            if is_http_error(exc):
                raise self._http_error(exc, shown) from exc
            raise
        return self._check_response(response, b"".join(parts), shown)

    # ---- one SSE stream ---------------------------------------------------------------
    def stream(
        self,
        path: str,
        body: Mapping[str, Any],
        decoder: Callable[[], EventDecoder[T]],
        *,
        retry: RetryPolicy | None = None,
    ) -> Iterator[T]:
        """POST ``body`` and yield the items ``decoder`` makes of the SSE answer.

        Failures before the first item are retried like `post`; after it, they raise
        `StreamInterruptedError` with the text delivered so far.
        """
        url, shown, content = self.base_url + path, self._shown(path), _dumps(body)
        attempt = 0
        while True:
            state = StreamAttempt(self, decoder(), shown)
            try:
                yield from self._stream_once(url, content, state)
                return
            except APIError as err:
                if state.done:
                    return  # the answer was complete; only draining the connection failed
                if state.delivered:
                    raise state.interrupted(err) from err
                delay = self._retry_delay(retry or self.retry, attempt, err)
                if delay is None:
                    raise
            _sleep(delay)
            attempt += 1

    async def astream(
        self,
        path: str,
        body: Mapping[str, Any],
        decoder: Callable[[], EventDecoder[T]],
        *,
        retry: RetryPolicy | None = None,
    ) -> AsyncGenerator[T, None]:
        """Async `stream`. A caller that stops early should ``aclose()`` it (or use
        ``contextlib.aclosing``): that closes the HTTP response at once."""
        url, shown, content = self.base_url + path, self._shown(path), _dumps(body)
        attempt = 0
        while True:
            state = StreamAttempt(self, decoder(), shown)
            try:
                async with aclosing(self._astream_once(url, content, state)) as items:
                    async for item in items:
                        yield item
                return
            except APIError as err:
                if state.done:
                    return  # the answer was complete; only draining the connection failed
                if state.delivered:
                    raise state.interrupted(err) from err
                delay = self._retry_delay(retry or self.retry, attempt, err)
                if delay is None:
                    raise
            await _asleep(delay)
            attempt += 1

    def _stream_once(self, url: str, content: bytes, state: StreamAttempt[T]) -> Iterator[T]:
        client = self.clients.sync()
        try:
            response = client.send(
                client.build_request("POST", url, content=content, **self.clients.sync_extra),
                stream=True,
            )
            try:
                if response.status_code >= 400:
                    self._check_response(response, response.read(), state.url)
                # After the end marker the loop drains the (normally empty) rest of the
                # body, so that the connection goes back to the pool instead of closing.
                for part in response.iter_bytes():
                    yield from state.feed(part)
                yield from state.end()
            finally:
                response.close()
        except Exception as exc:
            if is_http_error(exc):
                raise self._http_error(exc, state.url) from exc
            raise

    async def _astream_once(
        self, url: str, content: bytes, state: StreamAttempt[T]
    ) -> AsyncGenerator[T, None]:
        client = await self.clients.aready()
        try:
            response = await client.send(
                client.build_request("POST", url, content=content, **self.clients.async_extra),
                stream=True,
            )
            try:
                if response.status_code >= 400:
                    self._check_response(response, await response.aread(), state.url)
                async for part in response.aiter_bytes():
                    for item in state.feed(part):
                        yield item
                for item in state.end():
                    yield item
            finally:
                await response.aclose()
        except Exception as exc:
            if is_http_error(exc):
                raise self._http_error(exc, state.url) from exc
            raise

    # ---- decisions, shared by every loop above --------------------------------------------
    def _shown(self, path: str) -> str:
        shown = self._shown_paths.get(path)
        if shown is None:
            shown = self._shown_paths[path] = _describe.safe_url(self.base_url + path)
        return shown

    def deadline(self) -> float | None:
        """When an attempt starting now runs out of time (``time.monotonic()``)."""
        return None if self.timeout is None else time.monotonic() + self.timeout

    def check_deadline(self, deadline: float | None, shown: str) -> None:
        """Raise `APITimeoutError` if ``deadline`` has passed."""
        if deadline is not None and time.monotonic() > deadline:
            raise self.error(APITimeoutError, shown, f"timed out after {self.timeout:g} s total")

    def check_size(self, size: int, shown: str) -> None:
        """Raise `APIResponseValidationError` once an answer's body passes
        ``max_response_bytes``: a broken or hostile server must not exhaust memory."""
        cap = self.max_response_bytes
        if cap is not None and size > cap:
            raise self.error(
                APIResponseValidationError, shown,
                f"answer is over the size limit of {cap} bytes (max_response_bytes)",
            )

    def _check_response(self, response: Any, data: bytes, shown: str) -> Any:
        """Raise the typed error for an error status; otherwise return the JSON body."""
        status = response.status_code
        if status >= 400:
            text = data.decode("utf-8", errors="replace")
            raise _describe.status_error(
                self.provider, "POST", shown, status, response.headers, text, self._secrets
            )
        try:
            return json.loads(data)
        except ValueError:
            sample = data[:200].decode("utf-8", errors="replace")
            raise self.error(
                APIResponseValidationError, shown,
                f"returned invalid JSON (status {status}): {sample!r}",
            ) from None

    def _http_error(self, exc: Exception, shown: str) -> APIError:
        cls = classify_http_error(exc)
        what = _HTTP_ERROR_TEXT.get(cls, "returned an unreadable answer")
        return self.error(cls, shown, f"{what} ({type(exc).__name__}: {exc})")

    def _retry_delay(self, policy: RetryPolicy, attempt: int, err: APIError) -> float | None:
        delay = policy.delay(attempt, err)
        if delay is not None:
            logger.info(
                "%s: %s; retrying in %.2f s (retry %d of %d)",
                self.provider, err, delay, attempt + 1, policy.max_retries,
            )
        return delay

    def error(self, cls: type[APIError], shown: str, what: str) -> APIError:
        """An error of class ``cls`` in the usual form, secrets scrubbed."""
        return _describe.with_context(cls, self.provider, "POST", shown, what, self._secrets)

    def event_error(self, event: ServerErrorEvent, shown: str) -> APIError:
        """The typed error for an error event inside a stream."""
        return _describe.event_error(
            self.provider, "POST", shown, event.status_code, event.body, self._secrets
        )


def _dumps(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
