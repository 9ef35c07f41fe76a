"""Image-folder trees and their tar archives: decode once with Pillow, cache as uint8 arrays in a ``.npz``.

The layout is ``[prefix/]<split>/<class>/<file>``; archives are streamed member by member (never
extracted) while worker processes decode.  The cache is keyed by the source's hash, so a changed source
is decoded again and its stale cache removed.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import multiprocessing
import os
import re
import tarfile
import tempfile
import time
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from ..hashing import bytes_digest, file_digest, json_digest
from .images import CorruptDataError, ImageSet, MissingDataError

__all__ = ["decode_image_folder", "default_cache_dir", "write_image_folder"]

logger = logging.getLogger(__name__)

_IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp")
_CACHE_VERSION = 1


def _decode_chunk(items: list[tuple[str, bytes]], size: tuple[int, int] | None) -> tuple[np.ndarray, str | None]:
    """Decode JPEG/PNG bytes -> uint8 (n, H, W, 3); on failure (empty array, error message naming the file)."""
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
    listing = (f"{p.relative_to(source).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode()
               for p in sorted(source.rglob("*")) if p.is_file() for st in [p.stat()])
    return bytes_digest(listing)


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
        key = json_digest([fp, classes and list(classes), image_size], 12, sort_keys=False)
        cache_file = cdir / f"{_cache_stem(source)}-{key}.npz"
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
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.chmod(tmp, 0o644)  # mkstemp makes it owner-only
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
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



def write_image_folder(sets: dict[str, ImageSet], root: str | os.PathLike) -> dict[str, int]:
    """Write image sets as the tree :func:`decode_image_folder` reads: ``root/<split>/<class>/<i>.png``.

    For demos and tests of the own-images path (e.g. :func:`~supernet.data.synthetic_images` written
    to disk).  PNG is lossless, so decoding gives back the same uint8 pixels.  Refuses a ``root`` that
    already holds files.  Returns ``{split: images written}``.
    """
    out = Path(root)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty; choose a new folder for the image tree")
    written: dict[str, int] = {}
    for split, ds in sets.items():
        for c in ds.classes:
            (out / split / c).mkdir(parents=True, exist_ok=True)
        for i, (img, lab) in enumerate(zip(ds.images, ds.labels)):
            Image.fromarray(img).save(out / split / ds.classes[int(lab)] / f"{i:06d}.png")
        written[split] = len(ds)
    return written
