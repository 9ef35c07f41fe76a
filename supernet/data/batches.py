"""CIFAR-10 from the official python batches: a ``cifar-10-batches-py/`` folder or the archive read in place.

Batches are unpickled with an unpickler that admits only numpy's array reconstruction, so a hostile
file cannot run code.
"""

from __future__ import annotations

import io
import os
import pickle
import tarfile
from pathlib import Path
from typing import Any

import numpy as np

from .images import CIFAR10_CLASSES, CorruptDataError, ImageSet, MissingDataError

__all__ = ["load_cifar10_batches"]

ARCHIVE_NAME = "cifar-10-python.tar.gz"
"""File name of the official archive."""
BATCH_DIR = "cifar-10-batches-py"
"""Folder the official archive extracts to."""
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
DOWNLOAD_HINT = "call supernet.data.download_cifar10(root) to fetch it (checksum-verified)"
"""How to get the archive, appended to missing-data errors."""


class _BatchUnpickler(pickle.Unpickler):
    """Unpickles a CIFAR batch (a dict of bytes / lists / one ndarray) and refuses anything else.

    Pickle can run arbitrary code; a CIFAR batch only needs numpy's array reconstruction.
    """

    _ALLOWED = {
        ("numpy", "ndarray"), ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
        ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a CIFAR batch")
        if module.startswith("numpy.core") and hasattr(np, "_core"):
            module = "numpy._core" + module[len("numpy.core"):]
        return super().find_class(module, name)


def _read_batch(data: bytes, where: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Decode one pickled batch -> (uint8 (n,32,32,3), int64 (n,), file names)."""
    fix = f"the file is corrupt: delete it and re-extract {ARCHIVE_NAME} or {DOWNLOAD_HINT}"
    try:
        d = _BatchUnpickler(io.BytesIO(data), encoding="bytes").load()
    except Exception as e:  # noqa: BLE001 - any unpickling failure means the same thing here
        raise CorruptDataError(f"cannot unpickle CIFAR batch {where}: {e}; {fix}") from e
    if not isinstance(d, dict):
        raise CorruptDataError(f"CIFAR batch {where} holds a {type(d).__name__}, not a dict; {fix}")
    d = {(k.decode() if isinstance(k, bytes) else k): v for k, v in d.items()}
    missing = [k for k in ("data", "labels") if k not in d]
    if missing:
        raise CorruptDataError(f"CIFAR batch {where} lacks key(s) {missing} (has {sorted(d)}); {fix}")
    x = np.asarray(d["data"])
    y = np.asarray(d["labels"], dtype=np.int64)
    if x.dtype != np.uint8 or x.ndim != 2 or x.shape[1] != 3 * 32 * 32 or len(x) != len(y):
        raise CorruptDataError(
            f"CIFAR batch {where}: data {x.dtype}{x.shape} and {len(y)} labels, expected uint8 (n, 3072) "
            f"and n labels; {fix}"
        )
    if len(y) and (y.min() < 0 or y.max() > 9):
        raise CorruptDataError(f"CIFAR batch {where}: labels outside 0..9; {fix}")
    names = d.get("filenames")
    files = [n.decode() if isinstance(n, bytes) else str(n) for n in names] if names is not None else []
    if len(files) != len(y):
        files = [f"{Path(where).name}/{i}" for i in range(len(y))]
    images = np.ascontiguousarray(x.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    return images, y, files


def check_batch_dir(folder: Path) -> None:
    """Raise :class:`MissingDataError` naming every batch file missing from an extracted ``folder``."""
    missing = [n for n in (*TRAIN_BATCHES, TEST_BATCH) if not (folder / n).is_file()]
    if missing:
        raise MissingDataError(
            f"{folder} lacks {', '.join(missing)}: the extraction is partial. Delete {folder} and extract "
            f"{ARCHIVE_NAME} again, or {DOWNLOAD_HINT}"
        )


def _find_batches(source: Path) -> tuple[str, Path]:
    """('dir', folder) or ('archive', path) for the python batches at or under ``source``."""
    if source.is_file():
        return "archive", source
    for cand in (source, source / BATCH_DIR):
        if (cand / TRAIN_BATCHES[0]).exists() or (cand / TEST_BATCH).exists():
            return "dir", cand
    if (source / ARCHIVE_NAME).is_file():
        return "archive", source / ARCHIVE_NAME
    if (source / BATCH_DIR).is_dir():
        return "dir", source / BATCH_DIR
    raise MissingDataError(
        f"no CIFAR-10 python batches in {source}: expected {source / BATCH_DIR}/data_batch_1..5 and "
        f"test_batch, or {source / ARCHIVE_NAME}; {DOWNLOAD_HINT}"
    )


def load_cifar10_batches(source: str | os.PathLike, split: str = "train") -> ImageSet:
    """CIFAR-10 from the official python batches.

    Args:
        source: the ``cifar-10-batches-py`` folder, its parent, or ``cifar-10-python.tar.gz`` (read in place).
        split: ``"train"`` (data_batch_1..5, 50,000 images in the original order) or ``"test"`` (10,000).

    Returns:
        An :class:`ImageSet`; ``orig_index`` is the position in the original training order (train only).
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    names = TRAIN_BATCHES if split == "train" else (TEST_BATCH,)
    kind, where = _find_batches(Path(source))
    blobs: list[tuple[str, bytes]] = []
    if kind == "dir":
        for n in names:
            p = where / n
            if not p.is_file():
                check_batch_dir(where)  # raises with the full list of missing files
            blobs.append((str(p), p.read_bytes()))
    else:
        try:
            with tarfile.open(where, "r:*") as tf:
                members = {m.name.split("/")[-1]: m for m in tf.getmembers() if m.isfile()}
                missing = [n for n in names if n not in members]
                if missing:
                    raise MissingDataError(
                        f"{where} lacks {', '.join(missing)}: the archive is partial or not the official "
                        f"{ARCHIVE_NAME}; {DOWNLOAD_HINT}"
                    )
                for n in names:
                    f = tf.extractfile(members[n])
                    assert f is not None
                    blobs.append((f"{where}:{members[n].name}", f.read()))
        except (tarfile.TarError, EOFError, OSError) as e:
            if isinstance(e, MissingDataError):
                raise
            raise CorruptDataError(f"cannot read {where}: {e}; delete it and {DOWNLOAD_HINT}") from e
    parts = [_read_batch(b, w) for w, b in blobs]
    images = np.concatenate([p[0] for p in parts]) if parts else np.empty((0, 32, 32, 3), np.uint8)
    labels = np.concatenate([p[1] for p in parts]).astype(np.int64)
    files = np.array([f for p in parts for f in p[2]], dtype=str)
    orig = np.arange(len(labels), dtype=np.int64) if split == "train" else np.full(len(labels), -1, np.int64)
    return ImageSet(images, labels, files, CIFAR10_CLASSES, orig)

