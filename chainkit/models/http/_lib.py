"""Which HTTP library the transport uses, and how its exceptions map to ours.

``httpx2`` (PyPI ``httpx2``: the pydantic-maintained continuation of httpx with the same API,
also what the OpenAI SDK 3.x uses) is preferred for both the sync and the async client. On
this project's 2-core reference machine, 1000 non-streaming requests with 64 in flight
against a loopback server answering after 50 ms (ideal: 0.78 s) took:

=====================  ===========  ===========
client                 wall         CPU
=====================  ===========  ===========
httpx 0.28 sync        2.9 s        3.0 s
httpx 0.28 async       10.4 s       10.3 s
httpx2 2.16 sync       1.06 s       0.97 s
httpx2 2.16 async      1.08 s       0.93 s
=====================  ===========  ===========

Under that concurrency httpx 0.28 costs about 2-3 ms (sync) to 8-10 ms (async) of CPU per
request, against about 1 ms for httpx2, so a batch is CPU-bound long before it waits on the
network. ``benchmarks/bench_http_batch.py`` measures both libraries, bare and under chainkit,
in one run. If ``httpx2`` is not installed, plain ``httpx`` is used: everything works, just
slower under high concurrency.

Users may also hand a model their own ``httpx.Client``/``httpx2.Client`` (the two are
duck-compatible); exceptions are therefore classified by class name, which both libraries
share, rather than by ``isinstance`` against one of them.
"""

from __future__ import annotations

try:
    import httpx2 as httpx
except ImportError:  # pragma: no cover - exercised only without httpx2 installed
    import httpx  # type: ignore[no-redef]

from chainkit.models.http.errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
)

__all__ = ["classify_http_error", "httpx", "is_http_error"]

_HTTP_LIBS = ("httpx", "httpx2")


def is_http_error(exc: BaseException) -> bool:
    """True for the request errors of httpx or httpx2 (both spell them the same)."""
    module = type(exc).__module__
    return module.partition(".")[0] in _HTTP_LIBS and any(
        cls.__name__ == "RequestError" for cls in type(exc).__mro__
    )


def classify_http_error(exc: BaseException) -> type[APIError]:
    """The chainkit error class for an httpx/httpx2 request error."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    if "TimeoutException" in names:
        return APITimeoutError
    if "TransportError" in names:
        return APIConnectionError
    return APIResponseValidationError  # DecodingError, TooManyRedirects: a bad answer
