"""FastCDC cut points of a file, found by several threads at once, identical to one
sequential cut (docs/spec/remote.md fixes the parameters; docs/design.md "First big push").

pyfastcdc releases the GIL while it looks for a cut, so windows of the file cut in
parallel. A window that starts at an arbitrary offset cuts wrongly at first, but FastCDC
depends only on where the current chunk starts: once a cut of the previous window lands on
a cut point this window also found, both agree from there on. `cut_points` keeps the
previous window's cuts up to that shared point and this window's after it. A window's cuts
near its end are not trusted (the buffer end may have forced them): only chunks that
start at least `max_size` before the window's end count, unless the window ends the file.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

WINDOW = 16 * 1024 * 1024  # bytes one thread cuts (plus OVERLAP)
OVERLAP = 8 * 1024 * 1024  # how far past its window a cut may look for the next one's

Map = Callable[[Callable[[int], list[int]], Sequence[int]], list[list[int]]]


def chunker(avg: int) -> Any:
    from pyfastcdc import FastCDC

    return FastCDC(avg, min_size=avg // 4, max_size=avg * 4)


@contextmanager
def mapped(fd: int, start: int, end: int) -> Iterator[memoryview]:
    """Bytes [start, end) of an open file, mapped (no copy; unmapped on exit, so the pages
    leave the process's RSS). `start` need not be aligned."""
    if end <= start:
        yield memoryview(b"")
        return
    base = start - start % mmap.ALLOCATIONGRANULARITY
    region = mmap.mmap(fd, end - base, offset=base, access=mmap.ACCESS_READ)
    whole = memoryview(region)
    view = whole[start - base :]
    try:
        yield view
    finally:
        view.release()
        whole.release()
        region.close()


def _cuts(fd: int, avg: int, start: int, end: int, size: int) -> list[int]:
    """Cut points (absolute end offsets) of chunks cut from `start` within [start, end),
    keeping only those the window's end cannot have forced."""
    cdc = chunker(avg)
    limit = size if end >= size else end - cdc.max_size
    points: list[int] = []
    with mapped(fd, start, end) as view:
        pieces = cdc.cut_buf(view)
        pos = start
        piece = None
        for piece in pieces:
            if pos > limit:
                break
            pos = start + piece.offset + piece.length
            points.append(pos)
        del pieces, piece  # they hold the mapping's buffer
    return points


def cut_points(path: str, size: int, avg: int, parallel: Map) -> list[int]:
    """The end offset of every chunk of the file, in order (the last is `size`), as a
    single FastCDC pass from offset 0 would cut it. `parallel(fn, starts)` maps `fn` over
    window starts (a thread pool's map)."""
    if size == 0:
        return []
    fd = os.open(path, os.O_RDONLY)
    try:
        starts = list(range(0, size, WINDOW))
        found = parallel(lambda s: _cuts(fd, avg, s, min(size, s + WINDOW + OVERLAP), size), starts)
        points = found[0]
        for start, theirs in zip(starts[1:], found[1:], strict=True):
            points = _stitch(fd, avg, size, points, start, theirs)
        return points
    finally:
        os.close(fd)


def _stitch(
    fd: int, avg: int, size: int, ours: list[int], start: int, theirs: list[int]
) -> list[int]:
    """`ours` (true cuts) continued by the next window's cuts `theirs` (cut from `start`)
    from the first cut point both share. Without one within the overlap (rare), ours is
    cut on, one window at a time, until it meets theirs or passes them."""
    shared = set(theirs)
    while True:
        for i, point in enumerate(ours):
            if point > start and point in shared:
                return ours[: i + 1] + theirs[theirs.index(point) + 1 :]
        last = ours[-1] if ours else 0
        if last >= size or last >= (theirs[-1] if theirs else start):
            return ours  # all true; the next window's stitch carries on from here
        ours = ours + _cuts(fd, avg, last, min(size, max(last, start) + WINDOW + OVERLAP), size)
