"""`push` of a pipeline run several times: the outs of superseded runs go up through the
run-cache as chunks, like the current ones, so each byte is sent once (issue 20 item 4),
and a fresh clone restores an old run from them."""

from __future__ import annotations

import json
import random
from pathlib import Path

import yaml

from tests.cli.test_packs_cli import SMALL, _remote_bytes, remote
from tests.cli.test_sync_cli import Configure, _clone, _init, folder_remote, s3_remote
from tests.conftest import git, run_gitml, write

__all__ = ["folder_remote", "remote", "s3_remote"]

MiB = 1024 * 1024
PIPELINE = {
    "stages": {
        "train": {  # a "model" that embeds its 24 MiB input: runs differ by a few bytes
            "cmd": "cat params.yaml data.bin > model.bin",
            "deps": ["data.bin"],
            "params": ["lr"],
            "outs": ["model.bin"],
        }
    }
}


def test_superseded_runs_send_only_the_chunks_the_remote_lacks(
    tmp_path: Path, remote: Configure
) -> None:
    src = _init(tmp_path / "src")
    data = random.Random(7).randbytes(24 * MiB)
    write(src / "data.bin", data)
    write(src / "gitml.yaml", yaml.safe_dump(PIPELINE))
    run_gitml("add", "data.bin", cwd=src, env=SMALL)
    remote(src)
    for lr in (1, 2, 3):
        write(src / "params.yaml", f"lr: {lr}\n")
        run_gitml("repro", cwd=src, env=SMALL)
        git("add", "-A", cwd=src)
        git("commit", "-qm", f"lr {lr}", cwd=src)
    pushed = json.loads(run_gitml("push", "--json", cwd=src, env=SMALL).stdout)
    assert pushed["failed"] == [] and pushed["runs"]["transferred"] == 3
    # data.bin once, plus the first chunk of each of the three models (a few MiB each);
    # sending the two superseded models whole would add 48 MiB.
    stored = _remote_bytes(tmp_path, src)
    assert 24 * MiB <= stored <= 24 * MiB + 3 * 4 * MiB + MiB, stored

    # A fresh clone asks for lr 1 again: only the run-cache can answer, from those chunks.
    dst = _clone(src, tmp_path / "dst")
    write(dst / "params.yaml", "lr: 1\n")
    restored = run_gitml("repro", "--pull", cwd=dst, env=SMALL)
    assert "Stage 'train' restored from the run-cache" in restored.stdout
    assert (dst / "model.bin").read_bytes() == b"lr: 1\n" + data
    assert json.loads(run_gitml("push", "--json", cwd=dst, env=SMALL).stdout)["transferred"] == 0
