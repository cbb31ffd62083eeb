"""`gitml checkout`: make the workspace match the pointer files and gitml.lock.

Never destroys data that exists nowhere else (gitml.restore): a file about to be
overwritten or removed whose content is not in the cache makes the whole checkout refuse
(before any change) unless `force` is given.
"""

from __future__ import annotations

from gitml.outputs import select, workspace_outputs
from gitml.restore import RestoreResult, restore
from gitml.workspace import Workspace

CheckoutResult = RestoreResult


def checkout(
    ws: Workspace, user_paths: list[str] | None = None, *, force: bool = False
) -> CheckoutResult:
    """Every tracked output, or those `user_paths` name (whole outputs, folders holding
    them, or files inside a tracked directory)."""
    with ws.locked():
        rels = [ws.relpath(p) for p in user_paths] if user_paths else None
        chosen = select(workspace_outputs(ws), rels, shown=ws.display)
        return restore(ws, chosen, force=force, everything=not user_paths)
