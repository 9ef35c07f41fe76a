"""One way to hash a file's bytes, in-memory bytes, and a JSON-able value (cache keys, provenance, checksums)."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any, Callable, Iterable

__all__ = ["file_digest", "bytes_digest", "json_digest"]


def file_digest(
    path: str | os.PathLike[str], algorithm: str = "sha256", chunk: int = 1 << 20, *, n: int | None = None
) -> str:
    """The first ``n`` hex digits (all when None) of the digest of the file's bytes with ``algorithm``
    (any name :func:`hashlib.new` knows), read in chunks; ``n=16`` keys checkpoints and run stages."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()[:n]


def bytes_digest(chunks: bytes | Iterable[bytes], n: int | None = None) -> str:
    """The first ``n`` hex digits (all 64 when None) of the SHA-256 of ``chunks`` (one bytes object, or
    an iterable of them hashed in order, as if concatenated)."""
    h = hashlib.sha256()
    for c in [chunks] if isinstance(chunks, (bytes, bytearray, memoryview)) else chunks:
        h.update(c)
    return h.hexdigest()[:n]


def json_digest(
    obj: Any, n: int | None, *, sort_keys: bool = True, default: Callable[[Any], Any] | None = None
) -> str:
    """The first ``n`` hex digits (all 64 when None) of the SHA-256 of ``json.dumps(obj, sort_keys=...,
    default=...)``.  Keys built this way name files on disk and in manifests, so each caller keeps its
    ``n``, ``sort_keys`` and ``default``: changing any of them changes every key."""
    return hashlib.sha256(json.dumps(obj, sort_keys=sort_keys, default=default).encode()).hexdigest()[:n]
