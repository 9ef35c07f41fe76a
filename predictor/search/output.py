"""Search results as printable columns and JSON records, and reading a table to search."""

from __future__ import annotations

import logging
import math
from typing import Iterable, Sequence

import pandas as pd

from supernet.fileio import jsonable
from supernet.tables import read_arch_table



log = logging.getLogger(__name__)
from .constraints import ConstraintLike, SearchError, parse_constraints, resolve_column


# ============================================================================ output helpers
def result_columns(df: pd.DataFrame, score: str, constraints: Iterable[ConstraintLike] = ()) -> list[str]:
    """Columns worth showing for a search result: rank, identity, the score, costs, and every constrained
    column (resolved, e.g. ``raspi4`` -> its latency column), in that order, those present in ``df``."""
    cols = [c for c in ("rank", "index", "arch_str", score, "pred_std", "params_m", "flops_m") if c in df.columns]
    for c in parse_constraints(constraints):
        col = resolve_column(df, c.column)
        if col not in cols:
            cols.append(col)
    return cols


def to_records(df: pd.DataFrame, columns: Sequence[str] | None = None) -> list[dict]:
    """JSON-ready rows (NaN -> None, numpy scalars -> Python) of ``df`` for ``--json`` output."""
    sub = df if columns is None else df[list(columns)]
    out = []
    for rec in sub.to_dict(orient="records"):
        row = {}
        for k, v in rec.items():
            v = jsonable(v)
            if isinstance(v, float) and math.isnan(v):
                v = None
            row[str(k)] = v
        out.append(row)
    return out


def read_table(path, extra: Sequence = ()) -> pd.DataFrame:
    """A table for searching: CSV(.gz) keyed by ``index`` and/or ``arch_str`` (lookup table, hardware table,
    truth table, ...), any subset of the space, with the non-key columns of each ``extra`` file (e.g. a
    measured latency CSV) joined on ``index`` (NaN where an extra file lacks a row).  Column clashes raise."""
    df = read_arch_table(path, name=f"table {path}").reset_index(drop=True)
    for e in extra:
        more = read_arch_table(e, name=f"table {e}")
        cols = [c for c in more.columns if c not in ("index", "arch_str")]
        clash = [c for c in cols if c in df.columns]
        if clash:
            raise SearchError(f"{e}: column(s) {clash} are already in {path}; rename them or drop one file")
        df = df.merge(more[["index", *cols]], on="index", how="left")
    return df
