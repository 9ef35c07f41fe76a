"""Architecture-keyed tables: read, align to the space, write, with the errors they raise.

Any table of the toolkit (weight-sharing scores, lookup tables, ground truth, latencies) is a CSV
(optionally gzipped) with a column ``index`` (official index), ``arch_str`` (official string) or both.
:func:`align_to_space` keys such a table by official index and checks that the two agree;
:func:`read_arch_table` is THE reader: it checks the sidecar's recorded hash, aligns the rows and, given
a :class:`TableSchema` (declared beside each table's definition), checks every declared column's type,
range and NaN/inf policy.  :func:`write_table` writes a table and its JSON sidecar (``NAME.json``
beside ``NAME``, holding the table's SHA-256) as one atomic pair.  Nothing is substituted silently: a
bad key or value raises :class:`BenchmarkError` naming the table, the row and what was expected.

(Over 400 lines by choice: the keys, the value checks and the sidecar are one reader.)
"""

from __future__ import annotations

import csv
import gzip
import json
import logging
import math
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Literal, Mapping, Sequence

import numpy as np
import pandas as pd

from .space import NUM_ARCHS, Arch, ArchError, clip_text
from .resolve import arch_strs, lookup_strs
from .fileio import atomic_write_pair, to_json
from .hashing import file_digest
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
    "Column",
    "TableSchema",
    "validate_table",
    "check_sidecar",
    "percent",
    "SIDECAR_HASH",
    "sidecar_path",
    "clip_text",
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


