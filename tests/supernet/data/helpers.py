"""Small generated CIFAR-10 sources for the data tests: official-format batches, image trees, archives."""

from __future__ import annotations

import pickle
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image

N_PER_BATCH = 4


def write_batches(folder: Path, seed: int = 0) -> dict[str, dict]:
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


def make_archive(root: Path, dest: Path) -> Path:
    """``root/cifar-10-batches-py`` as a ``.tar.gz`` at ``dest`` (the official archive's layout)."""
    with tarfile.open(dest, "w:gz") as tf:
        tf.add(root / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    return dest


def colour(split: str, c: int, i: int) -> tuple[int, int, int]:
    """The solid RGB colour of image ``i`` of class ``c`` in ``split`` (so tests know every pixel)."""
    return (40 + 60 * c, 30 + 40 * i, 200 if split == "train" else 100)


def write_tree(root: Path, classes=("ant", "bee", "cow"), n=(4, 2), size=32, ext="jpg") -> Path:
    """train/<class>/NNNN.jpg, test/<class>/... with a solid colour per image (known pixels)."""
    for split, k in zip(("train", "test"), n):
        for c, name in enumerate(classes):
            d = root / split / name
            d.mkdir(parents=True, exist_ok=True)
            for i in range(k):
                Image.new("RGB", (size, size), colour(split, c, i)).save(d / f"{i:04d}.{ext}", quality=95)
    return root


def tar_tree(tree: Path, dest: Path, mode: str = "w:xz", prefix: str = "") -> Path:
    """An archive of ``tree`` at ``dest``, members in sorted order under ``prefix``."""
    with tarfile.open(dest, mode) as tf:
        for p in sorted(tree.rglob("*")):
            tf.add(p, arcname=prefix + p.relative_to(tree).as_posix(), recursive=False)
    return dest
