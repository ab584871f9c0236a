#!/usr/bin/env bash
# Set up .venv with the dev extras, then lint, type-check and run the whole test suite
# (unit, conformance, integration against real llama.cpp). Extra args go to pytest.
source "$(dirname "$0")/_venv.sh" dev
# The trace viewer's browser test drives Debian's Chromium through chromedriver.
if [ ! -x /usr/bin/chromedriver ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "installing chromium + chromium-driver for the viewer's browser test"
  apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null
fi
echo "== ruff";   ruff check chainkit tests benchmarks
echo "== mypy";   mypy
echo "== pytest"; python -m pytest "$@"
