"""Profiles stored once per data version: `<cache>/profiles/v1/<id[:2]>/<id[2:]>.json`,
where id is the hex of the data's content id (the tracked output's id, or the combined id
of the files of a folder inside one; then `<id[2:]>.owner` beside it holds the tracked
directory's id, so gc keeps the profile exactly as long as that directory). The same data
always has the same profile, so a stored one is never recomputed; a file that does not
parse is ignored and rebuilt.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gitml.errors import GitmlError
from gitml.fsutil import atomic_write_bytes
from gitml.hashing import Oid
from gitml.tabular.profile import FORMAT, Profile

PROFILES_DIR = "profiles"


def profile_relpath(content_id: str) -> str:
    hexdigest = content_id.rpartition(":")[2]
    return f"{PROFILES_DIR}/v{FORMAT}/{hexdigest[:2]}/{hexdigest[2:]}.json"


def load(cache_root: Path, content_id: str) -> Profile | None:
    path = cache_root / profile_relpath(content_id)
    try:
        return Profile.from_json(json.loads(path.read_bytes()))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # unreadable or not a profile: rebuilt and replaced


def save(cache_root: Path, content_id: str, profile: Profile, owner: str | None = None) -> Path:
    path = cache_root / profile_relpath(content_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    if owner is not None:  # written first: a profile is never without its owner
        atomic_write_bytes(path.with_suffix(OWNER_SUFFIX), owner.encode())
    atomic_write_bytes(path, json.dumps(profile.to_json(), separators=(",", ":")).encode())
    return path


OWNER_SUFFIX = ".owner"


@dataclass(frozen=True)
class Stored:
    """A stored profile: the data's id, the tracked output that holds it (the same id,
    or the directory a folder's combined id lies in; None when unknown), its files."""

    oid: Oid
    owner: Oid | None
    files: tuple[Path, ...]

    @property
    def size(self) -> int:
        total = 0
        for path in self.files:
            try:
                total += os.stat(path).st_size
            except FileNotFoundError:
                continue
        return total


def stored(cache_root: Path) -> Iterator[Stored]:
    """Every profile stored in the cache (files that name no id are skipped)."""
    base = cache_root / PROFILES_DIR / f"v{FORMAT}"
    if not base.is_dir():
        return
    for shard in os.scandir(base):
        if len(shard.name) != 2 or not shard.is_dir():
            continue
        for entry in os.scandir(shard.path):
            if not entry.name.endswith(".json"):
                continue
            try:
                oid = Oid.from_hex(shard.name + entry.name.removesuffix(".json"))
            except GitmlError:
                continue
            path = Path(entry.path)
            owner_file = path.with_suffix(OWNER_SUFFIX)
            owner: Oid | None = oid
            files: tuple[Path, ...] = (path,)
            if owner_file.exists():
                files = (path, owner_file)
                try:
                    owner = Oid.parse(owner_file.read_text().strip())
                except (GitmlError, OSError, UnicodeDecodeError):
                    owner = None
            yield Stored(oid, owner, files)
