"""Experiments (SPEC 7.2): param overrides, recording as git commits under
`refs/gitml/exps/`, running in the workspace or in temporary worktrees, showing,
applying and sharing them. The CLI is `gitml/cli/exp_cmds.py`."""

EXPS_NAMESPACE = "refs/gitml/exps"
