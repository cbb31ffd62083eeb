"""Lineage: where a tracked output came from (`trace`), where some bytes were tracked
(`find`), and whether everything that made an output is still stored (`verify`)."""
