"""gitml.yaml / gitml.lock / params files: DVC layout, editing, reports and hostile input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.cli.pipeline_support import install_step, read_log, step_cmd
from tests.conftest import git, run_gitml, write

# The stages of DVC's public "example-get-started" project (iterative/example-get-started,
# dvc.yaml with the evaluate stage of the get-started guide), written out by hand; plus
# its artifacts and top-level plots sections, which gitml accepts and ignores.
GET_STARTED = """\
artifacts:
  text-classification:
    path: model.pkl
    desc: Detect whether the given stackoverflow question should have R language tag
    type: model
    labels:
    - nlp
    - classification
stages:
  prepare:
    cmd: python src/prepare.py data/data.xml
    deps:
    - data/data.xml
    - src/prepare.py
    params:
    - prepare.seed
    - prepare.split
    outs:
    - data/prepared
  featurize:
    cmd: python src/featurization.py data/prepared data/features
    deps:
    - data/prepared
    - src/featurization.py
    params:
    - featurize.max_features
    - featurize.ngrams
    outs:
    - data/features
  train:
    cmd: python src/train.py data/features model.pkl
    deps:
    - data/features
    - src/train.py
    params:
    - train.min_split
    - train.n_est
    - train.seed
    outs:
    - model.pkl
  evaluate:
    cmd: python src/evaluate.py model.pkl data/features
    deps:
    - data/features
    - model.pkl
    - src/evaluate.py
    outs:
    - eval/importance.png
    - eval/live/plots:
        cache: false
    - eval/prc:
        cache: false
    metrics:
    - eval/live/metrics.json:
        cache: false
plots:
- Precision-Recall:
    template: simple
    x: recall
    y:
      eval/prc/train.json: precision
      eval/prc/test.json: precision
- eval/importance.png
"""

GET_STARTED_PARAMS = """\
prepare:
  split: 0.20
  seed: 20170428

featurize:
  max_features: 100
  ngrams: 1

train:
  seed: 20170428
  n_est: 50
  min_split: 0.01
"""

# Stand-ins for the project's scripts: same arguments, same outputs, tiny work.
STAND_INS = {
    "src/prepare.py": """\
import os, sys, yaml
params = yaml.safe_load(open("params.yaml"))["prepare"]
os.makedirs("data/prepared", exist_ok=True)
lines = open(sys.argv[1]).read().splitlines()
cut = int(len(lines) * (1 - params["split"]))
open("data/prepared/train.tsv", "w").write("\\n".join(lines[:cut]) + "\\n")
open("data/prepared/test.tsv", "w").write("\\n".join(lines[cut:]) + "\\n")
""",
    "src/featurization.py": """\
import os, sys
src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst, exist_ok=True)
for name in ("train", "test"):
    words = open(os.path.join(src, name + ".tsv")).read().split()
    open(os.path.join(dst, name + ".pkl"), "w").write(str(len(words)))
""",
    "src/train.py": """\
import sys, yaml
p = yaml.safe_load(open("params.yaml"))["train"]
n = int(open(sys.argv[1] + "/train.pkl").read())
open(sys.argv[2], "w").write(f"model n_est={p['n_est']} words={n}")
""",
    "src/evaluate.py": """\
import json, os, sys
model = open(sys.argv[1]).read()
os.makedirs("eval/live/plots", exist_ok=True)
os.makedirs("eval/prc", exist_ok=True)
json.dump({"avg_prec": {"train": 0.9, "test": 0.8}, "roc_auc": {"test": 0.75}},
          open("eval/live/metrics.json", "w"))
