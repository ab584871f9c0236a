"""The trace viewer: a local web page over the trace database (``chainkit ui``).

A trace list with search and filters; each trace as a run tree with a latency waterfall;
inputs, outputs and messages rendered readably; token usage and cost; feedback buttons;
"add to dataset"; experiments side by side. Plain HTML and JavaScript, no build step, served by
Starlette and uvicorn on 127.0.0.1 (the ``chainkit[ui]`` extra).

Example:
    >>> from chainkit.viewer import serve
    >>> serve(port=8765)          # then open http://127.0.0.1:8765/
"""

from __future__ import annotations

import os
import socket
import sys
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from starlette.applications import Starlette

__all__ = ["create_app", "serve"]

_MISSING = "the trace viewer needs the 'ui' extra: pip install 'chainkit[ui]' (missing: {})"


def _require() -> None:
    for module in ("starlette", "uvicorn"):
        try:
            __import__(module)
        except ImportError:
            raise ImportError(_MISSING.format(module)) from None


def create_app(db_path: str | os.PathLike[str] | None = None, **kwargs: Any) -> Starlette:
    """The viewer's Starlette app over the trace database at ``db_path`` (see `app`).

    Raises:
        ImportError: starlette is not installed (the message names the extra to install).
    """
    _require()
    from chainkit.viewer.app import create_app as _create

    return _create(db_path, **kwargs)


def serve(
    db_path: str | os.PathLike[str] | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    open_browser: bool = False,
    out: TextIO = sys.stdout,
) -> None:
    """Serve the viewer until interrupted (Ctrl-C).

    Args:
        db_path: The trace database (default ``$CHAINKIT_TRACE_DB`` or
            ``~/.chainkit/traces.db``).
        host: Address to bind; loopback by default. Any other address exposes your traces
            to the network.
        port: Port; 0 picks a free one.
        open_browser: Open the page in the default web browser.
        out: Where the URL is printed.

    Raises:
        ImportError: starlette or uvicorn is not installed.
    """
    _require()
    import uvicorn

    from chainkit.viewer.app import LOOPBACK_HOSTS
    from chainkit.viewer.app import create_app as _create

    hosts: tuple[str, ...] = LOOPBACK_HOSTS if host in LOOPBACK_HOSTS else (*LOOPBACK_HOSTS, host)
    if host in ("0.0.0.0", "::"):
        hosts = ("*",)
    app = _create(db_path, allowed_hosts=hosts)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{sock.getsockname()[1]}/"
    print(f"chainkit trace viewer on {url} (database {app.state.client.path}); Ctrl-C to stop",
          file=out, flush=True)
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    config = uvicorn.Config(app, log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])
