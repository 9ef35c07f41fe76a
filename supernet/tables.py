"""Architecture-keyed tables: read, align to the space, write, with the errors they raise.

Any table of the toolkit (weight-sharing scores, lookup tables, ground truth, latencies) is a CSV
(optionally gzipped) with a column ``index`` (official index), ``arch_str`` (official string) or both.
:func:`align_to_space` keys such a table by official index and checks that the two agree;
:func:`write_table` writes one atomically with its JSON sidecar.  Nothing is substituted silently:
a bad key raises :class:`BenchmarkError` naming the table, the row and what was expected.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .space import NUM_ARCHS, Arch, ArchError
from .resolve import arch_strs, lookup_strs
from .fileio import atomic_write
from .paths import MissingDataError

logger = logging.getLogger(__name__)

__all__ = [
    "BenchmarkError",
    "MissingDataError",
    "require_file",
    "read_csv",
    "align_to_space",
    "read_arch_table",
    "numeric_column",
    "sidecar_path",
    "write_table",
    "plain_value",
    "format_rows",
]


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
    """``pd.read_csv``, with unreadable files raised as :class:`BenchmarkError` naming ``name``."""
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError, EOFError) as e:
        raise BenchmarkError(f"cannot read {name} {path} as CSV (optionally gzipped): {e}") from None


# ----------------------------------------------------------------------------- keys
def _index_column(values: pd.Series, name: str) -> np.ndarray:
    """The ``index`` column as int64, or an error naming the first bad row."""
    num = pd.to_numeric(values, errors="coerce")
    bad = num.isna().to_numpy()
    if bad.any():
        r = int(np.argmax(bad))
        raise BenchmarkError(
            f"{name}: row {r} has index {plain_value(values.iloc[r])!r}, not an integer official index "
            f"(0..{NUM_ARCHS - 1})"
        )
    arr = num.to_numpy(dtype=np.float64)
    frac = arr != np.round(arr)
    if frac.any():
        r = int(np.argmax(frac))
        raise BenchmarkError(
            f"{name}: row {r} has index {plain_value(values.iloc[r])!r}, not an integer official index"
        )
    out_of_range = (arr < 0) | (arr >= NUM_ARCHS)
    if out_of_range.any():
        r = int(np.argmax(out_of_range))
        raise BenchmarkError(
            f"{name}: row {r} has index {plain_value(values.iloc[r])!r}, outside the official range "
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
            raise BenchmarkError(f"{name}: row {r} has no arch_str (got {s!r})")
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
                f"{plain_value(df['arch_str'].iloc[r])!r}, which is official index {parsed[r]} (index {idx[r]} is "
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


def read_arch_table(
    path: str | os.PathLike[str],
    required: Sequence[str] = (),
    *,
    name: str | None = None,
    subset: bool = True,
) -> pd.DataFrame:
    """Read a CSV(.gz) keyed by ``index`` and/or ``arch_str`` and align it to the space.

    ``required`` lists columns that must be present besides the key.  Returns the table of
    :func:`align_to_space`.  Raises :class:`MissingDataError` or :class:`BenchmarkError`.
    """
    p = Path(path)
    name = name or f"table {p}"
    require_file(p, name)
    df = read_csv(p, name)
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise BenchmarkError(
            f"{name} lacks column(s) {missing}; expected {list(required)} besides 'index'/'arch_str' "
            f"(columns are {list(df.columns)})"
        )
    return align_to_space(df, name=name, subset=subset)


def numeric_column(df: pd.DataFrame, col: str, name: str, *, allow_nan: bool) -> np.ndarray:
    """Column ``col`` of an aligned table as float64: non-numbers, infinities (and NaN unless
    ``allow_nan``) raise :class:`BenchmarkError` naming the row and its official index."""
    raw = df[col]
    num = pd.to_numeric(raw, errors="coerce")
    garbage = num.isna() & raw.notna()
    if garbage.any():
        r = int(np.argmax(garbage.to_numpy()))
        raise BenchmarkError(
            f"{name}: column {col!r} row {r} (index {df['index'].iloc[r]}) holds {plain_value(raw.iloc[r])!r}, "
            f"not a number"
        )
    arr = num.to_numpy(dtype=np.float64)
    nan = np.isnan(arr)
    if not allow_nan and nan.any():
        rows = np.flatnonzero(nan)
        raise BenchmarkError(
            f"{name}: column {col!r} has {len(rows)} NaN value(s), first at row {rows[0]} "
            f"(index {df['index'].iloc[rows[0]]}); every architecture needs a value"
        )
    if np.isinf(arr).any():
        r = int(np.argmax(np.isinf(arr)))
        raise BenchmarkError(f"{name}: column {col!r} row {r} (index {df['index'].iloc[r]}) is infinite")
    return arr


# ----------------------------------------------------------------------------- writing
def sidecar_path(out: str | os.PathLike[str]) -> Path:
    """The JSON sidecar of a table file: ``truth.csv.gz`` -> ``truth.json``."""
    p = Path(out)
    stem = p.name
    for ext in (".gz", ".csv"):
        if stem.endswith(ext):
            stem = stem[: -len(ext)]
    return p.with_name(stem + ".json")


def write_table(df: pd.DataFrame, out: str | os.PathLike[str], meta: Mapping[str, Any] | None = None) -> Path:
    """Write ``df`` as CSV (gzipped when ``out`` ends in ``.gz``) and ``meta`` as its JSON sidecar.

    Both files are written atomically (temporary file, then rename).  Returns the table path.
    """
    p = Path(out)
    comp = "gzip" if p.name.endswith(".gz") else None
    atomic_write(p, lambda t: df.to_csv(t, index=False, compression=comp))
    if meta is not None:
        text = json.dumps(dict(meta), indent=2, sort_keys=False, default=str) + "\n"
        atomic_write(sidecar_path(p), lambda t: t.write_text(text))
    return p
