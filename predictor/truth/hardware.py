"""Hardware tables: per-architecture latency (and any other cost) columns, validated and resolved by device.

Columns ``index, arch_str`` and any number of ``*_latency_ms`` columns (milliseconds, NaN where a
device covers only a subset), keyed by official index like every table of :mod:`supernet.tables`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from supernet.paths import data_path
from supernet.tables import BenchmarkError, Column, TableSchema, align_to_space, read_arch_table, validate_table

__all__ = [
    "HARDWARE_FILE",
    "HARDWARE_SCHEMA",
    "LATENCY_SUFFIX",
    "default_hardware_path",
    "latency_columns",
    "latency_column",
    "validate_hardware",
    "load_hardware",
]

HARDWARE_FILE = ("nb201", "nb201_hw_latency.csv.gz")
"""Path of the hardware latency table under the data root."""
LATENCY_SUFFIX = "_latency_ms"
"""Name ending of a latency column (milliseconds)."""
HARDWARE_SCHEMA = TableSchema(
    "hardware table",
    (Column("*" + LATENCY_SUFFIX, lo=0.0, lo_open=True, nan=True),),  # NaN: the device was not measured there
    make="latencies are positive milliseconds, NaN where not measured; remeasure with `nasgcn latency measure`",
)
"""A hardware table: one or more ``*_latency_ms`` columns (any subset of the space unless asked)."""


def default_hardware_path() -> Path:
    """``data_root()/nb201/nb201_hw_latency.csv.gz``."""
    return data_path(*HARDWARE_FILE)


def latency_columns(df: pd.DataFrame) -> list[str]:
    """The ``*_latency_ms`` columns of a table, in table order."""
    return [c for c in df.columns if isinstance(c, str) and c.endswith(LATENCY_SUFFIX)]


def latency_column(df: pd.DataFrame, device: str) -> str:
    """Resolve a device name (``'raspi4'``, ``'hwnb_c10_raspi4'`` or a full column name) to its column."""
    cols = latency_columns(df)
    if device in cols:
        return device
    key = str(device).strip().lower().replace("-", "_")
    if f"{key}{LATENCY_SUFFIX}" in cols:
        return f"{key}{LATENCY_SUFFIX}"
    hits = [c for c in cols if key and key in c[: -len(LATENCY_SUFFIX)].lower()]
    if len(hits) == 1:
        return hits[0]
    if not hits:
        raise BenchmarkError(f"no latency column for device {device!r}; choose one of {cols}")
    raise BenchmarkError(f"device {device!r} is ambiguous: it matches {hits}; give the full column name")


def validate_hardware(
    df: pd.DataFrame, *, name: str = "hardware table", subset: bool = False, drop_nonfinite: bool | None = None
) -> pd.DataFrame:
    """Check a latency table against :data:`HARDWARE_SCHEMA`: key columns, at least one ``*_latency_ms``
    column, values > 0 or NaN, and no column without any value."""
    if not latency_columns(df):
        raise BenchmarkError(
            f"{name} has no latency columns (names ending in {LATENCY_SUFFIX!r}, milliseconds); "
            f"columns are {list(df.columns)}"
        )
    return _has_values(validate_table(align_to_space(df, name=name, subset=subset), HARDWARE_SCHEMA, name=name,
                                      drop_nonfinite=drop_nonfinite), name)


def _has_values(df: pd.DataFrame, name: str) -> pd.DataFrame:
    for col in latency_columns(df):
        if df[col].isna().all():
            raise BenchmarkError(f"{name}: latency column {col!r} has no values (all NaN)")
    return df


def load_hardware(path: str | os.PathLike[str] | None = None, *, subset: bool = False) -> pd.DataFrame:
    """Read and validate the hardware latency table (default :func:`default_hardware_path`)."""
    p = Path(path) if path is not None else default_hardware_path()
    name = f"hardware table {p}"
    df = read_arch_table(p, name=name, subset=subset)
    return validate_hardware(df, name=name, subset=subset)
