"""Checks shared by the CLI tests: what a careful user would look at after each command."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import blake3

from tests.conftest import Result, git


def b3(data: bytes) -> str:
    return "blake3:" + blake3.blake3(data).hexdigest()


def cache_dir(repo: Path) -> Path:
    return repo / ".gitml" / "cache"


def object_path(repo: Path, oid: str) -> Path:
    hexdigest = oid.removeprefix("blake3:")
    return cache_dir(repo) / "blake3" / hexdigest[:2] / hexdigest[2:]


def verify_cache(repo: Path) -> dict[str, Path]:
    """Every object in the cache hashes to its name and is read-only; returns them by id."""
    objects: dict[str, Path] = {}
    base = cache_dir(repo) / "blake3"
    if not base.exists():
        return objects
    for shard in base.iterdir():
        assert shard.is_dir() and len(shard.name) == 2, f"stray entry {shard}"
        for obj in shard.iterdir():
            assert len(obj.name) == 62, f"stray entry {obj}"
            st = os.lstat(obj)
            assert stat.S_ISREG(st.st_mode), f"{obj} is not a regular file"
            assert st.st_mode & 0o222 == 0, f"{obj} is writable"
            actual = blake3.blake3(obj.read_bytes()).hexdigest()
            assert actual == shard.name + obj.name, f"corrupt cache object {obj}"
            objects["blake3:" + actual] = obj
    return objects


def pointer_fields(pointer_file: Path) -> dict[str, str]:
    fields = {}
    for line in pointer_file.read_text().splitlines():
        key, _, value = line.partition(": ")
        fields[key] = value
    return fields


def file_pointer(data: bytes, executable: bool = False) -> str:
    text = f"gitml-pointer: 1\nkind: file\noid: {b3(data)}\nsize: {len(data)}\n"
    return text + ("executable: true\n" if executable else "")


def manifest_bytes(files: dict[str, bytes], executable: frozenset[str] = frozenset()) -> bytes:
    lines = [b"gitml-manifest 1\n"]
    for name in sorted(files, key=lambda n: n.encode()):
        flag = "x" if name in executable else "-"
        lines.append(f"{b3(files[name])} {len(files[name])} {flag} {name}\n".encode())
    return b"".join(lines)


def dir_pointer(files: dict[str, bytes], executable: frozenset[str] = frozenset()) -> str:
    manifest = manifest_bytes(files, executable)
    size = sum(len(v) for v in files.values())
    return f"gitml-pointer: 1\nkind: dir\noid: {b3(manifest)}\nsize: {size}\nnfiles: {len(files)}\n"


def write_object(repo: Path, data: bytes) -> str:
    """Put bytes into the cache by hand, as a hostile or foreign writer could."""
    oid = b3(data)
    path = object_path(repo, oid)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(0o444)
    return oid


def read_tree(top: Path) -> dict[str, bytes]:
    """All regular files under `top`, by '/'-relative path."""
    found = {}
    for dirpath, _dirs, names in os.walk(top):
        for name in names:
            p = Path(dirpath) / name
            found[p.relative_to(top).as_posix()] = p.read_bytes()
    return found


def porcelain(repo: Path) -> set[str]:
    """`git status --porcelain` paths (untracked files listed one by one)."""
    out = git("status", "--porcelain", "--untracked-files=all", "-z", cwd=repo)
    return {entry[3:] for entry in out.split("\0") if entry}


def assert_user_error(result: Result, *needles: str) -> str:
    """Exit 1, one `gitml: error:` line (optionally followed by `hint:` lines), no traceback."""
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    errors = [line for line in lines if line.startswith("gitml: error: ")]
    assert len(errors) == 1, result.stderr
    assert all(line.startswith(("gitml: ", "hint: ")) for line in lines), result.stderr
    for needle in needles:
        assert needle in errors[0], (needle, result.stderr)
    return errors[0]
