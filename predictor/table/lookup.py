"""The lookup table: one row per architecture of the whole space (15,625), its file format and queries.

Columns, in order: ``index`` (official), ``arch_str`` (official string), ``iso_id`` (isomorphism
class), ``pred_acc`` (predicted accuracy, percent), ``pred_std`` (predictive spread, percent; NaN for
models without one), ``ws_acc`` (the weight-sharing accuracy the model was fitted to; NaN where the
architecture was not measured), ``params_m``, ``flops_m`` (stand-alone C=16, N=5 CIFAR-10 network,
millions; :func:`supernet.costs.space_costs`), then a fused table's ``sig_*`` columns, then any hardware
columns given (e.g. ``*_latency_ms``).  Saved as CSV (gzipped when the name ends in ``.gz``) with a JSON
sidecar (``TABLE.csv.gz`` -> ``TABLE.csv.gz.json``, with the table's SHA-256) holding the model name, its hyper-parameters, the seed, the
landmarks used (if any) and the inputs' paths and SHA-256 hashes.

Queries take one architecture or many — official indices, arch strings, op tuples (names or codes)
or :class:`~supernet.space.Arch` — and are vectorised; an architecture outside the space raises
:class:`~supernet.space.ArchError` naming it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from supernet.costs import space_costs
from supernet.resolve import arch_strs, to_indices
from supernet.space import NUM_ARCHS, iso_ids, parse_arch
from supernet.tables import (
    SIDECAR_HASH,
    Column,
    MissingDataError,
    TableSchema,
    percent,
    read_arch_table,
    validate_table,
    write_table,
)

__all__ = [
    "TABLE_COLUMNS", "SIGNAL_PREFIX", "FORMAT", "FORMAT_VERSION", "LOOKUP_SCHEMA", "LOOKUP_SCORE_SCHEMA", "lookup_schema",
    "LookupTable", "read_lookup_table", "build_table",
]

TABLE_COLUMNS: tuple[str, ...] = (
    "index", "arch_str", "iso_id", "pred_acc", "pred_std", "ws_acc", "params_m", "flops_m",
)
"""The fixed columns of a lookup table, in file order (signal and hardware columns follow)."""
SIGNAL_PREFIX = "sig_"
"""Prefix of a fused table's per-signal columns."""
FORMAT = "nasgcn-lookup-table"
FORMAT_VERSION = 1
_MAKE = "regenerate it with `nasgcn fit`"
_LOOKUP_COLUMNS = (
    Column("iso_id", "int", lo=0),
    Column("pred_std", lo=0.0, nan=True),  # NaN: models without a spread
    percent("ws_acc", nan=True),  # NaN: architectures the supernet did not score
    Column("params_m", lo=0.0),
    Column("flops_m", lo=0.0),
    Column("*_latency_ms", required=False, lo=0.0, lo_open=True, nan=True),  # NaN: not measured
    Column(SIGNAL_PREFIX + "*", required=False, nan=True),  # NaN: degenerate cells
)
PRED_ACC = Column("pred_acc", lo=-100.0, hi=200.0, percent=True)
"""A predicted accuracy in percent: a regressor may extrapolate a little past 0..100 (ridge fitted to 60
scores predicts 101.6 for some cells), so the bound is -100..200; it still refuses 1e29 and fractions."""
LOOKUP_SCHEMA = TableSchema("lookup table", (PRED_ACC, *_LOOKUP_COLUMNS), complete=True, make=_MAKE)
"""A lookup table: all 15,625 architectures, ``pred_acc`` a finite predicted accuracy in percent."""
LOOKUP_SCORE_SCHEMA = TableSchema("lookup table", (Column("pred_acc"), *_LOOKUP_COLUMNS), complete=True, make=_MAKE)
"""A lookup table whose ``pred_acc`` is a unitless score (a proxies-only fusion: no accuracy input)."""


def lookup_schema(meta: Mapping[str, Any] | None) -> TableSchema:
    """The schema of a lookup table with sidecar ``meta``: percent unless the sidecar says it is a score."""
    scale = str((meta or {}).get("pred_acc_scale", ""))
    return LOOKUP_SCORE_SCHEMA if scale.startswith("normal score") else LOOKUP_SCHEMA


