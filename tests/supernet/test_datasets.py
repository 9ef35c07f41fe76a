"""CIFAR-10 loaders (python batches, image folders), download, splits, synthetic images, TensorLoader."""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import pickle
import shutil
import tarfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from supernet import datasets as D
from supernet.datasets import (
    CIFAR10_CLASSES,
    CIFAR10_MEAN,
    CIFAR10_STD,
    ChecksumError,
    CorruptDataError,
    DataError,
    ImageSet,
    MissingDataError,
    TensorLoader,
    cifar10_splits,
    decode_image_folder,
    download_cifar10,
    load_cifar10,
    load_cifar10_batches,
    nb201_split,
    stratified_split,
    synthetic_images,
)

N_PER_BATCH = 4


# ---------------------------------------------------------------------------------------------- fixtures
def _write_batches(folder: Path, seed: int = 0) -> dict[str, dict]:
    """Six tiny batches in the official format (pickled dict with bytes keys, protocol 2)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for k, name in enumerate([f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]):
        d = {
            b"batch_label": f"batch {k}".encode(),
            b"labels": [int(x) for x in rng.integers(0, 10, N_PER_BATCH)],
            b"data": rng.integers(0, 256, (N_PER_BATCH, 3072), dtype=np.uint8),
            b"filenames": [f"img_{k}_{i}.png".encode() for i in range(N_PER_BATCH)],
        }
        (folder / name).write_bytes(pickle.dumps(d, protocol=2))
        out[name] = d
    return out


@pytest.fixture()
def batches(tmp_path):
    root = tmp_path / "root"
    raw = _write_batches(root / "cifar-10-batches-py")
    return root, raw


def _make_archive(root: Path, dest: Path) -> Path:
    with tarfile.open(dest, "w:gz") as tf:
        tf.add(root / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    return dest


def _colour(split: str, c: int, i: int) -> tuple[int, int, int]:
    return (40 + 60 * c, 30 + 40 * i, 200 if split == "train" else 100)


def _write_tree(root: Path, classes=("ant", "bee", "cow"), n=(4, 2), size=32, ext="jpg") -> Path:
    """train/<class>/NNNN.jpg, test/<class>/... with a solid colour per image (known pixels)."""
    for split, k in zip(("train", "test"), n):
        for c, name in enumerate(classes):
            d = root / split / name
            d.mkdir(parents=True, exist_ok=True)
            for i in range(k):
                Image.new("RGB", (size, size), _colour(split, c, i)).save(d / f"{i:04d}.{ext}", quality=95)
    return root


def _tar(tree: Path, dest: Path, mode: str = "w:xz", prefix: str = "") -> Path:
    with tarfile.open(dest, mode) as tf:
        for p in sorted(tree.rglob("*")):
            tf.add(p, arcname=prefix + p.relative_to(tree).as_posix(), recursive=False)
    return dest


# ---------------------------------------------------------------------------------------------- python batches
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
    arc = _make_archive(root, tmp_path / "cifar-10-python.tar.gz")
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
    arc = _make_archive(root, tmp_path / "cifar-10-python.tar.gz")
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


# ---------------------------------------------------------------------------------------------- download
class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture()
def http_root(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(served)))
    t = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    t.start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_download_with_checksum_from_local_server(batches, http_root, tmp_path):
    src_root, raw = batches
    served, base = http_root
    arc = _make_archive(src_root, served / "cifar-10-python.tar.gz")
    md5 = hashlib.md5(arc.read_bytes()).hexdigest()
    dest = tmp_path / "dest"
    out = download_cifar10(dest, url=f"{base}/cifar-10-python.tar.gz", md5=md5, progress=False)
    assert out == dest / "cifar-10-batches-py"
    assert (dest / "cifar-10-python.tar.gz").read_bytes() == arc.read_bytes()
    tr = load_cifar10_batches(dest, "train")
    assert np.array_equal(tr.images[0][:, :, 1].ravel(), raw["data_batch_1"][b"data"][0][1024:2048])
    # a second call reuses the verified archive: it works with the server's copy gone
    arc.unlink()
    assert download_cifar10(dest, url=f"{base}/cifar-10-python.tar.gz", md5=md5, progress=False) == out


def test_download_md5_mismatch_and_http_error(batches, http_root, tmp_path):
    src_root, _ = batches
    served, base = http_root
    _make_archive(src_root, served / "cifar-10-python.tar.gz")
    dest = tmp_path / "dest"
    with pytest.raises(ChecksumError, match="expected 0{32}"):
        download_cifar10(dest, url=f"{base}/cifar-10-python.tar.gz", md5="0" * 32, progress=False)
    assert list(dest.iterdir()) == []  # neither the archive nor a .part nor an extraction is left
    with pytest.raises(DataError, match="cannot download .*missing.tar.gz"):
        download_cifar10(dest, url=f"{base}/missing.tar.gz", md5=None, progress=False)
    assert list(dest.iterdir()) == []


def test_loaders_never_download(tmp_path, monkeypatch):
    def boom(*a, **k):
        raise AssertionError("a loader tried the network")

    monkeypatch.setattr(D.urllib.request, "urlopen", boom)
    with pytest.raises(MissingDataError, match="download_cifar10"):
        load_cifar10(tmp_path, "train")


# ---------------------------------------------------------------------------------------------- image folder
def test_image_folder_tree_and_archives_agree(tmp_path):
    tree = _write_tree(tmp_path / "tree")
    from_dir = decode_image_folder(tree, cache_dir=tmp_path / "c1", progress=False)
    xz = _tar(tree, tmp_path / "imgs.tar.xz", prefix="cifar/")  # a top folder in the archive is fine
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
            assert np.abs(a.images[i].astype(int) - _colour(split, c, j)).max() <= 4


def test_png_tree_is_lossless(tmp_path):
    tree = _write_tree(tmp_path / "tree", ext="png")
    d = decode_image_folder(tree, use_cache=False, progress=False)["test"]
    assert d.images[3, 5, 7].tolist() == list(_colour("test", 1, 1))


def test_parallel_decode_matches_serial(tmp_path):
    tree = _write_tree(tmp_path / "tree", n=(7, 3))
    arc = _tar(tree, tmp_path / "a.tar")
    serial = decode_image_folder(arc, use_cache=False, workers=0, progress=False)
    par = decode_image_folder(arc, use_cache=False, workers=2, chunk=4, progress=False)
    for s in ("train", "test"):
        assert np.array_equal(serial[s].images, par[s].images) and (serial[s].files == par[s].files).all()


def test_cache_is_used_and_invalidated(tmp_path, monkeypatch):
    tree = _write_tree(tmp_path / "tree")
    arc = _tar(tree, tmp_path / "imgs.tar.gz", mode="w:gz")
    cache = tmp_path / "cache"
    first = decode_image_folder(arc, cache_dir=cache, progress=False)
    files = sorted(cache.glob("imgs-*.npz"))
    assert len(files) == 1
    with np.load(files[0], allow_pickle=False) as z:
        assert z["train_images"].dtype == np.uint8 and z["train_labels"].dtype == np.int64
        assert "sha256" in str(z["meta"])

    real = D._decode_source
    monkeypatch.setattr(D, "_decode_source", lambda *a, **k: pytest.fail("decoded although cached"))
    again = decode_image_folder(arc, cache_dir=cache, progress=False)
    assert np.array_equal(again["train"].images, first["train"].images)
    assert (again["test"].files == first["test"].files).all()

    # a changed source gets decoded again and replaces the stale cache
    Image.new("RGB", (32, 32), (1, 2, 3)).save(tree / "train" / "ant" / "0099.jpg")
    _tar(tree, arc, mode="w:gz")
    monkeypatch.setattr(D, "_decode_source", real)
    changed = decode_image_folder(arc, cache_dir=cache, progress=False)
    assert len(changed["train"]) == len(first["train"]) + 1
    new_files = sorted(cache.glob("imgs-*.npz"))
    assert len(new_files) == 1 and new_files != files


def test_default_cache_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("NASGCN_CACHE", raising=False)
    src = tmp_path / "cifar10" / "x.tar.xz"
    src.parent.mkdir()
    assert D.default_cache_dir(src) == tmp_path / "cifar10" / "cache"
    monkeypatch.setenv("NASGCN_CACHE", str(tmp_path / "elsewhere"))
    assert D.default_cache_dir(src) == tmp_path / "elsewhere"


def test_partial_tree_missing_class_or_split(tmp_path):
    tree = _write_tree(tmp_path / "tree")
    shutil.rmtree(tree / "test" / "bee")
    with pytest.raises(MissingDataError, match="test/bee"):
        decode_image_folder(tree, use_cache=False, progress=False)
    shutil.rmtree(tree / "test")
    with pytest.raises(MissingDataError, match="'test/'"):
        decode_image_folder(tree, splits=("train", "test"), use_cache=False, progress=False)
    with pytest.raises(MissingDataError, match="does not exist"):
        decode_image_folder(tmp_path / "absent", progress=False)


def test_undecodable_jpeg_is_named(tmp_path):
    tree = _write_tree(tmp_path / "tree")
    (tree / "train" / "bee" / "0002.jpg").write_bytes(b"\xff\xd8 this is not a jpeg")
    with pytest.raises(CorruptDataError, match="train/bee/0002.jpg"):
        decode_image_folder(tree, use_cache=False, progress=False)
    arc = _tar(tree, tmp_path / "bad.tar")
    with pytest.raises(CorruptDataError, match="train/bee/0002.jpg"):
        decode_image_folder(arc, use_cache=False, workers=2, chunk=3, progress=False)


def test_wrong_size_and_truncated_archive(tmp_path):
    tree = _write_tree(tmp_path / "tree")
    Image.new("RGB", (30, 32), (0, 0, 0)).save(tree / "test" / "cow" / "0000.jpg")
    with pytest.raises(CorruptDataError, match="test/cow/0000.jpg is 30x32"):
        decode_image_folder(tree, use_cache=False, progress=False)
    good = _write_tree(tmp_path / "good")
    arc = _tar(good, tmp_path / "t.tar.xz")
    data = arc.read_bytes()
    arc.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptDataError, match="truncated or corrupt"):
        decode_image_folder(arc, use_cache=False, progress=False)


def test_unexpected_class_folder(tmp_path):
    tree = _write_tree(tmp_path / "tree", classes=("ant", "bee", "zebra"))
    with pytest.raises(CorruptDataError, match="zebra"):
        decode_image_folder(tree, classes=("ant", "bee", "cow"), use_cache=False, progress=False)


# ---------------------------------------------------------------------------------------------- splits
def test_stratified_split_is_exact_and_seeded():
    y = np.repeat(np.arange(4), [100, 60, 30, 10])
    tr, va = stratified_split(y, 0.5, seed=3)
    assert len(va) == 100 and len(tr) == 100
    assert np.bincount(y[va]).tolist() == [50, 30, 15, 5]
    assert np.intersect1d(tr, va).size == 0 and np.union1d(tr, va).tolist() == list(range(200))
    tr2, va2 = stratified_split(y, 0.5, seed=3)
    assert np.array_equal(va, va2)
    assert not np.array_equal(va, stratified_split(y, 0.5, seed=4)[1])
    _, v = stratified_split(y, 37, seed=0)
    assert len(v) == 37 and np.abs(np.bincount(y[v], minlength=4) - np.array([100, 60, 30, 10]) * 0.185).max() < 1
    with pytest.raises(ValueError):
        stratified_split(y, 0, seed=0)


def test_nb201_split_joins_on_file_or_original_index(tmp_path, batches):
    tree = _write_tree(tmp_path / "tree")
    train = decode_image_folder(tree, use_cache=False, progress=False)["train"]
    files = list(train.files)
    perm = np.random.default_rng(0).permutation(len(files))
    df = pd.DataFrame({
        "original_index": np.arange(len(files)),
        "file": [files[i] for i in perm],
        "nb201_split": ["train", "valid"] * (len(files) // 2),
    })
    csv = tmp_path / "split.csv.gz"
    df.to_csv(csv, index=False)
    tr, va = nb201_split(train, csv)
    assert [train.files[i] for i in va] == [files[i] for i in perm[1::2]]
    assert len(tr) == len(va) == len(files) // 2
    # python batches: join on the original index
    root, _ = batches
    btrain = load_cifar10_batches(root, "train")
    pd.DataFrame({
        "original_index": np.arange(20)[::-1], "file": [f"nope/{i}" for i in range(20)],
        "nb201_split": ["valid" if i % 4 == 0 else "train" for i in range(20)][::-1],
    }).to_csv(csv, index=False)
    tr, va = nb201_split(btrain, csv)
    assert va.tolist() == [0, 4, 8, 12, 16] and len(tr) == 15
    # a split naming images the data lacks is an error
    df.loc[0, "file"] = "train/ant/9999.jpg"
    df.to_csv(csv, index=False)
    with pytest.raises(MissingDataError, match="9999.jpg"):
        nb201_split(train, csv)
    df.drop(columns="nb201_split").to_csv(csv, index=False)
    with pytest.raises(CorruptDataError, match="nb201_split"):
        nb201_split(train, csv)


def test_cifar10_splits_stratified_on_batches(batches):
    root, _ = batches
    sp = cifar10_splits(root, split="stratified", valid_size=0.25, seed=0, strict=False)
    assert [len(sp[k]) for k in ("train", "valid", "test")] == [15, 5, N_PER_BATCH]
    assert np.intersect1d(sp["train"].orig_index, sp["valid"].orig_index).size == 0


# ---------------------------------------------------------------------------------------------- synthetic
def test_synthetic_images_are_seeded_balanced_and_learnable():
    a = synthetic_images(200, seed=1)
    b = synthetic_images(200, seed=1)
    assert np.array_equal(a.images, b.images) and np.array_equal(a.labels, b.labels)
    assert not np.array_equal(a.images, synthetic_images(200, seed=2).images)
    assert a.class_counts().tolist() == [20] * 10 and a.images.dtype == np.uint8

    # class prototypes are shared across seeds: nearest class mean of (colour, stripe spectrum) features
    def feats(s: ImageSet) -> np.ndarray:
        x = s.images.astype(np.float64)
        rows = x.mean(axis=(2, 3))  # (n, H) stripe profile
        spec = np.abs(np.fft.rfft(rows - rows.mean(1, keepdims=True), axis=1))[:, 1:8]
        return np.concatenate([x.mean(axis=(1, 2)) / 10, spec / 50], axis=1)

    train, test = synthetic_images(1000, seed=0), synthetic_images(500, seed=1)
    ft, fe = feats(train), feats(test)
    centres = np.stack([ft[train.labels == c].mean(0) for c in range(10)])
    pred = np.argmin(((fe[:, None] - centres[None]) ** 2).sum(-1), axis=1)
    assert (pred == test.labels).mean() > 0.9


# ---------------------------------------------------------------------------------------------- TensorLoader
def _ids_set(n: int = 50, h: int = 8) -> ImageSet:
    """Random images (distinct with overwhelming probability) with labels = position % 10."""
    rng = np.random.default_rng(0)
    img = rng.integers(1, 256, (n, h, h, 3), dtype=np.uint8)
    return ImageSet(img, np.arange(n, dtype=np.int64) % 10, np.array([str(i) for i in range(n)]), tuple("abcdefghij"))


def _denorm(x: torch.Tensor) -> np.ndarray:
    m = torch.tensor(CIFAR10_MEAN).view(1, 3, 1, 1)
    s = torch.tensor(CIFAR10_STD).view(1, 3, 1, 1)
    return torch.round((x * s + m) * 255).to(torch.int64).permute(0, 2, 3, 1).numpy()


def _cycle(loader):
    while True:
        yield from loader


def test_loader_plain_batches_are_normalised_images():
    ds = _ids_set()
    ld = TensorLoader(ds, batch_size=16, shuffle=False, augment=False)
    batches = list(ld)
    assert len(ld) == 4 and [len(y) for _, y in batches] == [16, 16, 16, 2]
    x, y = batches[1]
    assert x.dtype == torch.float32 and x.shape == (16, 3, 8, 8) and y.dtype == torch.int64
    m, s = torch.tensor(CIFAR10_MEAN).view(1, 3, 1, 1), torch.tensor(CIFAR10_STD).view(1, 3, 1, 1)
    ref = (torch.from_numpy(ds.images[16:32]).permute(0, 3, 1, 2).float() / 255 - m) / s
    assert torch.allclose(x, ref, atol=1e-5)
    assert y.tolist() == ds.labels[16:32].tolist()
    assert len(TensorLoader(ds, batch_size=16, drop_last=True)) == 3
    assert [len(y) for _, y in TensorLoader(ds, batch_size=16, drop_last=True)] == [16, 16, 16]
    # NCHW input and channels_last output give the same values
    nchw = TensorLoader(ds.images.transpose(0, 3, 1, 2), ds.labels, layout="NCHW", batch_size=16, shuffle=False,
                        augment=False, channels_last=True)
    xn, _ = next(iter(nchw))
    assert xn.is_contiguous(memory_format=torch.channels_last) and torch.equal(xn, batches[0][0])


def test_loader_shuffle_covers_every_image_once_per_epoch():
    ds = _ids_set()
    ld = TensorLoader(ds.images, np.arange(50), batch_size=7, augment=False, seed=5)
    e1 = torch.cat([y for _, y in ld]).tolist()
    e2 = torch.cat([y for _, y in ld]).tolist()
    assert sorted(e1) == sorted(e2) == list(range(50))
    assert e1 != list(range(50)) and e1 != e2 and ld.epoch == 2


def test_loader_augmentation_is_a_crop_and_flip_of_the_padded_image():
    ds = _ids_set(n=64, h=8)
    ld = TensorLoader(ds.images, np.arange(64), batch_size=64, shuffle=True, augment=True, pad=2, seed=1)
    x, ids = next(iter(ld))
    got = _denorm(x)
    padded = np.pad(ds.images, ((0, 0), (2, 2), (2, 2), (0, 0)))
    seen_flip, seen_off = set(), set()
    for k, i in enumerate(ids.tolist()):
        matches = []
        for dy in range(5):
            for dx in range(5):
                crop = padded[i, dy:dy + 8, dx:dx + 8]
                for fl in (False, True):
                    if np.array_equal(crop[:, ::-1] if fl else crop, got[k]):
                        matches.append((dy, dx, fl))
        assert len(matches) == 1, f"image {i}: {matches}"
        seen_flip.add(matches[0][2])
        seen_off.add(matches[0][:2])
    assert seen_flip == {False, True} and len(seen_off) > 12  # both flips, many of the 25 offsets


def test_loader_augmentation_statistics():
    img = np.zeros((4000, 4, 4, 3), np.uint8)
    img[:, 0, 0] = 255  # one bright pixel: where it lands reveals offset and flip
    ld = TensorLoader(img, np.zeros(4000), batch_size=4000, pad=1, seed=0)
    x, _ = next(iter(ld))
    pos = np.argwhere(_denorm(x)[..., 0] == 255)  # (k, 3): sample, row, col
    # offset d in {0,1,2}^2 moves the pixel to (1-dy, 1-dx): it is cropped away unless dy, dx <= 1
    assert 0.40 < len(pos) / 4000 < 0.49  # 4/9 of the offsets keep it
    assert len(np.unique(pos[:, 0])) == len(pos)
    assert abs((pos[:, 2] >= 2).mean() - 0.5) < 0.05  # the flipped half lands on the right
    rows = np.bincount(pos[:, 1], minlength=4)
    assert rows[2] == 0 and rows[3] == 0 and abs(rows[0] / rows[1] - 1) < 0.15


def test_loader_seeds_and_resume_reproduce_batches():
    ds = _ids_set(n=50)

    def make(seed: int = 0) -> TensorLoader:
        return TensorLoader(ds, batch_size=8, seed=seed)

    ea = [(x, y) for _, (x, y) in zip(range(12), _cycle(make()))]
    eb = [(x, y) for _, (x, y) in zip(range(12), _cycle(make()))]
    assert all(torch.equal(p[0], q[0]) and torch.equal(p[1], q[1]) for p, q in zip(ea, eb))
    assert not torch.equal(next(iter(make(seed=1)))[0], ea[0][0])

    # uninterrupted: 3 epochs of 7 batches; interrupted mid epoch 2, at an epoch end, early in epoch 1
    full = [(x, y) for _, (x, y) in zip(range(21), _cycle(make()))]
    for cut in (10, 7, 3):
        first = make()
        it = _cycle(first)
        got = [next(it) for _ in range(cut)]
        state = first.state_dict()
        resumed = make(seed=123)  # the seed is overridden by the saved generator state
        resumed.load_state_dict(state)
        assert resumed.epoch == cut // 7 and resumed.position == cut % 7
        got += [b for _, b in zip(range(21 - cut), _cycle(resumed))]
        assert all(torch.equal(p[0], q[0]) and torch.equal(p[1], q[1]) for p, q in zip(full, got))


def test_loader_state_mismatch_and_bad_input():
    ds = _ids_set()
    st = TensorLoader(ds, batch_size=8).state_dict()
    with pytest.raises(ValueError, match="batch_size"):
        TensorLoader(ds, batch_size=16).load_state_dict(st)
    with pytest.raises(ValueError, match="uint8"):
        TensorLoader(ds.images.astype(np.float32), ds.labels)
    with pytest.raises(ValueError, match="labels"):
        TensorLoader(ds.images, ds.labels[:-1])


def test_loader_shards_partition_an_epoch():
    ds = _ids_set(n=51)
    got = []
    for r in range(3):
        ld = TensorLoader(ds.images, np.arange(51), batch_size=5, world_size=3, rank=r, seed=9, augment=False)
        assert ld.num_samples == 17 and len(ld) == 4
        got.append(torch.cat([y for _, y in ld]).tolist())
    flat = sum(got, [])
    assert len(flat) == len(set(flat)) == 51


# ---------------------------------------------------------------------------------------------- real data
@pytest.fixture(scope="session")
def real_cifar(data_file, tmp_path_factory):
    """The JPEG CIFAR-10 decoded once per session into a session tmp cache."""
    arc = data_file("cifar10/cifar10-jpeg.tar.xz")
    cache = tmp_path_factory.mktemp("cifar_cache")
    t0 = time.perf_counter()
    out = decode_image_folder(arc, classes=CIFAR10_CLASSES, cache_dir=cache, progress=False)
    print(f"decoded CIFAR-10 JPEGs in {time.perf_counter() - t0:.1f} s")
    return arc, out, cache


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


@pytest.mark.slow
def test_real_nb201_split(real_cifar, data_file):
    arc, d, cache = real_cifar
    tr_set = d["train"]
    tr, va = nb201_split(tr_set, data_file("cifar10/nb201_split.csv.gz"))
    assert len(tr) == len(va) == 25000 and np.intersect1d(tr, va).size == 0
    ct, cv = np.bincount(tr_set.labels[tr], minlength=10), np.bincount(tr_set.labels[va], minlength=10)
    print("nb201 train per class", ct.tolist(), "valid per class", cv.tolist())
    assert (ct + cv == 5000).all()
    # near balanced, not exactly: every class between 2,400 and 2,600 in each half
    assert ct.min() >= 2400 and ct.max() <= 2600 and cv.min() >= 2400 and cv.max() <= 2600
    # the front door: the data root's cifar10/ archive + split file, through the session cache
    sp = cifar10_splits(arc.parent.parent, cache_dir=cache, progress=False)
    assert [len(sp[k]) for k in ("train", "valid", "test")] == [25000, 25000, 10000]
    assert np.array_equal(sp["valid"].images, tr_set.images[va])
    assert sp["train"].files[0] == "train/frog/0000.jpg"  # original_index 0 is a frog, in the train half