open("eval/live/plots/roc.json", "w").write("[]")
open("eval/prc/test.json", "w").write("[]")
open("eval/importance.png", "wb").write(b"PNG" + model.encode())
""",
}


def test_dvc_example_get_started_pipeline_parses_and_runs(repo: Path, tmp_path: Path) -> None:
    write(repo / "gitml.yaml", GET_STARTED)
    write(repo / "params.yaml", GET_STARTED_PARAMS)
    write(repo / "data/data.xml", "".join(f"<row Id='{i}' Body='text {i}'/>\n" for i in range(50)))
    for path, text in STAND_INS.items():
        write(repo / path, text)
    # The project's commands say `python`; put the test interpreter first on PATH under that name.
    bindir = tmp_path / "bin"
    bindir.mkdir()
    import sys

    (bindir / "python").symlink_to(sys.executable)
    env = {"PATH": f"{bindir}:{__import__('os').environ['PATH']}"}
    listed = json.loads(run_gitml("stage", "list", "--json", cwd=repo).stdout)
    assert [s["name"] for s in listed["stages"]] == ["prepare", "featurize", "train", "evaluate"]
    dag = run_gitml("dag", "--json", cwd=repo).stdout
    assert json.loads(dag)["edges"] == [
        ["prepare", "featurize"],
        ["featurize", "train"],
        ["featurize", "evaluate"],
        ["train", "evaluate"],
    ]
    out = run_gitml("repro", cwd=repo, env=env).stdout
    order = [line.split("'")[1] for line in out.splitlines() if line.startswith("Running stage")]
    assert order == ["prepare", "featurize", "train", "evaluate"]
    assert (repo / "model.pkl").read_text().startswith("model n_est=50")
    lock = yaml.safe_load((repo / "gitml.lock").read_text())["stages"]
    assert lock["prepare"]["outs"][0]["nfiles"] == 2
    assert lock["prepare"]["params"] == {
        "params.yaml": {"prepare.seed": 20170428, "prepare.split": 0.2}
    }
    metrics = json.loads(run_gitml("metrics", "show", "--json", cwd=repo).stdout)
    assert metrics["workspace"]["eval/live/metrics.json"]["avg_prec.test"] == 0.8
    assert "Everything is up to date." in run_gitml("repro", cwd=repo, env=env).stdout
    # Changing a featurize param reruns featurize and what depends on it.
    write(repo / "params.yaml", GET_STARTED_PARAMS.replace("ngrams: 1", "ngrams: 2"))
    out = run_gitml("repro", cwd=repo, env=env).stdout
    assert "Running stage 'prepare'" not in out
    assert "Running stage 'featurize'" in out
    assert "Stage 'train' restored" not in out  # train's input did not change
    diff = json.loads(run_gitml("params", "diff", "--json", cwd=repo).stdout)
    # Nothing is committed yet, so every param the stages use is new.
    assert diff["params.yaml"]["featurize.ngrams"] == {"old": None, "new": 2}
    assert len(diff["params.yaml"]) == 7
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "pipeline", cwd=repo)
    committed = (repo / "params.yaml").read_text()
    write(repo / "params.yaml", committed.replace("n_est: 50", "n_est: 80"))
    diff = json.loads(run_gitml("params", "diff", "--json", cwd=repo).stdout)
    assert diff == {"params.yaml": {"train.n_est": {"old": 50, "new": 80, "diff": 30}}}


def test_foreach_matrix_vars_and_interpolation(repo: Path, tmp_path: Path) -> None:
    step = install_step(tmp_path)
    log = tmp_path / "log"
    write(repo / "params.yaml", "models:\n  small: {size: 1}\n  big: {size: 4}\nseed: 7\n")
    write(repo / "extra.json", json.dumps({"fmt": "txt"}))
    py = step_cmd(step, "x").split(" x")[0]
    write(
        repo / "gitml.yaml",
        f"""\
vars:
  - extra.json
  - outdir: results
stages:
  build:
    foreach: ${{models}}
    do:
      cmd: {py} build-${{key}} --out ${{outdir}}/${{key}}-${{item.size}}.${{fmt}}
      outs:
        - ${{outdir}}/${{key}}-${{item.size}}.${{fmt}}
  grid:
    matrix:
      opt: [adam, sgd]
      lr: [1, 2]
    cmd: {py} grid-${{item.opt}}-${{item.lr}} --out grid/${{key}}.txt
    outs:
      - grid/${{key}}.txt
  seeded:
    foreach: [a, b]
    do:
      cmd: {py} seeded-${{item}}-${{seed}} --out s/${{item}}.txt
      outs:
        - s/${{item}}.txt
