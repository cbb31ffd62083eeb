"""Filesystem primitives: atomic writes, link types, read-only objects."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

from gitml.errors import GitmlError

FICLONE = 0x40049409  # _IOW(0x94, 9, int): Linux reflink ioctl
LINK_TYPES = ("reflink", "hardlink", "symlink", "copy")


class DiskFullError(GitmlError):
    pass


def temp_name(directory: Path, stem: str = "") -> Path:
    return directory / f".tmp-{stem}{uuid.uuid4().hex}"


@contextlib.contextmanager
def translate_disk_full(what: str) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskFullError(f"no space left on device while writing {what}") from exc
        raise


def atomic_write_bytes(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write to a temporary sibling, fsync, and rename over `path`."""
    # Only a prefix of the name: the full name plus a suffix could exceed NAME_MAX.
    tmp = temp_name(path.parent, path.name[:40] + ".")
    try:
        with translate_disk_full(str(path)):
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644 if mode is None else mode)
            try:
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
            finally:
                os.close(fd)
            os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def reflink(src: Path, dst: Path) -> None:
    """Clone src to a new file dst (copy-on-write); raises OSError where unsupported."""
    with open(src, "rb") as fin:
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            fcntl.ioctl(fd, FICLONE, fin.fileno())
        except OSError:
            os.close(fd)
            os.unlink(dst)
            raise
        os.close(fd)


def copy_file(src: Path, dst: Path) -> None:
    with translate_disk_full(str(dst)):
        shutil.copyfile(src, dst)


def link_or_copy(src: Path, dst: Path, link_type: str) -> None:
    """Materialise cache object `src` at new path `dst` with one link type."""
    if link_type == "reflink":
        reflink(src, dst)
    elif link_type == "hardlink":
        os.link(src, dst)
    elif link_type == "symlink":
        os.symlink(src, dst)
    elif link_type == "copy":
        copy_file(src, dst)
        os.chmod(dst, 0o644)
    else:  # pragma: no cover - validated by config
        raise ValueError(link_type)


def make_readonly(path: Path) -> None:
    mode = os.stat(path).st_mode
    os.chmod(path, stat.S_IMODE(mode) & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def make_writable(path: Path) -> None:
    mode = os.lstat(path).st_mode
    if not stat.S_ISLNK(mode):
        os.chmod(path, stat.S_IMODE(mode) | stat.S_IWUSR)


def set_executable(path: Path, executable: bool) -> None:
    mode = stat.S_IMODE(os.stat(path).st_mode)
    new = mode | 0o111 if executable else mode & ~0o111
    if new != mode:
        os.chmod(path, new)


def remove_path(path: Path) -> None:
    """Remove a file, symlink or directory tree; read-only bits do not stop it."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):

        def onerror(func, p, _exc):  # type: ignore[no-untyped-def]
            os.chmod(os.path.dirname(p), 0o755)
            func(p)

        shutil.rmtree(path, onerror=onerror)
    else:
        os.unlink(path)
