"""`gitml migrate dvc`: a DVC repository becomes a gitml one, without DVC installed.

Every `dvc.yaml` is copied to `gitml.yaml` beside it byte for byte (same layout: comments
and formatting kept), every `dvc.lock` becomes a `gitml.lock` whose entries hold for the
same content DVC's did, every `.dvc` pointer a `.gitml` pointer, and DVC remotes gitml
remotes (`<url>/gitml`, so DVC's own data beside it is left alone). Content comes from
DVC's cache, from the workspace when its md5 matches, or with `fetch` from the DVC remote;
all of it is verified against DVC's md5. DVC's files are left in place.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitml import git, gitignore
from gitml.dvc_formats import (
    DVC_DIR,
    DVC_LOCK,
    DVC_PIPELINE,
    DVC_SUFFIX,
    DvcObject,
    read_config,
    read_lock,
    read_pointer,
)
from gitml.dvc_objects import DvcDataMissing, DvcRemote, DvcStore, file_md5, import_object
from gitml.errors import GitmlError, PipelineError
from gitml.fsutil import atomic_write_bytes
from gitml.pipeline import LOCK_FILE, PIPELINE_FILE
from gitml.pipeline.lockfile import Lockfile
from gitml.pipeline.model import LockedPath, LockEntry
from gitml.pipeline.spec import parse_pipeline
from gitml.pointer import POINTER_SUFFIX
from gitml.workspace import Workspace

# DVC remote options that mean the same for gitml (other options are reported, not copied).
_OPTIONS = {"endpointurl": "endpoint_url", "profile": "profile", "region": "region"}


@dataclass
class Migration:
    done: list[str] = field(default_factory=list)  # one line per converted file or remote
    warnings: list[str] = field(default_factory=list)
    touched: list[str] = field(default_factory=list)  # files to `git add`


def _listed(root: Path, patterns: list[str]) -> list[str]:
    out = git.run_bytes(
        root, ["ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *patterns]
    )
    names = {os.fsdecode(n) for n in out.split(b"\0") if n}
    return sorted(n for n in names if (root / n).is_file() and not n.startswith(DVC_DIR + "/"))


class _Migrator:
    def __init__(self, ws: Workspace, dry: bool, fetch: bool, say: Callable[[str], None]) -> None:
        self.ws = ws
        self.root = ws.root
        self.dry = dry
        self.say = say
        self.result = Migration()
        self.config = read_config(self.root)
        cache_dir = self.root / DVC_DIR / (self.config.cache_dir or "cache")
        self.store = DvcStore([cache_dir], self._remote() if fetch else None)

    def _remote(self) -> DvcRemote:
        from gitml.remote.config import RemoteConfig
        from gitml.remote.store import open_remote

        name = self.config.default_remote
        if name is None or name not in self.config.remotes:
            raise GitmlError(
                "--fetch needs DVC's default remote (core.remote in .dvc/config); none is set"
            )
        url, options = self._gitml_url_and_options(self.config.remotes[name])
        store = open_remote(RemoteConfig(name, url, options), self.root)
        return DvcRemote(name, store)

    def _gitml_url_and_options(self, dvc: dict[str, str]) -> tuple[str, dict[str, Any]]:
        url = dvc["url"]
        if "://" not in url and not os.path.isabs(url):
            # DVC resolves a relative folder remote against .dvc/, gitml against the root.
            url = posixpath.normpath(posixpath.join(DVC_DIR, url))
        options = {ours: dvc[theirs] for theirs, ours in _OPTIONS.items() if theirs in dvc}
        return url, options

    def note(self, line: str) -> None:
        self.result.done.append(line)
        self.say(line)

    def warn(self, line: str) -> None:
        self.result.warnings.append(line)
        self.say("warning: " + line)

    def write(self, relpath: str, data: bytes) -> None:
        if not self.dry:
            target = self.root / relpath
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(target, data)
        self.result.touched.append(relpath)

    # Content ------------------------------------------------------------------------

    def content(self, obj: DvcObject, relpath: str, cache_it: bool) -> LockedPath | None:
        """The gitml LockedPath of what DVC recorded for `relpath`, or None if unavailable."""
        workspace = self.root / relpath
        if self.dry:
            if self.store.has(obj.md5) or (workspace.exists() and not obj.is_dir):
                return LockedPath(relpath, "0" * 64, 0, 0 if obj.is_dir else None)  # type: ignore[arg-type]
            return None
        try:
            return import_object(
                self.store, self.ws.cache, relpath, obj.md5, obj.legacy, obj.executable
            )
        except DvcDataMissing:
            pass
        if workspace.is_file() and not workspace.is_symlink() and not obj.is_dir:
            if obj.md5 in file_md5(workspace, obj.legacy):
                return self._observed(relpath, cache_it)
        elif workspace.is_dir() and obj.is_dir and not cache_it:
            self.warn(
                f"{relpath}: DVC's listing {obj.md5} is not in its cache; the directory is "
                "recorded as it is in the workspace"
            )
            return self._observed(relpath, cache_it)
        return None

    def _observed(self, relpath: str, cache_it: bool) -> LockedPath | None:
        from gitml.scan import observe, store_observed

        found = observe(relpath, self.root / relpath, self.ws.cache, self.ws.state,
                        self.ws.progress)  # fmt: skip
        if found.kind == "missing":
            return None
        if cache_it:
            store_observed(self.ws, found)
        return LockedPath.from_pointer(relpath, found.pointer())

    # Files ---------------------------------------------------------------------------

    def pointers(self) -> None:
        for file in _listed(self.root, [f"*{DVC_SUFFIX}"]):
            pointer = read_pointer(self.root, file)
            if pointer.imported:
                self.warn(
                    f"{file}: made by 'dvc import'; not converted (use 'gitml get URL PATH', "
                    "then 'gitml add')"
                )
                continue
            for out in pointer.outs:
                relpath = pointer.out_path(out)
                locked = self.content(out, relpath, cache_it=True)
                if locked is None:
                    self.warn(
                        f"{file}: no data for {relpath} in the workspace or DVC's cache; "
                        "not converted (try --fetch)"
                    )
                    continue
                target = relpath + POINTER_SUFFIX
                self.write(target, locked.pointer().render().encode())
                parent, name = posixpath.split(relpath)
                if not self.dry and gitignore.add_entry(self.root / parent, name):
                    self.result.touched.append(posixpath.join(parent, ".gitignore"))
                self.note(f"{target} <- {file}")

    def pipelines(self) -> None:
        for dvc_file in _listed(self.root, [DVC_PIPELINE, f"*/{DVC_PIPELINE}"]):
            folder = posixpath.dirname(dvc_file)
            ours = posixpath.join(folder, PIPELINE_FILE)
            data = (self.root / dvc_file).read_bytes()
            existing = self.root / ours
            if existing.exists() and existing.read_bytes() != data:
                self.warn(f"{ours} exists and differs from {dvc_file}; left as it is")
                continue
            pipeline = parse_pipeline(data, self.root, ours)
            self.write(ours, data)
            self.note(f"{ours} <- {dvc_file}")
            lock_file = posixpath.join(folder, DVC_LOCK)
            if (self.root / lock_file).is_file():
                self.lock(lock_file, posixpath.join(folder, LOCK_FILE), pipeline.stages)

    def lock(self, dvc_lock: str, ours: str, stages: dict[str, Any]) -> None:
        entries: dict[str, LockEntry] = {}
        for name, recorded in read_lock(self.root, dvc_lock).items():
            stage = stages.get(name)
            if stage is None:
                self.warn(f"{dvc_lock}: stage '{name}' is not in the pipeline; dropped")
                continue
            entry = self.entry(stage, recorded, f"{dvc_lock}: stage '{name}'")
            if entry is not None:
                entries[name] = entry
        if not self.dry:
            Lockfile(self.root / ours, entries).save(list(stages))
        self.result.touched.append(ours)
        self.note(f"{ours} <- {dvc_lock} ({len(entries)} of {len(stages)} stages recorded)")

    def entry(self, stage: Any, recorded: Any, where: str) -> LockEntry | None:
        def at(path: str) -> str:
            return posixpath.normpath(posixpath.join(stage.wdir, path))

        deps: list[LockedPath] = []
        outs: list[LockedPath] = []
        for objects, found, cache_it in ((recorded.deps, deps, False), (recorded.outs, outs, True)):
            for obj in objects:
                locked = self.content(obj, at(obj.path), cache_it)
                if locked is None:
                    self.warn(
                        f"{where}: no data for {at(obj.path)} in the workspace or DVC's cache; "
                        "left unrecorded, so 'gitml repro' will run it"
                    )
                    return None
                found.append(locked)
        cmd = recorded.cmd
        return LockEntry(
            cmd=tuple(cmd) if isinstance(cmd, list) else (cmd,),
            cmd_is_list=isinstance(cmd, list),
            wdir=stage.wdir,
            deps=tuple(deps),
            params={at(file): values for file, values in recorded.params.items()},
            outs=tuple(outs),
        )

    def remotes(self) -> None:
        from gitml.remote import config as remote_config

        configured = {r.name for r in remote_config.all_remotes(self.ws.config)}
        for name, options in self.config.remotes.items():
            if name in configured:
                self.warn(f"remote '{name}' already exists in .gitml/config; left as it is")
                continue
            url, ours = self._gitml_url_and_options(options)
            url = url.rstrip("/") + "/gitml"
            skipped = sorted(set(options) - {"url", *_OPTIONS})
            default = name == self.config.default_remote
            if not self.dry:
                self._add_remote(name, url, ours, default)
            self.result.touched.append(".gitml/config")
            self.note(f"remote '{name}' -> {url}" + (" (default)" if default else ""))
            if skipped:
                self.warn(
                    f"remote '{name}': options not copied: {', '.join(skipped)} (set them with "
                    f"'gitml remote modify {name} KEY VALUE --local')"
                )

    def _add_remote(self, name: str, url: str, options: dict[str, Any], default: bool) -> None:
        import tomlkit

        from gitml.config import edit_toml

        def edit(document: Any) -> None:
            tables = document.get("remote")
            if tables is None:
                tables = tomlkit.table(is_super_table=True)
                document["remote"] = tables
            table = tomlkit.table()
            table["url"] = url
            for key, value in options.items():
                table[key] = value
            tables[name] = table
            if default:
                core = document.get("core")
                if core is None:
                    core = tomlkit.table()
                    document["core"] = core
                core["remote"] = name

        edit_toml(self.ws.gitml_dir / "config", edit)

    def dvcignore(self) -> None:
        for file in _listed(self.root, [".dvcignore", "*/.dvcignore"]):
            patterns = [
                line for line in (self.root / file).read_text("utf-8", "replace").splitlines()
                if line.strip() and not line.startswith("#")
            ]  # fmt: skip
            if patterns:
                self.warn(
                    f"{file}: gitml has no ignore file for tracked directories; files that "
                    f"match its {len(patterns)} pattern(s) inside tracked directories will "
                    "show as added (move them out, or add them to .gitignore)"
                )


def migrate(ws: Workspace, *, dry: bool, fetch: bool, say: Callable[[str], None]) -> Migration:
    if not (ws.root / DVC_DIR).is_dir():
        raise PipelineError(f"not a DVC repository: no {DVC_DIR}/ folder in {ws.root}")
    with contextlib.nullcontext() if dry else ws.locked():
        migrator = _Migrator(ws, dry, fetch, say)
        try:
            migrator.remotes()
            migrator.pointers()
            migrator.pipelines()
            migrator.dvcignore()
        finally:
            ws.state.save()
    migrator.result.touched = list(dict.fromkeys(migrator.result.touched))
    return migrator.result
