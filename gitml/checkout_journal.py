"""`.gitml/tmp/checkout-journal`: files a checkout creates in place, listed before they
are written (docs/design.md, "Checkout safety").

A checkout killed half-way leaves the journal behind. The next checkout treats listed
files that don't match as its own leftovers rather than user edits; until then `status`,
`add` and `commit` refuse, because a half-written file must never be reported as a user
edit or recorded as the output's new content.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from gitml.errors import InterruptedCheckoutError

JOURNAL_NAME = "checkout-journal"
LOCK_NAME = "lock"


class CheckoutJournal:
    def __init__(self, tmp_dir: Path) -> None:
        self.path = tmp_dir / JOURNAL_NAME
        try:
            self.leftovers = set(self.path.read_text("utf-8").splitlines())
        except (FileNotFoundError, UnicodeDecodeError):
            self.leftovers = set()

    def record(self, relpaths: list[str]) -> None:
        if relpaths:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write("".join(r + "\n" for r in relpaths))

    def finish(self, keep: list[str]) -> None:
        """The checkout completed: forget its files, except `keep` (leftovers of an
        earlier interrupted checkout under outputs this one did not place)."""
        if keep:
            self.path.write_text("".join(r + "\n" for r in sorted(keep)), "utf-8")
        else:
            self.path.unlink(missing_ok=True)

    def leftovers_under(self, outputs: list[str]) -> list[str]:
        return [r for r in self.leftovers if _under_any(r, outputs)]


def _under_any(relpath: str, outputs: list[str]) -> bool:
    return any(relpath == o or relpath.startswith(o + "/") for o in outputs)


def unfinished_paths(tmp_dir: Path, outputs: list[str] | None = None) -> list[str]:
    """Journaled files (under `outputs`, or any) an interrupted checkout may have left torn."""
    leftovers = CheckoutJournal(tmp_dir).leftovers
    if outputs is None:
        return sorted(leftovers)
    return sorted(r for r in leftovers if _under_any(r, outputs))


def refuse_if_interrupted(
    tmp_dir: Path, outputs: list[str] | None = None, *, holding_lock: bool = False
) -> None:
    """Raise while a checkout's journal lists files under `outputs` (default: any).
    `holding_lock`: the caller holds the workspace lock, so no checkout is running."""
    if not unfinished_paths(tmp_dir, outputs):
        return
    if not holding_lock and _lock_held(tmp_dir / LOCK_NAME):
        raise InterruptedCheckoutError(
            "a checkout is running in this workspace; wait for it to finish"
        )
    raise InterruptedCheckoutError(
        "a checkout was interrupted; run 'gitml checkout' to finish",
        hint="files it was writing may be incomplete; they are not your edits",
    )


def _lock_held(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
