"""The reliability suite's guards and fixtures.

Every test in this directory runs:

- with warnings as errors (a never-awaited coroutine, an unclosed resource, ...);
- with no asyncio error logged on any event loop ("Task was destroyed but it is pending!",
  "Task exception was never retrieved"): the test fails if one is;
- under ``blockbuster``, which fails a test whose code under ``chainkit/`` makes a blocking
  call (``time.sleep``, a blocking socket or file read, a contended lock...) inside a running
  event loop.

``--soak`` (declared in ``tests/conftest.py``) or ``CHAINKIT_SOAK=1`` runs the full sizes of
the load and soak tests; the default sizes keep the suite to a few minutes on two cores.
"""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from blockbuster import BlockBuster, blockbuster_ctx

from tests.reliability.fault_server import FaultServer

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # This hook sees every collected item: mark only this directory's.
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.filterwarnings("error"))


def soak_enabled(config: pytest.Config) -> bool:
    """True with ``--soak`` or ``CHAINKIT_SOAK=1``."""
    try:
        flag = bool(config.getoption("--soak"))
    except ValueError:  # option not registered (this conftest was not an initial one)
        flag = False
    return flag or os.environ.get("CHAINKIT_SOAK") == "1"


@pytest.fixture
def soak(request: pytest.FixtureRequest) -> bool:
    return soak_enabled(request.config)


class _AsyncioErrors(logging.Handler):
    """Collects what event loops report through the ``asyncio`` logger at ERROR."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def _reliability_guards() -> Iterator[BlockBuster]:
    errors = _AsyncioErrors()
    asyncio_logger = logging.getLogger("asyncio")
    asyncio_logger.addHandler(errors)
    try:
        with blockbuster_ctx(scanned_modules=["chainkit"]) as bb:
            yield bb
        # Finalizers of abandoned coroutines and generators run here, inside the test's
        # warnings filter, so "never awaited" and unraisable errors fail this test.
        gc.collect()
    finally:
        asyncio_logger.removeHandler(errors)
    messages = [r.getMessage() for r in errors.records]
    assert not messages, f"event loop errors during the test: {messages}"


@pytest.fixture
def server() -> Iterator[FaultServer]:
    """A fault server for one test; at the end no client connection may remain open."""
    with FaultServer() as srv:
        yield srv
        left = srv.wait_closed(2.0)
        assert left == 0, f"{left} client connection(s) still open after the test"
        assert srv.unplanned == 0, f"{srv.unplanned} request(s) beyond the test's plan"


def pool_active(model: Any) -> int:
    """Requests checked out of the model's pooled HTTP clients and not given back."""
    t = model._transport
    holder = getattr(t, "clients", t)  # the transport, or its ClientPool
    clients = [holder._client, *(entry[0] for entry in holder._aclients.values())]
    count = 0
    for client in clients:
        pool = getattr(getattr(client, "_transport", None), "_pool", None)
        if pool is not None:
            count += len(getattr(pool, "_requests", ()))
    return count
