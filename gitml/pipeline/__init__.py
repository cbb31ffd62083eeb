"""Pipelines: `gitml.yaml` stages, `gitml.lock`, staleness, the run-cache and `repro`."""

# Here, not in spec/lockfile, so that asking "is there a pipeline?" imports no YAML parser.
PIPELINE_FILE = "gitml.yaml"
LOCK_FILE = "gitml.lock"
