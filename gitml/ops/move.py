"""`gitml rm` and `gitml mv`: stop tracking, or move an output together with its pointer."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from gitml import fsutil, gitignore
from gitml.errors import PathError
from gitml.ops.add import check_pointers_visible
from gitml.pointer import pointer_path_for
from gitml.scan import sibling_temp
from gitml.workspace import Workspace


def _detach_from_cache(ws: Workspace, path: Path) -> None:
    """Replace links into the cache with private copies, so later edits can't reach it."""
    targets = (
        [path]
        if not path.is_dir() or path.is_symlink()
        else [Path(d) / n for d, _, names in os.walk(path) for n in names]
    )
    for p in targets:
        st = os.lstat(p)
        if os.path.islink(p) or st.st_nlink > 1:
            tmp = sibling_temp(p)
            shutil.copyfile(p, tmp)
            os.chmod(tmp, 0o644)
            os.replace(tmp, p)


def _tracked_relpath(ws: Workspace, user_path: str) -> str:
    relpath = ws.relpath(user_path)
    if relpath.endswith(".gitml") and ws.has_pointer(relpath[: -len(".gitml")]):
        relpath = relpath[: -len(".gitml")]
    if not ws.has_pointer(relpath):
        raise PathError(f"{ws.display(relpath)} is not tracked by gitml")
    ws.read_pointer(relpath)
    return relpath


def remove(ws: Workspace, user_path: str, *, keep_data: bool = True) -> str:
    with ws.locked():
        relpath = _tracked_relpath(ws, user_path)
        path = ws.abspath(relpath)
        if path.exists() or path.is_symlink():
            if keep_data:
                _detach_from_cache(ws, path)
            else:
                fsutil.remove_path(path)
        (ws.root / pointer_path_for(relpath)).unlink()
        gitignore.remove_entry(path.parent, path.name)
        return relpath


def move(ws: Workspace, source: str, destination: str) -> tuple[str, str]:
    with ws.locked():
        src = _tracked_relpath(ws, source)
        dst = ws.relpath(destination)
        dst_path = ws.abspath(dst)
        if dst_path.is_dir() and not dst_path.is_symlink():
            dst = f"{dst}/{Path(src).name}"
            dst_path = ws.abspath(dst)
        if dst_path.exists() or dst_path.is_symlink() or ws.has_pointer(dst):
            raise PathError(f"{ws.display(dst)}: already exists")
        for other in ws.tracked_outputs():
            if dst.startswith(other + "/"):
                raise PathError(f"{ws.display(dst)}: is inside tracked output {ws.display(other)}")
        check_pointers_visible(ws, [dst])
        src_path = ws.abspath(src)
        dst_path.parent.mkdir(parents=True, exist_ok=True)
        pointer_bytes = (ws.root / pointer_path_for(src)).read_bytes()
        if src_path.exists() or src_path.is_symlink():
            if src_path.is_symlink():
                target = os.readlink(src_path)
                os.symlink(target, dst_path)
                os.unlink(src_path)
            else:
                os.replace(src_path, dst_path)
        fsutil.atomic_write_bytes(ws.root / pointer_path_for(dst), pointer_bytes)
        (ws.root / pointer_path_for(src)).unlink()
        gitignore.remove_entry(src_path.parent, src_path.name)
        gitignore.add_entry(dst_path.parent, dst_path.name)
        return src, dst
