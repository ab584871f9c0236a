"""Options for the whole test tree.

``--soak`` is declared here, in the tree's root conftest, because pytest reads command-line
options only from the conftest files it loads at startup: one in ``tests/reliability/`` is
not loaded early when the run starts from ``tests/`` or the repository root.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--soak", action="store_true", default=False,
        help="run the reliability suite's load and soak tests at full size (slow); "
             "CHAINKIT_SOAK=1 does the same",
    )
