"""Direct readers of the official NATS-Bench / NAS-Bench-201 files (no official API needed).

* NATS-Bench topology directory ``NATS-tss-v1_0-3ffb9-simple``: ``meta.pickle.pbz2`` (bz2 pickle of
  ``{'meta_archs': [15,625 arch strings], ...}``) and one ``{index:06d}.pickle.pbz2`` per architecture
  holding ``{'12': ArchResults-state, '200': ArchResults-state}``; read one file at a time.
* NATS-Bench single file ``NATS-tss-v1_0-3ffb9.pickle.pbz2`` and NAS-Bench-201 ``NAS-Bench-201-v1_{0,1}-*.pth``
  (a ``torch.save``, legacy or zip, of ``{'meta_archs', 'arch2infos': {index: {'less': state, 'full':
  state}}, 'evaluated_indexes'}``): one pickle, read by the streaming unpickler (memory about one
  record; the official NAS-Bench-201 API needs about 28 GB) or, ``stream=False``, the C unpickler.
"""

from __future__ import annotations

import bz2
import gc
import hashlib
import io
import os
import pickle
import struct
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from supernet.tables import BenchmarkError, MissingDataError, format_rows

from .records import LayoutError, check_condensed, check_meta_archs, condense_record
from .unpickle import PySafeUnpickler, SafeUnpickler, StreamingUnpickler, is_record

__all__ = ["NATS_EXT", "HOW_TO_GET", "detect_format", "file_digests", "read_nats_dir", "read_single_pickle"]

NATS_EXT = "pickle.pbz2"
_TORCH_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
HOW_TO_GET = (
    "see data/README.md; the official files are NATS-Bench 'NATS-tss-v1_0-3ffb9-simple' (directory) or "
    "'NATS-tss-v1_0-3ffb9.pickle.pbz2', and NAS-Bench-201 'NAS-Bench-201-v1_1-096897.pth' (or v1_0), "
    "from the NATS-Bench / NAS-Bench-201 project pages"
)


class _Digest:
    """sha256 and md5 of the bytes fed to it, plus a byte count."""

    def __init__(self) -> None:
        self.sha256, self.md5, self.bytes = hashlib.sha256(), hashlib.md5(), 0

    def update(self, b: bytes) -> None:
        self.sha256.update(b)
        self.md5.update(b)
        self.bytes += len(b)

    def as_dict(self) -> dict[str, Any]:
        return {"sha256": self.sha256.hexdigest(), "md5": self.md5.hexdigest(), "bytes": self.bytes}


def file_digests(path: Path) -> dict[str, Any]:
    """``{'sha256', 'md5', 'bytes'}`` of a file (the provenance of an import)."""
    d = _Digest()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            d.update(chunk)
    return d.as_dict()


class _CountingReader(io.RawIOBase):
    """Read-only wrapper reporting the bytes read to a progress bar."""

    def __init__(self, f: Any, bar: Any) -> None:
        self._f, self._bar = f, bar

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        b = self._f.read(n)
        self._bar.update(len(b))
        return b

    def readinto(self, buf: Any) -> int:
        b = self.read(len(buf))
        buf[: len(b)] = b
        return len(b)

    def readline(self, size: int = -1) -> bytes:
        b = self._f.readline(size)
        self._bar.update(len(b))
        return b


