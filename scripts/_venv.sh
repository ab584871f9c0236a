# Sourced by the other scripts: create or update .venv with chainkit and the given extras.
# Re-installs only when pyproject.toml changed since the last install (a stamp file), so a
# second run starts in seconds. llama-cpp-python compiles from source on first install
# (about 4 minutes on 2 cores; pip caches the wheel afterwards).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
extras="$1"
py="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "creating .venv with $($py --version)"
  "$py" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
stamp=".venv/.chainkit-installed-$extras"
want="$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "installing chainkit[$extras] into .venv (first run compiles llama.cpp: ~4 min)"
  python -m pip install -q --upgrade pip
  CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" python -m pip install -q -e ".[$extras]"
  echo "$want" > "$stamp"
fi
