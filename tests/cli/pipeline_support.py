"""Stand-in stage commands for pipeline tests.

`step.py NAME [--in PATH]... [--param FILE:KEY]... [--out FILE]... [--out-dir DIR]...
[--fail CODE]` appends NAME to the log file named by $STEP_LOG (outside the workspace),
then writes each out as a digest of its inputs and params, so outputs change exactly
when inputs do. With $STEP_OVERLAP set to a directory, it writes `NAME.started` there
and waits (up to 120 s) for the marker named by --peer: two stages that both finish
must have been running at the same time.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

STEP_SCRIPT = r"""
import hashlib, json, os, sys, time

def main():
    args = sys.argv[1:]
    name = args.pop(0)
    ins, params, outs, out_dirs, fail, peer = [], [], [], [], None, None
    while args:
        flag, value = args.pop(0), args.pop(0)
        lists = {"--in": ins, "--param": params, "--out": outs, "--out-dir": out_dirs}
        lists.get(flag, []).append(value)
        if flag == "--fail":
            fail = int(value)
        if flag == "--peer":
            peer = value
    with open(os.environ["STEP_LOG"], "a") as log:
        log.write(name + "\n")
    overlap = os.environ.get("STEP_OVERLAP")
    if overlap and peer:
        with open(os.path.join(overlap, name + ".started"), "w") as f:
            f.write(repr(time.time()))
        deadline = time.time() + 120
        while not os.path.exists(os.path.join(overlap, peer + ".started")):
            if time.time() > deadline:
                print(f"{name}: peer {peer} never started", flush=True)
                sys.exit(7)
            time.sleep(0.02)
    print(f"{name}: working", flush=True)
    if fail is not None:
        print(f"{name}: failing with {fail}", flush=True)
        sys.exit(fail)
    digest = hashlib.sha256(name.encode())
    for path in ins:
        if os.path.isdir(path):
            for root, _, files in sorted(os.walk(path)):
                for f in sorted(files):
                    digest.update(open(os.path.join(root, f), "rb").read())
        else:
            digest.update(open(path, "rb").read())
    for spec in params:
        file, key = spec.split(":")
        import yaml
        node = yaml.safe_load(open(file))
        for part in key.split("."):
            node = node[part]
        digest.update(json.dumps(node).encode())
    text = f"{name} {digest.hexdigest()}\n"
    for path in outs:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    for path in out_dirs:
        os.makedirs(os.path.join(path, "sub"), exist_ok=True)
        with open(os.path.join(path, "a.txt"), "w") as f:
            f.write(text)
        with open(os.path.join(path, "sub", "b.txt"), "w") as f:
            f.write(text[::-1])

main()
"""


def install_step(directory: Path) -> Path:
    path = directory / "step.py"
    path.write_text(STEP_SCRIPT)
    return path


def step_cmd(step: Path, name: str, *args: str) -> str:
    return shlex.join([sys.executable, str(step), name, *args])


def read_log(log: Path) -> list[str]:
    return log.read_text().split() if log.exists() else []
