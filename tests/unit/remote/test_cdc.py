"""Cutting a file in parallel windows gives exactly the cut points of one sequential
FastCDC pass (so chunk lists, and dedup across versions, do not depend on threads)."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from gitml.remote import cdc

KiB = 1024
AVG = 16 * KiB  # max chunk 64 KiB


def _sequential(path: Path, avg: int) -> list[int]:
    points, pos = [], 0
    with open(path, "rb", buffering=0) as stream:
        for piece in cdc.chunker(avg).cut_stream(stream):
            pos += piece.length
            points.append(pos)
    return points


def _threads(fn: Callable[[int], list[int]], starts: Sequence[int]) -> list[list[int]]:
    with ThreadPoolExecutor(3) as pool:
        return list(pool.map(fn, starts))


@pytest.mark.parametrize(
    "content",
    [
        lambda n: random.Random(1).randbytes(n),
        lambda n: bytes(n),  # all zeros: every chunk is max_size
        lambda n: (b"abcdefghij" * (n // 10 + 1))[:n],
        lambda n: random.Random(2).randbytes(n // 2) + bytes(n - n // 2),
    ],
    ids=["random", "zeros", "pattern", "half-zeros"],
)
@pytest.mark.parametrize("size", [0, 1, 300 * KiB, 5 * 1024 * KiB + 123])
def test_parallel_cut_points_equal_one_sequential_pass(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    content: Callable[[int], bytes],
    size: int,
) -> None:
    monkeypatch.setattr(cdc, "WINDOW", 256 * KiB)  # ~20 windows for the 5 MiB file
    monkeypatch.setattr(cdc, "OVERLAP", 128 * KiB)
    path = tmp_path / "f"
    path.write_bytes(content(size))
    points = cdc.cut_points(str(path), size, AVG, _threads)
    assert points == _sequential(path, AVG)
    assert points[-1:] == ([size] if size else [])


def test_windows_that_never_agree_fall_back_to_a_sequential_cut(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An overlap too short to reach a shared cut point: each window then gets cut on from
    # the previous window's last trusted point, and the result is still exact.
    monkeypatch.setattr(cdc, "WINDOW", 200 * KiB)
    monkeypatch.setattr(cdc, "OVERLAP", 1)
    path = tmp_path / "f"
    path.write_bytes(random.Random(3).randbytes(2 * 1024 * KiB))
    assert cdc.cut_points(str(path), 2 * 1024 * KiB, AVG, _threads) == _sequential(path, AVG)
