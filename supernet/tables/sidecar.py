"""A table and its JSON sidecar as one unit: the sidecar named after the whole file, holding the
table's SHA-256, checked on read and written with the table as one atomic pair."""

from __future__ import annotations

import gzip
import json
import logging
import os
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from ..space import clip_text
from ..fileio import atomic_write_pair, to_json
from ..hashing import file_digest
from .keys import BenchmarkError

logger = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- sidecars
SIDECAR_HASH = "table_sha256"
"""Sidecar key holding the SHA-256 of its table file's bytes."""


def check_sidecar(path: str | os.PathLike[str], name: str | None = None) -> dict[str, Any] | None:
    """The sidecar of table ``path`` (None when there is none), after checking it belongs to the table.

    Raises :class:`BenchmarkError` when the sidecar is not a JSON object or its recorded
    :data:`SIDECAR_HASH` differs from the table's: the table was changed, cut short or replaced after it
    was written, so its provenance would be wrong.  A sidecar without a hash (written by an older
    version) is accepted with a warning.
    """
    p = Path(path)
    side = sidecar_path(p)
    name = name or f"table {p}"
    if not side.is_file():
        return None
    try:
        meta = json.loads(side.read_text(encoding="utf-8"))
    except (ValueError, OSError) as e:
        raise BenchmarkError(
            f"{name}: its sidecar {side} is not readable JSON ({clip_text(str(e), 60)}); regenerate {p} "
            f"(the sidecar is written with it) or delete {side}"
        ) from None
    if not isinstance(meta, dict):
        raise BenchmarkError(f"{name}: its sidecar {side} is not a JSON object; regenerate {p} or delete {side}")
    want = meta.get(SIDECAR_HASH)
    if want is None:
        logger.warning("%s: sidecar %s records no %s (older version); the pair cannot be checked", name, side,
                       SIDECAR_HASH)
        return meta
    got = file_digest(p)
    if want != got:
        raise BenchmarkError(
            f"{name} does not match its sidecar {side} (sha256 {got[:12]}..., recorded {str(want)[:12]}...): the "
            f"table was changed, cut short or replaced after it was written; regenerate {p} (or delete {side} to "
            f"use the table without its provenance)"
        )
    return meta


# ----------------------------------------------------------------------------- writing
def sidecar_path(out: str | os.PathLike[str]) -> Path:
    """The JSON sidecar of a table file, named after the whole file name: ``t.csv.gz`` -> ``t.csv.gz.json``,
    ``t.csv`` -> ``t.csv.json`` (so two tables never share one)."""
    p = Path(out)
    return p.with_name(p.name + ".json")


def write_table(df: pd.DataFrame, out: str | os.PathLike[str], meta: Mapping[str, Any] | None = None) -> Path:
    """Write ``df`` as CSV (gzipped when ``out`` ends in ``.gz``) and its JSON sidecar, as one atomic pair.

    The sidecar holds ``meta`` plus :data:`SIDECAR_HASH`, the SHA-256 of the written table, so a reader
    can tell the table it describes (:func:`check_sidecar`).  Without ``meta`` it records only the hash.
    Returns the table path.
    """
    p = Path(out)
    comp = "gzip" if p.name.endswith(".gz") else None
    body = {k: v for k, v in dict(meta or {}).items() if k != SIDECAR_HASH}

    def text(tmp: Path) -> str:
        return to_json({**body, SIDECAR_HASH: file_digest(tmp)}, indent=2) + "\n"

    def write(t: Path) -> None:
        if comp != "gzip":
            df.to_csv(t, index=False)
            return
        # no file name or time stamp in the gzip header: the same table gives the same bytes (and hash)
        with open(t, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
            df.to_csv(gz, index=False, encoding="utf-8")

    return atomic_write_pair(p, write, sidecar_path(p), text)
