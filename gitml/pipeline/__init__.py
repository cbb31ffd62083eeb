"""Pipelines: `gitml.yaml` stages, `gitml.lock`, staleness, the run-cache and `repro`."""

# Here, not in spec/lockfile/runcache, so that asking "is there a pipeline?" or "is there
# a run-cache?" imports no YAML parser.
PIPELINE_FILE = "gitml.yaml"
LOCK_FILE = "gitml.lock"
RUNS_DIR = "runs"  # <cache>/runs/: the local run-cache (docs/spec/run-cache.md)
