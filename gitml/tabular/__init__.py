"""Data checks on tabular files (SPEC 7.5): reading, schemas, profiles, drift.

This package is the only importer of pyarrow in gitml, and imports it inside functions
(or in modules only loaded by the data commands), so other commands never pay for it.
"""
