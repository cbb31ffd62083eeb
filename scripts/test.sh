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
# Debian packages the tests need, installed only when missing: headless Chromium checks
# the plots and report pages (tests/browser.py); OpenSSH's sshd serves the SSH remote and
# npm brings Azurite and s3rver (tests/backend_servers.py).
apt_missing=()
command -v chromium >/dev/null 2>&1 || apt_missing+=(chromium)
command -v sshd >/dev/null 2>&1 || [ -x /usr/sbin/sshd ] || apt_missing+=(openssh-server)
command -v npm >/dev/null 2>&1 || apt_missing+=(nodejs npm)
if [ ${#apt_missing[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "== installing ${apt_missing[*]} for the browser and remote tests"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_missing[@]}" >/dev/null
fi
# The Azure Blob emulator and a second S3 server, from npm, into a folder of the checkout.
node_bin=.gitml-test-venvs/node/node_modules/.bin
if [ ! -x "$node_bin/azurite-blob" ] || [ ! -x "$node_bin/s3rver" ]; then
  echo "== installing azurite and s3rver for the remote tests"
  npm install --prefix .gitml-test-venvs/node --no-audit --no-fund --silent azurite@3 s3rver@3
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
