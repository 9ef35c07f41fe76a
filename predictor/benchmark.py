"""Ground-truth and hardware tables of NAS-Bench-201: load, validate, import from the official files.

Three kinds of table, all CSV (optionally gzipped), one row per architecture:

* **truth**: ``index, arch_str, op_e01 .. op_e23, unique_str, iso_id, cifar10_test_acc,
  cifar100_xtest_acc, imagenet16_120_xtest_acc`` (accuracies in percent).  :func:`load_truth`.
* **hardware**: ``index, arch_str`` and any number of ``*_latency_ms`` columns (NaN where a device
  covers only a subset).  :func:`load_hardware`.
* **any architecture table** (weight-sharing scores, predictions, ...): ``index`` and/or ``arch_str``
  plus whatever else.  :func:`read_arch_table` / :func:`align_to_space`.

Every loader returns a DataFrame keyed by the official index: columns ``index`` and ``arch_str``
first (canonical strings), rows sorted by index, and the pandas index equal to the official index
(so ``df.loc[i]`` is architecture ``i``).  Nothing is substituted silently: a missing column, an
arch string that is not in the space, an index that disagrees with its arch string, a NaN accuracy
raise :class:`BenchmarkError` naming the file, the row and what was expected.

The importer (:func:`import_benchmark`) turns the files a user downloads from the benchmark authors
into the truth table, without the official API's memory cost:

* NATS-Bench topology, directory ``NATS-tss-v1_0-3ffb9-simple``: ``meta.pickle.pbz2`` (bz2 pickle of
  ``{'meta_archs': [15,625 arch strings], 'total_archs', 'arch2infos': None, 'evaluated_indexes'}``)
  and one ``{index:06d}.pickle.pbz2`` per architecture holding ``{'12': ArchResults-state,
  '200': ArchResults-state}``.  Read one file at a time.
* NATS-Bench topology single file ``NATS-tss-v1_0-3ffb9.pickle.pbz2`` and NAS-Bench-201
  ``NAS-Bench-201-v1_{0,1}-*.pth`` (a ``torch.save``, legacy or zip, of ``{'meta_archs',
  'arch2infos': {index: {'less': state, 'full': state}}, 'evaluated_indexes'}``): one pickle.  By
  default it is read by a streaming unpickler that condenses each architecture's record to three
  numbers as soon as the record is complete and forgets it, so memory stays at about one record
  (the official NAS-Bench-201 API needs about 28 GB); ``stream=False`` uses the C unpickler
  (several times faster, but holds the whole file in memory).

An "ArchResults-state" is ``{'arch_index', 'arch_str', 'all_results': {(dataset, seed):
ResultsCount-state}, 'dataset_seed': {dataset: [seeds]}, ...}`` and a ResultsCount-state holds
``'epochs'`` and ``'eval_acc1es': {'<set>@<epoch>': accuracy}``.  The accuracy we keep is the
official API's ``get_more_info(i, dataset, hp='200', is_random=False)['test-accuracy']``: the mean
over the training seeds of the final epoch (``epochs - 1``) on ``cifar10``/``ori-test`` (trained on
train+valid), ``cifar100``/``x-test`` and ``ImageNet16-120``/``x-test``.

Pickles are unpickled with an allow-list of classes (containers, numpy scalars; tensors become
opaque placeholders): anything else is refused, since these files come from the internet.
"""

from __future__ import annotations

import bz2
import datetime as _dt
import functools
import gc
import hashlib
import io
import json
import logging
import os
import pickle
import struct
import tempfile
import zipfile
from collections import OrderedDict, defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from supernet import space
from supernet.space import NUM_ARCHS, Arch, ArchError

from .paths import data_path

logger = logging.getLogger(__name__)

__all__ = [
    "BenchmarkError",
    "MissingDataError",
    "TRUTH_FILE",
    "HARDWARE_FILE",
    "OP_COLUMNS",
    "ACC_COLUMNS",
    "DATASETS",
    "TRUTH_COLUMNS",
    "LATENCY_SUFFIX",
    "default_truth_path",
    "default_hardware_path",
    "read_arch_table",
    "align_to_space",
    "load_truth",
    "validate_truth",
    "resolve_dataset",
    "truth_column",
    "truth_accuracy",
    "scores_vs_truth",
    "load_hardware",
    "validate_hardware",
    "latency_columns",
    "latency_column",
    "build_truth_table",
    "detect_format",
    "read_official",
    "import_benchmark",
    "write_table",
    "sidecar_path",
]

# ----------------------------------------------------------------------------- constants
TRUTH_FILE = ("nb201", "nb201_truth.csv.gz")
"""Path of the truth table under the data root."""
HARDWARE_FILE = ("nb201", "nb201_hw_latency.csv.gz")
"""Path of the hardware latency table under the data root."""

OP_COLUMNS: tuple[str, ...] = tuple(f"op_e{i}{j}" for i, j in space.EDGES)
"""Official op code per edge, edge order of :data:`supernet.space.EDGES`."""

DATASETS: dict[str, str] = {
    "cifar10": "cifar10_test_acc",
    "cifar100": "cifar100_xtest_acc",
    "imagenet16_120": "imagenet16_120_xtest_acc",
}
"""Canonical dataset name -> truth-table accuracy column."""
ACC_COLUMNS: tuple[str, ...] = tuple(DATASETS.values())
TRUTH_COLUMNS: tuple[str, ...] = ("index", "arch_str", *OP_COLUMNS, "unique_str", "iso_id", *ACC_COLUMNS)
"""Columns of the truth table, in file order."""
LATENCY_SUFFIX = "_latency_ms"

_DATASET_ALIASES = {
    "cifar10": "cifar10", "cifar_10": "cifar10", "c10": "cifar10",
    "cifar100": "cifar100", "cifar_100": "cifar100", "c100": "cifar100",
    "imagenet16_120": "imagenet16_120", "imagenet16": "imagenet16_120", "imagenet": "imagenet16_120",
    "in16": "imagenet16_120", "in16_120": "imagenet16_120", "imagenet_16_120": "imagenet16_120",
}
_DATASET_ALIASES.update({col: name for name, col in DATASETS.items()})

