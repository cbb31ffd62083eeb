"""YAML for the pipeline modules: the one reader in gitml.datafiles (YAML 1.2, bounded)."""

from gitml.datafiles import dump_yaml, load_yaml

__all__ = ["dump_yaml", "load_yaml"]
