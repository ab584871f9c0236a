"""The viewer's web app: three static files and a small JSON API over `chainkit.tracing.Client`.

=======  ====================================  ==============================================
method   path                                  answer
=======  ====================================  ==============================================
GET      /                                     the page (``static/index.html``)
GET      /api/projects                         projects with trace counts
GET      /api/traces?project&name&status&q     root runs, newest first, with cost and feedback
GET      /api/traces/{trace_id}                every run of the trace, with cost; feedback
POST     /api/feedback                         ``{run_id, key, score?, value?, comment?}``
GET      /api/datasets                         datasets with example counts
POST     /api/datasets/add-runs                ``{dataset, run_ids}``; creates the dataset
GET      /api/datasets/{name}/examples         a dataset's examples
GET      /api/experiments?dataset              experiments, newest first
GET      /api/experiments/compare?ids=a,b      experiments side by side
=======  ====================================  ==============================================

Safety: the page renders trace content as text only (no HTML from data) under a strict
Content-Security-Policy; requests must name a loopback host (no DNS rebinding); writes must be
``application/json`` from the page's own origin (no cross-site form posts).
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from chainkit.tracing.client import Client, NotFoundError
from chainkit.tracing.store.pricing import cost

__all__ = ["LOOPBACK_HOSTS", "create_app"]

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")

_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_STATIC = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/static/app.css": ("app.css", "text/css; charset=utf-8"),
}
_MAX_LIMIT = 500


class _BadRequest(ValueError):
    pass


class _Forbidden(Exception):
    pass


def _json(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers={"cache-control": "no-store"})


def _int(request: Request, name: str, default: int, hi: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _BadRequest(f"{name} must be an integer, got {raw!r}") from None
    if not 0 <= value <= hi:
        raise _BadRequest(f"{name} must be between 0 and {hi}, got {value}")
    return value


def _guard(fn: Callable[..., Any]) -> Callable[[Request], Awaitable[Response]]:
    """Turn a handler's `NotFoundError` / `ValueError` into a JSON 404 / 400."""

    async def endpoint(request: Request) -> Response:
        try:
            if request.method == "POST":
                _check_write(request)
                body = await request.body()
                try:
                    payload = json.loads(body or b"null")
                except ValueError:
                    raise _BadRequest("the request body must be JSON") from None
                if not isinstance(payload, dict):
                    raise _BadRequest("the request body must be a JSON object")
                return _json(await _threaded(fn, request, payload), 201)
            return _json(await _threaded(fn, request))
        except NotFoundError as exc:
            return _json({"error": str(exc)}, 404)
        except _Forbidden as exc:
            return _json({"error": str(exc)}, 403)
        except (ValueError, TypeError) as exc:
            return _json({"error": str(exc)}, 400)

    return endpoint


def _check_write(request: Request) -> None:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise _Forbidden(f"writes must be application/json, got {ctype or 'no content type'!r}")
    origin = request.headers.get("origin")
    if origin is not None and origin.split("://", 1)[-1] != request.headers.get("host"):
        raise _Forbidden(f"cross-origin write from {origin!r} refused")


async def _threaded(fn: Callable[..., Any], *args: Any) -> Any:
    # SQLite calls block: run them off the event loop.
    return await run_in_threadpool(fn, *args)


