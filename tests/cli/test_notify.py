"""`[notify.NAME]` in .gitml/config: a failing gate's JSON report POSTed to a real HTTP
server on 127.0.0.1, or piped to a command; an unreachable URL is a warning only."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.cli.registry_support import make_project, retrain
from tests.conftest import git, run_gitml, write

CHECKS = "checks:\n  baseline: main\n  metrics:\n    fail_if: ['change(auc) < -0.01']\n"


class Receiver:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                received.append(json.loads(self.rfile.read(length)))
                assert self.headers["Content-Type"] == "application/json"
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/secret-token"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    thread = threading.Thread(target=r.server.serve_forever, daemon=True)
    thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = make_project(tmp_path / "p")
    write(root / "gitml.yaml", (root / "gitml.yaml").read_text() + CHECKS)
    git("commit", "-q", "-am", "checks", cwd=root)
    return root


def configure(root: Path, text: str) -> None:
    config = root / ".gitml" / "config"
    config.write_text(config.read_text() + "\n" + text)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_failing_check_posts_report_and_runs_command(project: Path, receiver: Receiver) -> None:
    configure(
        project,
        f'[notify.hook]\nurl = "{receiver.url}"\n\n[notify.log]\ncommand = "cat > notified.json"\n',
    )
    assert run_gitml("check", "--notify", cwd=project).returncode == 0
    assert receiver.bodies == [] and not (project / "notified.json").exists()  # passed: silent
    retrain(project, 0.7, 0.4, commit=False)
    result = run_gitml("check", "--notify", cwd=project, check=False)
    assert result.returncode == 1 and "warning" not in result.stderr
    (body,) = receiver.bodies
    assert body["kind"] == "check" and body["passed"] is False
    assert body["checks"][0]["gates"][0]["expr"] == "change(auc) < -0.01"
    assert json.loads((project / "notified.json").read_text()) == body


def test_metrics_diff_gate_notifies(project: Path, receiver: Receiver) -> None:
    configure(project, f'[notify.hook]\nurl = "{receiver.url}"\n')
    retrain(project, 0.7, 0.4, commit=False)
    result = run_gitml(
        "metrics", "diff", "--fail-if", "auc < 0.75", "--notify", cwd=project, check=False
    )
    assert result.returncode == 1
    (body,) = receiver.bodies
    assert body["kind"] == "metrics diff" and body["gates"][0]["failed"] is True
    assert body["metrics.json"]["auc"]["new"] == 0.7


def test_unreachable_url_and_failing_command_are_warnings(project: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/hooks/secret-token"
    configure(project, f'[notify.down]\nurl = "{url}"\n\n[notify.bad]\ncommand = "exit 3"\n')
    retrain(project, 0.7, 0.4, commit=False)
    result = run_gitml("check", "--notify", cwd=project, check=False)
    assert result.returncode == 1  # the gate decides
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 2
    down = next(w for w in warnings if "notify.down" in w)
    assert "did not answer" in down
    assert "secret-token" not in result.stderr  # webhook paths carry secrets
    assert any("notify.bad: command exited 3" in w for w in warnings)
    retrain(project, 0.9, 0.2, commit=False)
    assert run_gitml("check", "--notify", cwd=project).returncode == 0