""",
    )
    listed = json.loads(run_gitml("stage", "list", "--json", cwd=repo).stdout)["stages"]
    names = [s["name"] for s in listed]
    assert names == [
        "build@small",
        "build@big",
        "grid@adam-1",
        "grid@adam-2",
        "grid@sgd-1",
        "grid@sgd-2",
        "seeded@a",
        "seeded@b",
    ]
    assert listed[1]["outs"] == ["results/big-4.txt"]
    run_gitml("repro", "build", cwd=repo, env={"STEP_LOG": str(log)})
    assert read_log(log) == ["build-small", "build-big"]
    run_gitml("repro", cwd=repo, env={"STEP_LOG": str(log)})
    assert read_log(log)[2:] == [
        "grid-adam-1",
        "grid-adam-2",
        "grid-sgd-1",
        "grid-sgd-2",
        "seeded-a-7",
        "seeded-b-7",
    ]
    # A params.yaml value used in ${...} changes the cmd, so the stage reruns.
    write(repo / "params.yaml", "models:\n  small: {size: 1}\n  big: {size: 4}\nseed: 8\n")
    dry = json.loads(run_gitml("repro", "--dry", "--json", cwd=repo).stdout)
    rerun = {s["name"]: s["reasons"] for s in dry["stages"] if s["outcome"] != "unchanged"}
    assert rerun == {
        "seeded@a": [{"reason": "cmd changed"}],
        "seeded@b": [{"reason": "cmd changed"}],
    }
    # ...and `params diff` shows the tracked value, as DVC does.
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "x", cwd=repo)
    write(repo / "params.yaml", "models:\n  small: {size: 1}\n  big: {size: 4}\nseed: 9\n")
    text = run_gitml("params", "diff", cwd=repo).stdout
    assert "seed" in text and "8" in text and "9" in text


def test_stage_add_keeps_comments_and_layout(repo: Path) -> None:
    original = """\
# My pipeline.  Comments must survive.
stages:
  prepare:   # first step
    cmd: python prepare.py   # run it
    deps:
      - data.csv
    outs:
      - 'prepared.csv'
