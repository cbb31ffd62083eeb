"""Pipelines: `gitml.yaml` stages, `gitml.lock`, staleness, the run-cache and `repro`."""
