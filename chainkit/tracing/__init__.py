"""Observation: the run tree, its listeners, LangChain-style callbacks, `astream_log` and
`astream_events`.

Names are imported lazily, so ``import chainkit.tracing.context`` (on every runnable's import
path) stays cheap; the streaming and callback modules load on first use.

Example:
    >>> from chainkit.tracing import BaseCallbackHandler
    >>> class Printer(BaseCallbackHandler):
    ...     def on_chain_end(self, outputs, **kwargs):
    ...         print(outputs)
    >>> chain.invoke({"topic": "owls"}, {"callbacks": [Printer()]})
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chainkit._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "Run": "chainkit.tracing.context",
    "RunListener": "chainkit.tracing.context",
    "Tracer": "chainkit.tracing.context",
    "add_global_listener": "chainkit.tracing.context",
    "remove_global_listener": "chainkit.tracing.context",
    "uuid7": "chainkit.tracing.context",
    "BaseCallbackHandler": "chainkit.tracing.handlers",
    "AsyncCallbackHandler": "chainkit.tracing.handlers",
    "RunLog": "chainkit.tracing.log",
    "RunLogPatch": "chainkit.tracing.log",
    "dispatch_custom_event": "chainkit.tracing.custom",
    "adispatch_custom_event": "chainkit.tracing.custom",
    # the local trace store
    "Client": "chainkit.tracing.client",
    "TraceStore": "chainkit.tracing.store",
    "disable": "chainkit.tracing._enable",
    "enable": "chainkit.tracing._enable",
    "flush": "chainkit.tracing._enable",
    "tracing": "chainkit.tracing._enable",
}

__all__ = [
    "AsyncCallbackHandler",
    "BaseCallbackHandler",
    "Client",
    "Run",
    "RunListener",
    "RunLog",
    "RunLogPatch",
    "TraceStore",
    "Tracer",
    "add_global_listener",
    "adispatch_custom_event",
    "disable",
    "dispatch_custom_event",
    "enable",
    "flush",
    "remove_global_listener",
    "tracing",
    "uuid7",
]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from chainkit.tracing._enable import disable, enable, flush, tracing
    from chainkit.tracing.client import Client
    from chainkit.tracing.context import (
        Run,
        RunListener,
        Tracer,
        add_global_listener,
        remove_global_listener,
        uuid7,
    )
    from chainkit.tracing.custom import adispatch_custom_event, dispatch_custom_event
    from chainkit.tracing.handlers import AsyncCallbackHandler, BaseCallbackHandler
    from chainkit.tracing.log import RunLog, RunLogPatch
    from chainkit.tracing.store import TraceStore
