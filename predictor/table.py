"""The lookup table: one row per architecture of the whole space (15,625), built from a fitted predictor.

Columns, in order: ``index`` (official), ``arch_str`` (official string), ``iso_id`` (isomorphism
class), ``pred_acc`` (predicted accuracy, percent), ``pred_std`` (ensemble spread, percent; NaN for
models without one), ``ws_acc`` (the weight-sharing accuracy the model was fitted to; NaN where the
architecture was not measured), ``params_m``, ``flops_m`` (stand-alone C=16, N=5 CIFAR-10 network,
millions; :func:`supernet.costs.space_costs`), then any hardware columns given (e.g.
``*_latency_ms``).  Saved as CSV (gzipped when the name ends in ``.gz``) with a JSON sidecar
(``TABLE.csv.gz`` -> ``TABLE.csv.gz.json``, with the table's SHA-256) holding the model name, its hyper-parameters, the seed, the
landmarks used (if any) and the inputs' paths and SHA-256 hashes.

Queries take one architecture or many — official indices, arch strings, op tuples (names or codes)
or :class:`~supernet.space.Arch` — and are vectorised (a million arch strings resolve in well under a second);
an architecture outside the space raises :class:`~supernet.space.ArchError` naming it.

(Over 400 lines by choice: building, fusing and reading the one table format belong together.)
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from supernet.costs import space_costs
from supernet.fileio import jsonable
from supernet.hashing import file_digest
from supernet.resolve import arch_strs, to_indices
from supernet.space import NUM_ARCHS, degenerate_mask, iso_ids, parse_arch
from supernet.evaluate import WS_SCHEMA
from supernet.landmarks import LANDMARK_SCHEMA
from supernet.tables import (
    BenchmarkError,
    Column,
    SIDECAR_HASH,
    MissingDataError,
    TableSchema,
    align_to_space,
    percent,
    read_arch_table,
    validate_table,
    write_table,
)

from . import graphs as G
from .models import MODELS, BasePredictor, GCNPredictor, make_model
from .truth.hardware import load_hardware, validate_hardware

__all__ = [
    "TABLE_COLUMNS",
    "LookupTable",
    "build_table",
    "fit_table",
    "read_ws",
    "sample_ws",
]

log = logging.getLogger(__name__)

TABLE_COLUMNS: tuple[str, ...] = (
    "index", "arch_str", "iso_id", "pred_acc", "pred_std", "ws_acc", "params_m", "flops_m",
)
"""The fixed columns of a lookup table, in file order (hardware columns follow)."""
MIN_GCN_ROWS = 20
"""Below this many weight-sharing rows a GCN fit warns (no held-out slice: see GCNPredictor)."""
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


# ---------------------------------------------------------------------- the table
def _frame_hash(df: pd.DataFrame) -> str:
    return hashlib.sha256(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes()).hexdigest()


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
        df = read_lookup_table(path)
        df = df.reset_index(drop=True)
        meta = {k: v for k, v in (df.attrs.get("sidecar") or {}).items() if k != SIDECAR_HASH}  # the file's, not the model's
        df.attrs = {}
        try:
            return cls(df, meta)
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from None


def read_lookup_table(path: str | os.PathLike[str], *, drop_nonfinite: bool = False) -> pd.DataFrame:
    """A lookup table file checked against :data:`LOOKUP_SCHEMA` (:func:`supernet.tables.read_arch_table`):
    all 15,625 rows, finite ``pred_acc`` in percent (unless the sidecar says it is a score), and a
    sidecar that matches.  ``drop_nonfinite`` drops rows with NaN/inf ``pred_acc`` (and says how many)
    instead of refusing the table; the result then covers a subset.  Raises ``BenchmarkError``."""
    p = Path(path)
    if not p.is_file():
        raise MissingDataError(f"lookup table {p} not found; make one with `nasgcn fit --ws WS.csv --out {p}`")
    return read_arch_table(p, schema=lookup_schema, name=f"lookup table {p}", drop_nonfinite=drop_nonfinite)


# ---------------------------------------------------------------------- building
def read_ws(path: str | os.PathLike[str], *, drop_nonfinite: bool = False) -> pd.DataFrame:
    """A weight-sharing file (``index`` and/or ``arch_str``, and ``ws_acc`` in percent) aligned to the
    space and checked against :data:`supernet.evaluate.WS_SCHEMA`: a NaN/inf ``ws_acc`` is an error
    unless ``drop_nonfinite`` (then those rows are dropped, with a warning giving their number).
    """
    name = f"weight-sharing file {path}"
    df = read_arch_table(path, schema=WS_SCHEMA, name=name, drop_nonfinite=drop_nonfinite)
    if len(df) < 2:
        raise BenchmarkError(f"{name}: needs at least 2 architectures with a ws_acc value, has {len(df)}")
    return df


def sample_ws(ws: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """``n`` rows of an aligned weight-sharing frame drawn uniformly without replacement, in index order.

    The draw is ``np.random.default_rng([n, seed]).choice(sorted indices, n, replace=False)``, the one
    benchmarks/predictor_quality.py uses, so ``fit_table(sample_ws(ws, n, seed), model, seed=seed)``
    reproduces its plain-model rows.
    """
    have = np.sort(ws["index"].to_numpy(dtype=np.int64))
    if not 1 <= n <= have.size:
        raise ValueError(f"cannot draw {n} architectures from a table of {have.size}")
    pick = np.sort(np.random.default_rng([n, seed]).choice(have, n, replace=False))
    return ws.set_index("index", drop=False).loc[pick].reset_index(drop=True)


def _clean_ws(df: pd.DataFrame, name: str, drop_nonfinite: bool = False) -> pd.DataFrame:
    """An aligned weight-sharing frame checked against :data:`WS_SCHEMA`, with at least 2 rows."""
    out = validate_table(df, WS_SCHEMA, name=name, drop_nonfinite=drop_nonfinite)
    if len(out) < 2:
        raise BenchmarkError(f"{name}: needs at least 2 architectures with a ws_acc value, has {len(out)}")
    return out


def _aligned(df: pd.DataFrame, name: str) -> pd.DataFrame:
    return align_to_space(df, name=name, subset=True)


def build_table(
    model: BasePredictor,
    ws: pd.DataFrame | None = None,
    hardware: pd.DataFrame | None = None,
    meta: Mapping[str, Any] | None = None,
) -> LookupTable:
    """The table of a fitted ``model``: its predictions for all 15,625, plus ``ws`` (aligned frame
    with ``index`` and ``ws_acc``) and ``hardware`` (aligned frame: every column but ``index`` and
    ``arch_str`` is added, NaN where a row is absent)."""
    pred = model.predict_space()
    std = model.predict_std(np.arange(NUM_ARCHS)) if hasattr(model, "predict_std") else np.full(NUM_ARCHS, np.nan)
    ws_acc = np.full(NUM_ARCHS, np.nan)
    if ws is not None:
        ws_acc[ws["index"].to_numpy(dtype=np.int64)] = ws["ws_acc"].to_numpy(dtype=np.float64)
    costs = space_costs(16, 5, 10, 32)
    df = pd.DataFrame(
        {
            "index": np.arange(NUM_ARCHS, dtype=np.int64),
            "arch_str": arch_strs(),
            "iso_id": np.asarray(iso_ids(), dtype=np.int64),
            "pred_acc": pred,
            "pred_std": std,
            "ws_acc": ws_acc,
            "params_m": costs["params_m"].to_numpy(),
            "flops_m": costs["flops_m"].to_numpy(),
        }
    )
    if hardware is not None:
        cols = [c for c in hardware.columns if c not in ("index", "arch_str")]
        clash = [c for c in cols if c in TABLE_COLUMNS or c.startswith(SIGNAL_PREFIX)]
        if clash:
            raise ValueError(f"hardware table column(s) {clash} clash with the lookup table's own columns")
        hw = np.full((NUM_ARCHS, len(cols)), np.nan)
        hw[hardware["index"].to_numpy(dtype=np.int64)] = hardware[cols].to_numpy(dtype=np.float64)
        df = pd.concat([df, pd.DataFrame(hw, columns=cols)], axis=1)
    return LookupTable(df, dict(meta or {}))


def _fit_fused(
    ws_df: pd.DataFrame | None,
    proxies: Any,
    inputs: dict[str, Any],
    model: str | BasePredictor,
    seed: int,
    hw_df: pd.DataFrame | None,
    lm: tuple[np.ndarray, np.ndarray] | None,
    model_params: Mapping[str, Any] | None,
    weights: Mapping[str, float] | None,
    costs: bool,
) -> LookupTable:
    """The fused table (see :func:`fit_table`); ``pred_acc`` is on the weight-sharing accuracy scale
    (the fused ranking mapped onto the sampled ws_acc quantiles), the true-accuracy scale with
    landmarks, or a normal score when there is neither."""
    from .fusion import FusionPredictor, read_signal_table

    if not isinstance(model, str):
        raise ValueError("a fused table completes signals with a model given by name (gcn, ridge, gbr, mlp)")
    tables = list(proxies) if isinstance(proxies, (list, tuple)) else [proxies]
    frames: list[pd.DataFrame] = []
    if ws_df is not None:
        w = np.full(NUM_ARCHS, np.nan)
        w[ws_df["index"].to_numpy(dtype=np.int64)] = ws_df["ws_acc"].to_numpy(dtype=np.float64)
        frames.append(pd.DataFrame({"ws": w}))
    inputs["proxies"] = []
    for k, t in enumerate(tables):
        if isinstance(t, pd.DataFrame):
            f = read_signal_table(t, name=f"proxy table {k + 1}")
            inputs["proxies"].append({"path": None, "sha256_rows": _frame_hash(t)})
        else:
            f = read_signal_table(t, name=f"proxy table {t}")
            inputs["proxies"].append({"path": str(t), "sha256": file_digest(t)})
        clash = [c for c in f.columns if any(c in g.columns for g in frames)]
        if clash:
            raise ValueError(f"signal(s) {clash} appear in more than one input table; rename or drop one")
        frames.append(f)
    if costs:
        frames.append(pd.DataFrame({"params": G.graph_features(np.arange(NUM_ARCHS), ["params"])[:, 0]}))
    signals = pd.concat(frames, axis=1)
    est = FusionPredictor(weights=weights, completion=model, completion_params=model_params, random_state=seed)
    log.info("fusing %s%s", list(signals.columns), f" with {lm[0].size} landmarks" if lm else "")
    est.fit(signals, landmarks=lm)
    score = est.score_space()
    deg = np.isinf(score)
    if lm is not None:
        pred, scale = np.where(deg, 10.0, score), "true accuracy (landmark-fitted fusion)"
    elif ws_df is not None:
        q = np.sort(ws_df["ws_acc"].to_numpy(dtype=np.float64)[~degenerate_mask()[ws_df["index"].to_numpy()]])
        r = (rankdata(score[~deg]) - 0.5) / (~deg).sum()
        pred = np.full(NUM_ARCHS, 10.0)
        pred[~deg] = np.quantile(q, r)
        scale = "weight-sharing accuracy (fused ranking mapped onto the sampled ws_acc quantiles)"
    else:
        pred = np.where(deg, np.nanmin(score[~deg]) - 1.0, score)
        scale = "normal score (no accuracy input)"
    table = build_table(_Fixed(pred), ws_df, hw_df, {"pred_acc_scale": scale})
    sig = est.signal_scores_.add_prefix(SIGNAL_PREFIX)
    df = pd.concat([table.df[list(TABLE_COLUMNS)], sig, table.df[table.hardware_columns]], axis=1)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "model": "fusion",
        "estimator": "FusionPredictor",
        "completion_model": model,
        "params": {k: jsonable(v) for k, v in (model_params or {}).items()},
        "signals": list(est.weights_),
        "weights": est.weights_,
        "completed_signals": est.completed_,
        "landmark_coefficients": est.coef_,
        "seed": seed,
        "n_ws": 0 if ws_df is None else int(len(ws_df)),
        "n_landmarks": 0 if lm is None else int(lm[0].size),
        "landmark_indices": None if lm is None else [int(i) for i in lm[0]],
        "pred_acc_scale": scale,
        "pred_std": "not estimated for fused tables (NaN)",
        "fit_seconds": round(float(est.fit_seconds_), 3),
        "inputs": inputs,
        "columns": list(df.columns),
    }
    return LookupTable(df, meta)


class _Fixed:
    """A stand-in predictor holding precomputed whole-space predictions (for :func:`build_table`)."""

    def __init__(self, pred: np.ndarray) -> None:
        self.pred = pred

    def predict_space(self) -> np.ndarray:
        return self.pred


def fit_table(
    ws: pd.DataFrame | str | os.PathLike[str],
    model: str | BasePredictor = "gcn",
    seed: int = 0,
    hardware: pd.DataFrame | str | os.PathLike[str] | None = None,
    landmarks: pd.DataFrame | str | os.PathLike[str] | None = None,
    model_params: Mapping[str, Any] | None = None,
    proxies: Sequence[pd.DataFrame | str | os.PathLike[str]] | pd.DataFrame | str | os.PathLike[str] | None = None,
    fusion_weights: Mapping[str, float] | None = None,
    costs: bool = True,
    drop_nonfinite: bool = False,
) -> LookupTable:
    """Fit ``model`` on every row of ``ws`` and tabulate the whole space.

    With ``proxies`` (one or more signal tables, e.g. ``nasgcn proxies`` output, for all or some
    architectures) the table is FUSED (:class:`predictor.fusion.FusionPredictor`): the weight-sharing
    scores (completed by ``model`` over the cell graphs), every proxy column and, with ``costs``, the
    parameter count become normal scores averaged with ``fusion_weights`` (signal name -> weight);
    ``ws`` may then be None (proxies-only fusion).

    ``ws``: a path or a DataFrame with ``index`` and/or ``arch_str`` and ``ws_acc`` (percent; NaN rows
    dropped).  ``model``: ``gcn | ridge | gbr | mlp`` (then ``model_params`` override the defaults) or
    an unfitted estimator.  ``seed``: the estimator's ``random_state``.  ``hardware``: path (checked
    with :func:`predictor.truth.load_hardware`) or aligned DataFrame; its columns are appended.
    ``landmarks``: OPTIONAL path or DataFrame (``index``/``arch_str`` and ``true_acc``, percent) of
    architectures whose true accuracy is known; they correct the model's bias (see
    :class:`predictor.landmarks.LandmarkCorrection`) and are recorded in the sidecar.
    ``drop_nonfinite``: drop ws/landmark rows with NaN/inf accuracy (logged) instead of refusing them.
    A GCN fitted on fewer than :data:`MIN_GCN_ROWS` architectures is fitted with a warning.
    """
    inputs: dict[str, Any] = {}
    if ws is None:
        if proxies is None:
            raise ValueError("nothing to fit: give weight-sharing scores (ws) and/or proxy tables")
        ws_df = None
    elif isinstance(ws, pd.DataFrame):
        ws_df = _clean_ws(_aligned(ws, "weight-sharing table"), "weight-sharing table", drop_nonfinite)
        inputs["ws"] = {"path": None, "sha256_rows": _frame_hash(ws_df[["index", "ws_acc"]])}
    else:
        ws_df = read_ws(ws, drop_nonfinite=drop_nonfinite)
        inputs["ws"] = {"path": str(ws), "sha256": file_digest(ws)}
    hw_df = None
    if hardware is not None:
        if isinstance(hardware, pd.DataFrame):
            hw_df = validate_hardware(hardware, subset=True) if any(
                str(c).endswith("_latency_ms") for c in hardware.columns) else _aligned(hardware, "hardware table")
            inputs["hardware"] = {"path": None, "sha256_rows": _frame_hash(hw_df)}
        else:
            hw_df = load_hardware(hardware, subset=True)
            inputs["hardware"] = {"path": str(hardware), "sha256": file_digest(hardware)}
    lm = None
    if landmarks is not None:
        if isinstance(landmarks, pd.DataFrame):
            lm_df = validate_table(align_to_space(landmarks, name="landmark table"), LANDMARK_SCHEMA,
                                   drop_nonfinite=drop_nonfinite)
            inputs["landmarks"] = {"path": None, "sha256_rows": _frame_hash(lm_df[["index", "true_acc"]])}
        else:
            lm_df = read_arch_table(landmarks, schema=LANDMARK_SCHEMA, drop_nonfinite=drop_nonfinite)
            inputs["landmarks"] = {"path": str(landmarks), "sha256": file_digest(landmarks)}
        lm = (lm_df["index"].to_numpy(dtype=np.int64), lm_df["true_acc"].to_numpy(dtype=np.float64))
    if proxies is not None:
        return _fit_fused(ws_df, proxies, inputs, model, seed, hw_df, lm, model_params, fusion_weights, costs)

    if isinstance(model, str):
        name = model
        est = make_model(model, random_state=seed, **dict(model_params or {}))
    else:
        if model_params:
            raise ValueError("model_params only apply when model is given by name")
        est = model.set_params(random_state=seed)
        name = next((k for k, v in MODELS.items() if isinstance(est, v)), type(est).__name__)
    log.info("fitting %s on %d architectures%s", name, len(ws_df), f" + {lm[0].size} landmarks" if lm else "")
    if isinstance(est, GCNPredictor) and len(ws_df) < MIN_GCN_ROWS:
        log.warning("fitting a GCN on only %d architectures: too few to learn the space from (no held-out "
                    "slice, no early stopping); use at least %d, or --model ridge", len(ws_df), MIN_GCN_ROWS)
    est.fit(ws_df["index"].to_numpy(dtype=np.int64), ws_df["ws_acc"].to_numpy(dtype=np.float64), landmarks=lm)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "model": name,
        "estimator": type(est).__name__,
        "params": {k: jsonable(v) for k, v in est.get_params().items()},
        "seed": seed,
        "n_ws": int(len(ws_df)),
        "n_landmarks": 0 if lm is None else int(lm[0].size),
        "landmark_indices": None if lm is None else [int(i) for i in lm[0]],
        "pred_acc_scale": "true accuracy (landmark-corrected)" if lm is not None else "weight-sharing accuracy",
        "fit_seconds": round(float(est.fit_seconds_), 3),
        "inputs": inputs,
        "columns": list(TABLE_COLUMNS) + ([] if hw_df is None else [c for c in hw_df.columns if c not in ("index", "arch_str")]),
    }
    if isinstance(est, GCNPredictor):
        meta["epochs"] = [int(e) for e in est.epochs_]
    return build_table(est, ws_df, hw_df, meta)
