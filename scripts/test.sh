#!/usr/bin/env bash
# Set up .venv with the dev extras, then lint, type-check and run the whole test suite
# (unit, conformance, integration against real llama.cpp). Extra args go to pytest.
source "$(dirname "$0")/_venv.sh" dev
echo "== ruff";   ruff check chainkit tests benchmarks
echo "== mypy";   mypy
echo "== pytest"; python -m pytest "$@"
