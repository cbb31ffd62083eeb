"""Profiles stored once per data version: `<cache>/profiles/v1/<id[:2]>/<id[2:]>.json`,
where id is the hex of the data's content id (the tracked output's id, or the combined id
of the files of a folder inside one). The same data always has the same profile, so a
stored one is never recomputed; a file that does not parse is ignored and rebuilt.
"""

from __future__ import annotations

import json
from pathlib import Path

from gitml.fsutil import atomic_write_bytes
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


def save(cache_root: Path, content_id: str, profile: Profile) -> Path:
    path = cache_root / profile_relpath(content_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, json.dumps(profile.to_json(), separators=(",", ":")).encode())
    return path
