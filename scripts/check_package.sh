#!/usr/bin/env bash
# Build gitml's sdist and wheel, and check that the wheel installs and works on its own
# (imported from the wheel, not from the checkout): init, add, status in a scratch repo.
# Called by scripts/test.sh with the venv's python on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"; trap 'rm -rf "$work" build' EXIT
python -m build --outdir "$work/dist" . >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
tar tzf "$work"/dist/gitml-*.tar.gz >"$work/sdist.txt"
grep -q '/gitml/cli/app.py$' "$work/sdist.txt" || { echo "sdist lacks gitml/cli/app.py"; exit 1; }
python -m pip install --quiet --disable-pip-version-check --no-deps --target "$work/site" \
  "$work"/dist/gitml-*.whl
export PYTHONPATH="$work/site"
git init -q "$work/repo"
cd "$work/repo"
python -c 'import gitml, sys; sys.exit(0 if gitml.__file__.startswith(sys.argv[1]) else 1)' "$work/site"
python -m gitml init -q
echo data >data.txt
python -m gitml add -q data.txt
test "$(python -m gitml status)" = "Everything is up to date."
echo "wheel and sdist built; the wheel installs and runs"
