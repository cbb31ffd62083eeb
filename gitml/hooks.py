"""Installing gitml's git hooks, chained to the hooks a repository already has.

Where: `git rev-parse --git-path hooks` (respects `core.hooksPath`; linked worktrees
share their main repository's hooks).

Chaining: gitml writes each hook as its own small shell script marked with `MARKER`.
A hook that was already there (a user's script, the pre-commit framework's, husky's...)
is renamed to `<name>.pre-gitml` and run first by gitml's script, with the same
arguments and standard input; for `pre-commit` and `pre-push` its failure stops the
commit or push before gitml runs. `uninstall` deletes only scripts that carry the marker
and renames `<name>.pre-gitml` back. Installing again rewrites gitml's scripts (new
interpreter path, --strict on or off) and never touches the saved hooks.

The scripts run `<python> -m gitml.cli.git_hook NAME` with the interpreter that ran
`gitml install`, or `gitml` on PATH when that interpreter is gone.
"""

from __future__ import annotations

import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from gitml import git
from gitml.errors import GitmlError

HOOKS = ("pre-commit", "pre-push", "post-checkout", "post-merge")
MARKER = "# gitml-hook v1"
SAVED_SUFFIX = ".pre-gitml"
SKIP_ENV = "GITML_SKIP_HOOKS"


class HookError(GitmlError):
    """A hook cannot be installed or removed without losing someone's script."""


@dataclass(frozen=True)
class HookChange:
    name: str
    action: str  # installed | updated | unchanged | removed | restored | kept | absent
    detail: str = ""

    def to_json(self) -> dict[str, str]:
        data = {"hook": self.name, "action": self.action}
        if self.detail:
            data["detail"] = self.detail
        return data


def hooks_dir(root: Path) -> Path:
    return git.git_path(root, "hooks")


def is_gitml_hook(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return False
    return MARKER.encode() in head


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def render(name: str, python: str, *, strict: bool = False) -> str:
    """The shell script for hook `name` (runs the saved user hook first, then gitml)."""
    flags = " --strict" if strict and name == "pre-commit" else ""
    # A missing gitml must not let a push go out without its data, nor a strict check pass.
    on_missing = 1 if name == "pre-push" or flags else 0
    lines = [
        "#!/bin/sh",
        f"{MARKER}: installed by 'gitml install'; 'gitml install --uninstall' removes it",
        f"# and puts back the hook it replaced, kept beside it as {name}{SAVED_SUFFIX}.",
        f"# Set {SKIP_ENV}=1 to skip gitml here (git commit/push --no-verify skip all hooks).",
        f"GITML_PYTHON={_quote(python)}",
        "gitml_hook() {",
        f'    if [ "${{{SKIP_ENV}:-}}" = 1 ]; then return 0; fi',
        '    if [ -x "$GITML_PYTHON" ]; then',
        '        "$GITML_PYTHON" -m gitml.cli.git_hook "$@"',
        "    elif command -v gitml >/dev/null 2>&1; then",
        '        gitml git-hook "$@"',
        "    else",
        f'        echo "gitml: not found (neither $GITML_PYTHON nor gitml on PATH);'
        f' the {name} hook did not run" >&2',
        f"        return {on_missing}",
        "    fi",
        "}",
        f'saved="$0{SAVED_SUFFIX}"',
    ]
    call = f'gitml_hook {name}{flags} -- "$@"'
    if name == "pre-push":  # both hooks read the pushed refs from standard input
        lines += [
            "input=$(cat)",
            'if [ -x "$saved" ]; then',
            '    printf \'%s\\n\' "$input" | "$saved" "$@" || exit $?',
            "fi",
            f"printf '%s\\n' \"$input\" | {call}",
        ]
    elif name.startswith("pre-"):
        lines += ['if [ -x "$saved" ]; then', '    "$saved" "$@" || exit $?', "fi", call]
    else:  # post-*: nothing to stop any more; run both, report the first failure
        lines += [
            "status=0",
            'if [ -x "$saved" ]; then',
            '    "$saved" "$@" || status=$?',
            "fi",
            f"{call} || exit $?",
            "exit $status",
        ]
    return "\n".join(lines) + "\n"


def _write_script(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.gitml-tmp")
    tmp.write_text(text)
    os.chmod(tmp, 0o755)
    os.replace(tmp, path)


def install(root: Path, *, strict: bool = False, python: str | None = None) -> list[HookChange]:
    directory = hooks_dir(root)
    directory.mkdir(parents=True, exist_ok=True)
    python = python or sys.executable
    # Check every hook before changing any, so a conflict leaves nothing half done.
    for name in HOOKS:
        path, saved = directory / name, directory / (name + SAVED_SUFFIX)
        if (
            (path.exists() or path.is_symlink())
            and not is_gitml_hook(path)
            and (saved.exists() or saved.is_symlink())
        ):
            raise HookError(
                f"{path} is not gitml's and {saved.name} already exists; "
                "gitml would have nowhere to keep it",
                hint=f"merge or remove one of them, then run 'gitml install' again ({path.parent})",
            )
    changes = []
    for name in HOOKS:
        path, saved = directory / name, directory / (name + SAVED_SUFFIX)
        text = render(name, python, strict=strict)
        if is_gitml_hook(path):
            if path.read_text(errors="replace") == text:
                changes.append(HookChange(name, "unchanged"))
                continue
            _write_script(path, text)
            changes.append(HookChange(name, "updated"))
            continue
        detail = ""
        if path.exists() or path.is_symlink():
            os.rename(path, saved)
            detail = f"existing hook kept as {saved.name} and run first"
        _write_script(path, text)
        changes.append(HookChange(name, "installed", detail))
    return changes


def uninstall(root: Path) -> list[HookChange]:
    directory = hooks_dir(root)
    changes = []
    for name in HOOKS:
        path, saved = directory / name, directory / (name + SAVED_SUFFIX)
        ours = is_gitml_hook(path)
        has_saved = saved.exists() or saved.is_symlink()
        if ours:
            path.unlink()
        if has_saved and not (path.exists() or path.is_symlink()):
            os.rename(saved, path)
            changes.append(HookChange(name, "restored", f"{saved.name} put back as {name}"))
        elif ours:
            changes.append(HookChange(name, "removed"))
        elif has_saved:
            changes.append(
                HookChange(name, "kept", f"{name} is not gitml's; {saved.name} left as it is")
            )
        else:
            changes.append(HookChange(name, "absent"))
    return changes


def installed(root: Path) -> dict[str, bool]:
    """Whether gitml's script is in place (and executable) for each hook."""
    directory = hooks_dir(root)
    result = {}
    for name in HOOKS:
        path = directory / name
        try:
            executable = bool(os.stat(path).st_mode & stat.S_IXUSR)
        except OSError:
            executable = False
        result[name] = executable and is_gitml_hook(path)
    return result