def read_arch_table(
    path: str | os.PathLike[str],
    required: Sequence[str] = (),
    *,
    name: str | None = None,
    subset: bool | None = None,
    schema: "TableSchema | Callable[[dict[str, Any] | None], TableSchema] | None" = None,
    drop_nonfinite: bool | None = False,
) -> pd.DataFrame:
    """Read a CSV(.gz) keyed by ``index`` and/or ``arch_str``, check it and align it to the space.

    The table's sidecar (:func:`sidecar_path`), when there is one, must record the file's SHA-256
    (:func:`check_sidecar`).  ``required`` lists columns that must be present besides the key.
    ``schema``: the declared columns and policies, checked by :func:`validate_table` (``drop_nonfinite``
    is passed on), or a function of the sidecar (None when absent) that returns them.  ``subset``:
    accept part of the space (default True; a ``schema`` may still demand all 15,625).  Returns the table of
    :func:`align_to_space`; ``attrs["sidecar"]`` holds the sidecar (or None) and
    ``attrs["dropped_nonfinite"]`` the number of rows dropped.
    Raises :class:`MissingDataError` or :class:`BenchmarkError`.
    """
    p = Path(path)
    label = schema.what if isinstance(schema, TableSchema) else "table"
    name = name or f"{label} {p}"
    require_file(p, name)
    meta = check_sidecar(p, name)
    if schema is not None and not isinstance(schema, TableSchema):
        schema = schema(meta)
    df = read_csv(p, name)
    df.columns = [str(c) for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise BenchmarkError(
            f"{name} lacks column(s) {missing}; expected {list(required)} besides 'index'/'arch_str' "
            f"(columns are {_columns_text(df)})"
        )
    out = align_to_space(df, name=name, subset=True if subset is None else subset)
    if schema is not None:
        out = validate_table(out, schema, name=name, drop_nonfinite=drop_nonfinite)
    out.attrs["sidecar"] = meta
    out.attrs.setdefault("dropped_nonfinite", 0)
    return out


def _columns_text(df: pd.DataFrame, limit: int = 12) -> str:
    cols = [clip_text(c, 40) for c in df.columns]
    return "[" + ", ".join(cols[:limit]) + (f", ... ({len(cols)} in all)" if len(cols) > limit else "") + "]"


# ----------------------------------------------------------------------------- declared schemas
@dataclass(frozen=True)
class Column:
    """One declared column of a :class:`TableSchema`.

    ``name``: the column, ``"*SUFFIX"`` for every column whose name ends in SUFFIX or ``"PREFIX*"``
    for every one that starts with PREFIX (at least one must exist when ``required``).  ``kind``: ``float | int | bool | str``.  ``lo``/``hi``: inclusive
    bounds (``lo_open``: ``lo`` itself excluded).  ``nan``: NaN is a legitimate "no value" here (not
    measured); infinities never are.  ``percent``: an accuracy in percent (0..100); values that all lie
    in 0..1 get the hint to multiply by 100.
    """

    name: str
    kind: Literal["float", "int", "bool", "str"] = "float"
    required: bool = True
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    nan: bool = False
    percent: bool = False

    def matches(self, col: str) -> bool:
        if self.name.startswith("*"):
            return col.endswith(self.name[1:])
        if self.name.endswith("*"):
            return col.startswith(self.name[:-1])
        return col == self.name


def percent(name: str, *, required: bool = True, nan: bool = False) -> Column:
    """An accuracy column in percent (0..100)."""
    return Column(name, "float", required, lo=0.0, hi=100.0, nan=nan, percent=True)


@dataclass(frozen=True)
class TableSchema:
    """What a table must hold: ``what`` it is (for messages), its declared ``columns`` (others pass
    through unchecked), whether it must cover all 15,625 architectures (``complete``) and ``make``:
    how to (re)make one, named in errors."""

    what: str
    columns: tuple[Column, ...]
    complete: bool = False
    make: str = ""

    def matching(self, df: pd.DataFrame) -> list[tuple[str, Column]]:
        """(column, declaration) of every column of ``df`` a declaration covers (the first that matches)."""
        out = []
        for c in df.columns:
            if c in ("index", "arch_str"):
                continue
            decl = next((d for d in self.columns if d.matches(str(c))), None)
            if decl is not None:
                out.append((str(c), decl))
        return out


def _fix(schema: TableSchema) -> str:
    return f"; {schema.make}" if schema.make else ""


def validate_table(
    df: pd.DataFrame, schema: TableSchema, *, name: str | None = None, drop_nonfinite: bool | None = False
) -> pd.DataFrame:
    """Check an aligned table against ``schema``; returns it with declared numeric columns as numbers.

    Missing required columns, non-numbers, values out of range and (in columns where NaN is not a
    legitimate value) NaN or infinite values raise :class:`BenchmarkError` naming the column, the row,
    its official index and the fix.  ``drop_nonfinite``: drop the rows holding NaN/inf where a value is
    needed instead (logged with their number; ``attrs["dropped_nonfinite"]`` holds it); a table that must
    be complete is checked for completeness before the drop.  ``drop_nonfinite=None``: the caller
    offers no such option, so the error does not suggest ``--drop-nonfinite``.
    """
    name = name or schema.what
    if schema.complete and len(df) != NUM_ARCHS:  # aligned: no duplicates, so fewer rows = missing ones
        missing = np.setdiff1d(np.arange(NUM_ARCHS), df["index"].to_numpy(dtype=np.int64))
        raise BenchmarkError(
            f"{name} covers {len(df)} of the {NUM_ARCHS} architectures (missing indices {format_rows(missing)}): "
            f"rows were removed or the file is cut short{_fix(schema)}"
        )
    for d in schema.columns:
        if d.required and not any(d.matches(str(c)) for c in df.columns):
            what = f"a column matching {d.name!r}" if "*" in d.name else f"column {d.name!r}"
            raise BenchmarkError(f"{name} lacks {what}; columns are {_columns_text(df)}{_fix(schema)}")
    out = df.copy()
    bad_rows = np.zeros(len(out), dtype=bool)
    bad_cols: list[str] = []
    decls = schema.matching(out)
    for col, d in decls:
        if d.kind == "str":
            continue
        raw = out[col]
        if d.kind == "bool" and not pd.api.types.is_numeric_dtype(raw):
            raw = raw.map(lambda v: {"true": 1, "false": 0}.get(v.strip().lower(), v) if isinstance(v, str) else v)
        num = pd.to_numeric(raw, errors="coerce")
        garbage = (num.isna() & raw.notna()).to_numpy()
        if garbage.any():
            r = int(np.argmax(garbage))
            raise BenchmarkError(
                f"{name}: column {col!r} row {r} (index {out['index'].iloc[r]}) holds {clip_text(raw.iloc[r])}, "
                f"not a number{_fix(schema)}"
            )
        arr = num.to_numpy(dtype=np.float64)
        nonfinite = ~np.isfinite(arr) if not d.nan else np.isinf(arr)
        if nonfinite.any():
            if not drop_nonfinite:
                rows = np.flatnonzero(nonfinite)
                r = int(rows[0])
                kinds = " and ".join(k for k, m in (("NaN", np.isnan(arr[rows])), ("inf", np.isinf(arr[rows]))) if m.any())
                raise BenchmarkError(
                    f"{name}: column {col!r} has {rows.size} {kinds} value(s), first at row {r} (index "
                    f"{out['index'].iloc[r]}: {arr[r]}); every row needs a finite value{_fix(schema)}"
                    + (", or pass --drop-nonfinite to drop such rows" if drop_nonfinite is False else "")
                )
            bad_rows |= nonfinite
            bad_cols.append(col)
        finite = np.isfinite(arr)
        if d.kind in ("int", "bool"):
            frac = finite & (arr != np.round(arr))
            if d.kind == "bool":
                frac |= finite & ~np.isin(arr, (0.0, 1.0))
            if frac.any():
                r = int(np.argmax(frac))
                raise BenchmarkError(
                    f"{name}: column {col!r} row {r} (index {out['index'].iloc[r]}) is {arr[r]:g}, not "
                    f"{'an integer' if d.kind == 'int' else 'true/false (0/1)'}{_fix(schema)}"
                )
        _check_range(arr, finite, col, d, out, name, schema)
        if d.kind == "bool":
            out[col] = arr.astype(bool) if finite.all() else arr
        elif d.kind == "int" and finite.all():
            out[col] = arr.astype(np.int64)
        else:
            out[col] = arr
    n_drop = int(bad_rows.sum())
    if n_drop:
        logger.warning("%s: dropped %d row(s) with NaN/inf in %s (--drop-nonfinite)", name, n_drop, bad_cols)
        out = out[~bad_rows]
        if len(out) == 0:
            raise BenchmarkError(f"{name}: no row is left after dropping {n_drop} with NaN/inf in {bad_cols}")
    out.attrs["dropped_nonfinite"] = n_drop
    return out


def _check_range(
    arr: np.ndarray, finite: np.ndarray, col: str, d: Column, df: pd.DataFrame, name: str, schema: TableSchema
) -> None:
    """Raise when a finite value of ``arr`` lies outside the declared bounds of ``d``."""
    lo = -math.inf if d.lo is None else d.lo
    hi = math.inf if d.hi is None else d.hi
    v = arr[finite]
    if d.percent and v.size and v.min() >= 0 and v.max() <= 1:  # accuracies of at most 1%: a fraction scale
        raise BenchmarkError(
            f"{name}: column {col!r} holds only values in 0..1 (largest {v.max():g}, row {int(np.argmax(arr == v.max()))}); "
            f"an accuracy in percent in 0..100 is expected (values look like fractions; multiply by 100)"
        )
    with np.errstate(invalid="ignore"):
        out = finite & ((arr <= lo if d.lo_open else arr < lo) | (arr > hi))
    if not out.any():
        return
    r = int(np.argmax(out))
    rng = f"{'>' if d.lo_open else '>='} {lo:g}" if d.hi is None else f"in {lo:g}..{hi:g}"
    what = ("an accuracy in percent" if d.hi == 100 else "an accuracy on the percent scale") if d.percent else "a value"
    msg = f"{name}: column {col!r} row {r} (index {df['index'].iloc[r]}) is {arr[r]:g}; {what} {rng} is expected"
    if int(out.sum()) > 1:
        msg += f" ({int(out.sum())} rows are outside)"
    raise BenchmarkError(msg + _fix(schema))


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


def numeric_column(df: pd.DataFrame, col: str, name: str, *, allow_nan: bool) -> np.ndarray:
    """Column ``col`` of an aligned table as float64: non-numbers, infinities (and NaN unless
    ``allow_nan``) raise :class:`BenchmarkError` naming the row and its official index."""
    raw = df[col]
    num = pd.to_numeric(raw, errors="coerce")
    garbage = num.isna() & raw.notna()
    if garbage.any():
        r = int(np.argmax(garbage.to_numpy()))
        raise BenchmarkError(
            f"{name}: column {col!r} row {r} (index {df['index'].iloc[r]}) holds {clip_text(raw.iloc[r])}, "
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
