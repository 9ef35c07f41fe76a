"""CIFAR-10 official python batches: folder and archive layouts, missing files, corrupt and hostile pickles."""

from __future__ import annotations

import os
import pickle
import shutil

import numpy as np
import pytest

from supernet.data import (
    CIFAR10_CLASSES,
    CorruptDataError,
    MissingDataError,
    load_cifar10,
    load_cifar10_batches,
)
from tests.supernet.data.helpers import N_PER_BATCH, make_archive


def test_batches_folder_layout_and_order(batches):
    root, raw = batches
    tr = load_cifar10_batches(root, "train")
    te = load_cifar10_batches(root / "cifar-10-batches-py", "test")
    assert len(tr) == 5 * N_PER_BATCH and len(te) == N_PER_BATCH
    assert tr.images.dtype == np.uint8 and tr.images.shape[1:] == (32, 32, 3)
    # row i of data_batch_2 is image N+i; the first 1024 bytes are the red plane, row-major
    row = raw["data_batch_2"][b"data"][1]
    img = tr.images[N_PER_BATCH + 1]
    assert np.array_equal(img[:, :, 0].ravel(), row[:1024])
    assert np.array_equal(img[:, :, 2].ravel(), row[2048:])
    assert tr.labels.tolist() == [y for i in range(1, 6) for y in raw[f"data_batch_{i}"][b"labels"]]
    assert tr.files[5] == "img_1_1.png"
    assert tr.orig_index.tolist() == list(range(20))
    assert (te.orig_index == -1).all()
    assert tr.classes == CIFAR10_CLASSES


def test_batches_read_in_place_from_archive(batches, tmp_path):
    root, _ = batches
    arc = make_archive(root, tmp_path / "cifar-10-python.tar.gz")
    a = load_cifar10_batches(arc, "train")
    b = load_cifar10_batches(root, "train")
    assert np.array_equal(a.images, b.images) and np.array_equal(a.labels, b.labels)
    # the front door finds the archive inside a data root too, and strict rejects a tiny set
    only = tmp_path / "only"
    only.mkdir()
    shutil.copy(arc, only / arc.name)
    assert len(load_cifar10(only, "test", strict=False)) == N_PER_BATCH
    with pytest.raises(CorruptDataError, match="expected 1000 per class"):
        load_cifar10(only, "test")


def test_missing_batch_file_names_it(batches):
    root, _ = batches
    (root / "cifar-10-batches-py" / "data_batch_3").unlink()
    with pytest.raises(MissingDataError, match="data_batch_3.*download_cifar10"):
        load_cifar10_batches(root, "train")
    assert len(load_cifar10_batches(root, "test")) == N_PER_BATCH  # the test batch is still fine
    with pytest.raises(MissingDataError, match="no CIFAR-10 python batches"):
        load_cifar10_batches(root / "nowhere", "train")


def test_missing_member_in_archive(batches, tmp_path):
    root, _ = batches
    (root / "cifar-10-batches-py" / "test_batch").unlink()
    arc = make_archive(root, tmp_path / "cifar-10-python.tar.gz")
    with pytest.raises(MissingDataError, match="test_batch"):
        load_cifar10_batches(arc, "test")


def test_corrupt_and_hostile_pickles(batches, tmp_path):
    root, _ = batches
    bad = root / "cifar-10-batches-py" / "data_batch_2"
    bad.write_bytes(b"not a pickle at all")
    with pytest.raises(CorruptDataError, match="data_batch_2"):
        load_cifar10_batches(root, "train")

    class Evil:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    bad.write_bytes(pickle.dumps({b"data": Evil(), b"labels": []}, protocol=2))
    with pytest.raises(CorruptDataError, match="not allowed"):
        load_cifar10_batches(root, "train")
    assert not (tmp_path / "pwned").exists()
    bad.write_bytes(pickle.dumps({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, protocol=2))
    with pytest.raises(CorruptDataError, match=r"expected uint8 \(n, 3072\)"):
        load_cifar10_batches(root, "train")


def test_corrupt_archive(tmp_path):
    arc = tmp_path / "cifar-10-python.tar.gz"
    arc.write_bytes(b"\x1f\x8b garbage")
    with pytest.raises(CorruptDataError, match="cifar-10-python.tar.gz"):
        load_cifar10_batches(arc, "train")
