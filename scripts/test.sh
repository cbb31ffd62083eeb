#!/usr/bin/env bash
# Install gitml with its test dependencies into ./.venv and run lint, types and the whole suite.
# Works on a fresh machine with only Python 3.11+ and git. Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test,dask]"
export PATH="$PWD/.venv/bin:$PATH"
# The plots and report pages are checked in headless Chromium (tests/browser.py).
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "== installing chromium for the browser tests"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
# The registry tests run the real GTO from a virtual environment of its own (tests/gto_env.py).
if [ ! -x .gitml-test-venvs/gto/bin/gto ]; then
  echo "== installing gto for the registry interoperability tests"
  "$PYTHON" -m venv .gitml-test-venvs/gto
  .gitml-test-venvs/gto/bin/python -m pip install --quiet --disable-pip-version-check "gto>=1.7,<2"
fi
echo "== ruff"; ruff check gitml tests scripts
echo "== mypy"; mypy
echo "== imports"; lint-imports
echo "== import cycles"; python scripts/check_import_cycles.py
echo "== docs"; site="$(mktemp -d)"; trap 'rm -rf "$site"' EXIT
NO_MKDOCS_2_WARNING=1 mkdocs build --strict --quiet --site-dir "$site"
echo "== package"; scripts/check_package.sh
echo "== pytest"
pytest -n auto -q "$@"
