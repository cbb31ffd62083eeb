"""`gitml repro` through the installed command, with real stage commands."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cli.pipeline_support import install_step, read_log, step_cmd
from tests.conftest import Result, git, make_repo, run_gitml, write


@dataclass
class Pipe:
    root: Path
    step: Path
    log: Path
    env: dict[str, str]

    def cmd(self, name: str, *args: str) -> str:
        return step_cmd(self.step, name, *args)

    def write_stages(self, stages: dict[str, Any], **top: Any) -> None:
        write(self.root / "gitml.yaml", yaml.safe_dump({**top, "stages": stages}, sort_keys=False))

    def gitml(self, *args: str, check: bool = True, env: dict[str, str] | None = None) -> Result:
        return run_gitml(*args, cwd=self.root, check=check, env={**self.env, **(env or {})})

    def ran(self) -> list[str]:
        return read_log(self.log)

    def lock(self) -> dict[str, Any]:
        data = yaml.safe_load((self.root / "gitml.lock").read_text())
        assert isinstance(data, dict)
        return data


def make_pipe(tmp_path: Path, name: str = "repo") -> Pipe:
    root = make_repo(tmp_path / name)
    run_gitml("init", cwd=root)
    step = tmp_path / "step.py"
    if not step.exists():
        install_step(tmp_path)
    log = tmp_path / f"{name}.log"
    return Pipe(root, step, log, {"STEP_LOG": str(log)})


@pytest.fixture
def pipe(tmp_path: Path) -> Pipe:
    return make_pipe(tmp_path)


def chain(p: Pipe) -> None:
    """raw -> prepare -> train (param train.lr) -> evaluate; all outs cached."""
    write(p.root / "data/raw.txt", "raw data\n")
    write(p.root / "params.yaml", "train:\n  lr: 0.1\n  epochs: 3\nprepare:\n  split: 0.2\n")
    p.write_stages(
        {
            "prepare": {
                "cmd": p.cmd("prepare", "--in", "data/raw.txt", "--out", "data/prepared.txt"),
                "deps": ["data/raw.txt"],
                "outs": ["data/prepared.txt"],
            },
            "train": {
                "cmd": p.cmd(
                    "train",
                    "--in",
                    "data/prepared.txt",
                    "--param",
                    "params.yaml:train.lr",
                    "--out",
                    "model.bin",
                ),
                "deps": ["data/prepared.txt"],
                "params": ["train.lr"],
                "outs": ["model.bin"],
            },
            "evaluate": {
                "cmd": p.cmd("evaluate", "--in", "model.bin", "--out", "eval/score.txt"),
                "deps": ["model.bin"],
                "outs": ["eval/score.txt"],
            },
        }
    )


def test_first_repro_runs_all_in_order_and_second_runs_none(pipe: Pipe) -> None:
    chain(pipe)
    first = pipe.gitml("repro")
    assert pipe.ran() == ["prepare", "train", "evaluate"]
    assert "Running stage 'prepare'" in first.stdout
    assert "prepare: working" in first.stdout  # stage output streams through
    lock = pipe.lock()
    assert list(lock["stages"]) == ["prepare", "train", "evaluate"]
    train = lock["stages"]["train"]
    assert train["params"] == {"params.yaml": {"train.lr": 0.1}}
    assert train["deps"][0]["path"] == "data/prepared.txt"
    assert train["outs"][0]["oid"].startswith("blake3:")
    # Cached outs are ignored by git beside each out; gitml.lock is for git.
    assert "/prepared.txt" in (pipe.root / "data/.gitignore").read_text().splitlines()
    assert "/model.bin" in (pipe.root / ".gitignore").read_text().splitlines()
    ignored = git("status", "--porcelain", "--ignored", cwd=pipe.root)
    assert "!! model.bin" in ignored
    assert "?? gitml.lock" in ignored
    lock_bytes = (pipe.root / "gitml.lock").read_bytes()

    second = pipe.gitml("repro")
    assert pipe.ran() == ["prepare", "train", "evaluate"]
    assert "Everything is up to date." in second.stdout
    assert (pipe.root / "gitml.lock").read_bytes() == lock_bytes
    status = json.loads(pipe.gitml("status", "--json").stdout)
    assert status == {"outputs": [], "stages": []}


def test_param_change_reruns_only_its_stage_and_dependents(pipe: Pipe) -> None:
    chain(pipe)
    pipe.gitml("repro")
    write(pipe.root / "params.yaml", "train:\n  lr: 0.5\n  epochs: 3\nprepare:\n  split: 0.2\n")
    status = json.loads(pipe.gitml("status", "--json").stdout)
    assert status["stages"] == [
        {
            "name": "train",
            "reasons": [{"reason": "param changed", "subject": "params.yaml:train.lr"}],
        }
    ]
    dry = json.loads(pipe.gitml("repro", "--dry", "--json").stdout)
    assert [(s["name"], s["outcome"]) for s in dry["stages"]] == [
        ("prepare", "unchanged"),
        ("train", "would run"),
        ("evaluate", "would run"),
    ]
    assert dry["stages"][2]["reasons"] == [
        {"reason": "upstream stage will run", "subject": "train"}
    ]
    assert pipe.ran() == ["prepare", "train", "evaluate"]  # --dry ran nothing
    before = (pipe.root / "model.bin").read_text()
    pipe.gitml("repro")
    assert pipe.ran() == ["prepare", "train", "evaluate", "train", "evaluate"]
    assert (pipe.root / "model.bin").read_text() != before
    assert pipe.lock()["stages"]["train"]["params"]["params.yaml"]["train.lr"] == 0.5
    # A param no stage uses changes nothing.
    write(pipe.root / "params.yaml", "train:\n  lr: 0.5\n  epochs: 9\nprepare:\n  split: 0.2\n")
    pipe.gitml("repro")
    assert pipe.ran() == ["prepare", "train", "evaluate", "train", "evaluate"]


def test_data_change_reruns_all(pipe: Pipe) -> None:
    chain(pipe)
    pipe.gitml("repro")
    write(pipe.root / "data/raw.txt", "new raw data\n")
    out = pipe.gitml("repro").stdout
    assert "dep changed: data/raw.txt" in out
    assert pipe.ran() == ["prepare", "train", "evaluate"] * 2


def test_failing_stage_keeps_earlier_results_and_lock_entries(pipe: Pipe) -> None:
    chain(pipe)
    pipe.gitml("repro")
    good_lock = pipe.lock()["stages"]
    # Make train fail on its next run (its cmd changes), and the data change first.
    write(pipe.root / "data/raw.txt", "changed\n")
    stages = yaml.safe_load((pipe.root / "gitml.yaml").read_text())["stages"]
    stages["train"]["cmd"] += " --fail 3"
    pipe.write_stages(stages)
    result = pipe.gitml("repro", check=False)
    assert result.returncode == 1
    assert "gitml: error: stage 'train' failed: command exited with code 3" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert pipe.ran()[3:] == ["prepare", "train"]  # evaluate did not run
    lock = pipe.lock()["stages"]
    assert lock["prepare"] != good_lock["prepare"]  # prepare's new result was recorded
    assert lock["train"] == good_lock["train"]  # the failed stage's entry is unchanged
    assert lock["evaluate"] == good_lock["evaluate"]
    prepared = (pipe.root / "data/prepared.txt").read_text()
    assert prepared.startswith("prepare ")
    # A later run picks up from there: prepare is not run again.
    stages["train"]["cmd"] = stages["train"]["cmd"].replace(" --fail 3", "")
    pipe.write_stages(stages)
    pipe.gitml("repro")
    assert pipe.ran()[5:] == ["train", "evaluate"]


def test_keep_going_runs_independent_stages(pipe: Pipe) -> None:
    write(pipe.root / "in.txt", "x\n")
    pipe.write_stages(
        {
            "bad": {"cmd": pipe.cmd("bad", "--fail", "2"), "deps": ["in.txt"], "outs": ["b.txt"]},
            "after_bad": {
                "cmd": pipe.cmd("after_bad", "--out", "c.txt"),
                "deps": ["b.txt"],
                "outs": ["c.txt"],
            },
            "good": {
                "cmd": pipe.cmd("good", "--in", "in.txt", "--out", "g.txt"),
                "deps": ["in.txt"],
                "outs": ["g.txt"],
            },
        }
    )
    stopped = pipe.gitml("repro", check=False)
    assert stopped.returncode == 1
    assert pipe.ran() == ["bad"]
    going = pipe.gitml("repro", "--keep-going", check=False)
    assert going.returncode == 1
    assert "stage 'bad' failed: command exited with code 2" in going.stderr
    assert pipe.ran() == ["bad", "bad", "good"]
    assert "after_bad: not run (upstream stage 'bad' failed)" in going.stdout
    assert list(pipe.lock()["stages"]) == ["good"]


def diamond(p: Pipe) -> None:
    write(p.root / "data/raw.txt", "diamond\n")
    p.write_stages(
        {
            "source": {
                "cmd": p.cmd("source", "--in", "data/raw.txt", "--out-dir", "data/source"),
                "deps": ["data/raw.txt"],
                "outs": ["data/source"],
            },
            "left": {
                "cmd": p.cmd("left", "--in", "data/source", "--out", "left.txt", "--peer", "right"),
                "deps": ["data/source"],
                "outs": ["left.txt"],
            },
            "right": {
                "cmd": p.cmd(
                    "right", "--in", "data/source/sub", "--out", "right.txt", "--peer", "left"
                ),
                "deps": ["data/source/sub"],
                "outs": ["right.txt"],
            },
            "join": {
                "cmd": p.cmd("join", "--in", "left.txt", "--in", "right.txt", "--out", "j.txt"),
                "deps": ["left.txt", "right.txt"],
                "outs": ["j.txt"],
            },
        }
    )


def test_parallel_diamond_runs_middle_stages_together_and_equals_serial(tmp_path: Path) -> None:
    parallel = make_pipe(tmp_path, "parallel")
    diamond(parallel)
    markers = tmp_path / "markers"
    markers.mkdir()
    # Each middle stage waits until the other has started: both finish only if they overlap.
    result = parallel.gitml("repro", "-j", "2", env={"STEP_OVERLAP": str(markers)})
    assert sorted(p.name for p in markers.iterdir()) == ["left.started", "right.started"]
    ran = parallel.ran()
    assert ran[0] == "source" and ran[-1] == "join" and sorted(ran[1:3]) == ["left", "right"]
    assert "[left] left: working" in result.stdout
    assert "[right] right: working" in result.stdout
    assert "Summary: 4 ran" in result.stdout

    serial = make_pipe(tmp_path, "serial")
    diamond(serial)
    serial.gitml("repro")
    assert serial.ran() == ["source", "left", "right", "join"]
    for path in ("left.txt", "right.txt", "j.txt", "data/source/a.txt", "data/source/sub/b.txt"):
        assert (parallel.root / path).read_bytes() == (serial.root / path).read_bytes()
    assert (parallel.root / "gitml.lock").read_bytes() == (serial.root / "gitml.lock").read_bytes()
    assert parallel.lock()["stages"]["source"]["outs"][0]["nfiles"] == 2


def test_run_cache_restores_a_previous_run_without_running(pipe: Pipe) -> None:
    chain(pipe)
    pipe.gitml("repro")
    original = {p: (pipe.root / p).read_bytes() for p in ("model.bin", "eval/score.txt")}
    params = (pipe.root / "params.yaml").read_text()
    write(pipe.root / "params.yaml", params.replace("lr: 0.1", "lr: 0.7"))
    pipe.gitml("repro")
    assert pipe.ran() == ["prepare", "train", "evaluate", "train", "evaluate"]
    assert (pipe.root / "model.bin").read_bytes() != original["model.bin"]

    write(pipe.root / "params.yaml", params)
    back = pipe.gitml("repro")
    assert pipe.ran() == ["prepare", "train", "evaluate", "train", "evaluate"]  # nothing ran
    assert "Stage 'train' restored from the run-cache" in back.stdout
    assert "Stage 'evaluate' restored from the run-cache" in back.stdout
    for path, data in original.items():
        assert (pipe.root / path).read_bytes() == data
    assert pipe.lock()["stages"]["train"]["params"]["params.yaml"]["train.lr"] == 0.1
    assert pipe.gitml("status", "--json").stdout.count('"name"') == 0

    # A deleted out with unchanged inputs comes back from the run-cache too.
    (pipe.root / "model.bin").unlink()
    pipe.gitml("repro")
    assert (pipe.root / "model.bin").read_bytes() == original["model.bin"]
    assert len(pipe.ran()) == 5

    # --no-run-cache runs the command even though the run-cache has it.
    write(pipe.root / "params.yaml", params.replace("lr: 0.1", "lr: 0.7"))
    pipe.gitml("repro", "--no-run-cache")
    assert pipe.ran()[5:] == ["train", "evaluate"]


def test_dry_run_names_run_cache_restores(pipe: Pipe) -> None:
    chain(pipe)
    pipe.gitml("repro")
    params = (pipe.root / "params.yaml").read_text()
    write(pipe.root / "params.yaml", params.replace("lr: 0.1", "lr: 0.7"))
    pipe.gitml("repro")
    write(pipe.root / "params.yaml", params)
    dry = pipe.gitml("repro", "--dry").stdout
    assert "Would restore stage 'train' from the run-cache: param changed" in dry
    assert len(pipe.ran()) == 5


def test_targets_run_only_what_they_need(pipe: Pipe) -> None:
    chain(pipe)
    pipe.gitml("repro", "train")
    assert pipe.ran() == ["prepare", "train"]
    assert not (pipe.root / "eval/score.txt").exists()
    write(pipe.root / "data/raw.txt", "other\n")
    pipe.gitml("repro", "--downstream", "train")
    # prepare is upstream, so not selected: train's dep is unchanged and only evaluate runs.
    assert pipe.ran()[2:] == ["evaluate"]
    pipe.gitml("repro", "--force", "evaluate")
    assert pipe.ran()[3:] == ["prepare", "train", "evaluate"]


def test_checkout_restores_stage_outputs_from_the_lock(pipe: Pipe) -> None:
    chain(pipe)
    pipe.gitml("repro")
    model = (pipe.root / "model.bin").read_bytes()
    (pipe.root / "model.bin").unlink()
    write(pipe.root / "data/prepared.txt", "edited by hand\n")
    refused = pipe.gitml("checkout", check=False)
    assert refused.returncode == 1 and "data/prepared.txt" in refused.stderr
    pipe.gitml("checkout", "--force")
    assert (pipe.root / "model.bin").read_bytes() == model
    assert (pipe.root / "data/prepared.txt").read_text().startswith("prepare ")
    assert pipe.ran() == ["prepare", "train", "evaluate"]


def test_outs_are_removed_before_running_unless_persist(pipe: Pipe) -> None:
    write(pipe.root / "in.txt", "1\n")
    keep = (
        "import os; os.makedirs('d', exist_ok=True); "
        "open('d/n%s' % len(os.listdir('d')), 'w').write('x')"
    )
    pipe.write_stages(
        {
            "fresh": {"cmd": f'python3 -c "{keep}"', "deps": ["in.txt"], "outs": ["d"]},
        }
    )
    pipe.gitml("repro")
    write(pipe.root / "in.txt", "2\n")
    pipe.gitml("repro")
    assert sorted(p.name for p in (pipe.root / "d").iterdir()) == ["n0"]
    pipe.write_stages(
        {
            "fresh": {
                "cmd": f'python3 -c "{keep}"',
                "deps": ["in.txt"],
                "outs": [{"d": {"persist": True}}],
            },
        }
    )
    write(pipe.root / "in.txt", "3\n")
    pipe.gitml("repro")
    assert sorted(p.name for p in (pipe.root / "d").iterdir()) == ["n0", "n1"]


def test_cmd_list_wdir_and_uncached_metrics(pipe: Pipe) -> None:
    write(pipe.root / "sub/in.txt", "abc\n")
    pipe.write_stages(
        {
            "two": {
                "wdir": "sub",
                "cmd": [
                    pipe.cmd("first", "--in", "in.txt", "--out", "a.txt"),
                    pipe.cmd("second", "--in", "a.txt", "--out", "../top.txt"),
                ],
                "deps": ["in.txt"],
                "outs": ["a.txt", "../top.txt"],
                "metrics": [{"m.json": {"cache": False}}],
            }
        }
    )
    failed = pipe.gitml("repro", check=False)
    assert failed.returncode == 1
    assert "stage 'two' failed: the command did not create output 'sub/m.json'" in failed.stderr
    assert not (pipe.root / "gitml.lock").exists()
    stages = yaml.safe_load((pipe.root / "gitml.yaml").read_text())["stages"]
    stages["two"]["cmd"].append("""python3 -c 'open("m.json","w").write("{\\"acc\\": 0.5}")'""")
    pipe.write_stages(stages)
    pipe.gitml("repro")
    assert pipe.ran() == ["first", "second", "first", "second"]
    entry = pipe.lock()["stages"]["two"]
    assert entry["wdir"] == "sub"
    assert [o["path"] for o in entry["outs"]] == ["sub/a.txt", "sub/m.json", "top.txt"]
    ignored = (pipe.root / "sub/.gitignore").read_text().splitlines()
    assert ignored == ["/a.txt"]  # metrics with cache: false stay visible to git
    shown = json.loads(pipe.gitml("metrics", "show", "--json").stdout)
    assert shown == {"workspace": {"sub/m.json": {"acc": 0.5}}}


def test_missing_dependency_is_a_clear_error(pipe: Pipe) -> None:
    pipe.write_stages({"a": {"cmd": pipe.cmd("a"), "deps": ["nowhere.csv"], "outs": ["o"]}})
    result = pipe.gitml("repro", check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "gitml: error: stage 'a': dependency 'nowhere.csv' does not exist and no stage produces it"
    )
    assert pipe.ran() == []


def test_frozen_always_changed_and_json_summary(pipe: Pipe) -> None:
    chain(pipe)
    stages = yaml.safe_load((pipe.root / "gitml.yaml").read_text())["stages"]
    stages["prepare"]["frozen"] = True
    stages["evaluate"]["always_changed"] = True
    pipe.write_stages(stages)
    write(pipe.root / "data/prepared.txt", "made by hand\n")  # frozen: never run, only used
    result = pipe.gitml("repro", "--json")
    data = json.loads(result.stdout)  # stdout holds only the JSON document
    assert [(s["name"], s["outcome"]) for s in data["stages"]] == [
        ("prepare", "frozen"),
        ("train", "ran"),
        ("evaluate", "ran"),
    ]
    assert "train: working" in result.stderr  # stage output went to stderr
    assert pipe.ran() == ["train", "evaluate"]
    again = json.loads(pipe.gitml("repro", "--json").stdout)
    assert [s["outcome"] for s in again["stages"]] == ["frozen", "unchanged", "ran"]
    assert again["stages"][2]["reasons"] == [{"reason": "always changed"}]
    assert pipe.ran() == ["train", "evaluate", "evaluate"]  # always_changed skips the run-cache


def test_ctrl_c_stops_repro_keeps_finished_stages_and_exits_130(pipe: Pipe, tmp_path: Path) -> None:
    import os
    import shlex
    import signal
    import subprocess
    import time

    from tests.conftest import GITML

    marker = tmp_path / "slow.started"
    slow = f"touch {shlex.quote(str(marker))} && sleep 120"
    write(pipe.root / "in.txt", "x\n")
    pipe.write_stages(
        {
            "first": {
                "cmd": pipe.cmd("first", "--out", "a.txt"),
                "deps": ["in.txt"],
                "outs": ["a.txt"],
            },
            "slow": {"cmd": slow, "deps": ["a.txt"], "outs": ["b.txt"]},
        }
    )

    def ctrl_c_ready() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.setpgrp()

    assert GITML
    proc = subprocess.Popen(
        [GITML, "repro"], cwd=pipe.root, env={**os.environ, **pipe.env},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=ctrl_c_ready,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal does on Ctrl-C
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert err.decode().strip().endswith("gitml: interrupted")
    assert "Traceback" not in err.decode()
    assert list(pipe.lock()["stages"]) == ["first"]
    assert not (pipe.root / "b.txt").exists()


def test_missing_tracked_dependency_hints_at_checkout(pipe: Pipe) -> None:
    write(pipe.root / "data.csv", "a,b\n")
    pipe.gitml("add", "data.csv")
    (pipe.root / "data.csv").unlink()
    pipe.write_stages(
        {"a": {"cmd": pipe.cmd("a", "--out", "o"), "deps": ["data.csv"], "outs": ["o"]}}
    )
    result = pipe.gitml("repro", check=False)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "gitml: error: stage 'a': dependency 'data.csv' does not exist and no stage produces it",
        "hint: it is tracked by gitml: run 'gitml checkout data.csv' or 'gitml pull'",
    ]
    pipe.gitml("checkout")
    pipe.gitml("repro")
    assert pipe.ran() == ["a"]
