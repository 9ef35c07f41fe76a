"""CIFAR-10 and synthetic images as uint8 arrays, train/valid splits, and an on-device batch loader.

Sources (nothing is ever downloaded unless :func:`download_cifar10` is called explicitly):

* the official python batches: a ``cifar-10-batches-py/`` folder (``data_batch_1..5``, ``test_batch``) or
  the ``cifar-10-python.tar.gz`` archive itself (read in place, not extracted);
* an image-folder tree ``train/<class>/*.jpg``, ``test/<class>/*.jpg`` or a tar(.gz/.xz) archive of one
  (e.g. ``cifar10/cifar10-jpeg.tar.xz``): decoded once with Pillow (members streamed from the archive,
  decoding spread over worker processes) and cached as uint8 arrays in a ``.npz`` keyed by the source's hash;
* :func:`synthetic_images`: seeded, class-dependent patterns for fast tests.

Every loader returns :class:`ImageSet` (uint8 ``(N, H, W, 3)`` NHWC images, int64 labels, file names).
:func:`nb201_split` / :func:`stratified_split` split a training set; :func:`cifar10_splits` does it all.

:class:`TensorLoader` keeps the uint8 images on the training device and yields normalised float batches;
random crop (zero padding 4) and horizontal flip are done for the whole batch at once on the device,
driven by an explicit ``torch.Generator`` whose position is saved by ``state_dict()`` so a resumed run
draws exactly the same batches.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import math
import multiprocessing
import os
import pickle
import re
import tarfile
import time
import urllib.error
import urllib.request
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from .fileio import atomic_write
from .hashing import file_digest, json_digest

__all__ = [
    "CIFAR10_CLASSES",
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "CIFAR10_URL",
    "CIFAR10_MD5",
    "DataError",
    "MissingDataError",
    "CorruptDataError",
    "ChecksumError",
    "ImageSet",
    "download_cifar10",
    "load_cifar10_batches",
    "decode_image_folder",
    "load_cifar10",
    "default_cache_dir",
    "nb201_split",
    "stratified_split",
    "cifar10_splits",
    "synthetic_images",
    "TensorLoader",
]

logger = logging.getLogger(__name__)

CIFAR10_CLASSES: tuple[str, ...] = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)
"""Class names in label order 0..9 (also the alphabetical order, as image-folder loaders sort them)."""
CIFAR10_MEAN: tuple[float, float, float] = (125.3 / 255, 123.0 / 255, 113.9 / 255)
"""Per-channel RGB mean of the CIFAR-10 training set, fraction of 255 (the values NAS-Bench-201 uses)."""
CIFAR10_STD: tuple[float, float, float] = (63.0 / 255, 62.1 / 255, 66.7 / 255)
"""Per-channel RGB standard deviation (fraction of 255), as NAS-Bench-201 uses."""
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
"""MD5 of the official ``cifar-10-python.tar.gz`` (as published on the CIFAR page)."""
_ARCHIVE_NAME = "cifar-10-python.tar.gz"
_BATCH_DIR = "cifar-10-batches-py"
_TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
_TEST_BATCH = "test_batch"
_IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp")
_CACHE_VERSION = 1
_DOWNLOAD_HINT = "call supernet.datasets.download_cifar10(root) to fetch it (checksum-verified)"


# ---------------------------------------------------------------------------------------------- errors
class DataError(Exception):
    """Data that cannot be used; the message names the file and says how to fix it."""


class MissingDataError(DataError, FileNotFoundError):
    """A file, folder, class or split the data set needs is absent."""


class CorruptDataError(DataError, ValueError):
    """A file exists but cannot be read (bad pickle, undecodable image, truncated archive, wrong shape)."""


class ChecksumError(CorruptDataError):
    """A downloaded file's checksum differs from the expected one."""


# ---------------------------------------------------------------------------------------------- image set
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


