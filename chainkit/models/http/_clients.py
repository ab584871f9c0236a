"""The HTTP clients of one transport: created lazily, pooled, closed on request.

A sync client serves every thread. An async client belongs to the event loop that opened
its connections, so each loop gets its own (``asyncio.run`` twice in a script, notebooks),
closed when that loop shuts down. Clients the user passes in are used as given — the
transport's headers and timeouts are added to each request — and never closed here.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections.abc import AsyncGenerator, Mapping
from typing import Any

from chainkit.models.http._lib import httpx

_LIMITS = httpx.Limits(max_connections=1000, max_keepalive_connections=100)


class ClientPool:
    """The sync client and the per-loop async clients of one transport.

    Example:
        >>> pool = ClientPool({"authorization": "Bearer ..."}, httpx.Timeout(60))
        >>> client = pool.sync()
        >>> pool.close()
    """

    def __init__(
        self, headers: Mapping[str, str], timeout: Any, user_client: Any = None,
        user_async_client: Any = None,
    ) -> None:
        self._headers = dict(headers)
        self._timeout = timeout
        self._user_client = user_client
        self._user_async_client = user_async_client
        per_request = {"headers": self._headers, "timeout": timeout}
        #: Keyword arguments for ``build_request``: empty for our clients (they carry headers
        #: and timeouts already), ours for a client the user passed in.
        self.sync_extra = per_request if user_client is not None else {}
        self.async_extra = per_request if user_async_client is not None else {}
        self._client: Any = None
        # loop -> (client, closer); see `_loop_closer`.
        self._aclients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[Any, AsyncGenerator[None, None]]
        ] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def sync(self) -> Any:
        """The sync client (created on first use)."""
        client = self._user_client or self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    self._client = httpx.Client(
                        headers=self._headers, timeout=self._timeout, limits=_LIMITS
                    )
                client = self._client
        return client

    def async_(self) -> Any:
        """The async client of the running event loop (created on first use in it)."""
        if self._user_async_client is not None:
            return self._user_async_client
        loop = asyncio.get_running_loop()
        entry = self._aclients.get(loop)
        if entry is None:
            entry = self._adopt(loop, self._new_async_client())
        return entry[0]

    async def aready(self) -> Any:
        """`async_`, without blocking the event loop: the first client of a loop is built
        in a worker thread, because building one imports the HTTP stack's connection pool
        and loads the CA certificates (about 0.2 s of blocking work the first time)."""
        if self._user_async_client is None:
            loop = asyncio.get_running_loop()
            if loop not in self._aclients:
                client = await asyncio.to_thread(self._new_async_client)
                if loop in self._aclients:  # another task of this loop was quicker
                    await client.aclose()
                else:
                    self._adopt(loop, client)
        return self.async_()

    def _new_async_client(self) -> Any:
        return httpx.AsyncClient(headers=self._headers, timeout=self._timeout, limits=_LIMITS)

    def _adopt(
        self, loop: asyncio.AbstractEventLoop, client: Any
    ) -> tuple[Any, AsyncGenerator[None, None]]:
        for old in [old for old in self._aclients if old.is_closed()]:
            del self._aclients[old]  # already closed with its loop
        entry = self._aclients[loop] = (client, _loop_closer(client))
        return entry

    def close(self) -> None:
        """Close the sync client; safe to call twice. Async clients close with `aclose`,
        or when their event loop shuts down."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        """Close the sync client and the running loop's async client."""
        entry = self._aclients.pop(asyncio.get_running_loop(), None)
        self.close()
        if entry is not None:
            await entry[1].aclose()


def _loop_closer(client: Any) -> AsyncGenerator[None, None]:
    """An async generator that closes ``client`` when the event loop shuts down.

    An async client's pooled connections belong to its loop; if the loop closes first, they
    are garbage-collected later and complain ("Event loop is closed"). Starting this
    generator registers it with the running loop's async-generator hooks, and
    ``asyncio.run`` (like any loop that runs ``shutdown_asyncgens``) finalizes it before
    closing — which closes the client while its loop still runs.
    """

    async def closer() -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            await client.aclose()

    agen = closer()
    with contextlib.suppress(StopIteration):  # the first yield ends the step, no await
        agen.asend(None).send(None)
    return agen
