"""Train/valid splits: stratified, NB201 (joined on file or original index), cifar10_splits; the real NB201 split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from supernet.data import (
    CorruptDataError,
    MissingDataError,
    cifar10_splits,
    decode_image_folder,
    load_cifar10_batches,
    nb201_split,
    stratified_split,
)
from tests.supernet.data.helpers import N_PER_BATCH, write_tree


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
    tree = write_tree(tmp_path / "tree")
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
