"""Fixtures of the data tests: tiny python batches on disk, and the real JPEG CIFAR-10 decoded once per session."""

from __future__ import annotations

import time

import pytest

from supernet.data import CIFAR10_CLASSES, decode_image_folder
from tests.supernet.data.helpers import write_batches


@pytest.fixture()
def batches(tmp_path):
    """(data root holding ``cifar-10-batches-py/``, the raw batch dicts written there)."""
    root = tmp_path / "root"
    raw = write_batches(root / "cifar-10-batches-py")
    return root, raw


@pytest.fixture(scope="session")
def real_cifar(data_file, tmp_path_factory):
    """The JPEG CIFAR-10 decoded once per session into a session tmp cache."""
    arc = data_file("cifar10/cifar10-jpeg.tar.xz")
    cache = tmp_path_factory.mktemp("cifar_cache")
    t0 = time.perf_counter()
    out = decode_image_folder(arc, classes=CIFAR10_CLASSES, cache_dir=cache, progress=False)
    print(f"decoded CIFAR-10 JPEGs in {time.perf_counter() - t0:.1f} s")
    return arc, out, cache
