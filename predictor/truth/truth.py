"""The NAS-Bench-201 ground-truth table: load, validate, pair with scores, build from accuracies.

Columns ``index, arch_str, op_e01 .. op_e23, unique_str, iso_id, cifar10_test_acc,
cifar100_xtest_acc, imagenet16_120_xtest_acc`` (accuracies in percent), one row per architecture,
keyed by official index like every table of :mod:`supernet.tables`.  A missing column, a NaN or
out-of-range accuracy, or an op/iso column that disagrees with :mod:`supernet.space` raises
:class:`~supernet.tables.BenchmarkError` naming the file, the row and what was expected.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from supernet import space
from supernet.paths import data_path
from supernet.resolve import arch_strs
from supernet.tables import (
    BenchmarkError,
    Column,
    TableSchema,
    align_to_space,
    format_rows,
    percent,
    plain_value,
    read_arch_table,
    validate_table,
)

__all__ = [
    "TRUTH_FILE",
    "OP_COLUMNS",
    "DATASETS",
    "ACC_COLUMNS",
    "TRUTH_COLUMNS",
    "TRUTH_SCHEMA",
    "default_truth_path",
    "resolve_dataset",
    "truth_column",
    "truth_accuracy",
    "validate_truth",
    "load_truth",
    "scores_vs_truth",
    "build_truth_table",
]

TRUTH_FILE = ("nb201", "nb201_truth.csv.gz")
"""Path of the truth table under the data root."""

OP_COLUMNS: tuple[str, ...] = tuple(f"op_e{i}{j}" for i, j in space.EDGES)
"""Official op code per edge, edge order of :data:`supernet.space.EDGES`."""

DATASETS: dict[str, str] = {
    "cifar10": "cifar10_test_acc",
    "cifar100": "cifar100_xtest_acc",
    "imagenet16_120": "imagenet16_120_xtest_acc",
}
"""Canonical dataset name -> truth-table accuracy column."""
ACC_COLUMNS: tuple[str, ...] = tuple(DATASETS.values())
TRUTH_SCHEMA = TableSchema(
    "truth table",
    (*(percent(c, required=False) for c in ACC_COLUMNS), Column("iso_id", "int", required=False, lo=0)),
    make="re-import it with `nasgcn bench import`",
)
"""The truth table's declared values: accuracies in percent, no NaN (which accuracy columns are
required depends on the datasets asked for; see :func:`validate_truth`)."""
TRUTH_COLUMNS: tuple[str, ...] = ("index", "arch_str", *OP_COLUMNS, "unique_str", "iso_id", *ACC_COLUMNS)
"""Columns of the truth table, in file order."""

_DATASET_ALIASES = {
    "cifar10": "cifar10", "cifar_10": "cifar10", "c10": "cifar10",
    "cifar100": "cifar100", "cifar_100": "cifar100", "c100": "cifar100",
    "imagenet16_120": "imagenet16_120", "imagenet16": "imagenet16_120", "imagenet": "imagenet16_120",
    "in16": "imagenet16_120", "in16_120": "imagenet16_120", "imagenet_16_120": "imagenet16_120",
}
_DATASET_ALIASES.update({col: name for name, col in DATASETS.items()})


def default_truth_path() -> Path:
    """``data_root()/nb201/nb201_truth.csv.gz``."""
    return data_path(*TRUTH_FILE)


def resolve_dataset(dataset: str) -> str:
    """Canonical dataset name (``cifar10``, ``cifar100``, ``imagenet16_120``) of a name or alias."""
    key = str(dataset).strip().lower().replace("-", "_").replace(" ", "_")
    if key not in _DATASET_ALIASES:
        raise BenchmarkError(
            f"unknown dataset {dataset!r}; choose one of {list(DATASETS)} "
            f"(aliases: 'CIFAR-10', 'CIFAR-100', 'ImageNet16-120', or the column names {list(ACC_COLUMNS)})"
        )
    return _DATASET_ALIASES[key]


def truth_column(dataset: str) -> str:
    """The truth-table accuracy column of a dataset (e.g. ``'cifar10'`` -> ``'cifar10_test_acc'``)."""
    return DATASETS[resolve_dataset(dataset)]


def truth_accuracy(df: pd.DataFrame, dataset: str) -> np.ndarray:
    """float64[n]: the true accuracy (percent) of each row of ``df`` on ``dataset``."""
    col = truth_column(dataset)
    if col not in df.columns:
        raise BenchmarkError(
            f"the truth table has no column {col!r} for dataset {resolve_dataset(dataset)!r}; "
            f"columns are {list(df.columns)}"
        )
    return df[col].to_numpy(dtype=np.float64)


def _check_derived(df: pd.DataFrame, name: str) -> None:
    """Check op_e*/unique_str/iso_id columns that are present against the space."""
    idx = df["index"].to_numpy()
    ops = space.ops_matrix()[idx]
    for k, col in enumerate(OP_COLUMNS):
        if col not in df.columns:
            continue
        got = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=np.float64)
        bad = got != ops[:, k]
        if bad.any():
            r = int(np.argmax(bad))
            raise BenchmarkError(
                f"{name}: column {col!r} row {r} (index {idx[r]}) is {plain_value(df[col].iloc[r])!r}, but that "
                f"architecture has op code {ops[r, k]} ({space.OPS[ops[r, k]]}) on that edge (codes: "
                f"{', '.join(f'{c}={o}' for c, o in enumerate(space.OPS))})"
            )
    if "unique_str" in df.columns:
        want = np.asarray(space.unique_strs(), dtype=object)[idx]
        bad = df["unique_str"].to_numpy(dtype=object) != want
        if bad.any():
            r = int(np.argmax(bad))
            raise BenchmarkError(
                f"{name}: column 'unique_str' row {r} (index {idx[r]}) is {plain_value(df['unique_str'].iloc[r])!r}, "
                f"expected {want[r]!r}"
            )
    if "iso_id" in df.columns:
        got = pd.to_numeric(df["iso_id"], errors="coerce").to_numpy(dtype=np.float64)
        want_id = space.iso_ids()[idx]
        bad = got != want_id
        if bad.any():
            r = int(np.argmax(bad))
            raise BenchmarkError(
                f"{name}: column 'iso_id' row {r} (index {idx[r]}) is {plain_value(df['iso_id'].iloc[r])!r}, expected "
                f"{want_id[r]} (isomorphism class ids numbered by first appearance in official index order)"
            )


def _add_derived(df: pd.DataFrame) -> pd.DataFrame:
    idx = df["index"].to_numpy()
    ops = space.ops_matrix()[idx]
    for k, col in enumerate(OP_COLUMNS):
        if col not in df.columns:
            df[col] = ops[:, k].astype(np.int64)
    if "unique_str" not in df.columns:
        df["unique_str"] = np.asarray(space.unique_strs(), dtype=object)[idx]
    if "iso_id" not in df.columns:
        df["iso_id"] = space.iso_ids()[idx]
    return df


def validate_truth(
    df: pd.DataFrame,
    *,
    name: str = "truth table",
    subset: bool = False,
    datasets: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Check a truth table and return it aligned, with any missing op/iso columns filled in.

    Requires ``index`` or ``arch_str`` and the accuracy column of every dataset in ``datasets``
    (default: all three); accuracies must be numbers in 0..100 with no NaN; op_e*, unique_str and
    iso_id, when present, must match :mod:`supernet.space`.  ``subset=False`` demands 15,625 rows.
    """
    need = [truth_column(d) for d in (datasets if datasets is not None else DATASETS)]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise BenchmarkError(
            f"{name} lacks column(s) {missing}; expected {list(TRUTH_COLUMNS)} (at least 'index' or "
            f"'arch_str' and {need}); columns are {list(df.columns)}"
        )
    out = validate_table(align_to_space(df, name=name, subset=subset), TRUTH_SCHEMA, name=name, drop_nonfinite=None)
    _check_derived(out, name)
    out = _add_derived(out)
    first = [c for c in TRUTH_COLUMNS if c in out.columns]
    return out[first + [c for c in out.columns if c not in first]]


