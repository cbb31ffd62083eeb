"""Editing remotes in `.gitml/config` / `.gitml/config.local`: add, remove, set the
default, set or unset one option. The refusals (a duplicate name, a password or a
credential bound for the git-tracked file, an unknown layout) live here, beside the edit,
so every caller gets them; `gitml/cli/remote_cmds.py` only parses and prints.
Comments and layout of the TOML files are kept (tomlkit, through gitml.config.edit_toml).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitml.config import edit_toml
from gitml.errors import ConfigError, RemoteNotConfiguredError, UsageError
from gitml.remote import config as remote_config

if TYPE_CHECKING:
    from gitml.workspace import Workspace


def config_path(ws: Workspace, local: bool) -> Path:
    return Path(ws.gitml_dir) / ("config.local" if local else "config")


def _known(ws: Workspace, name: str) -> bool:
    return any(r.name == name for r in remote_config.all_remotes(ws.config))


def _require(ws: Workspace, name: str) -> None:
    if not _known(ws, name):
        raise RemoteNotConfiguredError(f"remote '{name}' is not configured")


def _remote_tables(document: Any) -> Any:
    import tomlkit

    tables = document.get("remote")
    if tables is None:
        tables = tomlkit.table(is_super_table=True)
        document["remote"] = tables
    return tables


def _set_default(document: Any, name: str | None) -> None:
    import tomlkit

    core = document.get("core")
    if name is None:
        if core is not None and "remote" in core:
            del core["remote"]
            if not core:
                del document["core"]
        return
    if core is None:
        core = tomlkit.table()
        document["core"] = core
    core["remote"] = name


def _refuse_password(url: str, hint: str) -> None:
    if remote_config.url_has_password(url):
        raise ConfigError(
            "the URL contains a password, which must not go into the git-tracked config",
            hint=hint,
        )


def add_remote(ws: Workspace, name: str, url: str, *, default: bool, local: bool) -> str:
    """Add remote NAME; the URL as stored (folders relative to the workspace kept so)."""
    remote_config.check_name(name)
    if _known(ws, name):
        raise ConfigError(
            f"remote '{name}' already exists",
            hint=f"change its URL with 'gitml remote modify {name} url URL'",
        )
    if not local:
        _refuse_password(url, "use --local, or keep credentials in .gitml/config.local")
    stored = remote_config.normalize_url(url, ws.root)

    def edit(document: Any) -> None:
        import tomlkit

        table = tomlkit.table()
        table["url"] = stored
        _remote_tables(document)[name] = table
        if default:
            _set_default(document, name)

    edit_toml(config_path(ws, local), edit)
    return stored


def remove_remote(ws: Workspace, name: str) -> None:
    """Drop NAME from both config files (and as the default); its data stays."""
    _require(ws, name)

    def edit(document: Any) -> None:
        tables = document.get("remote")
        if tables is not None and name in tables:
            del tables[name]
            if not tables:
                del document["remote"]
        core = document.get("core")
        if core is not None and core.get("remote") == name:
            _set_default(document, None)

    for local in (False, True):
        path = config_path(ws, local)
        if path.exists():
            edit_toml(path, edit)


def set_default_remote(ws: Workspace, name: str | None, *, local: bool) -> None:
    """Make NAME the default remote; None clears the default."""
    if name is not None:
        _require(ws, name)
    edit_toml(config_path(ws, local), lambda document: _set_default(document, name))


def modify_remote(
    ws: Workspace, name: str, key: str, value: str | None, *, local: bool, unset: bool
) -> Any:
    """Set KEY of remote NAME to VALUE (typed), or unset it; the value as stored."""
    _require(ws, name)
    if not key.replace("_", "").replace("-", "").isalnum():
        raise UsageError(f"invalid option name {key[:60]!r}")
    if unset == (value is not None):
        raise UsageError("give a VALUE, or --unset without one")
    if unset and key == "url":
        raise UsageError("a remote needs a url; use 'gitml remote remove' to drop it")
    if key == "layout" and value is not None and value not in remote_config.LAYOUTS:
        raise UsageError(f"layout {value[:40]!r}: use 'packed' or 'whole'")
    if not local and not unset:
        if remote_config.is_credential_key(key):
            raise ConfigError(
                f"'{key}' is a credential and must not go into the git-tracked .gitml/config",
                hint=f"use: gitml remote modify --local {name} {key} VALUE",
            )
        if key == "url" and value is not None:
            _refuse_password(value, "use --local")
    parsed: Any = None
    if value is not None:
        parsed = (
            remote_config.normalize_url(value, ws.root)
            if key == "url"
            else remote_config.parse_value(value)
        )

    def edit(document: Any) -> None:
        import tomlkit

        tables = _remote_tables(document)
        table = tables.get(name)
        if table is None:
            if unset:
                return
            table = tomlkit.table()
            tables[name] = table
        if unset:
            if key in table:
                del table[key]
        else:
            table[key] = parsed
        if not tables:
            del document["remote"]

    edit_toml(config_path(ws, local), edit)
    return parsed
