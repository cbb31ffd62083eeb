"""How big the pieces moved to and from a remote are, and how many move at once.

Modules read these as `sizes.NAME` when they run (not copied at import), so that one
place decides them and tests can shrink them.
"""

from __future__ import annotations

import os

# Objects below SMALL_MAX move as one in-memory buffer (one request each, `jobs` at a
# time). Larger ones go up in parts of PART_SIZE with PART_CONCURRENCY parts in flight and
# come down as one streamed GET (64 KiB buffers; parallel ranged GETs were 4x slower on
# moto, docs/design.md), at most LARGE_SLOTS such files at a time: memory stays bounded
# (measured peak RSS 135 MiB pushing a 256 MiB file to S3, 101 MiB pulling it).
SMALL_MAX = 4 * 1024 * 1024
PART_SIZE = 8 * 1024 * 1024
PART_CONCURRENCY = 4
GET_CONCURRENCY = 1
LARGE_SLOTS = 2
# Format 2 (docs/spec/remote.md): objects below PACK_MAX go up in packs of about PACK_SIZE;
# files of CHUNK_MIN or more are cut by FastCDC and their chunks packed. The environment
# variables exist for tests (small files, fast CI), not for users.
PACK_MAX = int(os.environ.get("GITML_REMOTE_PACK_MAX", 1024 * 1024))
PACK_SIZE = int(os.environ.get("GITML_REMOTE_PACK_SIZE", 16 * 1024 * 1024))
CHUNK_MIN = int(os.environ.get("GITML_REMOTE_CHUNK_MIN", 64 * 1024 * 1024))
CHUNK_AVG = 1024 * 1024  # FastCDC average; min = avg / 4, max = avg * 4 (docs/design.md)
# Reading a pack: whole when at least half its bytes are wanted, else ranges of wanted
# objects less than RANGE_GAP apart merged into reads of at most RANGE_MAX.
RANGE_GAP = 256 * 1024
RANGE_MAX = 16 * 1024 * 1024
PACK_SLOTS = 4  # packs built or read in memory at a time (16 MiB each)
# Directory manifests of MANIFEST_CHUNK_MIN bytes or more (~2,700 files) are cut by
# FastCDC with a small average, so that editing a few files of a large directory uploads
# a few KiB of new manifest chunks, not the whole manifest (docs/spec/remote.md).
MANIFEST_CHUNK_MIN = int(os.environ.get("GITML_REMOTE_MANIFEST_CHUNK_MIN", 256 * 1024))
MANIFEST_CHUNK_AVG = 4 * 1024  # min avg/4, max avg*4, as for files
# Threads that push one chunked file: one hashes the whole file while the others cut
# windows, then hash groups of chunks and write their packs (one pack per thread in memory
# at most, for remotes that are not folders).
CHUNK_THREADS = 3
# Asking about few objects: list only their shards instead of the whole store.
PER_SHARD_MAX = 8