def load_truth(
    path: str | os.PathLike[str] | None = None,
    *,
    subset: bool = False,
    datasets: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Read and validate the ground-truth table (default :func:`default_truth_path`).

    Returns the table in official index order (``df.loc[i]`` / ``df.iloc[i]`` is architecture ``i``
    when complete).  ``subset=True`` accepts a table covering only some architectures.
    """
    p = Path(path) if path is not None else default_truth_path()
    name = f"truth table {p}"
    df = read_arch_table(p, name=name, subset=subset)
    return validate_truth(df, name=name, subset=subset, datasets=datasets)


def scores_vs_truth(
    table: pd.DataFrame,
    column: str,
    truth: pd.DataFrame,
    dataset: str = "cifar10",
) -> pd.DataFrame:
    """Pair a score column of an aligned table with the true accuracy on ``dataset``.

    Returns a DataFrame (rows of ``table``, official index order) with columns ``index``,
    ``arch_str``, ``pred`` (the score; NaN kept), ``true`` (percent) and ``degenerate``.
    """
    if column not in table.columns:
        raise BenchmarkError(f"the table has no column {column!r}; columns are {list(table.columns)}")
    pred = pd.to_numeric(table[column], errors="coerce")
    if (pred.isna() & table[column].notna()).any():
        r = int(np.argmax((pred.isna() & table[column].notna()).to_numpy()))
        raise BenchmarkError(f"column {column!r} row {r} holds {plain_value(table[column].iloc[r])!r}, not a number")
    idx = table["index"].to_numpy()
    missing = np.setdiff1d(idx, truth["index"].to_numpy())
    if missing.size:
        raise BenchmarkError(
            f"the truth table has no row for {missing.size} architecture(s) of the table (indices {format_rows(missing)})"
        )
    true = truth_accuracy(truth.loc[idx], dataset)
    return pd.DataFrame(
        {
            "index": idx,
            "arch_str": table["arch_str"].to_numpy(),
            "pred": pred.to_numpy(dtype=np.float64),
            "true": true,
            "degenerate": space.degenerate_mask()[idx],
        },
        index=table.index,
    )



def build_truth_table(accuracies: Mapping[int, Mapping[str, float]]) -> pd.DataFrame:
    """The truth table (columns :data:`TRUTH_COLUMNS`, index order) from ``{index: {column: acc}}``."""
    idx = np.array(sorted(accuracies), dtype=np.int64)
    df = pd.DataFrame({"index": idx, "arch_str": arch_strs()[idx].tolist()}, index=pd.Index(idx))
    df = _add_derived(df)
    for col in ACC_COLUMNS:
        df[col] = np.array([accuracies[i][col] for i in idx], dtype=np.float64)
    return df[list(TRUTH_COLUMNS)]
