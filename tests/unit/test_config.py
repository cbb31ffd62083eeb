"""Config: config.local wins key by key; bad values are ConfigErrors."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitml.config import DEFAULT_LINK_TYPES, Config, edit_toml
from gitml.errors import ConfigError


@pytest.fixture
def gdir(tmp_path: Path) -> Path:
    d = tmp_path / ".gitml"
    d.mkdir()
    return d


def test_defaults_without_files(gdir: Path) -> None:
    config = Config.load(gdir)
    assert config.link_types == DEFAULT_LINK_TYPES == ("reflink", "copy")
    assert config.cache_dir(gdir) == gdir / "cache"


def test_local_overrides_key_by_key(gdir: Path) -> None:
    (gdir / "config").write_text(
        '[cache]\ntype = ["copy"]\ndir = "../shared-cache"\n[remote.origin]\nurl = "s3://b"\n'
    )
    (gdir / "config.local").write_text(
        '[cache]\ntype = ["hardlink", "copy"]\n[remote.origin]\nprofile = "me"\n'
    )
    config = Config.load(gdir)
    assert config.link_types == ("hardlink", "copy")
    assert config.cache_dir(gdir) == (gdir.parent / "shared-cache").resolve()
    assert config.section("remote") == {"origin": {"url": "s3://b", "profile": "me"}}


def test_comma_separated_string_type(gdir: Path) -> None:
    (gdir / "config").write_text('[cache]\ntype = "hardlink, copy"\n')
    assert Config.load(gdir).link_types == ("hardlink", "copy")


def test_absolute_cache_dir(gdir: Path, tmp_path: Path) -> None:
    (gdir / "config").write_text(f'[cache]\ndir = "{tmp_path / "c"}"\n')
    assert Config.load(gdir).cache_dir(gdir) == tmp_path / "c"


@pytest.mark.parametrize(
    "body",
    [
        'type = ["bogus"]',
        'type = ["copy", "teleport"]',
        "type = []",
        "type = 5",
        'type = ["copy", 3]',
        'type = "Copy"',
        'type = ""',
    ],
)
def test_bad_cache_type(gdir: Path, body: str) -> None:
    (gdir / "config").write_text(f"[cache]\n{body}\n")
    with pytest.raises(ConfigError) as info:
        _ = Config.load(gdir).link_types
    assert "cache.type" in str(info.value)


def test_bad_cache_type_in_local_file(gdir: Path) -> None:
    (gdir / "config").write_text('[cache]\ntype = ["copy"]\n')
    (gdir / "config.local").write_text('[cache]\ntype = ["nope"]\n')
    with pytest.raises(ConfigError):
        _ = Config.load(gdir).link_types


@pytest.mark.parametrize("name", ["config", "config.local"])
@pytest.mark.parametrize("text", ["[cache\n", "type = \n", "a = 1\na = 2\n"])
def test_malformed_toml(gdir: Path, name: str, text: str) -> None:
    (gdir / name).write_text(text)
    with pytest.raises(ConfigError, match="malformed TOML"):
        Config.load(gdir)


def test_non_utf8_config(gdir: Path) -> None:
    (gdir / "config").write_bytes(b"a = '\xff'\n")
    with pytest.raises(ConfigError):
        Config.load(gdir)


def test_section_not_a_table(gdir: Path) -> None:
    (gdir / "config").write_text("cache = 5\n")
    with pytest.raises(ConfigError, match=r"\[cache\]"):
        _ = Config.load(gdir).link_types


def test_bad_cache_dir(gdir: Path) -> None:
    (gdir / "config").write_text("[cache]\ndir = 3\n")
    with pytest.raises(ConfigError, match=r"cache\.dir"):
        Config.load(gdir).cache_dir(gdir)


def test_edit_toml_keeps_comments(gdir: Path) -> None:
    path = gdir / "config"
    path.write_text("# keep me\n[core]\nx = 1  # and me\n")

    def edit(doc: dict[str, object]) -> None:
        doc["core"]["y"] = "two"  # type: ignore[index]

    edit_toml(path, edit)
    text = path.read_text()
    assert "# keep me" in text and "# and me" in text
    assert Config.load(gdir).section("core") == {"x": 1, "y": "two"}