# ---------------------------------------------------------------------------------------------- download
def download_cifar10(
    root: str | os.PathLike,
    url: str = CIFAR10_URL,
    md5: str | None = CIFAR10_MD5,
    *,
    extract: bool = True,
    force: bool = False,
    timeout: float = 60.0,
    progress: bool = True,
) -> Path:
    """Download ``cifar-10-python.tar.gz`` into ``root``, verify its MD5 and (by default) extract it.

    Only ever called explicitly: no loader downloads anything. An archive already in ``root`` with the
    right checksum is reused unless ``force``. The download goes to a ``.part`` file renamed only after
    the checksum matched, so an interrupted or corrupt download never looks complete.

    Returns:
        ``root/cifar-10-batches-py`` when ``extract`` (checked to hold all six batches), else the archive path.

    Raises:
        ChecksumError: the MD5 differs (the bad file is deleted).
        DataError: the URL cannot be fetched.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    archive = root / _ARCHIVE_NAME
    if archive.is_file() and not force and (md5 is None or file_digest(archive, "md5") == md5):
        logger.info("reusing %s (checksum ok)", archive)
    else:
        part = archive.with_name(archive.name + ".part")
        h = hashlib.md5()
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp, open(part, "wb") as out:
                total = int(resp.headers.get("Content-Length") or 0) or None
                with tqdm(total=total, unit="B", unit_scale=True, desc="CIFAR-10", disable=not progress) as bar:
                    for block in iter(lambda: resp.read(1 << 20), b""):
                        out.write(block)
                        h.update(block)
                        bar.update(len(block))
        except (urllib.error.URLError, OSError) as e:
            part.unlink(missing_ok=True)
            raise DataError(
                f"cannot download {url}: {e}. Check the URL and the network, or put {_ARCHIVE_NAME} "
                f"(or the extracted {_BATCH_DIR}/) into {root} by hand"
            ) from e
        got = h.hexdigest()
        if md5 is not None and got != md5:
            part.unlink(missing_ok=True)
            raise ChecksumError(
                f"{url} downloaded with MD5 {got}, expected {md5}: the file is corrupt or not the official "
                f"archive; it was deleted. Retry, or pass the right md5= for a mirror"
            )
        os.replace(part, archive)
        logger.info("downloaded %s (%s)", archive, got)
    if not extract:
        return archive
    try:
        with tarfile.open(archive, "r:*") as tf:
            tf.extractall(root, filter="data")
    except (tarfile.TarError, EOFError, OSError) as e:
        raise CorruptDataError(f"cannot extract {archive}: {e}; delete it and download again") from e
    out = root / _BATCH_DIR
    _check_batch_dir(out)
    return out


# ---------------------------------------------------------------------------------------------- python batches
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
    fix = f"the file is corrupt: delete it and re-extract {_ARCHIVE_NAME} or {_DOWNLOAD_HINT}"
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


def _check_batch_dir(folder: Path) -> None:
    missing = [n for n in (*_TRAIN_BATCHES, _TEST_BATCH) if not (folder / n).is_file()]
    if missing:
        raise MissingDataError(
            f"{folder} lacks {', '.join(missing)}: the extraction is partial. Delete {folder} and extract "
            f"{_ARCHIVE_NAME} again, or {_DOWNLOAD_HINT}"
        )


def _find_batches(source: Path) -> tuple[str, Path]:
    """('dir', folder) or ('archive', path) for the python batches at or under ``source``."""
    if source.is_file():
        return "archive", source
    for cand in (source, source / _BATCH_DIR):
        if (cand / _TRAIN_BATCHES[0]).exists() or (cand / _TEST_BATCH).exists():
            return "dir", cand
    if (source / _ARCHIVE_NAME).is_file():
        return "archive", source / _ARCHIVE_NAME
    if (source / _BATCH_DIR).is_dir():
        return "dir", source / _BATCH_DIR
    raise MissingDataError(
        f"no CIFAR-10 python batches in {source}: expected {source / _BATCH_DIR}/data_batch_1..5 and "
        f"test_batch, or {source / _ARCHIVE_NAME}; {_DOWNLOAD_HINT}"
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
    names = _TRAIN_BATCHES if split == "train" else (_TEST_BATCH,)
    kind, where = _find_batches(Path(source))
    blobs: list[tuple[str, bytes]] = []
    if kind == "dir":
        for n in names:
            p = where / n
            if not p.is_file():
                _check_batch_dir(where)  # raises with the full list of missing files
            blobs.append((str(p), p.read_bytes()))
    else:
        try:
            with tarfile.open(where, "r:*") as tf:
                members = {m.name.split("/")[-1]: m for m in tf.getmembers() if m.isfile()}
                missing = [n for n in names if n not in members]
                if missing:
                    raise MissingDataError(
                        f"{where} lacks {', '.join(missing)}: the archive is partial or not the official "
                        f"{_ARCHIVE_NAME}; {_DOWNLOAD_HINT}"
                    )
                for n in names:
                    f = tf.extractfile(members[n])
                    assert f is not None
                    blobs.append((f"{where}:{members[n].name}", f.read()))
        except (tarfile.TarError, EOFError, OSError) as e:
            if isinstance(e, MissingDataError):
                raise
            raise CorruptDataError(f"cannot read {where}: {e}; delete it and {_DOWNLOAD_HINT}") from e
    parts = [_read_batch(b, w) for w, b in blobs]
    images = np.concatenate([p[0] for p in parts]) if parts else np.empty((0, 32, 32, 3), np.uint8)
    labels = np.concatenate([p[1] for p in parts]).astype(np.int64)
    files = np.array([f for p in parts for f in p[2]], dtype=str)
    orig = np.arange(len(labels), dtype=np.int64) if split == "train" else np.full(len(labels), -1, np.int64)
    return ImageSet(images, labels, files, CIFAR10_CLASSES, orig)


# ---------------------------------------------------------------------------------------------- image folder
def _decode_chunk(items: list[tuple[str, bytes]], size: tuple[int, int] | None) -> tuple[np.ndarray, str | None]:
    """Decode JPEG/PNG bytes -> uint8 (n, H, W, 3); on failure (empty array, error message naming the file)."""
    from PIL import Image  # imported here: workers only need Pillow

    out: np.ndarray | None = None
    for i, (name, data) in enumerate(items):
        try:
            with Image.open(io.BytesIO(data)) as im:
                arr = np.asarray(im.convert("RGB"))
        except Exception as e:  # noqa: BLE001 - Pillow raises many types for a bad file
            return np.empty((0, 0, 0, 3), np.uint8), f"cannot decode {name}: {type(e).__name__}: {e}"
        want = size if size is not None else arr.shape[:2]
        if out is None:
            out = np.empty((len(items), want[0], want[1], 3), np.uint8)
        if arr.shape[:2] != out.shape[1:3]:
            return np.empty((0, 0, 0, 3), np.uint8), (
                f"{name} is {arr.shape[1]}x{arr.shape[0]} pixels, expected {out.shape[2]}x{out.shape[1]}"
            )
        out[i] = arr
    return (out if out is not None else np.empty((0, 0, 0, 3), np.uint8)), None


def _split_member(name: str) -> tuple[str, str, str] | None:
    """``[prefix/]split/class/file.ext`` -> (split, class, 'split/class/file.ext'); None for other paths."""
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if len(parts) < 3 or not parts[-1].lower().endswith(_IMAGE_EXTS) or parts[-1].startswith("._"):
        return None
    split, cls, fname = parts[-3], parts[-2], parts[-1]
    return split, cls, f"{split}/{cls}/{fname}"


def _iter_source(source: Path) -> Iterator[tuple[str, bytes]]:
    """Yield (member path, bytes) of every file of an image-folder tree or tar archive, in stored order."""
    if source.is_dir():
        for p in sorted(source.rglob("*")):
            if p.is_file():
                yield p.relative_to(source).as_posix(), p.read_bytes()
        return
    try:
        with tarfile.open(source, "r|*") as tf:  # stream mode: one pass, no seeking, nothing extracted
            for m in tf:
                if m.isfile():
                    f = tf.extractfile(m)
                    if f is not None:
                        yield m.name, f.read()
    except (tarfile.TarError, EOFError, OSError) as e:
        raise CorruptDataError(
            f"cannot read archive {source}: {type(e).__name__}: {e}. It is truncated or corrupt: "
            f"download or create it again"
        ) from e


def _fingerprint(source: Path) -> str:
    """sha256 of an archive's bytes, or of a tree's sorted (path, size, mtime) listing."""
    if not source.is_dir():
        return file_digest(source)
    h = hashlib.sha256()
    for p in sorted(source.rglob("*")):
        if p.is_file():
            st = p.stat()
            h.update(f"{p.relative_to(source).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def default_cache_dir(source: str | os.PathLike) -> Path:
    """Where decoded arrays are cached when no ``cache_dir`` is given.

    ``$NASGCN_CACHE`` if set; else ``cache/`` beside the source (inside the data root, e.g. the git-ignored
    ``data/``) when that folder is writable; else ``~/.cache/nasgcn`` (``$XDG_CACHE_HOME/nasgcn``).
    """
    env = os.environ.get("NASGCN_CACHE")
    if env:
        return Path(env)
    parent = Path(source).resolve().parent
    if os.access(parent, os.W_OK) and (not (parent / "cache").exists() or os.access(parent / "cache", os.W_OK)):
        return parent / "cache"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "nasgcn"


def _cache_stem(source: Path) -> str:
    name = source.name
    for ext in (".tar.xz", ".tar.gz", ".tar.bz2", ".tgz", ".txz", ".tar"):
        if name.endswith(ext):
            name = name[: -len(ext)]
            break
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "images"


def decode_image_folder(
    source: str | os.PathLike,
    *,
    classes: Sequence[str] | None = None,
    splits: Sequence[str] | None = None,
    image_size: tuple[int, int] | None = (32, 32),
    cache_dir: str | os.PathLike | None = None,
    use_cache: bool = True,
    workers: int | None = None,
    chunk: int = 2000,
    progress: bool = True,
) -> dict[str, ImageSet]:
    """Decode an image-folder tree or its tar archive into uint8 arrays, once; later calls read the cache.

    The layout is ``[prefix/]<split>/<class>/<file>`` (e.g. ``train/cat/0001.jpg``); every split must hold
    every class. Archives are streamed member by member (no extraction) while worker processes decode.
    The cache ``<cache_dir>/<name>-<key12>.npz`` (key: source hash, ``classes``, ``image_size``) stores, per split, ``<split>_images`` (uint8 N,H,W,3),
    ``<split>_labels`` (int64), ``<split>_files`` (str) plus ``classes`` and a JSON ``meta`` holding the
    source path, size and sha256; a source whose hash changed gets a new cache and the stale one is removed.

    Args:
        source: folder or ``.tar``/``.tar.gz``/``.tar.xz`` archive.
        classes: expected class names in label order; default: the sorted folder names.
        splits: expected split folders (default: those found); a missing one is an error.
        image_size: (H, W) every image must have; None accepts any size that is the same for all.
        cache_dir: default :func:`default_cache_dir`.
        use_cache: False decodes without reading or writing a cache.
        workers: decoding processes (default ``min(2, cpu_count)``); 0 or 1 decodes in this process.
        chunk: images per unit of work.

    Returns:
        ``{split: ImageSet}``; files within a class in sorted order, classes in label order.
    """
    source = Path(source)
    if not source.exists():
        raise MissingDataError(
            f"{source} does not exist: expected an image-folder tree (train/<class>/*.jpg, test/<class>/...) "
            f"or a tar archive of one; see data/README.md for where to get CIFAR-10"
        )
    fp = cache_file = None
    if use_cache:
        fp = _fingerprint(source)
        cdir = Path(cache_dir) if cache_dir is not None else default_cache_dir(source)
        key = json_digest([fp, classes and list(classes), image_size], None, sort_keys=False)
        cache_file = cdir / f"{_cache_stem(source)}-{key[:12]}.npz"
        cached = _read_cache(cache_file, source, fp)
        if cached is not None:
            return _check_layout(cached, source, classes, splits)
    t0 = time.perf_counter()
    out = _decode_source(source, image_size, workers, chunk, progress)
    seconds = time.perf_counter() - t0
    n = sum(len(v[1]) for v in out.values())
    logger.info("decoded %d images from %s in %.1f s", n, source, seconds)
    result = _assemble(out, source, classes)
    result = _check_layout(result, source, classes, splits)
    if use_cache and cache_file is not None and fp is not None:
        _write_cache(cache_file, result, source, fp, seconds)
    return result


def _decode_source(
    source: Path, image_size: tuple[int, int] | None, workers: int | None, chunk: int, progress: bool
) -> dict[tuple[str, str], tuple[list[np.ndarray], list[str]]]:
    """Decode everything -> {(split, class): ([image arrays per chunk], [files])}."""
    if workers is None:
        workers = min(2, os.cpu_count() or 1)
    pending: list[tuple[list[tuple[str, str, str]], Future | tuple[np.ndarray, str | None]]] = []
    pool: Executor | None = None
    buf: list[tuple[str, str, str, bytes]] = []
    bar = tqdm(desc=f"decode {source.name}", unit="img", disable=not progress)

    def flush() -> None:
        nonlocal pool
        if not buf:
            return
        keys = [(s, c, f) for s, c, f, _ in buf]
        items = [(f"{source}:{f}", b) for _, _, f, b in buf]
        if workers > 1 and (pool is not None or len(buf) >= chunk):
            if pool is None:
                ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
                pool = ProcessPoolExecutor(workers, mp_context=ctx)
            pending.append((keys, pool.submit(_decode_chunk, items, image_size)))
        else:
            pending.append((keys, _decode_chunk(items, image_size)))
        buf.clear()

    def result(job: Future | tuple[np.ndarray, str | None]) -> np.ndarray:
        arr, err = job.result() if isinstance(job, Future) else job
        if err is not None:
            raise CorruptDataError(f"{err}. Delete or replace that file (or re-create the archive) and retry")
        return arr

    try:
        for name, data in _iter_source(source):
            parsed = _split_member(name)
            if parsed is None:
                continue
            buf.append((*parsed, data))
            if len(buf) >= chunk:
                flush()
                bar.update(chunk)
        n_last = len(buf)
        flush()
        bar.update(n_last)
        groups: dict[tuple[str, str], tuple[list[np.ndarray], list[str]]] = {}
        for keys, job in pending:
            arr = result(job)
            if len(arr) and image_size is None and groups:
                first = next(iter(groups.values()))[0][0]
                if arr.shape[1:3] != first.shape[1:3]:
                    raise CorruptDataError(
                        f"images of {source} differ in size ({first.shape[1:3]} vs {arr.shape[1:3]}, near "
                        f"{keys[0][2]}); pass image_size=(H, W) to find the odd files"
                    )
            # split the chunk by (split, class), keeping member order
            keyarr = np.array([f"{s}/{c}" for s, c, _ in keys])  # names hold no "/"
            for k in dict.fromkeys(keyarr.tolist()):
                sel = np.flatnonzero(keyarr == k)
                s, c = k.split("/")
                g = groups.setdefault((s, c), ([], []))
                g[0].append(arr[sel])
                g[1].extend(keys[i][2] for i in sel)
        return groups
    finally:
        bar.close()
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def _assemble(
    groups: dict[tuple[str, str], tuple[list[np.ndarray], list[str]]], source: Path, classes: Sequence[str] | None
) -> dict[str, ImageSet]:
    if not groups:
        raise MissingDataError(
            f"no images under {source}: expected <split>/<class>/<image> paths (e.g. train/cat/0001.jpg)"
        )
    found = sorted({c for _, c in groups})
    cls = tuple(classes) if classes is not None else tuple(found)
    extra = sorted(set(found) - set(cls))
    if extra:
        raise CorruptDataError(
            f"{source} holds class folder(s) {extra} that are not among the expected classes {list(cls)}; "
            f"remove them or pass classes="
        )
    label_of = {c: i for i, c in enumerate(cls)}
    out: dict[str, ImageSet] = {}
    for split in sorted({s for s, _ in groups}):
        imgs, labels, files = [], [], []
        for c in cls:
            if (split, c) not in groups:
                continue
            arrs, names = groups[(split, c)]
            a = np.concatenate(arrs)
            order = np.argsort(np.array(names), kind="stable")
            imgs.append(a[order])
            files.extend(np.array(names)[order].tolist())
            labels.append(np.full(len(a), label_of[c], np.int64))
        out[split] = ImageSet(np.concatenate(imgs), np.concatenate(labels), np.array(files, dtype=str), cls)
    return out


def _check_layout(
    data: dict[str, ImageSet], source: Path, classes: Sequence[str] | None, splits: Sequence[str] | None
) -> dict[str, ImageSet]:
    if splits is not None:
        missing = [s for s in splits if s not in data]
        if missing:
            raise MissingDataError(
                f"{source} has no {', '.join(repr(s + '/') for s in missing)} folder (found "
                f"{sorted(data)}): the tree or archive is incomplete; download or re-create it"
            )
    for split, ds in data.items():
        counts = ds.class_counts()
        empty = [ds.classes[i] for i in np.flatnonzero(counts == 0)]
        if empty:
            raise MissingDataError(
                f"class folder(s) {', '.join(f'{split}/{c}' for c in empty)} missing or empty in {source} "
                f"(found {int((counts > 0).sum())} of {len(ds.classes)} classes): the data set is partial; "
                f"download or re-create it"
            )
        if classes is not None and tuple(classes) != ds.classes:
            raise CorruptDataError(f"{source}: cached classes {ds.classes} differ from {tuple(classes)}")
    return data


def _read_cache(path: Path, source: Path, fp: str) -> dict[str, ImageSet] | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            if meta.get("sha256") != fp or meta.get("version") != _CACHE_VERSION:
                logger.info("cache %s is stale (source changed); decoding again", path)
                return None
            classes = tuple(str(c) for c in z["classes"])
            out = {
                s: ImageSet(z[f"{s}_images"], z[f"{s}_labels"].astype(np.int64), z[f"{s}_files"], classes)
                for s in meta["splits"]
            }
    except Exception as e:  # noqa: BLE001 - an unreadable cache is just rebuilt
        logger.warning("cannot read cache %s (%s); decoding again", path, e)
        return None
    logger.info("read %s from cache %s", source.name, path)
    return out


def _write_cache(path: Path, data: dict[str, ImageSet], source: Path, fp: str, seconds: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    st = source.stat()
    meta = {
        "version": _CACHE_VERSION, "source": str(source.resolve()), "size": st.st_size if source.is_file() else None,
        "sha256": fp, "splits": sorted(data), "decode_seconds": round(seconds, 3),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    arrays: dict[str, np.ndarray] = {"meta": np.array(json.dumps(meta)), "classes": np.array(next(iter(data.values())).classes)}
    for s, ds in data.items():
        arrays[f"{s}_images"], arrays[f"{s}_labels"], arrays[f"{s}_files"] = ds.images, ds.labels, ds.files

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:  # a file object: np.savez would append ".npz" to a path
            np.savez(f, **arrays)

    atomic_write(path, write)
    logger.info("cached decoded images in %s", path)
    for old in path.parent.glob(f"{_cache_stem(source)}-*.npz"):  # drop stale caches of this same source
        if old == path:
            continue
        with contextlib.suppress(Exception):
            with np.load(old, allow_pickle=False) as z:
                m = json.loads(str(z["meta"]))
            if m.get("source") == meta["source"] and m.get("sha256") != fp:  # made from an older version
                old.unlink()
                logger.info("removed stale cache %s", old)


# ---------------------------------------------------------------------------------------------- CIFAR-10 front door
def _is_batches(source: Path) -> bool:
    if source.is_file():
        return source.name.startswith("cifar-10-python")
    return any(
        (c / _TRAIN_BATCHES[0]).exists() or (c / _TEST_BATCH).exists() for c in (source, source / _BATCH_DIR)
    ) or (source / _ARCHIVE_NAME).is_file()


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
    return _load_cifar10_sets(Path(source), (split,), cache_dir, strict, workers, progress)[split]


def _load_cifar10_sets(
    source: Path, splits: Sequence[str], cache_dir: str | os.PathLike | None, strict: bool, workers: int | None,
    progress: bool,
) -> dict[str, ImageSet]:
    src = _resolve_cifar_source(source)
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


def _resolve_cifar_source(source: Path) -> Path:
    if not source.exists():
        raise MissingDataError(f"{source} does not exist; see data/README.md for CIFAR-10 sources, or {_DOWNLOAD_HINT}")
    if source.is_file() or _is_batches(source) or (source / "train").is_dir():
        return source
    for sub in (source, source / "cifar10"):
        for cand in (_BATCH_DIR, _ARCHIVE_NAME, "cifar10-jpeg.tar.xz"):
            if (sub / cand).exists():
                return sub / cand
    raise MissingDataError(
        f"no CIFAR-10 under {source}: expected cifar10/{_BATCH_DIR}/, cifar10/{_ARCHIVE_NAME}, "
        f"cifar10/cifar10-jpeg.tar.xz or an image-folder tree (train/<class>/...); {_DOWNLOAD_HINT}"
    )


# ---------------------------------------------------------------------------------------------- splits
def nb201_split(data: ImageSet, csv_path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """NAS-Bench-201's 25k/25k train/valid split of the CIFAR-10 training set.

    Joins ``csv_path`` (columns ``original_index, file, nb201_split``) with ``data`` on ``file`` (the path
    inside the image-folder archive) when the files match, else on ``original_index`` (python batches).

    Returns:
        ``(train_positions, valid_positions)``: int64 positions into ``data``, in original-index order.
    """
    import pandas as pd

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
    sets = _load_cifar10_sets(Path(source), ("train", "test"), cache_dir, strict, workers, progress)
    train, test = sets["train"], sets["test"]
    if split == "nb201":
        if split_csv is None:
            src = _resolve_cifar_source(Path(source))
            split_csv = src.parent / "nb201_split.csv.gz"
        tr, va = nb201_split(train, split_csv)
    elif split == "stratified":
        tr, va = stratified_split(train.labels, valid_size, seed)
    else:
        raise ValueError(f"split must be 'nb201' or 'stratified', got {split!r}")
    return {"train": train.subset(tr), "valid": train.subset(va), "test": test}


# ---------------------------------------------------------------------------------------------- synthetic
def synthetic_images(
    n: int,
    *,
    num_classes: int = 10,
    image_size: int = 32,
    seed: int = 0,
    pattern_seed: int = 0,
    noise: float = 40.0,
) -> ImageSet:
    """Seeded synthetic images whose class is visible in colour and stripe frequency.

    Each class has a prototype (drawn from ``pattern_seed``, so sets made with different ``seed`` share
    classes): a base RGB colour and horizontal stripes of a class-specific frequency and phase. Samples add
    a random brightness shift, a random vertical shift of the stripes and Gaussian pixel noise (``noise``,
    in 0..255 units). Stripes are horizontal, so flips and small crops keep the class. Labels are balanced
    (``n // num_classes`` each, the remainder spread over the first classes) and shuffled.
    """
    if n < 1 or num_classes < 2:
        raise ValueError("need n >= 1 and num_classes >= 2")
    proto = np.random.default_rng(pattern_seed)
    colours = proto.uniform(40, 215, size=(num_classes, 3))
    freqs = 1.0 + np.arange(num_classes) % 5 + proto.uniform(0, 0.3, num_classes)
    amp = np.where(np.arange(num_classes) // 5 % 2 == 0, 50.0, -50.0)[:, None] * np.array([1.0, 0.6, 0.3])
    rng = np.random.default_rng(seed)
    labels = np.resize(np.arange(num_classes), n)
    labels = rng.permutation(labels).astype(np.int64)
    rows = np.arange(image_size)[None, :] / image_size
    shift = rng.uniform(0, 1, size=(n, 1))
    stripes = np.sin(2 * np.pi * (freqs[labels][:, None] * rows + shift))  # (n, H)
    img = colours[labels][:, None, None, :] + stripes[:, :, None, None] * amp[labels][:, None, None, :]
    img = img + rng.normal(0, 15, size=(n, 1, 1, 3)) + rng.normal(0, noise, size=(n, image_size, image_size, 3))
    images = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    files = np.array([f"synthetic/{i}" for i in range(n)], dtype=str)
    return ImageSet(images, labels, files, tuple(f"class{c}" for c in range(num_classes)))


# ---------------------------------------------------------------------------------------------- loader
class TensorLoader:
    """Batches from uint8 images kept on ``device``; crop and flip done per batch on the device.

    Iterating yields ``(x, y)``: ``x`` float ``(B, 3, H, W)`` normalised with ``mean``/``std``, ``y`` int64
    ``(B,)``. With ``augment``, each image is zero-padded by ``pad`` pixels, cropped back to H x W at a random
    offset and flipped left-right with probability 1/2 (the torchvision ``RandomCrop(32, 4)`` +
    ``RandomHorizontalFlip`` recipe), all by one gather over the batch.

    Randomness: one ``torch.Generator`` (seeded from ``seed`` unless given) draws, at the start of each
    epoch, the order (``shuffle``) and every image's crop offset and flip. :meth:`state_dict` records the
    epoch, the batch position within it and the generator state at the epoch's start, so
    :meth:`load_state_dict` makes a new loader continue with exactly the batches the old one would have
    produced, mid-epoch included. Iterating continues where the last iteration stopped; an epoch ends when
    its last batch has been taken.

    ``rank``/``world_size`` shard every epoch for data-parallel training: all ranks draw the same plan (same
    seed) and rank r takes positions r, r+world_size, ... of the first ``world_size * (N // world_size)``.
    """

    def __init__(
        self,
        images: ImageSet | np.ndarray | torch.Tensor,
        labels: np.ndarray | torch.Tensor | None = None,
        *,
        batch_size: int = 256,
        device: str | torch.device = "cpu",
        shuffle: bool = True,
        augment: bool = True,
        drop_last: bool = False,
        pad: int = 4,
        mean: Sequence[float] = CIFAR10_MEAN,
        std: Sequence[float] = CIFAR10_STD,
        seed: int = 0,
        generator: torch.Generator | None = None,
        layout: str = "NHWC",
        channels_last: bool = False,
        dtype: torch.dtype = torch.float32,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if isinstance(images, ImageSet):
            if labels is not None:
                raise ValueError("labels come from the ImageSet; do not pass them as well")
            images, labels = images.images, images.labels
        if labels is None:
            raise ValueError("labels are required with an image array")
        self.device = torch.device(device)
        x = torch.as_tensor(images)
        if x.dtype != torch.uint8 or x.ndim != 4:
            raise ValueError(f"images must be a uint8 4-d array, got {x.dtype} {tuple(x.shape)}")
        if layout == "NCHW":
            x = x.permute(0, 2, 3, 1)
        elif layout != "NHWC":
            raise ValueError(f"layout must be 'NHWC' or 'NCHW', got {layout!r}")
        self.images = x.contiguous().to(self.device)  # uint8 (N, H, W, C)
        y = labels if isinstance(labels, torch.Tensor) else torch.from_numpy(np.asarray(labels))
        self.labels = y.to(device=self.device, dtype=torch.int64)
        if len(self.labels) != len(self.images):
            raise ValueError(f"{len(self.images)} images but {len(self.labels)} labels")
        if batch_size < 1 or not 0 <= rank < world_size:
            raise ValueError(f"bad batch_size={batch_size} or rank={rank}/world_size={world_size}")
        c = self.images.shape[-1]
        if len(mean) != c or len(std) != c:
            raise ValueError(f"mean/std need {c} values")
        self.batch_size, self.shuffle, self.augment, self.drop_last, self.pad = batch_size, shuffle, augment, drop_last, pad
        self.rank, self.world_size, self.channels_last, self.dtype = rank, world_size, channels_last, dtype
        s = torch.tensor(std, dtype=torch.float32, device=self.device)
        self._scale = (1.0 / (255.0 * s)).view(1, c, 1, 1)
        self._shift = (-torch.tensor(mean, dtype=torch.float32, device=self.device) / s).view(1, c, 1, 1)
        if generator is None:
            generator = torch.Generator(device=self.device)
            generator.manual_seed(seed)
        self.generator = generator
        self._epoch = 0
        self._batch = 0
        self._plan: tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None] | None = None
        self._epoch_rng: torch.Tensor | None = None

    # -------------------------------------------------------------- sizes
    @property
    def num_samples(self) -> int:
        """Images this rank sees per epoch (before ``drop_last``)."""
        return len(self.images) // self.world_size if self.world_size > 1 else len(self.images)

    def __len__(self) -> int:
        n, b = self.num_samples, self.batch_size
        return n // b if self.drop_last else math.ceil(n / b)

    @property
    def epoch(self) -> int:
        """Completed epochs."""
        return self._epoch

    @property
    def position(self) -> int:
        """Batches already taken in the current epoch."""
        return self._batch

    # -------------------------------------------------------------- plan and batches
    def _draw_plan(self) -> None:
        g, dev, n = self.generator, self.device, len(self.images)
        self._epoch_rng = g.get_state()
        order = torch.randperm(n, generator=g, device=dev) if self.shuffle else torch.arange(n, device=dev)
        offsets = flips = None
        if self.augment:
            offsets = torch.randint(0, 2 * self.pad + 1, (n, 2), generator=g, device=dev)
            flips = torch.randint(0, 2, (n,), generator=g, device=dev).bool()
        if self.world_size > 1:
            keep = torch.arange(self.rank, self.num_samples * self.world_size, self.world_size, device=dev)
            order = order[keep]
            offsets = offsets[keep] if offsets is not None else None
            flips = flips[keep] if flips is not None else None
        self._plan = (order, offsets, flips)

    def _make_batch(self, sl: slice) -> tuple[torch.Tensor, torch.Tensor]:
        assert self._plan is not None
        order, offsets, flips = self._plan
        idx = order[sl]
        x = self.images[idx]  # (B, H, W, C) uint8
        if self.augment:
            assert offsets is not None and flips is not None
            b, h, w, _ = x.shape
            p = self.pad
            xp = F.pad(x, (0, 0, p, p, p, p))
            off, fl = offsets[sl], flips[sl]
            rows = off[:, :1] + torch.arange(h, device=x.device)  # (B, H)
            ar = torch.arange(w, device=x.device)
            cols = off[:, 1:] + torch.where(fl[:, None], (w - 1) - ar, ar)  # (B, W), reversed when flipped
            x = xp[torch.arange(b, device=x.device)[:, None], rows]  # (B, H, W + 2p, C): whole rows
            x = torch.gather(x, 2, cols[:, None, :, None].expand(b, h, w, x.shape[-1]))  # (B, H, W, C)
        x = x.permute(0, 3, 1, 2)  # NCHW view of NHWC memory = channels_last
        if not self.channels_last:
            x = x.contiguous()  # reorder the uint8 bytes (4x cheaper than reordering floats)
        out = x.to(self.dtype).mul_(self._scale).add_(self._shift)
        return out, self.labels[idx]

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        nb = len(self)
        if self._plan is None:
            self._draw_plan()
        while self._batch < nb:
            start = self._batch * self.batch_size
            sl = slice(start, min(start + self.batch_size, self.num_samples))
            self._batch += 1
            yield self._make_batch(sl)
        self._epoch += 1
        self._batch = 0
        self._plan = None

    # -------------------------------------------------------------- resume
    def state_dict(self) -> dict[str, Any]:
        """Epoch, batch position and generator state (at the epoch's start), for checkpoints."""
        epoch, batch = self._epoch, self._batch
        if self._plan is not None and batch >= len(self):  # every batch taken: report the next epoch's start
            epoch, batch = epoch + 1, 0
        rng = self._epoch_rng if (self._plan is not None and batch > 0) else self.generator.get_state()
        assert rng is not None
        return {
            "epoch": epoch, "batch": batch, "rng": rng.clone(),
            "num_samples": len(self.images), "batch_size": self.batch_size, "shuffle": self.shuffle,
            "augment": self.augment, "drop_last": self.drop_last, "world_size": self.world_size,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state_dict` of a loader over the same data with the same settings."""
        for k in ("num_samples", "batch_size", "shuffle", "augment", "drop_last", "world_size"):
            mine = len(self.images) if k == "num_samples" else getattr(self, k)
            if state.get(k) != mine:
                raise ValueError(f"loader state has {k}={state.get(k)!r} but this loader has {mine!r}: the "
                                 f"batches would not reproduce")
        self.generator.set_state(state["rng"].cpu() if isinstance(state["rng"], torch.Tensor) else state["rng"])
        self._epoch, self._batch, self._plan = int(state["epoch"]), int(state["batch"]), None
        if self._batch > 0:
            self._draw_plan()

    def __repr__(self) -> str:
        return (f"TensorLoader(n={len(self.images)}, batch_size={self.batch_size}, device={self.device}, "
                f"shuffle={self.shuffle}, augment={self.augment}, epoch={self._epoch}, batch={self._batch})")