def create_app(
    db_path: str | os.PathLike[str] | None = None,
    *,
    allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS,
) -> Starlette:
    """The viewer app over the trace database at ``db_path``.

    Args:
        db_path: The trace database (default ``$CHAINKIT_TRACE_DB`` or
            ``~/.chainkit/traces.db``).
        allowed_hosts: Host names the app answers to (default: loopback names only).

    Example:
        >>> import uvicorn
        >>> uvicorn.run(create_app("/tmp/traces.db"), host="127.0.0.1", port=8765)
    """
    client = Client(db_path)
    files = resources.files("chainkit.viewer") / "static"
    static = {path: ((files / name).read_bytes(), ctype) for path, (name, ctype) in _STATIC.items()}

    def page(request: Request) -> Response:
        body, ctype = static[request.url.path]
        return Response(body, media_type=ctype, headers={
            "content-security-policy": _CSP, "x-content-type-options": "nosniff",
            "referrer-policy": "no-referrer", "cache-control": "no-store",
        })

    def projects(request: Request) -> Any:
        return client.list_projects()

    def traces(request: Request) -> Any:
        status = request.query_params.get("status") or None
        if status not in (None, "error", "success"):
            raise _BadRequest(f"status must be 'error' or 'success', got {status!r}")
        runs = client.list_runs(
            project=request.query_params.get("project") or None,
            name=request.query_params.get("name") or None,
            error=None if status is None else status == "error",
            search=request.query_params.get("q") or None,
            limit=_int(request, "limit", 100, _MAX_LIMIT) or 1,
            offset=_int(request, "offset", 0, 10**9),
            is_root=True,
        )
        costs = client.trace_costs(r.trace_id for r in runs)
        scores = _feedback_summary(client, [r.id for r in runs])
        out = []
        for r in runs:
            item = r.to_dict()
            item.pop("outputs")
            item["inputs"] = _preview(item.pop("inputs"))
            item.pop("extra")
            item["cost"] = costs.get(r.trace_id)
            item["feedback"] = scores.get(r.id)
            out.append(item)
        return out

    def trace(request: Request) -> Any:
        runs = client.read_trace(request.path_params["trace_id"])
        items = []
        for r in runs:
            item = r.to_dict()
            item["cost"] = cost(r.model, r.input_tokens, r.output_tokens) if r.model else None
            items.append(item)
        feedback = client.list_feedback(run_ids=[r.id for r in runs])
        total = client.trace_costs([runs[0].trace_id])[runs[0].trace_id]
        return {"runs": items, "feedback": [f.to_dict() for f in feedback], "cost": total}

    def feedback(request: Request, body: dict[str, Any]) -> Any:
        unknown = set(body) - {"run_id", "key", "score", "value", "comment"}
        if unknown:
            raise _BadRequest(f"unknown feedback field(s) {sorted(unknown)}; valid: "
                              "run_id, key, score, value, comment")
        if "run_id" not in body:
            raise _BadRequest("feedback needs a run_id")
        return client.create_feedback(
            body["run_id"], body.get("key") or "user_score", score=body.get("score"),
            value=body.get("value"), comment=body.get("comment") or None, source="viewer",
        ).to_dict()

    def datasets(request: Request) -> Any:
        return [d.to_dict() for d in client.list_datasets()]

    def add_runs(request: Request, body: dict[str, Any]) -> Any:
        name, run_ids = body.get("dataset"), body.get("run_ids")
        if not isinstance(name, str) or not name.strip():
            raise _BadRequest(f"dataset must be a non-empty name, got {name!r}")
        if not isinstance(run_ids, list) or not run_ids:
            raise _BadRequest(f"run_ids must be a non-empty list, got {run_ids!r}")
        examples = client.add_runs_to_dataset(run_ids, name.strip(), create=True)
        return {"dataset": client.read_dataset(name.strip()).to_dict(),
                "examples": [e.to_dict() for e in examples]}

    def examples(request: Request) -> Any:
        return [e.to_dict() for e in client.list_examples(request.path_params["name"])]

    def experiments(request: Request) -> Any:
        dataset = request.query_params.get("dataset") or None
        return [e.to_dict() for e in client.list_experiments(dataset)]

    def compare(request: Request) -> Any:
        ids = [i for i in request.query_params.get("ids", "").split(",") if i]
        if not ids:
            raise _BadRequest("give experiment ids to compare: ?ids=<id>,<id>")
        return client.compare_experiments(ids)

    routes = [Route(path, page) for path in _STATIC]
    routes += [
        Route("/api/projects", _guard(projects)),
        Route("/api/traces", _guard(traces)),
        Route("/api/traces/{trace_id}", _guard(trace)),
        Route("/api/feedback", _guard(feedback), methods=["POST"]),
        Route("/api/datasets", _guard(datasets)),
        Route("/api/datasets/add-runs", _guard(add_runs), methods=["POST"]),
        Route("/api/datasets/{name}/examples", _guard(examples)),
        Route("/api/experiments", _guard(experiments)),
        Route("/api/experiments/compare", _guard(compare)),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))],
    )
    app.state.client = client
    return app


def _preview(value: Any, limit: int = 160) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "…"


def _feedback_summary(client: Client, run_ids: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for f in client.list_feedback(run_ids=run_ids):
        s = out.setdefault(f.run_id, {"count": 0, "scores": []})
        s["count"] += 1
        if f.score is not None:
            s["scores"].append(f.score)
    for s in out.values():
        scores = s.pop("scores")
        s["mean_score"] = sum(scores) / len(scores) if scores else None
    return out
