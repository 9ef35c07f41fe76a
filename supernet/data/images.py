"""The in-memory image set every loader returns, the data errors, and the CIFAR-10 class names and statistics.

:class:`ImageSet` holds uint8 ``(N, H, W, 3)`` NHWC images with int64 labels and file names; the errors
say which file is wrong and how to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ..paths import DataError, MissingDataError

__all__ = [
    "CIFAR10_CLASSES",
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "DataError",
    "MissingDataError",
    "CorruptDataError",
    "ChecksumError",
    "ImageSet",
]

CIFAR10_CLASSES: tuple[str, ...] = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)
"""Class names in label order 0..9 (also the alphabetical order, as image-folder loaders sort them)."""
CIFAR10_MEAN: tuple[float, float, float] = (125.3 / 255, 123.0 / 255, 113.9 / 255)
"""Per-channel RGB mean of the CIFAR-10 training set, fraction of 255 (the values NAS-Bench-201 uses)."""
CIFAR10_STD: tuple[float, float, float] = (63.0 / 255, 62.1 / 255, 66.7 / 255)
"""Per-channel RGB standard deviation (fraction of 255), as NAS-Bench-201 uses."""


class CorruptDataError(DataError, ValueError):
    """A file exists but cannot be read (bad pickle, undecodable image, truncated archive, wrong shape)."""


class ChecksumError(CorruptDataError):
    """A downloaded file's checksum differs from the expected one."""


@dataclass(frozen=True, eq=False)
class ImageSet:
    """Images held as uint8 arrays.

    Attributes:
        images: uint8 ``(N, H, W, 3)``, NHWC, RGB.
        labels: int64 ``(N,)``, class ids ``0..len(classes)-1``.
        files: str ``(N,)``: where each image came from (``train/cat/0001.jpg`` for an image folder, the
            official file name for the python batches, ``synthetic/<i>`` for synthetic images).
        classes: class names in label order.
        orig_index: int64 ``(N,)``: position in the source's original training order, -1 where unknown
            (the python batches know it; an image folder learns it from the NB201 split file).
    """

    images: np.ndarray
    labels: np.ndarray
    files: np.ndarray
    classes: tuple[str, ...]
    orig_index: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        n = len(self.images)
        if self.images.dtype != np.uint8 or self.images.ndim != 4 or self.images.shape[-1] != 3:
            raise ValueError(f"images must be uint8 (N, H, W, 3), got {self.images.dtype} {self.images.shape}")
        if self.labels.shape != (n,) or len(self.files) != n:
            raise ValueError(f"{n} images but {self.labels.shape} labels and {len(self.files)} files")
        if self.orig_index is None:
            object.__setattr__(self, "orig_index", np.full(n, -1, dtype=np.int64))
        elif self.orig_index.shape != (n,):
            raise ValueError(f"orig_index has shape {self.orig_index.shape}, expected ({n},)")
        if n and (self.labels.min() < 0 or self.labels.max() >= len(self.classes)):
            raise ValueError(f"labels must lie in 0..{len(self.classes) - 1}")

    def __len__(self) -> int:
        return len(self.images)

    def __repr__(self) -> str:
        return f"ImageSet(n={len(self)}, shape={tuple(self.images.shape[1:])}, classes={len(self.classes)})"

    def subset(self, index: np.ndarray | Sequence[int]) -> "ImageSet":
        """The images at ``index`` (positions), in that order."""
        idx = np.asarray(index, dtype=np.int64)
        return ImageSet(self.images[idx], self.labels[idx], self.files[idx], self.classes, self.orig_index[idx])

    def class_counts(self) -> np.ndarray:
        """int64 ``(len(classes),)``: images per class."""
        return np.bincount(self.labels, minlength=len(self.classes)).astype(np.int64)

    def channel_mean(self) -> np.ndarray:
        """float64 ``(3,)``: mean RGB value as a fraction of 255."""
        flat = self.images.reshape(-1, 3)
        if not len(flat):
            return np.full(3, np.nan)
        levels = np.arange(256, dtype=np.float64)
        return np.array([np.bincount(flat[:, c], minlength=256) @ levels for c in range(3)]) / (255.0 * len(flat))

