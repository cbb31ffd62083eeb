#!/usr/bin/env python3
"""Build a synthetic gitml repository with a long history, quickly, for measuring `gitml gc`
and `gitml diff` (docs/design.md has the figures).

The history is written with one `git fast-import` stream; the cache objects each pointer
version names (file objects, directory manifests and their files) are written straight
into `.gitml/cache`, so every version is present locally, as after years of `gitml add`.

    python scripts/make_history.py /tmp/hist --commits 2000
    cd /tmp/hist && time gitml gc --dry -q && time gitml gc --dry --all-commits -q
    time gitml diff "$(git rev-list --max-parents=0 HEAD)" HEAD --json > /dev/null

Shape (defaults): 600 tracked outputs (540 files, 60 directories of 20 files) in 60
folders; each main commit changes 2 outputs (a directory change rewrites 2 of its
files); 5 branches of 10 commits each, 3 of them merged back; 10 tags.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
from pathlib import Path

import blake3

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gitml.hashing import Oid
from gitml.manifest import Entry, Manifest
from gitml.pointer import Pointer

GITML_CONFIG = b"# gitml configuration\n"
GITML_IGNORE = b"/config.local\n/cache/\n/tmp/\n/state.db*\n"


class Builder:
    def __init__(self, root: Path, seed: int, files: int, dirs: int, dir_files: int) -> None:
        self.root = root
        self.rng = random.Random(seed)
        self.cache = root / ".gitml" / "cache" / "blake3"
        self.outputs: dict[str, Pointer] = {}
        self.dir_files: dict[str, dict[str, bytes]] = {}
        self.counter = 0
        self.objects = 0
        for i in range(files):
            self.outputs[f"d{i % 60:02d}/out{i:04d}.bin"] = self._file_pointer()
        for i in range(dirs):
            path = f"d{i % 60:02d}/set{i:03d}"
            self.dir_files[path] = {f"part{j:02d}.csv": self._content() for j in range(dir_files)}
            self.outputs[path] = self._dir_pointer(path)

    def _content(self) -> bytes:
        self.counter += 1
        return f"payload {self.counter} {self.rng.random()}\n".encode() * 4

    def _store(self, data: bytes) -> Oid:
        oid = Oid(blake3.blake3(data).hexdigest())
        path = self.cache / oid.hexdigest[:2] / oid.hexdigest[2:]
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            path.chmod(0o444)
            self.objects += 1
        return oid

    def _file_pointer(self) -> Pointer:
        data = self._content()
        return Pointer("file", self._store(data), len(data))

    def _dir_pointer(self, path: str) -> Pointer:
        entries = [
            Entry(name, self._store(data), len(data)) for name, data in self.dir_files[path].items()
        ]
        manifest = Manifest.build(entries)
        oid = self._store(manifest.render())
        return Pointer("dir", oid, manifest.size, nfiles=manifest.nfiles)

    def change(self, count: int) -> list[str]:
        """New versions of `count` random outputs; returns their paths."""
        changed = self.rng.sample(sorted(self.outputs), count)
        for path in changed:
            if path in self.dir_files:
                files = self.dir_files[path]
                for name in self.rng.sample(sorted(files), 2):
                    files[name] = self._content()
                self.outputs[path] = self._dir_pointer(path)
            else:
                self.outputs[path] = self._file_pointer()
        return changed


def _data(payload: bytes) -> bytes:
    return b"data %d\n%s\n" % (len(payload), payload)


def _modify(path: str, payload: bytes) -> bytes:
    return b"M 100644 inline %s\n%s" % (path.encode(), _data(payload))


def build(root: Path, commits: int, branches: int, tags: int, merges: int, seed: int) -> None:
    if root.exists() and any(root.iterdir()):
        raise SystemExit(f"{root} exists and is not empty")
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    builder = Builder(root, seed, files=540, dirs=60, dir_files=20)
    rng = builder.rng
    stream: list[bytes] = []
    when = 1_700_000_000
    mark = 0
    main_marks: list[int] = []

    def commit(ref: str, message: str, parents: list[int], files: list[str], first: bool) -> int:
        nonlocal mark, when
        mark += 1
        when += 60
        lines = [
            b"commit refs/heads/%s\n" % ref.encode(),
            b"mark :%d\n" % mark,
            b"committer Synth <synth@example.com> %d +0000\n" % when,
            _data(message.encode()),
        ]
        if parents:
            lines.append(b"from :%d\n" % parents[0])
            lines += [b"merge :%d\n" % p for p in parents[1:]]
        if first:
            lines.append(_modify(".gitml/config", GITML_CONFIG))
            lines.append(_modify(".gitml/.gitignore", GITML_IGNORE))
            folders = sorted({p.rsplit("/", 1)[0] for p in builder.outputs})
            for folder in folders:
                names = sorted(p.rsplit("/", 1)[1] for p in builder.outputs if p.startswith(folder))
                ignore = "".join(f"/{n}\n" for n in names).encode()
                lines.append(_modify(f"{folder}/.gitignore", ignore))
        for path in files:
            lines.append(_modify(path + ".gitml", builder.outputs[path].render().encode()))
        stream.append(b"".join(lines) + b"\n")
        return mark

    first = commit("main", "initial", [], sorted(builder.outputs), True)
    main_marks.append(first)
    branch_points = sorted(rng.sample(range(10, commits - 20), branches))
    pending_merges: dict[int, int] = {}  # main commit number -> branch tip to merge
    for n in range(1, commits):
        parents = [main_marks[-1]]
        if n in pending_merges:
            parents.append(pending_merges.pop(n))
        main_marks.append(commit("main", f"commit {n}", parents, builder.change(2), False))
        if n in branch_points:
            k = branch_points.index(n) + 1
            tip = main_marks[-1]
            for j in range(10):
                tip = commit(f"branch{k}", f"branch{k} {j}", [tip], builder.change(1), False)
            if k <= merges:
                pending_merges[n + 5] = tip
    for i, at in enumerate(sorted(rng.sample(main_marks, tags))):
        stream.append(b"reset refs/tags/v%d\nfrom :%d\n\n" % (i + 1, at))
    subprocess.run(["git", "fast-import", "--quiet"], input=b"".join(stream), cwd=root, check=True)
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=root, check=True)
    subprocess.run(["git", "gc", "-q"], cwd=root, check=True)
    count = subprocess.run(
        ["git", "rev-list", "--all", "--count"], cwd=root, capture_output=True, text=True
    ).stdout.strip()
    print(
        f"{root}: {count} commits, {len(builder.outputs)} outputs, {builder.objects} cache objects"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dest", type=Path)
    parser.add_argument("--commits", type=int, default=2000)
    parser.add_argument("--branches", type=int, default=5)
    parser.add_argument("--merges", type=int, default=3)
    parser.add_argument("--tags", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    build(args.dest.resolve(), args.commits, args.branches, args.tags, args.merges, args.seed)
    os.sync()


if __name__ == "__main__":
    main()
