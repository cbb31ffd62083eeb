#!/usr/bin/env bash
# gitml's main job end to end, with no cloud account: track a dataset and a model,
# commit, push to a local-folder remote, clone elsewhere, pull, and check the bytes.
set -euo pipefail
repo_dir="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
if [ ! -x "$repo_dir/.venv/bin/gitml" ]; then
  echo "== installing gitml into $repo_dir/.venv"
  "$PYTHON" -m venv "$repo_dir/.venv"
  "$repo_dir/.venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$repo_dir"
fi
export PATH="$repo_dir/.venv/bin:$PATH"
work="$(mktemp -d "${TMPDIR:-/tmp}/gitml-demo.XXXXXX")"
echo "== working in $work"
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

mkdir "$work/project" && cd "$work/project"
git init -q -b main && git config user.email demo@example.com && git config user.name "gitml demo"
step gitml init
"$PYTHON" - <<'PY'
import os, random
rng = random.Random(42)
os.makedirs("data/images", exist_ok=True)
with open("data/train.csv", "w") as f:
    f.write("x,y\n" + "".join(f"{rng.random():.6f},{rng.random():.6f}\n" for _ in range(50_000)))
for i in range(200):
    with open(f"data/images/img{i:03}.bin", "wb") as f:
        f.write(rng.randbytes(4096))
with open("model.bin", "wb") as f:
    f.write(rng.randbytes(16 * 1024 * 1024))
PY
step gitml add data model.bin
step git add data.gitml model.bin.gitml .gitignore .gitml
step git commit -q -m "Track data and model with gitml"
step gitml remote add -d storage "$work/remote"
step git commit -q -am "Add a gitml remote"
step gitml push
step gitml status --remote

echo; echo "== a teammate clones the repository and pulls the data"
step git clone -q "$work/project" "$work/clone"
cd "$work/clone"
step gitml pull
step diff -r "$work/project/data" "$work/clone/data"
step cmp "$work/project/model.bin" "$work/clone/model.bin"
step gitml status
echo; echo "Demo OK: the clone has byte-identical data and model ($work)."
