"""Short readable experiment names (`brisk-otter`) for runs without `-n`."""

from __future__ import annotations

import secrets

_ADJECTIVES = (
    "amber",
    "bold",
    "brisk",
    "calm",
    "clever",
    "crisp",
    "dapper",
    "eager",
    "fair",
    "fleet",
    "gentle",
    "glad",
    "grand",
    "hardy",
    "keen",
    "lively",
    "lucid",
    "merry",
    "nimble",
    "noble",
    "plucky",
    "proud",
    "quick",
    "quiet",
    "rapid",
    "ready",
    "sharp",
    "shiny",
    "sly",
    "snug",
    "solid",
    "spry",
    "stout",
    "sunny",
    "swift",
    "tidy",
    "vivid",
    "warm",
    "wise",
    "zesty",
)
_NOUNS = (
    "alder",
    "badger",
    "beacon",
    "birch",
    "bison",
    "canyon",
    "cedar",
    "comet",
    "crane",
    "delta",
    "eagle",
    "ember",
    "falcon",
    "fern",
    "finch",
    "fjord",
    "gecko",
    "harbor",
    "heron",
    "lark",
    "lynx",
    "maple",
    "marten",
    "meadow",
    "moose",
    "orbit",
    "otter",
    "panda",
    "pine",
    "quail",
    "raven",
    "reef",
    "robin",
    "sparrow",
    "summit",
    "tiger",
    "tundra",
    "walrus",
    "willow",
    "yak",
)


def generate(taken: set[str]) -> str:
    """A name not in `taken`: adjective-noun, with a number once those run out."""
    for _ in range(64):
        name = f"{secrets.choice(_ADJECTIVES)}-{secrets.choice(_NOUNS)}"
        if name not in taken:
            return name
    n = 2
    while True:
        name = f"{secrets.choice(_ADJECTIVES)}-{secrets.choice(_NOUNS)}-{n}"
        if name not in taken:
            return name
        n += 1
