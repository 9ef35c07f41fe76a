"""Declared table schemas (:class:`Column`, :class:`TableSchema`) and the value checks behind them:
types, ranges, percent accuracies, the NaN/inf policy."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from ..space import NUM_ARCHS, clip_text
from .keys import BenchmarkError, _columns_text, format_rows

logger = logging.getLogger(__name__)


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