# (truth column, official dataset name, official evaluation set)
_OFFICIAL_TARGETS: tuple[tuple[str, str, str], ...] = (
    ("cifar10_test_acc", "cifar10", "ori-test"),
    ("cifar100_xtest_acc", "cifar100", "x-test"),
    ("imagenet16_120_xtest_acc", "ImageNet16-120", "x-test"),
)
_HP_KEYS = {"200": ("200", "full"), "12": ("12", "less")}  # NATS-Bench key, NAS-Bench-201 key
_NATS_EXT = "pickle.pbz2"
_TORCH_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_HOW_TO_GET = (
    "see data/README.md; the official files are NATS-Bench 'NATS-tss-v1_0-3ffb9-simple' (directory) or "
    "'NATS-tss-v1_0-3ffb9.pickle.pbz2', and NAS-Bench-201 'NAS-Bench-201-v1_1-096897.pth' (or v1_0), "
    "from the NATS-Bench / NAS-Bench-201 project pages"
)


class BenchmarkError(ValueError):
    """A benchmark table or official file that is malformed, inconsistent or incomplete."""


class MissingDataError(FileNotFoundError):
    """A data file that is not where it was looked for; the message says how to get it."""


class _LayoutError(BenchmarkError):
    """A record whose inner layout this reader does not know (the official API may still read it)."""


# ----------------------------------------------------------------------------- small helpers
def default_truth_path() -> Path:
    """``data_root()/nb201/nb201_truth.csv.gz``."""
    return data_path(*TRUTH_FILE)


def default_hardware_path() -> Path:
    """``data_root()/nb201/nb201_hw_latency.csv.gz``."""
    return data_path(*HARDWARE_FILE)


def _require_file(path: Path, what: str) -> None:
    if not path.is_file():
        hint = "" if path.exists() else " (set NASGCN_DATA to the data folder, or pass the path)"
        raise MissingDataError(
            f"{what} not found: {path} is {'not a file' if path.exists() else 'missing'}{hint}; "
            f"see data/README.md for how to get it"
        )


@functools.lru_cache(maxsize=1)
def _str_to_index() -> dict[str, int]:
    return {a.to_str(): i for i, a in enumerate(space.all_archs())}


@functools.lru_cache(maxsize=1)
def _index_to_str() -> tuple[str, ...]:
    return tuple(a.to_str() for a in space.all_archs())


def _val(v: Any) -> Any:
    """A numpy scalar as the plain Python value (for readable messages)."""
    return v.item() if isinstance(v, np.generic) else v


def _rows(positions: Iterable[int], limit: int = 5) -> str:
    p = list(positions)
    s = ", ".join(str(x) for x in p[:limit])
    return s + (f", ... ({len(p)} in all)" if len(p) > limit else "")


# ----------------------------------------------------------------------------- any arch table
def _index_column(values: pd.Series, name: str) -> np.ndarray:
    """The ``index`` column as int64, or an error naming the first bad row."""
    num = pd.to_numeric(values, errors="coerce")
    bad = num.isna().to_numpy()
    if bad.any():
        r = int(np.argmax(bad))
        raise BenchmarkError(
            f"{name}: row {r} has index {_val(values.iloc[r])!r}, not an integer official index (0..{NUM_ARCHS - 1})"
        )
    arr = num.to_numpy(dtype=np.float64)
    frac = arr != np.round(arr)
    if frac.any():
        r = int(np.argmax(frac))
        raise BenchmarkError(f"{name}: row {r} has index {_val(values.iloc[r])!r}, not an integer official index")
    out_of_range = (arr < 0) | (arr >= NUM_ARCHS)
    if out_of_range.any():
        r = int(np.argmax(out_of_range))
        raise BenchmarkError(
            f"{name}: row {r} has index {_val(values.iloc[r])!r}, outside the official range 0..{NUM_ARCHS - 1}"
        )
    return arr.astype(np.int64)


def _arch_indices(values: pd.Series, name: str) -> np.ndarray:
    """Official index of every arch string; an error names the first unknown or malformed one."""
    lookup = _str_to_index()
    out = np.empty(len(values), dtype=np.int64)
    for r, s in enumerate(values.tolist()):
        i = lookup.get(s) if isinstance(s, str) else None
        if i is None:
            if not isinstance(s, str) or not s.strip():
                raise BenchmarkError(f"{name}: row {r} has no arch_str (got {s!r})")
            try:
                i = Arch.from_str(s).index  # tolerates surrounding whitespace; else says what is wrong
            except ArchError as e:
                raise BenchmarkError(f"{name}: row {r} has an arch_str that is not a NAS-Bench-201 cell: {e}") from None
        out[r] = i
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
    idx = _index_column(df["index"], name) if has_idx else None
    parsed = _arch_indices(df["arch_str"], name) if has_arch else None
    if idx is not None and parsed is not None:
        wrong = idx != parsed
        if wrong.any():
            r = int(np.argmax(wrong))
            raise BenchmarkError(
                f"{name}: wrong index order: row {r} has index {idx[r]} but arch_str "
                f"{_val(df['arch_str'].iloc[r])!r}, which is official index {parsed[r]} (index {idx[r]} is "
                f"{_index_to_str()[idx[r]]!r}); {int(wrong.sum())} of {len(df)} rows disagree. The index "
                f"column is not the official NAS-Bench-201 index, or rows were reordered without it"
            )
    final = idx if idx is not None else parsed
    assert final is not None
    uniq, first, counts = np.unique(final, return_index=True, return_counts=True)
    if (counts > 1).any():
        dup = int(uniq[np.argmax(counts > 1)])
        where = np.flatnonzero(final == dup)
        raise BenchmarkError(
            f"{name}: architecture {dup} ({_index_to_str()[dup]}) appears {len(where)} times (rows "
            f"{_rows(where)}); {int((counts > 1).sum())} architectures are duplicated. Each may appear once"
        )
    if not subset and len(final) != NUM_ARCHS:
        missing = np.setdiff1d(np.arange(NUM_ARCHS), final)
        raise BenchmarkError(
            f"{name} covers {len(final)} of the {NUM_ARCHS} architectures (missing indices {_rows(missing)}); "
            f"a complete table is needed here"
        )
    out = df.copy()
    out["index"] = final
    out["arch_str"] = [_index_to_str()[i] for i in final]
    rest = [c for c in out.columns if c not in ("index", "arch_str")]
    out = out[["index", "arch_str", *rest]]
    if not (np.diff(final) > 0).all():
        logger.debug("%s: rows sorted into official index order", name)
        out = out.iloc[np.argsort(final, kind="stable")]
    out.index = pd.Index(out["index"].to_numpy(), name=None)
    return out


