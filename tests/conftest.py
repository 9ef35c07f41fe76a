"""Shared fixtures: the real data root (skip with a reason when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _data_root() -> Path | None:
    env = os.environ.get("NASGCN_DATA")
    if env:
        return Path(env)
    return None


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The real data folder (NASGCN_DATA, e.g. ../shared/data); skips the test when it is not set."""
    root = _data_root()
    if root is None or not root.is_dir():
        pytest.skip("real data absent: set NASGCN_DATA to the shared data folder (make test does when ../shared/data exists)")
    return root


@pytest.fixture(scope="session")
def data_file(data_root: Path):
    """Return a function mapping a path inside the data root to a Path, skipping when the file is absent."""

    def get(rel: str) -> Path:
        p = data_root / rel
        if not p.is_file():
            pytest.skip(f"{p} not found (see data/README.md for how to get it)")
        return p

    return get


@pytest.fixture(scope="session")
def truth_csv(data_file) -> Path:
    """Path of the NAS-Bench-201 ground-truth table."""
    return data_file("nb201/nb201_truth.csv.gz")
