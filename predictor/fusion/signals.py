"""Signal tables (``nasgcn proxies`` output and the like) read as one float column per signal over the
whole space."""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np
import pandas as pd

from supernet.proxies import PROXY_SCHEMA
from supernet.space import NUM_ARCHS, clip_text, degenerate_mask
from supernet.tables import BenchmarkError, align_to_space, read_arch_table, validate_table

NON_SIGNAL_COLUMNS = ("index", "arch_str", "iso_id", "degenerate", "measured", "sub")
"""Columns of a signal table that are keys or bookkeeping, never signals."""


def read_signal_table(
    source: str | os.PathLike[str] | pd.DataFrame, columns: Sequence[str] | None = None, *, name: str | None = None
) -> pd.DataFrame:
    """A table of per-architecture signals (e.g. ``nasgcn proxies`` output) as a frame of 15,625 rows in
    official order, one float column per signal, NaN where the table has no row.

    ``columns``: the signals to take (default: every column but :data:`NON_SIGNAL_COLUMNS`).  Every value
    of a non-degenerate row must be a finite number (degenerate cells may be NaN: they are never used).
    """
    if isinstance(source, pd.DataFrame):
        name = name or "signal table"
        df = validate_table(align_to_space(source, name=name, subset=True), PROXY_SCHEMA, name=name,
                            drop_nonfinite=None)
    else:
        name = name or f"signal table {source}"
        df = read_arch_table(source, required=list(columns or ()), name=name, schema=PROXY_SCHEMA,
                             drop_nonfinite=None)
    cols = list(columns) if columns is not None else [c for c in df.columns if c not in NON_SIGNAL_COLUMNS]
    if not cols:
        raise BenchmarkError(f"{name} has no signal column besides {list(NON_SIGNAL_COLUMNS)}; columns are {list(df.columns)}")
    out = pd.DataFrame(np.nan, index=np.arange(NUM_ARCHS), columns=cols)
    idx = df["index"].to_numpy(dtype=np.int64)
    live = ~degenerate_mask()[idx]
    for c in cols:
        v = pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=np.float64)
        bad = ~np.isfinite(v) & live
        if bad.any():
            r = int(np.argmax(bad))
            raise BenchmarkError(
                f"{name}: column {c!r} is {clip_text(df[c].iloc[r])} at index {idx[r]} (a non-degenerate cell); every "
                f"signal value must be a finite number: recompute that row or drop it from the table"
            )
        out.loc[idx, c] = v
    return out