"""
    write(repo / "gitml.yaml", original)
    result = run_gitml(
        "stage",
        "add",
        "-n",
        "train",
        "-d",
        "prepared.csv",
        "-p",
        "train.lr,train.epochs",
        "-p",
        "conf/other.json:layers",
        "-o",
        "model.bin",
        "-O",
        "log.txt",
        "-M",
        "metrics.json",
        "--",
        "python",
        "train.py",
        "--lr",
        "0.1",
        cwd=repo,
    )
    assert "Added stage 'train'" in result.stdout
    text = (repo / "gitml.yaml").read_text()
    assert text.startswith(original)  # untouched, byte for byte
    added = yaml.safe_load(text)["stages"]["train"]
    assert added == {
        "cmd": "python train.py --lr 0.1",
        "deps": ["prepared.csv"],
        "params": ["train.lr", "train.epochs", {"conf/other.json": ["layers"]}],
        "outs": ["model.bin", {"log.txt": {"cache": False}}],
        "metrics": [{"metrics.json": {"cache": False}}],
    }
    again = run_gitml("stage", "add", "-n", "train", "echo", cwd=repo, check=False)
    assert again.returncode == 1
    assert "stage 'train' already exists in gitml.yaml" in again.stderr
    run_gitml("stage", "add", "-f", "-n", "train", "-o", "on", "echo", "yes", cwd=repo)
    text = (repo / "gitml.yaml").read_text()
    assert text.startswith(original)
    assert yaml.safe_load(text)["stages"]["train"] == {"cmd": "echo yes", "outs": ["on"]}
    # A stage that would make the pipeline invalid is refused, and nothing is written.
    clash = run_gitml(
        "stage", "add", "-n", "dup", "-o", "prepared.csv", "echo", cwd=repo, check=False
    )
    assert clash.returncode == 1
    assert "stages 'prepare' and 'dup' both write output 'prepared.csv'" in clash.stderr
    assert (repo / "gitml.yaml").read_text() == text


def test_dag_formats(repo: Path) -> None:
    write(
        repo / "gitml.yaml",
        "stages:\n"
        "  a: {cmd: x, outs: [a.txt]}\n"
        "  b: {cmd: x, deps: [a.txt], outs: [b.txt]}\n"
        "  c: {cmd: x, deps: [a.txt, b.txt]}\n",
    )
    assert run_gitml("dag", cwd=repo).stdout.splitlines() == ["a", "b  <- a", "c  <- a, b"]
    dot = run_gitml("dag", "--dot", cwd=repo).stdout
    assert '"a" -> "b";' in dot and '"b" -> "c";' in dot and dot.startswith("digraph")
    mermaid = run_gitml("dag", "--mermaid", cwd=repo).stdout.splitlines()
    assert mermaid[0] == "flowchart TD" and "  s0 --> s2" in mermaid


def test_metrics_diff_between_revisions(repo: Path) -> None:
    write(
        repo / "gitml.yaml", "stages:\n  e:\n    cmd: x\n    metrics: [{m.json: {cache: false}}]\n"
    )
    write(repo / "m.json", json.dumps({"acc": 0.5, "loss": {"train": 2, "test": 3}, "name": "a"}))
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "one", cwd=repo)
    write(repo / "m.json", json.dumps({"acc": 0.75, "loss": {"train": 2, "test": 1}, "name": "b"}))
    data = json.loads(run_gitml("metrics", "diff", "--json", cwd=repo).stdout)
    assert data == {
        "m.json": {
            "acc": {"old": 0.5, "new": 0.75, "diff": 0.25},
            "loss.test": {"old": 3, "new": 1, "diff": -2},
            "name": {"old": "a", "new": "b"},
        }
    }
    md = run_gitml("metrics", "diff", "--md", cwd=repo).stdout.splitlines()
    assert md[0] == "| Path | Metric | HEAD | workspace | Change |"
    assert "| m.json | acc | 0.5 | 0.75 | +0.25 |" in md
    git("commit", "-qam", "two", cwd=repo)
    text = run_gitml("metrics", "diff", "HEAD~1", "HEAD", cwd=repo).stdout
    assert "loss.test" in text and "-2" in text
    shown = json.loads(run_gitml("metrics", "show", "-R", "HEAD~1", "--json", cwd=repo).stdout)
    assert shown["HEAD~1"]["m.json"]["acc"] == 0.5
    bad = run_gitml("metrics", "diff", "nosuchrev", cwd=repo, check=False)
    assert bad.returncode == 1 and "unknown revision 'nosuchrev'" in bad.stderr


def test_add_refuses_stage_outputs(repo: Path) -> None:
    write(repo / "gitml.yaml", "stages:\n  s: {cmd: x, outs: [out/dir]}\n")
    write(repo / "out/dir/f.txt", "x")
    for path in ("out/dir", "out/dir/f.txt", "out"):
        result = run_gitml("add", path, cwd=repo, check=False)
        assert result.returncode == 1
        assert "is output 'out/dir' of stage 's' in gitml.yaml" in result.stderr
    assert not (repo / "out/dir.gitml").exists()


BAD_PIPELINES = [
    ("stages:\n  a:\n    cmd: [unclosed\n", "gitml.yaml:4:1: malformed YAML"),
    (
        "stages:\n  a: {cmd: x}\n  a: {cmd: y}\n",
        "gitml.yaml:3:3: malformed YAML: duplicate key 'a'",
    ),
    ("stages:\n  train: {cmd: x, outz: [a]}\n", "gitml.yaml: stage 'train': unknown key 'outz'"),
    ("stages:\n  train: {deps: [a]}\n", "gitml.yaml: stage 'train': missing required key 'cmd'"),
    (
        "stages:\n  t: {cmd: x, outs: [../x]}\n",
        "gitml.yaml: stage 't': outs[0]: path '../x' is outside",
    ),
    (
        "stages:\n  t: {cmd: x, outs: [.git/hooks/x]}\n",
        "gitml.yaml: stage 't': outs[0]: path '.git/hooks/x' enters reserved .git/",
    ),
    (
        "stages:\n  t: {cmd: x, deps: [/etc/passwd]}\n",
        "gitml.yaml: stage 't': deps[0]: absolute path '/etc/passwd'",
    ),
    ("stages:\n  t: {cmd: x, outs: [.gitml/cache]}\n", "enters reserved .gitml/"),
    (
        "stages:\n  t: {cmd: x, outs: [{o: {cache: maybe}}]}\n",
        "gitml.yaml: stage 't': outs[0] 'o': cache: must be true or false",
    ),
    (
        "stages:\n  t: {cmd: x, outs: [{o: {cahce: false}}]}\n",
        "gitml.yaml: stage 't': outs[0] 'o': unknown key 'cahce'",
    ),
    ("stages:\n  t: {cmd: 'echo ${nope}'}\n", "gitml.yaml: stage 't': cmd: 'nope' is not defined"),
    ("stages:\n  t: {cmd: x, params: [{p.ini: [a]}]}\n", "unsupported params/metrics format"),
    ("stages:\n  t: {cmd: 3}\n", "gitml.yaml: stage 't': cmd: must be a command string"),
    ("stages: [a, b]\n", "gitml.yaml: 'stages' must be a mapping"),
    ("stagez: {}\n", "gitml.yaml: unknown key 'stagez'"),
    ("stages:\n  a b: {cmd: x}\n", "gitml.yaml: invalid stage name 'a b'"),
    (
        "stages:\n  a: {cmd: x, deps: [b.txt], outs: [a.txt]}\n"
        "  b: {cmd: x, deps: [a.txt], outs: [b.txt]}\n",
        "gitml.yaml: stages form a cycle: a -> b -> a",
    ),
    (
        "stages:\n  a: {cmd: x, outs: [o]}\n  b: {cmd: y, outs: [o]}\n",
        "gitml.yaml: stages 'a' and 'b' both write output 'o'",
    ),
    (
        "stages:\n  a: {cmd: x, outs: [d]}\n  b: {cmd: y, outs: [d/f]}\n",
        "gitml.yaml: output 'd/f' of stage 'b' is inside output 'd' of stage 'a'",
    ),
    (
        "stages:\n  g:\n    foreach: 3\n    do: {cmd: x}\n",
        "gitml.yaml: stage 'g': foreach: must be a non-empty list",
    ),
    ("vars: [missing.yaml]\nstages: {}\n", "gitml.yaml: vars file 'missing.yaml' does not exist"),
    (
        "vars: [{seed: 1}]\nstages: {}\n",
        "cannot redefine 'seed' from 'vars[0]': it is already defined in 'params.yaml'",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD_PIPELINES)
def test_malformed_pipeline_is_a_one_line_error(repo: Path, text: str, message: str) -> None:
    write(repo / "gitml.yaml", text)
    write(repo / "params.yaml", "seed: 2\n")
    for args in (["repro"], ["status"], ["dag"]):
        result = run_gitml(*args, cwd=repo, check=False)
        assert result.returncode == 1, (args, result)
        lines = result.stderr.strip().splitlines()
        assert lines and lines[0].startswith("gitml: error: "), result.stderr
        assert message in lines[0], (message, lines[0])
        assert "Traceback" not in result.stderr
        assert [line for line in lines if not line.startswith("hint:")] == lines[:1]
    assert not (repo / "gitml.lock").exists()


BAD_LOCKS = [
    (
        "version: 1\nstages:\n  a: {cmd: x, deps: [{path: ../up, oid: 'blake3:"
        + "0" * 64
        + "', size: 1}]}\n",
        "gitml.lock: stage 'a': deps[0]: path: path '../up' escapes",
    ),
    (
        "version: 1\nstages:\n  a: {cmd: x, outs: [{path: o, oid: md5:abc, size: 1}]}\n",
        "gitml.lock: stage 'a': outs[0]: invalid content id 'md5:abc'",
    ),
    (
        "version: 1\nstages:\n  a: {cmd: x, outs: [{path: o, oid: 'blake3:"
        + "0" * 64
        + "', size: -1}]}\n",
        "gitml.lock: stage 'a': outs[0]: size: must be a non-negative integer",
    ),
    ("version: 7\nstages: {}\n", "gitml.lock: lock file version '7' is not supported"),
    (
        "version: 1\nstages:\n  a: {cmd: x, extra: 1}\n",
        "gitml.lock: stage 'a': unknown key 'extra'",
    ),
    ("- just\n- a list\n", "gitml.lock: not a gitml lock file"),
    ("version: 1\nstages: {a: {cmd: x}\n", "gitml.lock:3:1: malformed YAML"),
]


@pytest.mark.parametrize(("text", "message"), BAD_LOCKS)
def test_malformed_lock_is_a_one_line_error(repo: Path, text: str, message: str) -> None:
    write(repo / "gitml.yaml", "stages:\n  a: {cmd: x, outs: [o]}\n")
    write(repo / "gitml.lock", text)
    for args in (["repro"], ["status"], ["checkout"]):
        result = run_gitml(*args, cwd=repo, check=False)
        assert result.returncode == 1, (args, result)
        assert result.stderr.startswith("gitml: error: "), result.stderr
        assert message in result.stderr.splitlines()[0], (message, result.stderr)
        assert "Traceback" not in result.stderr
    assert (repo / "gitml.lock").read_text() == text
    assert not (repo / "o").exists()


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("params.yaml", "train: [unclosed\n", "params.yaml:2:1: malformed YAML"),
        ("params.yaml", "- a list\n", "params.yaml: the top level must be a mapping"),
        ("conf.json", "{bad json", "conf.json: malformed JSON"),
        ("conf.toml", "a = = 1", "conf.toml: malformed TOML"),
        (
            "params.yaml",
            "other: 1\n",
            "stage 's' failed: parameter 'params.yaml:train.lr' is missing",
        ),
    ],
)
def test_malformed_params_are_one_line_errors(
    repo: Path, name: str, text: str, message: str
) -> None:
    write(repo / name, text)
    key = "train.lr" if name == "params.yaml" else {name: ["train.lr"]}
    write(
        repo / "gitml.yaml",
        yaml.safe_dump({"stages": {"s": {"cmd": "echo hi > o", "params": [key], "outs": ["o"]}}}),
    )
    result = run_gitml("repro", cwd=repo, check=False)
    assert result.returncode == 1
    assert message in result.stderr.splitlines()[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not (repo / "gitml.lock").exists()
    assert not (repo / "o").exists()


def test_unknown_target_and_outputs_tracked_elsewhere(repo: Path) -> None:
    write(repo / "gitml.yaml", "stages:\n  s: {cmd: 'echo hi > o', outs: [o]}\n")
    result = run_gitml("repro", "nosuch", cwd=repo, check=False)
    assert result.returncode == 1 and "gitml.yaml: no stage named 'nosuch'" in result.stderr
    write(repo / "o", "in git\n")
    git("add", "o", cwd=repo)
    result = run_gitml("repro", cwd=repo, check=False)
    assert result.returncode == 1
    assert "stage 's' failed: output 'o' is tracked by git" in result.stderr
    assert (repo / "o").read_text() == "in git\n"
