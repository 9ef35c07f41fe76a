"""Image-folder trees and archives: decoding, the uint8 cache, partial or corrupt trees; the real JPEG CIFAR-10."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image

from supernet.data import (
    CIFAR10_CLASSES,
    CIFAR10_MEAN,
    CIFAR10_STD,
    CorruptDataError,
    MissingDataError,
    decode_image_folder,
    default_cache_dir,
)
from supernet.data import folder as folder_mod
from tests.supernet.data.helpers import colour, tar_tree, write_tree


def test_image_folder_tree_and_archives_agree(tmp_path):
    tree = write_tree(tmp_path / "tree")
    from_dir = decode_image_folder(tree, cache_dir=tmp_path / "c1", progress=False)
    xz = tar_tree(tree, tmp_path / "imgs.tar.xz", prefix="cifar/")  # a top folder in the archive is fine
    from_xz = decode_image_folder(xz, cache_dir=tmp_path / "c2", progress=False)
    assert set(from_dir) == {"train", "test"}
    for split, k in (("train", 4), ("test", 2)):
        a, b = from_dir[split], from_xz[split]
        assert a.classes == ("ant", "bee", "cow")
        assert len(a) == 3 * k and a.class_counts().tolist() == [k, k, k]
        assert a.files[0] == f"{split}/ant/0000.jpg" and a.files[-1] == f"{split}/cow/{k - 1:04d}.jpg"
        assert np.array_equal(a.images, b.images) and np.array_equal(a.labels, b.labels)
        assert (a.files == b.files).all()
        # solid colours survive JPEG within a few levels, and land on the right label
        for i in range(len(a)):
            c, j = int(a.labels[i]), int(a.files[i][-8:-4])
            assert np.abs(a.images[i].astype(int) - colour(split, c, j)).max() <= 4


def test_png_tree_is_lossless(tmp_path):
    tree = write_tree(tmp_path / "tree", ext="png")
    d = decode_image_folder(tree, use_cache=False, progress=False)["test"]
    assert d.images[3, 5, 7].tolist() == list(colour("test", 1, 1))


def test_parallel_decode_matches_serial(tmp_path):
    tree = write_tree(tmp_path / "tree", n=(7, 3))
    arc = tar_tree(tree, tmp_path / "a.tar")
    serial = decode_image_folder(arc, use_cache=False, workers=0, progress=False)
    par = decode_image_folder(arc, use_cache=False, workers=2, chunk=4, progress=False)
    for s in ("train", "test"):
        assert np.array_equal(serial[s].images, par[s].images) and (serial[s].files == par[s].files).all()


def test_cache_is_used_and_invalidated(tmp_path, monkeypatch):
    tree = write_tree(tmp_path / "tree")
    arc = tar_tree(tree, tmp_path / "imgs.tar.gz", mode="w:gz")
    cache = tmp_path / "cache"
    first = decode_image_folder(arc, cache_dir=cache, progress=False)
    files = sorted(cache.glob("imgs-*.npz"))
    assert len(files) == 1
    with np.load(files[0], allow_pickle=False) as z:
        assert z["train_images"].dtype == np.uint8 and z["train_labels"].dtype == np.int64
        assert "sha256" in str(z["meta"])

    real = folder_mod._decode_source
    monkeypatch.setattr(folder_mod, "_decode_source", lambda *a, **k: pytest.fail("decoded although cached"))
    again = decode_image_folder(arc, cache_dir=cache, progress=False)
    assert np.array_equal(again["train"].images, first["train"].images)
    assert (again["test"].files == first["test"].files).all()

    # a changed source gets decoded again and replaces the stale cache
    Image.new("RGB", (32, 32), (1, 2, 3)).save(tree / "train" / "ant" / "0099.jpg")
    tar_tree(tree, arc, mode="w:gz")
    monkeypatch.setattr(folder_mod, "_decode_source", real)
    changed = decode_image_folder(arc, cache_dir=cache, progress=False)
    assert len(changed["train"]) == len(first["train"]) + 1
    new_files = sorted(cache.glob("imgs-*.npz"))
    assert len(new_files) == 1 and new_files != files


def test_default_cache_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("NASGCN_CACHE", raising=False)
    src = tmp_path / "cifar10" / "x.tar.xz"
    src.parent.mkdir()
    assert default_cache_dir(src) == tmp_path / "cifar10" / "cache"
    monkeypatch.setenv("NASGCN_CACHE", str(tmp_path / "elsewhere"))
    assert default_cache_dir(src) == tmp_path / "elsewhere"


def test_partial_tree_missing_class_or_split(tmp_path):
    tree = write_tree(tmp_path / "tree")
    shutil.rmtree(tree / "test" / "bee")
    with pytest.raises(MissingDataError, match="test/bee"):
        decode_image_folder(tree, use_cache=False, progress=False)
    shutil.rmtree(tree / "test")
    with pytest.raises(MissingDataError, match="'test/'"):
        decode_image_folder(tree, splits=("train", "test"), use_cache=False, progress=False)
    with pytest.raises(MissingDataError, match="does not exist"):
        decode_image_folder(tmp_path / "absent", progress=False)


def test_undecodable_jpeg_is_named(tmp_path):
    tree = write_tree(tmp_path / "tree")
    (tree / "train" / "bee" / "0002.jpg").write_bytes(b"\xff\xd8 this is not a jpeg")
    with pytest.raises(CorruptDataError, match="train/bee/0002.jpg"):
        decode_image_folder(tree, use_cache=False, progress=False)
    arc = tar_tree(tree, tmp_path / "bad.tar")
    with pytest.raises(CorruptDataError, match="train/bee/0002.jpg"):
        decode_image_folder(arc, use_cache=False, workers=2, chunk=3, progress=False)


def test_wrong_size_and_truncated_archive(tmp_path):
    tree = write_tree(tmp_path / "tree")
    Image.new("RGB", (30, 32), (0, 0, 0)).save(tree / "test" / "cow" / "0000.jpg")
    with pytest.raises(CorruptDataError, match="test/cow/0000.jpg is 30x32"):
        decode_image_folder(tree, use_cache=False, progress=False)
    good = write_tree(tmp_path / "good")
    arc = tar_tree(good, tmp_path / "t.tar.xz")
    data = arc.read_bytes()
    arc.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptDataError, match="truncated or corrupt"):
        decode_image_folder(arc, use_cache=False, progress=False)


def test_unexpected_class_folder(tmp_path):
    tree = write_tree(tmp_path / "tree", classes=("ant", "bee", "zebra"))
    with pytest.raises(CorruptDataError, match="zebra"):
        decode_image_folder(tree, classes=("ant", "bee", "cow"), use_cache=False, progress=False)


@pytest.mark.slow
def test_real_cifar10_jpeg_counts_and_means(real_cifar):
    _, d, _ = real_cifar
    tr, te = d["train"], d["test"]
    assert len(tr) == 50000 and len(te) == 10000
    assert tr.class_counts().tolist() == [5000] * 10 and te.class_counts().tolist() == [1000] * 10
    assert tr.classes == CIFAR10_CLASSES and tr.images.shape == (50000, 32, 32, 3)
    np.testing.assert_allclose(tr.channel_mean(), CIFAR10_MEAN, atol=0.003)
    hist = np.stack([np.bincount(tr.images[..., c].ravel(), minlength=256) for c in range(3)])  # (3, 256)
    v = np.arange(256) / 255
    mean = hist @ v / hist.sum(1)
    sd = np.sqrt(hist @ v**2 / hist.sum(1) - mean**2)
    np.testing.assert_allclose(mean, tr.channel_mean(), atol=1e-9)
    np.testing.assert_allclose(sd, CIFAR10_STD, atol=0.01)
