"""Table keys: the errors tables raise, CSV reading, and aligning rows to the space by ``index``
and/or ``arch_str`` (the two must agree)."""

from __future__ import annotations

import csv
import gzip
import logging
import os
import zlib
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from ..space import NUM_ARCHS, Arch, ArchError, clip_text
from ..resolve import arch_strs, lookup_strs
from ..paths import MissingDataError

logger = logging.getLogger(__name__)


class BenchmarkError(ValueError):
    """An architecture table or benchmark file that is malformed, inconsistent or incomplete."""


# ----------------------------------------------------------------------------- message helpers
def plain_value(v: Any) -> Any:
    """A numpy scalar as the plain Python value (for readable messages)."""
    return v.item() if isinstance(v, np.generic) else v


def format_rows(positions: Iterable[int], limit: int = 5) -> str:
    """The first ``limit`` positions, comma-separated, with the total when there are more."""
    p = list(positions)
    s = ", ".join(str(x) for x in p[:limit])
    return s + (f", ... ({len(p)} in all)" if len(p) > limit else "")


def require_file(path: Path, what: str) -> None:
    """Raise :class:`MissingDataError` (saying how to get it) unless ``path`` is a file."""
    if not path.is_file():
        hint = "" if path.exists() else " (set NASGCN_DATA to the data folder, or pass the path)"
        raise MissingDataError(
            f"{what} not found: {path} is {'not a file' if path.exists() else 'missing'}{hint}; "
            f"see data/README.md for how to get it"
        )


def read_csv(path: Path, name: str) -> pd.DataFrame:
    """``pd.read_csv``, with unreadable files raised as :class:`BenchmarkError` naming ``name``.

    A file whose last line is unterminated and has fewer fields than the header was cut short (pandas
    would fill the missing fields with NaN, which reads as "not measured"): that is an error too.
    """
    try:
        df = pd.read_csv(path, low_memory=False)
        cut = _cut_last_line(Path(path))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OSError, EOFError, zlib.error) as e:
        why = "it is cut short" if isinstance(e, EOFError) else (
            "it is not gzip data" if isinstance(e, gzip.BadGzipFile) else clip_text(str(e), 120).strip("'\""))
        hint = "; regenerate it" if str(path).endswith(".gz") else ""
        raise BenchmarkError(f"cannot read {name} as CSV (optionally gzipped): {why}{hint}") from None
    if cut is not None:
        raise BenchmarkError(
            f"{name} is cut short: its last line is unterminated and has {cut[0]} of the header's {cut[1]} fields; "
            f"regenerate it (or complete that line)"
        )
    return df


def _cut_last_line(path: Path) -> tuple[int, int] | None:
    """(fields, header fields) when the file's last line is unterminated and shorter than the header."""
    gz = path.name.endswith(".gz")
    with (gzip.open(path, "rb") if gz else open(path, "rb")) as f:
        head = f.readline()
        if not gz:
            f.seek(max(f.tell(), f.seek(0, os.SEEK_END) - 65536))
        tail = f.read()  # gzip: the rest (it cannot seek from the end); plain: the last 64 KiB
    if not tail or tail.endswith(b"\n"):
        return None
    fields = lambda line: len(next(csv.reader([line.decode("utf-8", "replace").rstrip("\r\n")]), []))  # noqa: E731
    n_head, n_last = fields(head), fields(tail.rsplit(b"\n", 1)[-1])
    return (n_last, n_head) if n_last < n_head else None


# ----------------------------------------------------------------------------- keys
def _index_column(values: pd.Series, name: str) -> np.ndarray:
    """The ``index`` column as int64, or an error naming the first bad row."""
    num = pd.to_numeric(values, errors="coerce")
    bad = num.isna().to_numpy()
    if bad.any():
        r = int(np.argmax(bad))
        raise BenchmarkError(
            f"{name}: row {r} has index {clip_text(values.iloc[r])}, not an integer official index "
            f"(0..{NUM_ARCHS - 1})"
        )
    arr = num.to_numpy(dtype=np.float64)
    frac = arr != np.round(arr)
    if frac.any():
        r = int(np.argmax(frac))
        raise BenchmarkError(
            f"{name}: row {r} has index {clip_text(values.iloc[r])}, not an integer official index"
        )
    out_of_range = (arr < 0) | (arr >= NUM_ARCHS)
    if out_of_range.any():
        r = int(np.argmax(out_of_range))
        raise BenchmarkError(
            f"{name}: row {r} has index {clip_text(values.iloc[r])}, outside the official range "
            f"0..{NUM_ARCHS - 1}"
        )
    return arr.astype(np.int64)


