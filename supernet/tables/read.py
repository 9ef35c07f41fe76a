"""THE table reader: sidecar check, key alignment and schema validation in one call."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Sequence

import pandas as pd

from .checks import TableSchema, validate_table
from .keys import BenchmarkError, _columns_text, align_to_space, read_csv, require_file
from .sidecar import check_sidecar


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
