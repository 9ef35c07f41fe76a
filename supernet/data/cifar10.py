"""The CIFAR-10 front door: find the source under a data root and load it, checking the official sizes.

A source is the python batches (folder or archive) or an image-folder tree / archive
(``cifar10/cifar10-jpeg.tar.xz``); :func:`resolve_cifar10_source` picks the first found.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from .batches import ARCHIVE_NAME, BATCH_DIR, DOWNLOAD_HINT, TEST_BATCH, TRAIN_BATCHES, load_cifar10_batches
from .folder import decode_image_folder
from .images import CIFAR10_CLASSES, CorruptDataError, ImageSet, MissingDataError

__all__ = ["load_cifar10", "load_cifar10_sets", "resolve_cifar10_source"]


def _is_batches(source: Path) -> bool:
    """Whether ``source`` is (or directly holds) the official python batches or their archive."""
    if source.is_file():
        return source.name.startswith("cifar-10-python")
    return any(
        (c / TRAIN_BATCHES[0]).exists() or (c / TEST_BATCH).exists() for c in (source, source / BATCH_DIR)
    ) or (source / ARCHIVE_NAME).is_file()


def load_cifar10(
    source: str | os.PathLike,
    split: str = "train",
    *,
    cache_dir: str | os.PathLike | None = None,
    strict: bool = True,
    workers: int | None = None,
    progress: bool = True,
) -> ImageSet:
    """CIFAR-10 ``split`` ("train" or "test") from the python batches or an image-folder tree / archive.

    ``source`` may be a data root holding ``cifar10/`` (``cifar-10-batches-py``, ``cifar-10-python.tar.gz``
    or ``cifar10-jpeg.tar.xz`` are looked for in that order), one of those paths, or any image-folder tree.
    ``strict`` checks the official sizes: 50,000 / 10,000 images, 5,000 / 1,000 per class.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return load_cifar10_sets(Path(source), (split,), cache_dir, strict, workers, progress)[split]


def load_cifar10_sets(
    source: Path, splits: Sequence[str], cache_dir: str | os.PathLike | None, strict: bool, workers: int | None,
    progress: bool,
) -> dict[str, ImageSet]:
    """``{split: ImageSet}`` for ``splits`` of the CIFAR-10 at ``source``; ``strict`` checks the official sizes."""
    src = resolve_cifar10_source(source)
    if _is_batches(src):
        sets = {s: load_cifar10_batches(src, s) for s in splits}
    else:
        sets = decode_image_folder(
            src, classes=CIFAR10_CLASSES, splits=("train", "test"), cache_dir=cache_dir, workers=workers,
            progress=progress,
        )
    for split in splits:
        ds = sets[split]
        per_class = 5000 if split == "train" else 1000
        counts = ds.class_counts()
        if strict and (len(ds) != 10 * per_class or not (counts == per_class).all()):
            raise CorruptDataError(
                f"{src} {split}: {len(ds)} images ({dict(zip(ds.classes, counts.tolist()))}), expected "
                f"{per_class} per class: the data set is partial or not CIFAR-10 (strict=False accepts it)"
            )
    return {s: sets[s] for s in splits}


def resolve_cifar10_source(source: Path) -> Path:
    """The CIFAR-10 source at or under ``source`` (batches folder, archive or image-folder tree), first found
    in the order of :func:`load_cifar10`; :class:`MissingDataError` when there is none."""
    if not source.exists():
        raise MissingDataError(f"{source} does not exist; see data/README.md for CIFAR-10 sources, or {DOWNLOAD_HINT}")
    if source.is_file() or _is_batches(source) or (source / "train").is_dir():
        return source
    for sub in (source, source / "cifar10"):
        for cand in (BATCH_DIR, ARCHIVE_NAME, "cifar10-jpeg.tar.xz"):
            if (sub / cand).exists():
                return sub / cand
    raise MissingDataError(
        f"no CIFAR-10 under {source}: expected cifar10/{BATCH_DIR}/, cifar10/{ARCHIVE_NAME}, "
        f"cifar10/cifar10-jpeg.tar.xz or an image-folder tree (train/<class>/...); {DOWNLOAD_HINT}"
    )