def _arch_indices(values: pd.Series, name: str) -> np.ndarray:
    """Official index of every arch string; an error names the first unknown or malformed one.

    Only strings count (a digit string is not an arch string here, unlike in
    :func:`supernet.resolve.to_indices`); surrounding whitespace is tolerated.
    """
    vals = values.to_numpy(dtype=object)
    out = lookup_strs(vals)
    for r in np.flatnonzero(out < 0).tolist():  # misses only, in row order
        s = vals[r]
        if not isinstance(s, str) or not s.strip():
            raise BenchmarkError(f"{name}: row {r} has no arch_str (got {clip_text(s)})")
        try:
            out[r] = Arch.from_str(s).index  # tolerates surrounding whitespace; else says what is wrong
        except ArchError as e:
            raise BenchmarkError(f"{name}: row {r} has an arch_str that is not a NAS-Bench-201 cell: {e}") from None
    return out


def align_to_space(df: pd.DataFrame, *, name: str = "table", subset: bool = True) -> pd.DataFrame:
    """Key an architecture table by official index.

    ``df`` needs a column ``index`` (official index), ``arch_str`` (official string) or both; with
    both they must agree row by row.  Returns a copy with ``index`` and canonical ``arch_str`` as
    the first columns, rows sorted by index and the pandas index set to the official index.
    ``subset=False`` demands all 15,625 architectures.  Raises :class:`BenchmarkError`.
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{name}: expected a pandas DataFrame, got {type(df).__name__}")
    has_idx, has_arch = "index" in df.columns, "arch_str" in df.columns
    if not (has_idx or has_arch):
        raise BenchmarkError(
            f"{name} has neither 'index' nor 'arch_str'; columns are {list(df.columns)}. "
            f"Give each architecture's official index (0..{NUM_ARCHS - 1}) or its official arch string"
        )
    if len(df) == 0:
        raise BenchmarkError(f"{name} has no rows")
    strs = arch_strs()
    idx = _index_column(df["index"], name) if has_idx else None
    parsed = _arch_indices(df["arch_str"], name) if has_arch else None
    if idx is not None and parsed is not None:
        wrong = idx != parsed
        if wrong.any():
            r = int(np.argmax(wrong))
            raise BenchmarkError(
                f"{name}: wrong index order: row {r} has index {idx[r]} but arch_str "
                f"{clip_text(df['arch_str'].iloc[r])}, which is official index {parsed[r]} (index {idx[r]} is "
                f"{strs[idx[r]]!r}); {int(wrong.sum())} of {len(df)} rows disagree. The index "
                f"column is not the official NAS-Bench-201 index, or rows were reordered without it"
            )
    final = idx if idx is not None else parsed
    assert final is not None
    uniq, first, counts = np.unique(final, return_index=True, return_counts=True)
    if (counts > 1).any():
        dup = int(uniq[np.argmax(counts > 1)])
        where = np.flatnonzero(final == dup)
        raise BenchmarkError(
            f"{name}: architecture {dup} ({strs[dup]}) appears {len(where)} times (rows "
            f"{format_rows(where)}); {int((counts > 1).sum())} architectures are duplicated. Each may appear once"
        )
    if not subset and len(final) != NUM_ARCHS:
        missing = np.setdiff1d(np.arange(NUM_ARCHS), final)
        raise BenchmarkError(
            f"{name} covers {len(final)} of the {NUM_ARCHS} architectures (missing indices {format_rows(missing)}); "
            f"a complete table is needed here"
        )
    out = df.copy()
    out["index"] = final
    out["arch_str"] = strs[final].tolist()
    rest = [c for c in out.columns if c not in ("index", "arch_str")]
    out = out[["index", "arch_str", *rest]]
    if not (np.diff(final) > 0).all():
        logger.debug("%s: rows sorted into official index order", name)
        out = out.iloc[np.argsort(final, kind="stable")]
    out.index = pd.Index(out["index"].to_numpy(), name=None)
    return out


def _columns_text(df: pd.DataFrame, limit: int = 12) -> str:
    cols = [clip_text(c, 40) for c in df.columns]
    return "[" + ", ".join(cols[:limit]) + (f", ... ({len(cols)} in all)" if len(cols) > limit else "") + "]"
