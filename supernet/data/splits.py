"""Train/valid splits of a training set: NAS-Bench-201's fixed 25k/25k split, a seeded stratified one, and
:func:`cifar10_splits`, which loads CIFAR-10 and splits it in one call."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from .cifar10 import load_cifar10_sets, resolve_cifar10_source
from .images import CorruptDataError, ImageSet, MissingDataError

__all__ = ["nb201_split", "stratified_split", "cifar10_splits"]


def nb201_split(data: ImageSet, csv_path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """NAS-Bench-201's 25k/25k train/valid split of the CIFAR-10 training set.

    Joins ``csv_path`` (columns ``original_index, file, nb201_split``) with ``data`` on ``file`` (the path
    inside the image-folder archive) when the files match, else on ``original_index`` (python batches).

    Returns:
        ``(train_positions, valid_positions)``: int64 positions into ``data``, in original-index order.
    """
    path = Path(csv_path)
    if not path.is_file():
        raise MissingDataError(f"split file {path} not found; see data/README.md (cifar10/nb201_split.csv.gz)")
    try:
        df = pd.read_csv(path)
    except Exception as e:  # noqa: BLE001
        raise CorruptDataError(f"cannot read split file {path}: {e}") from e
    need = {"original_index", "file", "nb201_split"}
    if not need <= set(df.columns):
        raise CorruptDataError(f"{path} lacks column(s) {sorted(need - set(df.columns))}; has {list(df.columns)}")
    bad = sorted(set(df["nb201_split"]) - {"train", "valid"})
    if bad:
        raise CorruptDataError(f"{path}: nb201_split values {bad} are not 'train' or 'valid'")
    df = df.sort_values("original_index", kind="stable")
    pos_of_file = {f: i for i, f in enumerate(data.files.tolist())}
    hit = df["file"].map(pos_of_file)
    if hit.notna().all():
        pos = hit.to_numpy(np.int64)
    elif (data.orig_index >= 0).all():
        pos_of_orig = pd.Series(np.arange(len(data)), index=data.orig_index)
        if not df["original_index"].isin(pos_of_orig.index).all():
            missing = df.loc[~df["original_index"].isin(pos_of_orig.index), "original_index"]
            raise MissingDataError(
                f"{len(missing)} of {len(df)} original indices of {path} are not in the data "
                f"(e.g. {missing.head(3).tolist()}): the training set is partial"
            )
        pos = pos_of_orig.loc[df["original_index"].to_numpy()].to_numpy(np.int64)
    else:
        missing = df.loc[hit.isna(), "file"]
        raise MissingDataError(
            f"{len(missing)} of {len(df)} files of {path} are not in the data (e.g. {missing.head(3).tolist()}): "
            f"the image set is partial or not the one the split was made for"
        )
    is_valid = (df["nb201_split"] == "valid").to_numpy()
    return pos[~is_valid], pos[is_valid]


def stratified_split(
    labels: np.ndarray, valid_size: int | float = 0.5, seed: int | np.random.Generator = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded split with the same class proportions in both parts.

    Args:
        labels: int ``(N,)``.
        valid_size: a fraction in (0, 1) or a count of validation images.
        seed: int or ``np.random.Generator``.

    Returns:
        ``(train_positions, valid_positions)``, each sorted ascending.
    """
    y = np.asarray(labels)
    n = len(y)
    n_valid = int(round(valid_size * n)) if isinstance(valid_size, float) else int(valid_size)
    if not 0 < n_valid < n:
        raise ValueError(f"valid_size={valid_size!r} leaves {n_valid} of {n} images for validation")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    classes, counts = np.unique(y, return_counts=True)
    quota = counts * n_valid / n
    take = np.floor(quota).astype(int)
    rest = n_valid - take.sum()
    if rest:  # largest remainders first, ties by class order
        take[np.argsort(-(quota - take), kind="stable")[:rest]] += 1
    valid = []
    for c, k in zip(classes, take):
        idx = np.flatnonzero(y == c)
        valid.append(rng.permutation(idx)[:k])
    v = np.sort(np.concatenate(valid))
    mask = np.ones(n, bool)
    mask[v] = False
    return np.flatnonzero(mask), v


def cifar10_splits(
    source: str | os.PathLike,
    *,
    split: str = "nb201",
    split_csv: str | os.PathLike | None = None,
    valid_size: int | float = 25000,
    seed: int = 0,
    cache_dir: str | os.PathLike | None = None,
    strict: bool = True,
    workers: int | None = None,
    progress: bool = True,
) -> dict[str, ImageSet]:
    """``{"train", "valid", "test"}`` image sets of CIFAR-10.

    Args:
        split: ``"nb201"`` (the NAS-Bench-201 25k/25k split read from ``split_csv``, default
            ``cifar10/nb201_split.csv.gz`` beside the images) or ``"stratified"`` (``valid_size``, ``seed``).
    """
    sets = load_cifar10_sets(Path(source), ("train", "test"), cache_dir, strict, workers, progress)
    train, test = sets["train"], sets["test"]
    if split == "nb201":
        if split_csv is None:
            src = resolve_cifar10_source(Path(source))
            split_csv = src.parent / "nb201_split.csv.gz"
        tr, va = nb201_split(train, split_csv)
    elif split == "stratified":
        tr, va = stratified_split(train.labels, valid_size, seed)
    else:
        raise ValueError(f"split must be 'nb201' or 'stratified', got {split!r}")
    return {"train": train.subset(tr), "valid": train.subset(va), "test": test}

