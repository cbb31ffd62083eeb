"""Filesystem primitives: atomic writes, link types, read-only objects."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import itertools
import os
import shutil
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

from gitml.errors import GitmlError

FICLONE = 0x40049409  # _IOW(0x94, 9, int): Linux reflink ioctl
LINK_TYPES = ("reflink", "hardlink", "symlink", "copy")


class DiskFullError(GitmlError):
    pass


_RUN = os.urandom(6).hex()  # as random as uuid4().hex[:12]; uuid imports platform
_COUNTER = itertools.count()


def temp_name(directory: Path, stem: str = "") -> Path:
    """A name no other process or call uses (pid + per-process random + counter: a uuid4
    per name cost ~10 us, a lot when adding 20,000 small files)."""
    return directory / f".tmp-{stem}{os.getpid()}-{_RUN}-{next(_COUNTER)}"


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


_RENAME_NOREPLACE = 1
_AT_FDCWD = -100
_renameat2: object = None  # the libc function once looked up; False where unavailable


def rename_noreplace(src: str, dst: str) -> bool:
    """Rename src to dst unless dst exists (then False, src untouched), atomically: one
    renameat2(RENAME_NOREPLACE) where the kernel and filesystem have it, else a stat then a
    rename (where two writers of the same content-addressed object can only race to write
    identical bytes)."""
    global _renameat2
    if _renameat2 is None:
        _renameat2 = _load_renameat2()
    if _renameat2 is not False:
        call: Callable[..., int] = _renameat2  # type: ignore[assignment]
        if call(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), _RENAME_NOREPLACE) == 0:
            return True
        err = _ctypes_errno()
        if err == errno.EEXIST:
            return False
        if err not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
            raise OSError(err, os.strerror(err), dst)
        _renameat2 = False
    if os.path.exists(dst):
        return False
    os.replace(src, dst)
    return True


def _load_renameat2() -> object:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.renameat2
    except (OSError, AttributeError):
        return False
    function.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    function.restype = ctypes.c_int
    return function


def _ctypes_errno() -> int:
    import ctypes

    return ctypes.get_errno()


def reflink(src: str | Path, dst: str | Path, mode: int = 0o644) -> None:
    """Clone src to a new file dst (copy-on-write); raises OSError where unsupported."""
    with open(src, "rb") as fin:
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            fcntl.ioctl(fd, FICLONE, fin.fileno())
        except OSError:
            os.close(fd)
            os.unlink(dst)
            raise
        os.close(fd)


def copy_file(src: str | Path, dst: str | Path, mode: int = 0o644) -> None:
    """Copy into a new file with few syscalls: in-kernel copy_file_range, else sendfile."""
    with translate_disk_full(str(dst)):
        fin = os.open(src, os.O_RDONLY)
        try:
            fout = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
            try:
                _copy_fd(fin, fout, os.fstat(fin).st_size)
            except BaseException:
                # dst is ours (O_EXCL): never leave a partial copy behind (disk full, ^C).
                os.close(fout)
                with contextlib.suppress(OSError):
                    os.unlink(dst)
                raise
            os.close(fout)
        finally:
            os.close(fin)


def _copy_fd(fin: int, fout: int, remaining: int) -> None:
    offset = 0
    try:
        while remaining > 0:
            n = os.copy_file_range(fin, fout, min(remaining, 1 << 30), offset, offset)
            if n == 0:
                break
            offset += n
            remaining -= n
        if remaining <= 0:
            return
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL):
            raise
    while remaining > 0:
        n = os.sendfile(fout, fin, offset, min(remaining, 1 << 30))
        if n == 0:
            raise OSError(errno.EIO, "source file shrank while copying")
        offset += n
        remaining -= n


_UNSUPPORTED = (
    errno.EOPNOTSUPP,
    errno.ENOTSUP,
    errno.EXDEV,
    errno.EINVAL,
    errno.ENOTTY,
    errno.EPERM,
    errno.EMLINK,
)


class Linker:
    """Tries link types in order and remembers which ones this filesystem refused, so a
    failing reflink probe is paid once per command, not once per file."""

    def __init__(self, link_types: tuple[str, ...]) -> None:
        self.link_types = link_types
        self.may_link = "hardlink" in link_types or "symlink" in link_types
        self._refused: set[str] = set()

    def candidates(self) -> list[str]:
        usable = [t for t in self.link_types if t not in self._refused]
        return usable or [self.link_types[-1]]

    def refused(self, link_type: str, exc: OSError) -> bool:
        """Record a failure; True if the next link type should be tried."""
        if exc.errno in _UNSUPPORTED and link_type != self.link_types[-1]:
            self._refused.add(link_type)
            return True
        return False

    def place(
        self, src: str | Path, dst: str | Path, mode: int = 0o644, *, links_ok: bool = True
    ) -> str:
        """Create dst from src with the first link type that works; returns it.

        `links_ok=False`: dst needs its own inode and mode (no hardlink or symlink)."""
        candidates = self.candidates()
        if not links_ok:
            candidates = [t for t in candidates if t == "reflink"] + ["copy"]
        for link_type in candidates:
            try:
                link_or_copy(src, dst, link_type, mode)
                return link_type
            except OSError as exc:
                last = link_type == candidates[-1]
                if last or not (self.refused(link_type, exc) or exc.errno in _UNSUPPORTED):
                    raise
        raise OSError(errno.EOPNOTSUPP, f"no link type of {self.link_types} works", str(dst))


def link_or_copy(src: str | Path, dst: str | Path, link_type: str, mode: int = 0o644) -> None:
    """Materialise cache object `src` at new path `dst` with one link type.

    `mode` applies to the new inode of a copy or reflink; links share the object's.
    """
    if link_type == "reflink":
        reflink(src, dst, mode)
    elif link_type == "hardlink":
        os.link(src, dst)
    elif link_type == "symlink":
        os.symlink(src, dst)
    elif link_type == "copy":
        copy_file(src, dst, mode)
    else:  # pragma: no cover - validated by config
        raise ValueError(link_type)


def make_readonly(path: str | Path) -> None:
    mode = os.stat(path).st_mode
    os.chmod(path, stat.S_IMODE(mode) & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def make_writable(path: Path) -> None:
    mode = os.lstat(path).st_mode
    if not stat.S_ISLNK(mode):
        os.chmod(path, stat.S_IMODE(mode) | stat.S_IWUSR)


def set_executable(path: str | Path, executable: bool) -> None:
    mode = stat.S_IMODE(os.stat(path).st_mode)
    new = mode | 0o111 if executable else mode & ~0o111
    if new != mode:
        os.chmod(path, new)


def remove_path(path: str | Path) -> None:
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
