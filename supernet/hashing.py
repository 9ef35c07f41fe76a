"""One way to hash a file's bytes, and one way to hash a JSON-able value (cache keys, provenance, checksums)."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any, Callable

__all__ = ["file_digest", "json_digest"]


def file_digest(path: str | os.PathLike[str], algorithm: str = "sha256", chunk: int = 1 << 20) -> str:
    """Hex digest of the file's bytes with ``algorithm`` (any name :func:`hashlib.new` knows), read in chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def json_digest(
    obj: Any, n: int | None, *, sort_keys: bool = True, default: Callable[[Any], Any] | None = None
) -> str:
    """The first ``n`` hex digits (all 64 when None) of the SHA-256 of ``json.dumps(obj, sort_keys=...,
    default=...)``.  Keys built this way name files on disk and in manifests, so each caller keeps its
    ``n``, ``sort_keys`` and ``default``: changing any of them changes every key."""
    return hashlib.sha256(json.dumps(obj, sort_keys=sort_keys, default=default).encode()).hexdigest()[:n]