@dataclass
class LookupTable:
    """All 15,625 architectures with predicted accuracy, costs and hardware columns.

    ``df``: rows in official index order (``df.iloc[i]`` is architecture ``i``; the pandas index is
    the official index); columns :data:`TABLE_COLUMNS` then hardware columns.  ``meta``: the sidecar.
    """

    df: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.validate()

    # ------------------------------------------------------------------ checks
    def validate(self) -> None:
        """Raise ``ValueError`` unless the frame is a complete table in official index order."""
        df = self.df
        missing = [c for c in TABLE_COLUMNS if c not in df.columns]
        if missing:
            raise ValueError(f"lookup table lacks column(s) {missing}; expected {list(TABLE_COLUMNS)} first")
        if len(df) != NUM_ARCHS:
            raise ValueError(f"lookup table has {len(df)} rows, needs all {NUM_ARCHS} architectures")
        if not np.array_equal(df["index"].to_numpy(), np.arange(NUM_ARCHS)):
            raise ValueError("lookup table rows must be in official index order 0..15624 (column 'index')")
        if not np.array_equal(df["arch_str"].to_numpy(dtype=object), arch_strs()):
            bad = int(np.argmax(df["arch_str"].to_numpy(dtype=object) != arch_strs()))
            raise ValueError(
                f"lookup table row {bad}: arch_str {df['arch_str'].iloc[bad]!r} is not official index {bad} "
                f"({arch_strs()[bad]!r})"
            )
        validate_table(df, lookup_schema(self.meta))
        if not isinstance(df.index, pd.RangeIndex) or df.index.start != 0:
            self.df = df.reset_index(drop=True)

    @property
    def hardware_columns(self) -> list[str]:
        """Columns after the fixed ones that are not fused signals (hardware, in file order)."""
        return [c for c in self.df.columns if c not in TABLE_COLUMNS and not c.startswith(SIGNAL_PREFIX)]

    @property
    def signal_columns(self) -> list[str]:
        """The fused table's per-signal columns (``sig_<name>``: that signal's normal score, completed by
        its own GCN fit where the signal was not measured)."""
        return [c for c in self.df.columns if c.startswith(SIGNAL_PREFIX)]

    @property
    def signals(self) -> pd.DataFrame:
        """The :attr:`signal_columns` under their signals' own names (``ws``, ``nwot``, ...), 15,625 rows:
        the normal scores the fusion averaged."""
        return self.df[self.signal_columns].rename(columns=lambda c: c[len(SIGNAL_PREFIX):])

    # ------------------------------------------------------------------ queries
    def query(self, archs: Any, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Rows of many architectures (any form :func:`supernet.resolve.to_indices` reads), in the order given."""
        idx = to_indices(archs)
        out = self.df.iloc[idx]
        if columns is not None:
            unknown = [c for c in columns if c not in self.df.columns]
            if unknown:
                raise KeyError(f"unknown column(s) {unknown}; the table has {list(self.df.columns)}")
            out = out[list(columns)]
        return out

    def lookup(self, arch: Any) -> pd.Series:
        """The row of one architecture (index, arch string, op tuple or :class:`Arch`)."""
        return self.df.iloc[parse_arch(arch).index]

    def predicted(self, archs: Any) -> np.ndarray:
        """``pred_acc`` of many architectures, float64[n]."""
        return self.df["pred_acc"].to_numpy(dtype=np.float64)[to_indices(archs)]

    def top(self, k: int = 10, column: str = "pred_acc") -> pd.DataFrame:
        """The ``k`` rows with the largest ``column`` (ties by index)."""
        order = np.argsort(-self.df[column].to_numpy(dtype=np.float64), kind="stable")
        return self.df.iloc[order[:k]]

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write CSV(.gz) + JSON sidecar atomically; returns the table path."""
        return write_table(self.df, path, self.meta)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "LookupTable":
        """Read a table written by :meth:`save` through :func:`read_lookup_table` (the sidecar is
        optional; ``meta`` is then empty)."""
        df = read_lookup_table(path).reset_index(drop=True)
        meta = {k: v for k, v in (df.attrs.get("sidecar") or {}).items() if k != SIDECAR_HASH}  # the file's, not the model's
        df.attrs = {}
        try:
            return cls(df, meta)
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from None


def read_lookup_table(path: str | os.PathLike[str], *, drop_nonfinite: bool = False) -> pd.DataFrame:
    """A lookup table file checked against :data:`LOOKUP_SCHEMA` (:func:`supernet.tables.read_arch_table`):
    all 15,625 rows, finite ``pred_acc`` on the percent scale (unless the sidecar says it is a score), and
    a sidecar that matches.  ``drop_nonfinite`` drops rows with NaN/inf ``pred_acc`` (and says how many)
    instead of refusing the table; the result then covers a subset.  Raises ``BenchmarkError``."""
    p = Path(path)
    if not p.is_file():
        raise MissingDataError(f"lookup table {p} not found; make one with `nasgcn fit --ws WS.csv --out {p}`")
    return read_arch_table(p, schema=lookup_schema, name=f"lookup table {p}", drop_nonfinite=drop_nonfinite)


def _space_column(values: np.ndarray | None, name: str) -> np.ndarray:
    """float64[15625] of a whole-space column (NaN when ``values`` is None)."""
    if values is None:
        return np.full(NUM_ARCHS, np.nan)
    v = np.asarray(values, dtype=np.float64)
    if v.shape != (NUM_ARCHS,):
        raise ValueError(f"{name} needs one value per architecture, shape ({NUM_ARCHS},), got {v.shape}")
    return v


def build_table(
    pred: np.ndarray,
    std: np.ndarray | None = None,
    ws: pd.DataFrame | None = None,
    hardware: pd.DataFrame | None = None,
    signals: pd.DataFrame | None = None,
    meta: Mapping[str, Any] | None = None,
) -> LookupTable:
    """The table of whole-space predictions: ``pred`` float[15625] (percent, official order) and
    ``std`` float[15625] (None = NaN), plus ``ws`` (aligned frame with ``index`` and ``ws_acc``),
    ``signals`` (15,625 rows, one column per fused signal, written as ``sig_<name>``) and ``hardware``
    (aligned frame: every column but ``index`` and ``arch_str`` is added, NaN where a row is absent)."""
    ws_acc = np.full(NUM_ARCHS, np.nan)
    if ws is not None:
        ws_acc[ws["index"].to_numpy(dtype=np.int64)] = ws["ws_acc"].to_numpy(dtype=np.float64)
    costs = space_costs(16, 5, 10, 32)
    parts = [pd.DataFrame(
        {
            "index": np.arange(NUM_ARCHS, dtype=np.int64),
            "arch_str": arch_strs(),
            "iso_id": np.asarray(iso_ids(), dtype=np.int64),
            "pred_acc": _space_column(pred, "pred"),
            "pred_std": _space_column(std, "std"),
            "ws_acc": ws_acc,
            "params_m": costs["params_m"].to_numpy(),
            "flops_m": costs["flops_m"].to_numpy(),
        }
    )]
    if signals is not None:
        if len(signals) != NUM_ARCHS:
            raise ValueError(f"signals need {NUM_ARCHS} rows in official order, got {len(signals)}")
        parts.append(signals.reset_index(drop=True).add_prefix(SIGNAL_PREFIX))
    if hardware is not None:
        cols = [c for c in hardware.columns if c not in ("index", "arch_str")]
        clash = [c for c in cols if c in TABLE_COLUMNS or c.startswith(SIGNAL_PREFIX)]
        if clash:
            raise ValueError(f"hardware table column(s) {clash} clash with the lookup table's own columns")
        hw = np.full((NUM_ARCHS, len(cols)), np.nan)
        hw[hardware["index"].to_numpy(dtype=np.int64)] = hardware[cols].to_numpy(dtype=np.float64)
        parts.append(pd.DataFrame(hw, columns=cols))
    df = pd.concat(parts, axis=1) if len(parts) > 1 else parts[0]
    return LookupTable(df, dict(meta or {}))
