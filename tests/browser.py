"""Render a page in the system's headless Chromium and report what drew, through the
DevTools protocol over a pipe (`--remote-debugging-pipe`: NUL-terminated JSON on file
descriptors 3 and 4), so no websocket client or browser driver package is needed.

`chromium_or_skip()` gives the browser's path; where there is none it skips the test
with the reason, except in CI (a `CI` variable set), where a missing browser fails:
scripts/test.sh installs Debian's `chromium` there.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ARTIFACTS = Path(__file__).resolve().parent.parent / ".ci" / "out"

# For each chart section: did an <svg> lay out with a size, or did every <img> decode?
# And the texts of its axis labels.
CHECK_SCRIPT = """
JSON.stringify([...document.querySelectorAll('section.plot, section.chart')].map(s => {
  const svgs = [...s.querySelectorAll('svg')].map(g => {
    const box = g.getBBox(); return {w: box.width, h: box.height,
      marks: g.querySelectorAll('.series, .cell').length};
  });
  const imgs = [...s.querySelectorAll('img')].map(i => ({ok: i.complete && i.naturalWidth > 0}));
  const labels = [...s.querySelectorAll('.axis-label')].map(t => t.textContent);
  return {path: s.dataset.path, svgs, imgs, labels};
}))
"""


def chromium_or_skip() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI"):
        pytest.fail("CI is set but no chromium is installed (scripts/test.sh installs it)")
    pytest.skip("no chromium on PATH: install Debian's 'chromium' to run the browser tests")


@dataclass
class Rendered:
    sections: list[dict[str, Any]]
    errors: list[str] = field(default_factory=list)
    screenshot: Path | None = None


class _Pipe:
    def __init__(self, browser: str, profile: str) -> None:
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        os.set_inheritable(to_child_r, True)
        os.set_inheritable(from_child_w, True)
        args = [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--remote-debugging-pipe", f"--user-data-dir={profile}", "--no-first-run",
            "--disable-extensions", "--disable-background-networking",
            "--disable-dev-shm-usage", "about:blank",
        ]  # fmt: skip

        def wire() -> None:  # in the child: the pipe ends become fds 3 and 4
            import fcntl

            read_end = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)
            write_end = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        self.proc = subprocess.Popen(
            args, preexec_fn=wire, pass_fds=(3, 4, to_child_r, from_child_w),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {method} within {timeout} s")
            self.events.append(self._read())

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            chunk = os.read(self._from_child, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        parsed: dict[str, Any] = json.loads(message)
        return parsed

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, OSError):
            self.send("Browser.close")
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_child)
        os.close(self._from_child)


def _error_text(event: dict[str, Any]) -> str | None:
    method, params = event.get("method"), event.get("params", {})
    if method == "Runtime.exceptionThrown":
        return str(params.get("exceptionDetails", {}).get("text"))
    if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
        return " ".join(str(a.get("value", a.get("description"))) for a in params.get("args", []))
    if method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
        return str(params["entry"].get("text"))
    return None


def render(
    page: Path, screenshot_name: str, width: int = 1100, ready: str | None = None
) -> Rendered:
    """Open `page` headless, run the checks, save a full-page screenshot under .ci/out/.
    `ready`: a JavaScript expression to wait for (up to 30 s) after the load event, for
    pages that draw asynchronously."""
    browser = chromium_or_skip()
    with tempfile.TemporaryDirectory(prefix="gitml-chromium-") as profile:
        pipe = _Pipe(browser, profile)
        try:
            target = pipe.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
                "sessionId"
            ]
            for domain in ("Page", "Runtime", "Log"):
                pipe.send(f"{domain}.enable", session=session)
            pipe.send(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False},
                session=session,
            )
            pipe.send("Page.navigate", {"url": page.resolve().as_uri()}, session=session)
            pipe.wait_for("Page.loadEventFired")
            deadline = time.monotonic() + 30
            while ready is not None and time.monotonic() < deadline:
                done = pipe.send(
                    "Runtime.evaluate",
                    {"expression": ready, "returnByValue": True},
                    session=session,
                )["result"].get("value")
                if done:
                    break
                time.sleep(0.2)
            value = pipe.send(
                "Runtime.evaluate",
                {"expression": CHECK_SCRIPT, "returnByValue": True},
                session=session,
            )["result"]["value"]
            shot = pipe.send(
                "Page.captureScreenshot",
                {"format": "png", "captureBeyondViewport": True},
                session=session,
            )["data"]
        finally:
            pipe.close()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / f"{screenshot_name}.png"
    screenshot.write_bytes(base64.b64decode(shot))
    errors = [text for text in map(_error_text, pipe.events) if text is not None]
    return Rendered(json.loads(value), errors, screenshot)