def _read_csv(path: Path, name: str) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError, EOFError) as e:
        raise BenchmarkError(f"cannot read {name} {path} as CSV (optionally gzipped): {e}") from None


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
    _require_file(p, name)
    df = _read_csv(p, name)
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise BenchmarkError(
            f"{name} lacks column(s) {missing}; expected {list(required)} besides 'index'/'arch_str' "
            f"(columns are {list(df.columns)})"
        )
    return align_to_space(df, name=name, subset=subset)


# ----------------------------------------------------------------------------- truth table
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


def _numeric_column(df: pd.DataFrame, col: str, name: str, *, allow_nan: bool) -> np.ndarray:
    raw = df[col]
    num = pd.to_numeric(raw, errors="coerce")
    garbage = num.isna() & raw.notna()
    if garbage.any():
        r = int(np.argmax(garbage.to_numpy()))
        raise BenchmarkError(
            f"{name}: column {col!r} row {r} (index {df['index'].iloc[r]}) holds {_val(raw.iloc[r])!r}, not a number"
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
                f"{name}: column {col!r} row {r} (index {idx[r]}) is {_val(df[col].iloc[r])!r}, but that "
                f"architecture has op code {ops[r, k]} ({space.OPS[ops[r, k]]}) on that edge (codes: "
                f"{', '.join(f'{c}={o}' for c, o in enumerate(space.OPS))})"
            )
    if "unique_str" in df.columns:
        want = np.asarray(space.unique_strs(), dtype=object)[idx]
        bad = df["unique_str"].to_numpy(dtype=object) != want
        if bad.any():
            r = int(np.argmax(bad))
            raise BenchmarkError(
                f"{name}: column 'unique_str' row {r} (index {idx[r]}) is {_val(df['unique_str'].iloc[r])!r}, "
                f"expected {want[r]!r}"
            )
    if "iso_id" in df.columns:
        got = pd.to_numeric(df["iso_id"], errors="coerce").to_numpy(dtype=np.float64)
        want_id = space.iso_ids()[idx]
        bad = got != want_id
        if bad.any():
            r = int(np.argmax(bad))
            raise BenchmarkError(
                f"{name}: column 'iso_id' row {r} (index {idx[r]}) is {_val(df['iso_id'].iloc[r])!r}, expected "
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
    out = align_to_space(df, name=name, subset=subset)
    for col in [c for c in ACC_COLUMNS if c in out.columns]:
        arr = _numeric_column(out, col, name, allow_nan=False)
        bad = (arr < 0) | (arr > 100)
        if bad.any():
            r = int(np.argmax(bad))
            raise BenchmarkError(
                f"{name}: column {col!r} row {r} (index {out['index'].iloc[r]}) is {arr[r]}, outside "
                f"0..100; accuracies are percentages (multiply fractions by 100)"
            )
        out[col] = arr
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
    _require_file(p, "ground-truth table")
    return validate_truth(_read_csv(p, f"truth table {p}"), name=f"truth table {p}", subset=subset, datasets=datasets)


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
        raise BenchmarkError(f"column {column!r} row {r} holds {_val(table[column].iloc[r])!r}, not a number")
    idx = table["index"].to_numpy()
    missing = np.setdiff1d(idx, truth["index"].to_numpy())
    if missing.size:
        raise BenchmarkError(
            f"the truth table has no row for {missing.size} architecture(s) of the table (indices {_rows(missing)})"
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


# ----------------------------------------------------------------------------- hardware table
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


def validate_hardware(df: pd.DataFrame, *, name: str = "hardware table", subset: bool = False) -> pd.DataFrame:
    """Check a latency table: key columns, at least one ``*_latency_ms`` column, values > 0 or NaN."""
    cols = latency_columns(df)
    if not cols:
        raise BenchmarkError(
            f"{name} has no latency columns (names ending in {LATENCY_SUFFIX!r}, milliseconds); "
            f"columns are {list(df.columns)}"
        )
    out = align_to_space(df, name=name, subset=subset)
    for col in cols:
        arr = _numeric_column(out, col, name, allow_nan=True)
        if np.isnan(arr).all():
            raise BenchmarkError(f"{name}: latency column {col!r} has no values (all NaN)")
        bad = arr <= 0
        if bad.any():
            r = int(np.argmax(bad))
            raise BenchmarkError(
                f"{name}: latency column {col!r} row {r} (index {out['index'].iloc[r]}) is {arr[r]}; "
                f"latencies must be positive milliseconds (NaN where not measured)"
            )
        out[col] = arr
    return out


def load_hardware(path: str | os.PathLike[str] | None = None, *, subset: bool = False) -> pd.DataFrame:
    """Read and validate the hardware latency table (default :func:`default_hardware_path`)."""
    p = Path(path) if path is not None else default_hardware_path()
    _require_file(p, "hardware latency table")
    name = f"hardware table {p}"
    return validate_hardware(_read_csv(p, name), name=name, subset=subset)


# ----------------------------------------------------------------------------- writing
def sidecar_path(out: str | os.PathLike[str]) -> Path:
    """The JSON sidecar of a table file: ``truth.csv.gz`` -> ``truth.json``."""
    p = Path(out)
    stem = p.name
    for ext in (".gz", ".csv"):
        if stem.endswith(ext):
            stem = stem[: -len(ext)]
    return p.with_name(stem + ".json")


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_table(df: pd.DataFrame, out: str | os.PathLike[str], meta: Mapping[str, Any] | None = None) -> Path:
    """Write ``df`` as CSV (gzipped when ``out`` ends in ``.gz``) and ``meta`` as its JSON sidecar.

    Both files are written atomically (temporary file, then rename).  Returns the table path.
    """
    p = Path(out)
    comp = "gzip" if p.name.endswith(".gz") else None
    _atomic_write(p, lambda t: df.to_csv(t, index=False, compression=comp))
    if meta is not None:
        text = json.dumps(dict(meta), indent=2, sort_keys=False, default=str) + "\n"
        _atomic_write(sidecar_path(p), lambda t: t.write_text(text))
    return p


# ----------------------------------------------------------------------------- safe unpickling
class _Opaque:
    """Placeholder for an object the truth table does not need (tensors, storages)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __call__(self, *args: Any, **kwargs: Any) -> "_Opaque":
        return _Opaque()

    def __setstate__(self, state: Any) -> None:
        pass

    def __repr__(self) -> str:
        return "<opaque>"


def _numpy_global(module: str, name: str) -> Any:
    import numpy as _np

    if name == "dtype":
        return _np.dtype
    if name == "ndarray":
        return _np.ndarray
    try:
        from numpy._core import multiarray  # numpy >= 2
    except ImportError:  # numpy 1.x
        from numpy.core import multiarray  # type: ignore[no-redef]
    return getattr(multiarray, name)


_SAFE_GLOBALS: dict[tuple[str, str], Callable[[str, str], Any]] = {
    ("collections", "OrderedDict"): lambda m, n: OrderedDict,
    ("collections", "defaultdict"): lambda m, n: defaultdict,
    **{("builtins", n): (lambda m, n: __import__("builtins").__dict__[n])
       for n in ("set", "frozenset", "list", "dict", "tuple", "int", "float", "str", "bytes", "bool", "complex")},
    **{(m, n): _numpy_global for m in ("numpy", "numpy.core.multiarray", "numpy._core.multiarray")
       for n in ("scalar", "_reconstruct", "dtype", "ndarray")},
}
_PY2_MODULES = {"__builtin__": "builtins", "copy_reg": "copyreg"}


def _allowed_global(module: str, name: str) -> Any:
    module = _PY2_MODULES.get(module, module)
    if (module, name) in _SAFE_GLOBALS:
        return _SAFE_GLOBALS[(module, name)](module, name)
    if module == "torch" or module.startswith("torch."):
        return _Opaque  # tensors/storages: not needed for the truth table
    raise BenchmarkError(
        f"the pickle refers to {module}.{name}, which no official NAS-Bench-201 / NATS-Bench file "
        f"contains; refusing to unpickle it (not an official file, or a version this importer does not know)"
    )


class _SafeUnpickler(pickle.Unpickler):
    """C unpickler restricted to :data:`_SAFE_GLOBALS`; tensors become placeholders."""

    def find_class(self, module: str, name: str) -> Any:
        return _allowed_global(module, name)

    def persistent_load(self, pid: Any) -> Any:
        return _Opaque()


class _PySafeUnpickler(pickle._Unpickler):  # type: ignore[name-defined]
    """Pure-Python twin of :class:`_SafeUnpickler`: reads exactly what it needs, no read-ahead."""

    def find_class(self, module: str, name: str) -> Any:
        return _allowed_global(module, name)

    def persistent_load(self, pid: Any) -> Any:
        return _Opaque()


_PRUNABLE = (dict, OrderedDict, list, tuple, set, frozenset)
_REDUCED = "__nasgcn_reduced__"  # key under which a condensed record replaces the raw one


def _is_record(d: Any) -> bool:
    """A per-architecture record: a small mapping hp -> ArchResults-state."""
    if not isinstance(d, dict) or not 0 < len(d) <= 8:
        return False
    return any(isinstance(v, dict) and "all_results" in v and "dataset_seed" in v for v in d.values())


class _StreamingUnpickler(_PySafeUnpickler):
    """Pure-Python unpickler that condenses each architecture record as soon as it is complete.

    A record (``{'less': state, 'full': state}`` or ``{'12': state, '200': state}``) is recognised
    when its own SETITEMS completes; it is replaced in place by ``{_REDUCED: condense(record)}``
    and the containers and ``'<set>@<epoch>'`` keys memoized while it was read are dropped from the
    memo, so the raw record can be freed.  Everything else stays: the objects a pickle may share
    between records (classes such as OrderedDict, numpy dtypes, interned attribute names, dataset
    names, arch strings also listed in ``meta_archs``).  Should a later record refer to a dropped
    object after all, unpickling stops with an error (see :func:`read_official`, ``stream=False``).
    """

    dispatch = dict(pickle._Unpickler.dispatch)  # type: ignore[attr-defined]

    def __init__(self, file: Any, condense: Callable[[dict], Any]) -> None:
        super().__init__(file)
        self._condense = condense
        self._fresh: list[int] = []
        self._memo_next = 0
        self.records = 0

    def _put(self, i: int) -> None:
        self.memo[i] = self.stack[-1]
        self._fresh.append(i)
        if i >= self._memo_next:
            self._memo_next = i + 1

    def load_put(self) -> None:
        i = int(self.readline()[:-1])
        if i < 0:
            raise pickle.UnpicklingError("negative PUT argument")
        self._put(i)

    def load_binput(self) -> None:
        self._put(self.read(1)[0])

    def load_long_binput(self) -> None:
        (i,) = struct.unpack("<I", self.read(4))
        self._put(i)

    def load_memoize(self) -> None:
        self._put(self._memo_next)

    def load_setitem(self) -> None:
        stack = self.stack
        value = stack.pop()
        key = stack.pop()
        stack[-1][key] = value
        self._after_setitems(stack[-1])

    def load_setitems(self) -> None:
        items = self.pop_mark()
        d = self.stack[-1]
        for i in range(0, len(items), 2):
            d[items[i]] = items[i + 1]
        self._after_setitems(d)

    def _after_setitems(self, d: Any) -> None:
        if not _is_record(d):
            return
        reduced = self._condense(d)
        d.clear()
        d[_REDUCED] = reduced
        self.records += 1
        memo, fresh = self.memo, self._fresh
        start = next((k for k, i in enumerate(fresh) if memo.get(i) is d), None)
        if start is not None:
            for i in fresh[start:]:
                o = memo[i]
                if type(o) in _PRUNABLE or (type(o) is str and "@" in o):
                    del memo[i]
        self._fresh = []

    for _op, _fn in (
        (pickle.PUT, load_put), (pickle.BINPUT, load_binput), (pickle.LONG_BINPUT, load_long_binput),
        (pickle.MEMOIZE, load_memoize), (pickle.SETITEM, load_setitem), (pickle.SETITEMS, load_setitems),
    ):
        dispatch[_op[0]] = _fn
    del _op, _fn


# ----------------------------------------------------------------------------- official records
def _condense_record(record: Mapping[str, Any], hp: str, where: str) -> tuple[Any, Any, dict[str, float]]:
    """(arch_index, arch_str, {truth column: mean final-epoch accuracy}) of one raw record."""
    key = next((k for k in _HP_KEYS[hp] if k in record), None)
    if key is None:
        raise _LayoutError(f"{where}: no results for hp={hp!r} (the record has keys {list(record)})")
    state = record[key]
    if not isinstance(state, Mapping) or "all_results" not in state or "dataset_seed" not in state:
        raise _LayoutError(f"{where}: the hp={hp!r} entry is not an ArchResults state (keys {list(state)})")
    if isinstance(state.get("arch_index"), (int, np.integer)):
        where = f"{where} (arch_index {state['arch_index']})"
    all_results, dataset_seed = state["all_results"], state["dataset_seed"]
    acc: dict[str, float] = {}
    for col, dataset, setname in _OFFICIAL_TARGETS:
        seeds = dataset_seed.get(dataset)
        if not seeds:
            raise BenchmarkError(
                f"{where}: no {dataset!r} results at hp={hp!r} (datasets present: {list(dataset_seed)})"
            )
        vals = []
        for seed in seeds:
            r = all_results.get((dataset, seed))
            if not isinstance(r, Mapping) or "eval_acc1es" not in r or "epochs" not in r:
                raise _LayoutError(f"{where}: no ResultsCount state for ({dataset!r}, seed {seed!r})")
            ekey = f"{setname}@{int(r['epochs']) - 1}"
            if ekey not in r["eval_acc1es"]:
                raise BenchmarkError(
                    f"{where}: {dataset!r} seed {seed!r} has no {setname!r} accuracy at the final epoch "
                    f"(looked for {ekey!r})"
                )
            try:
                vals.append(float(r["eval_acc1es"][ekey]))
            except (TypeError, ValueError):
                raise BenchmarkError(
                    f"{where}: {dataset!r} seed {seed!r} {ekey!r} is {type(r['eval_acc1es'][ekey]).__name__}, "
                    f"not a number"
                ) from None
        acc[col] = float(np.mean(vals))  # as the official API: np.mean over the seeds
    return state.get("arch_index"), state.get("arch_str"), acc


def _check_meta_archs(meta_archs: Any, where: str) -> None:
    if not isinstance(meta_archs, (list, tuple)):
        raise BenchmarkError(f"{where}: 'meta_archs' is a {type(meta_archs).__name__}, expected a list of arch strings")
    if len(meta_archs) != NUM_ARCHS:
        raise BenchmarkError(
            f"{where} lists {len(meta_archs)} architectures, expected {NUM_ARCHS} (the topology space); "
            f"is this the size search space (sss) file?"
        )
    official = _index_to_str()
    for i, s in enumerate(meta_archs):
        if s != official[i]:
            other = _str_to_index().get(s)
            raise BenchmarkError(
                f"{where}: the archive's architecture list disagrees with our official index at position {i}: "
                f"the archive has {s!r}"
                + (f" (official index {other})" if other is not None else " (not a NAS-Bench-201 cell)")
                + f", the official index {i} is {official[i]!r}. Refusing to import with a different order"
            )


def _check_condensed(i: int, arch_index: Any, arch_str: Any, acc: Mapping[str, float], where: str) -> None:
    if isinstance(arch_index, (int, np.integer)) and int(arch_index) not in (i, -1):
        raise BenchmarkError(f"{where}: the record stored under index {i} says arch_index={arch_index}")
    if isinstance(arch_str, str) and arch_str != _index_to_str()[i]:
        raise BenchmarkError(
            f"{where}: the record of index {i} is for {arch_str!r}, but official index {i} is {_index_to_str()[i]!r}"
        )
    for col, v in acc.items():
        if not np.isfinite(v):
            raise BenchmarkError(f"{where}: architecture {i} has a non-finite {col} ({v}); refusing to import NaNs")


class _Digest:
    """sha256 and md5 of the bytes fed to it, plus a byte count."""

    def __init__(self) -> None:
        self.sha256, self.md5, self.bytes = hashlib.sha256(), hashlib.md5(), 0

    def update(self, b: bytes) -> None:
        self.sha256.update(b)
        self.md5.update(b)
        self.bytes += len(b)

    def as_dict(self) -> dict[str, Any]:
        return {"sha256": self.sha256.hexdigest(), "md5": self.md5.hexdigest(), "bytes": self.bytes}


def _file_digest(path: Path) -> dict[str, Any]:
    d = _Digest()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            d.update(chunk)
    return d.as_dict()


class _CountingReader(io.RawIOBase):
    """Read-only wrapper reporting the bytes read to a progress bar."""

    def __init__(self, f: Any, bar: Any) -> None:
        self._f, self._bar = f, bar

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        b = self._f.read(n)
        self._bar.update(len(b))
        return b

    def readinto(self, buf: Any) -> int:
        b = self.read(len(buf))
        buf[: len(b)] = b
        return len(b)

    def readline(self, size: int = -1) -> bytes:
        b = self._f.readline(size)
        self._bar.update(len(b))
        return b


# ----------------------------------------------------------------------------- format detection
def detect_format(src: str | os.PathLike[str]) -> tuple[str, str]:
    """(format, layout) of an official benchmark path.

    format is ``'nats'`` or ``'nb201'``; layout is ``'nats-dir'`` (``NATS-tss-*-simple`` directory),
    ``'nats-file'`` (``NATS-tss-*.pickle.pbz2``), ``'nb201-legacy'`` or ``'nb201-zip'`` (``.pth``).
    """
    p = Path(src)
    if not p.exists():
        raise MissingDataError(f"benchmark source {p} does not exist; {_HOW_TO_GET}")
    if p.is_dir():
        if (p / f"meta.{_NATS_EXT}").is_file() or (p / "meta.pickle").is_file():
            return "nats", "nats-dir"
        raise BenchmarkError(
            f"{p} is a directory but not a NATS-Bench archive (no meta.{_NATS_EXT}); expected "
            f"'NATS-tss-v1_0-3ffb9-simple' holding meta.{_NATS_EXT} and 000000.{_NATS_EXT} ... "
            f"015624.{_NATS_EXT}; {_HOW_TO_GET}"
        )
    with open(p, "rb") as f:
        head = f.read(4)
        if head[:3] == b"BZh":
            return "nats", "nats-file"
        if head[:4] == b"PK\x03\x04":
            try:
                with zipfile.ZipFile(p) as z:
                    if any(n.endswith("data.pkl") for n in z.namelist()):
                        return "nb201", "nb201-zip"
            except zipfile.BadZipFile:
                pass
        elif head[:1] == b"\x80":
            f.seek(0)
            try:  # torch's legacy format starts with a tiny pickle of its magic number
                magic = _PySafeUnpickler(io.BytesIO(f.read(64))).load()
            except Exception:  # noqa: BLE001 - any failure means "not this format"
                magic = None
            if magic == _TORCH_LEGACY_MAGIC:
                return "nb201", "nb201-legacy"
    raise BenchmarkError(
        f"{p} is not in either official format: expected a NATS-Bench topology directory "
        f"('NATS-tss-v1_0-3ffb9-simple'), a NATS-Bench '.pickle.pbz2' file, or a NAS-Bench-201 '.pth' "
        f"file saved by torch ('NAS-Bench-201-v1_1-096897.pth'); {_HOW_TO_GET}"
    )


# ----------------------------------------------------------------------------- readers
def _read_nats_dir(
    root: Path, hp: str, indices: np.ndarray, allow_missing: bool, progress: bool
) -> tuple[dict[int, dict[str, float]], dict[str, Any]]:
    digest = _Digest()

    def load(path: Path) -> Any:
        raw = path.read_bytes()
        digest.update(raw)
        try:
            data = bz2.decompress(raw) if raw[:3] == b"BZh" else raw
            return _SafeUnpickler(io.BytesIO(data)).load()
        except (OSError, EOFError, pickle.UnpicklingError, ValueError) as e:
            if isinstance(e, BenchmarkError):
                raise
            raise BenchmarkError(f"{path} is not a readable NATS-Bench pickle ({e})") from None

    meta_path = root / f"meta.{_NATS_EXT}"
    if not meta_path.is_file():
        meta_path = root / "meta.pickle"
    meta = load(meta_path)
    if not isinstance(meta, Mapping) or "meta_archs" not in meta:
        raise BenchmarkError(f"{meta_path} holds no 'meta_archs' list (keys: {list(meta)[:10] if isinstance(meta, Mapping) else type(meta).__name__})")
    _check_meta_archs(meta["meta_archs"], str(meta_path))

    def arch_file(i: int) -> Path | None:
        for name in (f"{i:06d}.{_NATS_EXT}", f"{i:d}.{_NATS_EXT}", f"{i:06d}.pickle"):
            if (root / name).is_file():
                return root / name
        return None

    files = {int(i): arch_file(int(i)) for i in indices}
    missing = [i for i, f in files.items() if f is None]
    if missing and not allow_missing:
        raise BenchmarkError(
            f"{root}: {len(missing)} of {len(indices)} architectures have no file (indices {_rows(missing)}; "
            f"expected e.g. {missing[0]:06d}.{_NATS_EXT}). The download is incomplete; pass allow_missing=True "
            f"(--allow-missing) to import the rest as a subset"
        )
    out: dict[int, dict[str, float]] = {}
    for i, path in tqdm(files.items(), desc="NATS-Bench archs", unit="arch", disable=not progress):
        if path is None:
            continue
        record = load(path)
        where = str(path)
        if not isinstance(record, Mapping) or not _is_record(dict(record)):
            raise _LayoutError(f"{where}: not a per-architecture record (hp -> ArchResults state)")
        arch_index, arch_str, acc = _condense_record(record, hp, where)
        _check_condensed(i, arch_index, arch_str, acc, where)
        out[i] = acc
        del record
    info = {
        "source_format": "NATS-Bench topology archive directory (per-architecture .pickle.pbz2)",
        "source_digest": {**digest.as_dict(), "over": "meta file and the architecture files read, in index order"},
        "reader": "nasgcn per-file reader",
        "missing_indices": missing,
    }
    return out, info


def _read_single_pickle(
    path: Path, layout: str, hp: str, stream: bool, progress: bool
) -> tuple[Any, Mapping[int, Any], dict[str, Any]]:
    """Unpickle a single-file benchmark; returns (meta_archs, {index: condensed}, info)."""
    where = str(path)
    size = path.stat().st_size

    def condense(record: dict) -> Any:
        return _condense_record(record, hp, where)

    bar = tqdm(total=size, desc=f"reading {path.name}", unit="B", unit_scale=True, disable=not progress)
    try:
        with open(path, "rb") as raw_f:
            # buffered readers throughout: the unpicklers read a few bytes per opcode
            if layout == "nb201-zip":
                zf = zipfile.ZipFile(raw_f)
                member = next(n for n in zf.namelist() if n.endswith("data.pkl"))
                bar.reset(total=zf.getinfo(member).file_size)
                stream_f: Any = io.BufferedReader(_CountingReader(zf.open(member), bar), 1 << 20)
            elif layout == "nats-file":
                stream_f = bz2.BZ2File(io.BufferedReader(_CountingReader(raw_f, bar), 1 << 20))
            else:  # nb201-legacy: magic number, protocol version, sys info, then the object
                stream_f = io.BufferedReader(_CountingReader(raw_f, bar), 1 << 20)
                for _ in range(3):
                    _PySafeUnpickler(stream_f).load()
            gc_was_on = gc.isenabled()
            gc.disable()  # millions of acyclic containers: collection passes only cost time
            try:
                if stream:
                    obj = _StreamingUnpickler(stream_f, condense).load()
                else:
                    obj = _SafeUnpickler(stream_f).load()
            except pickle.UnpicklingError as e:
                if stream and "Memo value not found" in str(e):
                    raise BenchmarkError(
                        f"{where}: the streaming reader dropped an object the file refers to again ({e}); "
                        f"re-run with stream=False (--no-stream), which holds the whole file in memory"
                    ) from None
                raise BenchmarkError(f"{where}: not a readable pickle ({e}); {_HOW_TO_GET}") from None
            except (EOFError, OSError, struct.error, zipfile.BadZipFile) as e:
                raise BenchmarkError(f"{where}: truncated or corrupt file ({type(e).__name__}: {e})") from None
            finally:
                if gc_was_on:
                    gc.enable()
    finally:
        bar.close()
    if not isinstance(obj, Mapping) or "meta_archs" not in obj or "arch2infos" not in obj:
        keys = list(obj)[:10] if isinstance(obj, Mapping) else type(obj).__name__
        raise BenchmarkError(
            f"{where}: not an official benchmark file: expected a dict with 'meta_archs', 'arch2infos' and "
            f"'evaluated_indexes', found {keys}"
        )
    arch2infos = obj["arch2infos"]
    if not isinstance(arch2infos, Mapping):
        raise BenchmarkError(f"{where}: 'arch2infos' is {type(arch2infos).__name__}, expected a dict of records")
    info = {
        "source_format": {
            "nb201-legacy": "NAS-Bench-201 .pth (torch legacy serialization)",
            "nb201-zip": "NAS-Bench-201 .pth (torch zip serialization)",
            "nats-file": "NATS-Bench topology single file (.pickle.pbz2)",
        }[layout],
        "reader": "nasgcn streaming unpickler" if stream else "nasgcn whole-file unpickler",
        "evaluated_indexes": len(obj.get("evaluated_indexes") or ()),
    }
    return obj["meta_archs"], arch2infos, info


def _condensed_from_single(
    arch2infos: Mapping[int, Any], hp: str, indices: np.ndarray, allow_missing: bool, where: str
) -> tuple[dict[int, dict[str, float]], list[int]]:
    out: dict[int, dict[str, float]] = {}
    missing = []
    for i in indices.tolist():
        rec = arch2infos.get(i)
        if rec is None:
            missing.append(i)
            continue
        if isinstance(rec, Mapping) and _REDUCED in rec:
            arch_index, arch_str, acc = rec[_REDUCED]
        elif isinstance(rec, Mapping) and _is_record(dict(rec)):
            arch_index, arch_str, acc = _condense_record(rec, hp, f"{where} (index {i})")
        else:
            raise _LayoutError(
                f"{where}: the record of index {i} is not an hp -> ArchResults mapping "
                f"(keys {list(rec)[:10] if isinstance(rec, Mapping) else type(rec).__name__})"
            )
        _check_condensed(i, arch_index, arch_str, acc, where)
        out[i] = acc
    if missing and not allow_missing:
        raise BenchmarkError(
            f"{where}: {len(missing)} of {len(indices)} architectures are missing from 'arch2infos' "
            f"(indices {_rows(missing)}); pass allow_missing=True (--allow-missing) to import the rest as a subset"
        )
    return out, missing


def _read_with_official_api(
    src: Path, layout: str, hp: str, indices: np.ndarray, allow_missing: bool, progress: bool
) -> tuple[dict[int, dict[str, float]], dict[str, Any]]:
    """Read through the official package (``nats_bench`` / ``nas_201_api``); slower, more memory."""
    if layout.startswith("nats"):
        from nats_bench import create  # type: ignore[import-not-found]

        api = create(str(src), "tss", fast_mode=layout == "nats-dir", verbose=False)
        reader = "nats_bench.create(..., 'tss').get_more_info"
    else:
        from nas_201_api import NASBench201API  # type: ignore[import-not-found]

        api = NASBench201API(str(src), verbose=False)
        reader = "nas_201_api.NASBench201API.get_more_info"
    _check_meta_archs(list(api.meta_archs), str(src))
    out: dict[int, dict[str, float]] = {}
    missing = []
    for i in tqdm(indices.tolist(), desc="official API", unit="arch", disable=not progress):
        try:
            acc = {
                col: float(api.get_more_info(i, ds, hp=hp, is_random=False)["test-accuracy"])
                for col, ds, _ in _OFFICIAL_TARGETS
            }
        except (ValueError, KeyError, AssertionError, FileNotFoundError) as e:
            missing.append(i)
            logger.debug("official API could not read architecture %d: %s", i, e)
            continue
        finally:
            if layout == "nats-dir":
                getattr(api, "arch2infos_dict", {}).pop(i, None)  # keep fast mode's memory flat
        _check_condensed(i, None, None, acc, str(src))
        out[i] = acc
    if missing and not allow_missing:
        raise BenchmarkError(
            f"{src}: the official API has no results for {len(missing)} architectures (indices {_rows(missing)}); "
            f"pass allow_missing=True (--allow-missing) to import the rest as a subset"
        )
    return out, {"reader": reader, "missing_indices": missing}


def build_truth_table(accuracies: Mapping[int, Mapping[str, float]]) -> pd.DataFrame:
    """The truth table (columns :data:`TRUTH_COLUMNS`, index order) from ``{index: {column: acc}}``."""
    idx = np.array(sorted(accuracies), dtype=np.int64)
    df = pd.DataFrame({"index": idx, "arch_str": [_index_to_str()[i] for i in idx]}, index=pd.Index(idx))
    df = _add_derived(df)
    for col in ACC_COLUMNS:
        df[col] = np.array([accuracies[i][col] for i in idx], dtype=np.float64)
    return df[list(TRUTH_COLUMNS)]


def read_official(
    src: str | os.PathLike[str],
    *,
    fmt: str | None = None,
    hp: str = "200",
    indices: Sequence[int] | None = None,
    allow_missing: bool = False,
    stream: bool = True,
    method: str = "auto",
    progress: bool = True,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read official NATS-Bench / NAS-Bench-201 file(s) into the truth table.

    Args:
        src: ``NATS-tss-v1_0-3ffb9-simple`` directory, ``NATS-tss-*.pickle.pbz2`` or NAS-Bench-201 ``.pth``.
        fmt: ``'nats'`` or ``'nb201'`` to insist on one (default: detected).
        hp: training schedule, ``'200'`` (the ground truth) or ``'12'``.
        indices: import only these official indices (default: all 15,625).
        allow_missing: import the architectures present when some are missing (a subset table).
        stream: single-file formats: condense records while unpickling (memory ~ one record).
        method: ``'direct'`` (this module's readers), ``'api'`` (the official package), or ``'auto'``
            (direct; the official package only if a record's layout is unknown and it is installed).
        progress: show tqdm progress bars.

    Returns:
        (table, provenance): the validated truth table and a JSON-able dict for the sidecar.
    """
    p = Path(src)
    detected, layout = detect_format(p)
    if fmt is not None:
        want = {"nats": "nats", "nats-bench": "nats", "nb201": "nb201", "nas-bench-201": "nb201"}.get(str(fmt).lower())
        if want is None:
            raise BenchmarkError(f"unknown format {fmt!r}; choose 'nats' or 'nb201'")
        if want != detected:
            names = {"nats": "a NATS-Bench topology file/directory", "nb201": "a NAS-Bench-201 .pth file"}
            raise BenchmarkError(f"{p} looks like {names[detected]}, not {names[want]} (format {fmt!r})")
    hp = str(hp)
    if hp not in _HP_KEYS:
        raise BenchmarkError(f"unknown hp {hp!r}; the topology benchmarks have '200' (ground truth) and '12'")
    if method not in ("auto", "direct", "api"):
        raise BenchmarkError(f"unknown method {method!r}; choose 'auto', 'direct' or 'api'")
    idx = np.arange(NUM_ARCHS, dtype=np.int64) if indices is None else np.unique(np.asarray(indices, dtype=np.int64))
    if idx.size == 0 or idx.min() < 0 or idx.max() >= NUM_ARCHS:
        raise BenchmarkError(f"indices must be official indices in 0..{NUM_ARCHS - 1}")

    def direct() -> tuple[dict[int, dict[str, float]], dict[str, Any]]:
        if layout == "nats-dir":
            return _read_nats_dir(p, hp, idx, allow_missing, progress)
        meta_archs, arch2infos, info = _read_single_pickle(p, layout, hp, stream, progress)
        _check_meta_archs(meta_archs, str(p))
        accs, missing = _condensed_from_single(arch2infos, hp, idx, allow_missing, str(p))
        info["missing_indices"] = missing
        info["source_digest"] = {**_file_digest(p), "over": "the file"}
        return accs, info

    def api() -> tuple[dict[int, dict[str, float]], dict[str, Any]]:
        accs, info = _read_with_official_api(p, layout, hp, idx, allow_missing, progress)
        info["source_format"] = layout
        info["source_digest"] = {**_file_digest(p), "over": "the file"} if p.is_file() else None
        return accs, info

    if method == "api":
        accs, info = api()
    else:
        try:
            accs, info = direct()
        except _LayoutError as e:
            if method == "direct" or not _official_package_available(detected):
                raise
            logger.warning("%s; falling back to the official %s package", e, "nats_bench" if detected == "nats" else "nas_201_api")
            accs, info = api()
    if not accs:
        raise BenchmarkError(f"{p}: no architecture could be imported")
    table = build_truth_table(accs)
    table = validate_truth(table, name=f"table imported from {p}", subset=len(accs) < NUM_ARCHS)
    provenance = {
        "kind": "nasgcn truth table",
        "source": str(p.resolve()),
        "format": detected,
        **info,
        "hp": hp,
        "is_random": False,
        "epoch": "final (epochs - 1), mean over training seeds",
        "columns": {
            "cifar10_test_acc": "dataset 'cifar10' (trained on train+valid), set 'ori-test'",
            "cifar100_xtest_acc": "dataset 'cifar100', set 'x-test'",
            "imagenet16_120_xtest_acc": "dataset 'ImageNet16-120', set 'x-test'",
        },
        "n_archs": int(len(table)),
        "complete": bool(len(table) == NUM_ARCHS),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    return table, provenance


def _official_package_available(fmt: str) -> bool:
    import importlib.util

    return importlib.util.find_spec("nats_bench" if fmt == "nats" else "nas_201_api") is not None


def import_benchmark(
    src: str | os.PathLike[str],
    out: str | os.PathLike[str],
    **kwargs: Any,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """:func:`read_official` then :func:`write_table` (CSV(.gz) + JSON sidecar).  Returns both."""
    table, provenance = read_official(src, **kwargs)
    provenance["output"] = str(Path(out).resolve())
    write_table(table, out, provenance)
    logger.info("wrote %d architectures to %s (sidecar %s)", len(table), out, sidecar_path(out))
    return table, provenance
