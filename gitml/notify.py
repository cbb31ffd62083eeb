"""Alerts without a server: `[notify.NAME]` sections of `.gitml/config` get a gate's JSON
report when it fails.

    [notify.slack]
    url = "https://hooks.slack.com/services/..."   # POSTed as application/json
    timeout = 10                                   # seconds (default 10)

    [notify.mail]
    command = "mail -s 'gitml gate failed' team@example.com"   # report on stdin

A notifier that cannot be reached, or a command that fails, gives a warning; it never
changes the gate's exit code. URLs with credentials belong in `.gitml/config.local`.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from gitml.config import Config
from gitml.errors import ConfigError

DEFAULT_TIMEOUT = 10.0


def notifiers(config: Config) -> dict[str, dict[str, Any]]:
    section = config.section("notify")
    found: dict[str, dict[str, Any]] = {}
    for name, entry in section.items():
        if not isinstance(entry, dict) or not (
            isinstance(entry.get("url"), str) or isinstance(entry.get("command"), str)
        ):
            raise ConfigError(f"[notify.{name}] in .gitml/config needs url = ... or command = ...")
        found[name] = entry
    return found


def notify(config: Config, report: dict[str, Any], *, cwd: Path) -> list[str]:
    """Send `report` everywhere configured; the warnings of those that failed."""
    body = json.dumps(report, indent=2, default=str).encode()
    warnings = []
    for name, entry in notifiers(config).items():
        timeout = float(entry.get("timeout", DEFAULT_TIMEOUT))
        try:
            if isinstance(entry.get("command"), str):
                _run_command(entry["command"], body, cwd, timeout)
            else:
                _post(entry["url"], body, timeout)
        except _SendError as exc:
            warnings.append(f"notify.{name}: {exc}")
    return warnings


class _SendError(Exception):
    pass


def _run_command(command: str, body: bytes, cwd: Path, timeout: float) -> None:
    try:
        result = subprocess.run(
            command, shell=True, input=body, cwd=cwd, capture_output=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        raise _SendError(f"command did not finish in {timeout:g} s") from None
    if result.returncode != 0:
        tail = result.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
        detail = f": {tail[0]}" if tail else ""
        raise _SendError(f"command exited {result.returncode}{detail}")


def _post(url: str, body: bytes, timeout: float) -> None:
    import urllib.error
    import urllib.request

    if not url.startswith(("http://", "https://")):
        raise _SendError(f"not an http(s) URL: {url}")
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        raise _SendError(f"{_safe(url)} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise _SendError(f"{_safe(url)} did not answer ({reason})") from None


def _safe(url: str) -> str:
    """The URL without its path (webhook URLs carry secrets in the path)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}"