# ----------------------------------------------------------------------------- format detection
def detect_format(src: str | os.PathLike[str]) -> tuple[str, str]:
    """(format, layout) of an official benchmark path.

    format is ``'nats'`` or ``'nb201'``; layout is ``'nats-dir'`` (``NATS-tss-*-simple`` directory),
    ``'nats-file'`` (``NATS-tss-*.pickle.pbz2``), ``'nb201-legacy'`` or ``'nb201-zip'`` (``.pth``).
    """
    p = Path(src)
    if not p.exists():
        raise MissingDataError(f"benchmark source {p} does not exist; {HOW_TO_GET}")
    if p.is_dir():
        if (p / f"meta.{NATS_EXT}").is_file() or (p / "meta.pickle").is_file():
            return "nats", "nats-dir"
        raise BenchmarkError(
            f"{p} is a directory but not a NATS-Bench archive (no meta.{NATS_EXT}); expected "
            f"'NATS-tss-v1_0-3ffb9-simple' holding meta.{NATS_EXT} and 000000.{NATS_EXT} ... "
            f"015624.{NATS_EXT}; {HOW_TO_GET}"
        )
    with open(p, "rb") as f:
        head = f.read(4)
        if head[:3] == b"BZh":
            return "nats", "nats-file"
        if head[:4] == b"PK\x03\x04":
            try:
                with zipfile.ZipFile(p) as z:
                    if any(n.endswith("data.pkl") for n in z.namelist()):
                        return "nb201", "nb201-zip"
            except zipfile.BadZipFile:
                pass
        elif head[:1] == b"\x80":
            f.seek(0)
            try:  # torch's legacy format starts with a tiny pickle of its magic number
                magic = PySafeUnpickler(io.BytesIO(f.read(64))).load()
            except Exception:  # noqa: BLE001 - any failure means "not this format"
                magic = None
            if magic == _TORCH_LEGACY_MAGIC:
                return "nb201", "nb201-legacy"
    raise BenchmarkError(
        f"{p} is not in either official format: expected a NATS-Bench topology directory "
        f"('NATS-tss-v1_0-3ffb9-simple'), a NATS-Bench '.pickle.pbz2' file, or a NAS-Bench-201 '.pth' "
        f"file saved by torch ('NAS-Bench-201-v1_1-096897.pth'); {HOW_TO_GET}"
    )


def read_nats_dir(
    root: Path, hp: str, indices: np.ndarray, allow_missing: bool, progress: bool
) -> tuple[dict[int, dict[str, float]], dict[str, Any]]:
    """``({index: accuracies}, info)`` of ``indices`` from a NATS-Bench archive directory, one file at a time."""
    digest = _Digest()

    def load(path: Path) -> Any:
        raw = path.read_bytes()
        digest.update(raw)
        try:
            data = bz2.decompress(raw) if raw[:3] == b"BZh" else raw
            return SafeUnpickler(io.BytesIO(data)).load()
        except (OSError, EOFError, pickle.UnpicklingError, ValueError) as e:
            if isinstance(e, BenchmarkError):
                raise
            raise BenchmarkError(f"{path} is not a readable NATS-Bench pickle ({e})") from None

    meta_path = root / f"meta.{NATS_EXT}"
    if not meta_path.is_file():
        meta_path = root / "meta.pickle"
    meta = load(meta_path)
    if not isinstance(meta, Mapping) or "meta_archs" not in meta:
        raise BenchmarkError(f"{meta_path} holds no 'meta_archs' list (keys: {list(meta)[:10] if isinstance(meta, Mapping) else type(meta).__name__})")
    check_meta_archs(meta["meta_archs"], str(meta_path))

    def arch_file(i: int) -> Path | None:
        for name in (f"{i:06d}.{NATS_EXT}", f"{i:d}.{NATS_EXT}", f"{i:06d}.pickle"):
            if (root / name).is_file():
                return root / name
        return None

    files = {int(i): arch_file(int(i)) for i in indices}
    missing = [i for i, f in files.items() if f is None]
    if missing and not allow_missing:
        raise BenchmarkError(
            f"{root}: {len(missing)} of {len(indices)} architectures have no file (indices {format_rows(missing)}; "
            f"expected e.g. {missing[0]:06d}.{NATS_EXT}). The download is incomplete; pass allow_missing=True "
            f"(--allow-missing) to import the rest as a subset"
        )
    out: dict[int, dict[str, float]] = {}
    for i, path in tqdm(files.items(), desc="NATS-Bench archs", unit="arch", disable=not progress):
        if path is None:
            continue
        record = load(path)
        where = str(path)
        if not isinstance(record, Mapping) or not is_record(dict(record)):
            raise LayoutError(f"{where}: not a per-architecture record (hp -> ArchResults state)")
        arch_index, arch_str, acc = condense_record(record, hp, where)
        check_condensed(i, arch_index, arch_str, acc, where)
        out[i] = acc
        del record
    info = {
        "source_format": "NATS-Bench topology archive directory (per-architecture .pickle.pbz2)",
        "source_digest": {**digest.as_dict(), "over": "meta file and the architecture files read, in index order"},
        "reader": "nasgcn per-file reader",
        "missing_indices": missing,
    }
    return out, info


