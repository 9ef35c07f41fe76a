"""Search results as printable columns and JSON records, and reading a table to search."""

from __future__ import annotations

import logging
import math
from typing import Iterable, Sequence

import pandas as pd

from supernet.fileio import jsonable
from supernet.tables import TableSchema, read_arch_table, validate_table

from ..truth.hardware import HARDWARE_SCHEMA, latency_columns
from ..truth.truth import ACC_COLUMNS, TRUTH_SCHEMA
from .constraints import ConstraintLike, SearchError, parse_constraints, resolve_column

log = logging.getLogger(__name__)


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


def table_schema(df: pd.DataFrame) -> TableSchema | None:
    """The declared schema of a table read for searching, told by its columns: a lookup table
    (``pred_acc``; its sidecar tells a score from an accuracy), a truth table, a weight-sharing file,
    a hardware table, a proxy table; None for any other table."""
    from predictor.table import lookup_schema  # the lookup table's module pulls in torch (the models)

    cols = set(map(str, df.columns))
    if "pred_acc" in cols:
        return lookup_schema(df.attrs.get("sidecar"))
    if cols & set(ACC_COLUMNS):
        return TRUTH_SCHEMA
    if "ws_acc" in cols:
        from supernet.evaluate import WS_SCHEMA  # torch, via the supernet

        return WS_SCHEMA
    if latency_columns(df):
        return HARDWARE_SCHEMA
    from supernet.proxies import PROXIES, PROXY_SCHEMA  # torch, via the supernet

    if cols & set(PROXIES):
        return PROXY_SCHEMA
    return None


def _read_one(path, drop_nonfinite: bool) -> pd.DataFrame:
    df = read_arch_table(path, name=f"table {path}")
    schema = table_schema(df)
    if schema is not None:
        df = validate_table(df, schema, name=f"{schema.what} {path}", drop_nonfinite=drop_nonfinite)
    return df


def read_table(path, extra: Sequence = (), *, drop_nonfinite: bool = False) -> pd.DataFrame:
    """A table for searching: CSV(.gz) keyed by ``index`` and/or ``arch_str`` (lookup table, hardware table,
    truth table, ...), with the non-key columns of each ``extra`` file (e.g. a measured latency CSV) joined
    on ``index`` (NaN where an extra file lacks a row).  Each file is checked against the schema its
    columns show (:func:`table_schema`): a lookup table must hold all 15,625 rows with a finite
    ``pred_acc``; ``drop_nonfinite`` drops rows with NaN/inf where a value is needed instead (logged).
    Column clashes raise."""
    df = _read_one(path, drop_nonfinite).reset_index(drop=True)
    dropped = int(df.attrs.get("dropped_nonfinite", 0))
    for e in extra:
        more = _read_one(e, drop_nonfinite)
        dropped += int(more.attrs.get("dropped_nonfinite", 0))
        cols = [c for c in more.columns if c not in ("index", "arch_str")]
        clash = [c for c in cols if c in df.columns]
        if clash:
            raise SearchError(f"{e}: column(s) {clash} are already in {path}; rename them or drop one file")
        df = df.merge(more[["index", *cols]], on="index", how="left")
    df.attrs = {"dropped_nonfinite": dropped}
    return df
