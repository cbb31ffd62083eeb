"""Profiles travel with their data: `gitml push` uploads the stored profile of every
data object the remote holds after the push (same relative path below the remote's root
as below the cache), and `gitml drift` downloads a missing reference profile from the
default remote before it would read the reference's rows (docs/spec/profile.md).

A profile is derived data that no hash can check against its rows; one from a remote is
parsed strictly and ignored (rebuilt from the data) when it does not parse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitml.errors import GitmlError
from gitml.hashing import Oid
from gitml.tabular.profile import FORMAT, Profile
from gitml.tabular.profile_store import PROFILES_DIR, profile_relpath, save, stored

if TYPE_CHECKING:
    from gitml.remote.store import RemoteStore
    from gitml.workspace import Workspace


def _local_profiles(ws: Workspace) -> dict[Oid, str]:
    """{data id: relpath below the cache} of every stored profile named by an object id."""
    return {found.oid: profile_relpath(str(found.oid)) for found in stored(ws.cache.root)}


def push_profiles(ws: Workspace, store: RemoteStore, on_remote: set[Oid]) -> int:
    """Upload the profiles of data in `on_remote` that the remote lacks; how many."""
    local = {oid: rel for oid, rel in _local_profiles(ws).items() if oid in on_remote}
    if not local:
        return 0
    there = store.list_files(f"{PROFILES_DIR}/v{FORMAT}")
    sent = 0
    for relpath in sorted(set(local.values()) - there):
        store.write_file(relpath, (ws.cache.root / relpath).read_bytes())
        sent += 1
    return sent


def fetch_profile(ws: Workspace, content_id: str) -> Profile | None:
    """The profile of `content_id` from the default remote (stored locally), or None when
    there is no remote, no such profile, or it does not parse."""
    import json

    from gitml.repo import DataRepo

    try:
        store = DataRepo.for_workspace(ws).open_store(None)
        data = store.read_file(profile_relpath(content_id))
    except GitmlError:
        return None
    if data is None:
        return None
    try:
        profile = Profile.from_json(json.loads(data))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    save(ws.cache.root, content_id, profile)
    return profile