def read_single_pickle(
    path: Path, layout: str, hp: str, stream: bool, progress: bool
) -> tuple[Any, Mapping[int, Any], dict[str, Any]]:
    """Unpickle a single-file benchmark; returns (meta_archs, {index: condensed}, info)."""
    where = str(path)
    size = path.stat().st_size

    def condense(record: dict) -> Any:
        return condense_record(record, hp, where)

    bar = tqdm(total=size, desc=f"reading {path.name}", unit="B", unit_scale=True, disable=not progress)
    try:
        with open(path, "rb") as raw_f:
            # buffered readers throughout: the unpicklers read a few bytes per opcode
            if layout == "nb201-zip":
                zf = zipfile.ZipFile(raw_f)
                member = next(n for n in zf.namelist() if n.endswith("data.pkl"))
                bar.reset(total=zf.getinfo(member).file_size)
                stream_f: Any = io.BufferedReader(_CountingReader(zf.open(member), bar), 1 << 20)
            elif layout == "nats-file":
                stream_f = bz2.BZ2File(io.BufferedReader(_CountingReader(raw_f, bar), 1 << 20))
            else:  # nb201-legacy: magic number, protocol version, sys info, then the object
                stream_f = io.BufferedReader(_CountingReader(raw_f, bar), 1 << 20)
                for _ in range(3):
                    PySafeUnpickler(stream_f).load()
            gc_was_on = gc.isenabled()
            gc.disable()  # millions of acyclic containers: collection passes only cost time
            try:
                if stream:
                    obj = StreamingUnpickler(stream_f, condense).load()
                else:
                    obj = SafeUnpickler(stream_f).load()
            except pickle.UnpicklingError as e:
                if stream and "Memo value not found" in str(e):
                    raise BenchmarkError(
                        f"{where}: the streaming reader dropped an object the file refers to again ({e}); "
                        f"re-run with stream=False (--no-stream), which holds the whole file in memory"
                    ) from None
                raise BenchmarkError(f"{where}: not a readable pickle ({e}); {HOW_TO_GET}") from None
            except (EOFError, OSError, struct.error, zipfile.BadZipFile) as e:
                raise BenchmarkError(f"{where}: truncated or corrupt file ({type(e).__name__}: {e})") from None
            finally:
                if gc_was_on:
                    gc.enable()
    finally:
        bar.close()
    if not isinstance(obj, Mapping) or "meta_archs" not in obj or "arch2infos" not in obj:
        keys = list(obj)[:10] if isinstance(obj, Mapping) else type(obj).__name__
        raise BenchmarkError(
            f"{where}: not an official benchmark file: expected a dict with 'meta_archs', 'arch2infos' and "
            f"'evaluated_indexes', found {keys}"
        )
    arch2infos = obj["arch2infos"]
    if not isinstance(arch2infos, Mapping):
        raise BenchmarkError(f"{where}: 'arch2infos' is {type(arch2infos).__name__}, expected a dict of records")
    info = {
        "source_format": {
            "nb201-legacy": "NAS-Bench-201 .pth (torch legacy serialization)",
            "nb201-zip": "NAS-Bench-201 .pth (torch zip serialization)",
            "nats-file": "NATS-Bench topology single file (.pickle.pbz2)",
        }[layout],
        "reader": "nasgcn streaming unpickler" if stream else "nasgcn whole-file unpickler",
        "evaluated_indexes": len(obj.get("evaluated_indexes") or ()),
    }
    return obj["meta_archs"], arch2infos, info
