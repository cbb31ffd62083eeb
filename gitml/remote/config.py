"""Remote settings: `[remote.NAME]` tables in `.gitml/config` and `.gitml/config.local`.

Which remote a command uses, highest precedence first: the command-line flag (`-r NAME`),
the environment (`GITML_REMOTE`), `core.remote` in `.gitml/config.local`, then in
`.gitml/config`. A remote's options merge key by key with the same order: for S3 the
standard AWS variables (`AWS_ENDPOINT_URL`, `AWS_PROFILE`, `AWS_REGION`,
`AWS_ACCESS_KEY_ID`, ...) beat the configured `endpoint_url`, `profile`, `region` and
keys, then `config.local` beats `config`. Credentials may only live in `config.local`.

Pure: no fsspec here (`remote list` must stay fast).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gitml.config import Config
from gitml.errors import ConfigError, RemoteNotConfiguredError

ENV_REMOTE = "GITML_REMOTE"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

# Storage-option names that hold secrets (fsspec/s3fs/gcsfs/adlfs/sshfs spellings).
CREDENTIAL_KEYS = frozenset(
    {
        "key",
        "secret",
        "token",
        "password",
        "passphrase",
        "access_key",
        "access_key_id",
        "secret_key",
        "secret_access_key",
        "session_token",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "account_key",
        "sas_token",
        "connection_string",
        "client_secret",
        "credentials",
        "private_key",
    }
)
_CREDENTIAL_PARTS = ("secret", "password", "passwd", "token", "credential", "private_key")

# Options gitml reads itself; every other option goes to the fsspec filesystem.
# layout: "packed" (format 2: small objects in packs, large files in chunks) or "whole"
# (every object a loose file at objects/..., which other tools can read by URL).
LAYOUTS = ("packed", "whole")
GITML_KEYS = frozenset({"layout"})


def is_credential_key(key: str) -> bool:
    lowered = key.lower()
    return lowered in CREDENTIAL_KEYS or any(part in lowered for part in _CREDENTIAL_PARTS)


def url_has_password(url: str) -> bool:
    if "://" not in url:
        return False
    try:
        return urlsplit(url).password is not None
    except ValueError:
        return False


def check_name(name: str) -> str:
    if not _NAME_RE.match(name):
        raise ConfigError(
            f"invalid remote name {name[:70]!r} (use letters, digits, '.', '_' and '-')"
        )
    return name


def is_local_url(url: str) -> bool:
    return "://" not in url or url.startswith("file://")


@dataclass(frozen=True)
class RemoteConfig:
    name: str
    url: str
    options: dict[str, Any] = field(default_factory=dict)
    is_default: bool = False

    @property
    def protocol(self) -> str:
        if "://" not in self.url:
            return "file"
        return self.url.split("://", 1)[0].lower()

    @property
    def fs_options(self) -> dict[str, Any]:
        """The options for the fsspec filesystem (gitml's own keys removed)."""
        return {k: v for k, v in self.options.items() if k not in GITML_KEYS}

    @property
    def layout(self) -> str:
        value = self.options.get("layout", "packed")
        if value not in LAYOUTS:
            raise ConfigError(
                f"remote.{self.name}.layout is {value!r}; use 'packed' or 'whole'",
                hint=f"gitml remote modify {self.name} layout whole",
            )
        return str(value)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: malformed TOML: {exc}") from None


def _remote_tables(data: Mapping[str, Any], where: str) -> dict[str, dict[str, Any]]:
    section = data.get("remote", {})
    if not isinstance(section, dict):
        raise ConfigError(f"{where}: [remote] must be a table of [remote.NAME] tables")
    for name, table in section.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: remote.{name} must be a table")
    return section


def check_tracked_config(gitml_dir: Path) -> None:
    """Refuse credentials found in the git-tracked `.gitml/config`."""
    path = gitml_dir / "config"
    for name, table in _remote_tables(_read_toml(path), str(path)).items():
        for key, value in table.items():
            if key != "url" and is_credential_key(key):
                raise ConfigError(
                    f"{path}: remote.{name}.{key} is a credential and must not be in the "
                    "git-tracked config",
                    hint=f"move it to .gitml/config.local: gitml remote modify --local {name} "
                    f"{key} VALUE",
                )
            if key == "url" and isinstance(value, str) and url_has_password(value):
                raise ConfigError(
                    f"{path}: remote.{name}.url contains a password; keep credentials in "
                    ".gitml/config.local"
                )


def default_name(config: Config, env: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if env is None else env
    if env.get(ENV_REMOTE):
        return env[ENV_REMOTE]
    value = config.section("core").get("remote")
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{config.source}: core.remote must be a string")
    return value or None


def all_remotes(config: Config, env: Mapping[str, str] | None = None) -> list[RemoteConfig]:
    tables = _remote_tables(config.data, config.source)
    default = default_name(config, env)
    remotes = []
    for name, table in sorted(tables.items()):
        url = table.get("url")
        if not isinstance(url, str) or not url:
            raise ConfigError(f"{config.source}: remote.{name} has no url")
        options = {k: v for k, v in table.items() if k != "url"}
        remotes.append(RemoteConfig(name, url, options, name == default))
    return remotes


def resolve(
    config: Config,
    gitml_dir: Path,
    name: str | None = None,
    env: Mapping[str, str] | None = None,
) -> RemoteConfig:
    """The remote a command should use: `name`, or the default one."""
    remotes = {r.name: r for r in all_remotes(config, env)}
    if name is None:
        name = default_name(config, env)
        if name is None:
            if not remotes:
                raise RemoteNotConfiguredError(
                    "no remote configured",
                    hint="add one with 'gitml remote add -d NAME URL'",
                )
            raise RemoteNotConfiguredError(
                "no default remote; name one with -r NAME",
                hint=f"or set a default: gitml remote default {sorted(remotes)[0]}",
            )
    remote = remotes.get(name)
    if remote is None:
        known = ", ".join(sorted(remotes)) or "none"
        raise RemoteNotConfiguredError(f"remote '{name}' is not configured (known: {known})")
    check_tracked_config(gitml_dir)
    return remote


def parse_value(text: str) -> Any:
    """`remote modify` values: true/false become booleans, plain integers become ints."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if text.isdigit() and text.isascii() and (text == "0" or not text.startswith("0")):
        return int(text)
    return text


def normalize_url(url: str, workspace_root: Path, cwd: Path | None = None) -> str:
    """A relative folder path is stored relative to the workspace root."""
    if "://" in url:
        return url.rstrip("/") if url.count("/") > 3 else url
    path = Path(os.path.abspath((cwd or Path.cwd()) / Path(url).expanduser()))
    if Path(url).expanduser().is_absolute():
        return path.as_posix()
    return Path(os.path.relpath(path, workspace_root)).as_posix()
