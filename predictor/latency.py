"""Latency on the user's own machine, and a latency predictor for devices measured on a subset.

Measuring (:func:`measure_space_latency`): times the stand-alone network
(:class:`supernet.network.StandaloneNet`, eval mode, no grad, live edges only) of one representative per
isomorphism class (the member with the smallest official index; 6,466 classes) with
:func:`supernet.costs.measure_latency` (warm-up runs, then the MEDIAN of ``repeats`` timed forwards) and
copies the figure to every member of the class (they run the same modules).  Degenerate cells (the cell
output is disconnected from its input) are measured like the others: their network still runs the stem,
the residual reduction blocks and the head, so they are real, fast networks (the benchmark lists them).

Files, for ``--out LAT.csv``:

* ``LAT.partial.csv``: one line per measured class, appended and flushed as soon as it is timed
  (``index`` of the representative, ``iso_id``, ``median_ms``, ``mean_ms``, ``std_ms``, ``min_ms``,
  ``p90_ms``); an interrupted run resumes from it (``resume=True``) if the settings in
  ``LAT.partial.json`` match.  It is kept afterwards: a later call with a larger ``limit`` continues.
* ``LAT.csv``: ``index, arch_str, <name>_latency_ms`` for every member of every measured class (a
  subset table when ``limit`` stops early: read it with ``predictor.truth.load_hardware(p, subset=True)``).
* ``LAT.json``: the machine (CPU model, logical CPUs, threads used, torch / numpy / Python versions,
  platform, load average at the start), the settings and counts.

On a busy machine the median of a few repeats follows the other jobs' load (here, on a shared 2-core
CPU: Kendall tau 0.60 between two measurements of the same 60 networks minutes apart) while the minimum
is repeatable (tau 0.91): ``statistic="min"`` writes the minimum instead (both are in the partial file).

``order="random"`` (default) measures the classes in a seeded random order, so any prefix (``limit``)
is a uniform sample of the space's classes; ``order="index"`` goes by official index.

Predicting (:class:`LatencyPredictor`, :func:`fill_latency`, :func:`evaluate_latency_predictor`): a
regressor of log-latency on per-edge one-hot ops (all edges and live edges only), op counts (all and live)
and a degenerate-cell flag (``ridge``, ``gbr``), or the GCN of :mod:`predictor.models` (``gcn``: directed GCN on
the un-pruned, non-canonical cell graph plus those counts as graph features).  Accuracy figures: the
fraction of held-out architectures predicted within ±10 % (and ±5 %) of the measured latency, Kendall
tau, MAPE.  The hold-out is split by isomorphism class, so copies of one measurement never sit on both
sides.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from tqdm.auto import tqdm

from supernet.fileio import write_csv_atomic
from supernet.resolve import arch_strs, to_indices
from supernet.space import NUM_ARCHS, iso_ids
from supernet.tables import align_to_space, read_arch_table, sidecar_path, write_table

from .truth.hardware import LATENCY_SUFFIX

__all__ = [
    "PARTIAL_COLUMNS",
    "machine_info",
    "partial_path",
    "iso_representatives",
    "measure_space_latency",
    "latency_features",
    "LatencyPredictor",
    "LATENCY_MODELS",
    "evaluate_latency_predictor",
    "FillResult",
    "fill_latency",
    "fill_latency_file",
    "within",
]

log = logging.getLogger(__name__)

PARTIAL_COLUMNS: tuple[str, ...] = ("index", "iso_id", "median_ms", "mean_ms", "std_ms", "min_ms", "p90_ms")
"""Columns of the resumable ``*.partial.csv`` file (one row per measured class / architecture)."""
_SETTINGS = ("C", "N", "num_classes", "resolution", "batch_size", "threads", "warmup", "repeats", "iso_only",
             "order", "seed", "device")


# ============================================================================ machine
def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def machine_info(threads: int | None = None, device: str = "cpu") -> dict[str, Any]:
    """What the measurement ran on: CPU model, logical CPUs, threads, versions, load average."""
    import torch

    info: dict[str, Any] = {
        "cpu_model": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "threads": threads if threads is not None else torch.get_num_threads(),
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "platform": platform.platform(),
        "device": str(device),
    }
    try:
        info["load_average_1_5_15"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover - not on every OS
        pass
    if str(device).startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return info


# ============================================================================ measuring
def partial_path(out: str | os.PathLike[str]) -> Path:
    """``LAT.csv`` -> ``LAT.partial.csv`` (the resumable per-class file)."""
    side = sidecar_path(out)
    return side.with_name(side.name[: -len(".json")] + ".partial.csv")


def iso_representatives() -> np.ndarray:
    """int64[6466]: the smallest official index of every isomorphism class, ordered by class id."""
    iso = iso_ids()
    first = np.full(int(iso.max()) + 1, NUM_ARCHS, dtype=np.int64)
    np.minimum.at(first, iso, np.arange(NUM_ARCHS, dtype=np.int64))
    return first


def _read_partial(path: Path) -> pd.DataFrame:
    """Rows of a partial file; a line cut short by an interruption is dropped."""
    try:
        df = pd.read_csv(path, on_bad_lines="skip")
    except pd.errors.EmptyDataError:
        return pd.DataFrame(columns=list(PARTIAL_COLUMNS))
    missing = [c for c in PARTIAL_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path} is not a latency partial file: it lacks {missing}")
    df = df[list(PARTIAL_COLUMNS)].apply(pd.to_numeric, errors="coerce").dropna()
    df = df.astype({"index": np.int64, "iso_id": np.int64}).drop_duplicates("index", keep="last")
    return df.reset_index(drop=True)


def _write_partial(path: Path, df: pd.DataFrame) -> None:
    write_csv_atomic(df, path, index=False, columns=list(PARTIAL_COLUMNS))


def measure_space_latency(
    out_csv: str | os.PathLike[str],
    C: int = 16,
    N: int = 5,
    batch_size: int = 1,
    threads: int | None = 1,
    warmup: int = 5,
    repeats: int = 20,
    iso_only: bool = True,
    limit: int | None = None,
    resume: bool = True,
    *,
    name: str = "local_cpu",
    statistic: Literal["median", "min"] = "median",
    order: Literal["random", "index"] = "random",
    seed: int = 0,
    num_classes: int = 10,
    resolution: int = 32,
    device: str = "cpu",
    progress: bool = True,
) -> pd.DataFrame:
    """Time the stand-alone network of every isomorphism class (or every architecture) and write a table.

    ``limit``: measure at most this many classes in all (already measured ones count), e.g. a uniform
    random subset with ``order="random"``.  ``resume``: continue from ``<out>.partial.csv`` (its settings
    must match); ``False`` starts afresh.  Returns the written table: ``index, arch_str,
    <name>_latency_ms`` (milliseconds per forward of a ``batch_size`` batch), rows in official index
    order, only the measured classes' members.  ``statistic``: which summary of the repeats goes into
    the table, ``median`` (default) or ``min`` (the partial file keeps both; switching needs no
    re-measuring).  See the module docstring for the files.
    """
    from supernet.costs import measure_latency

    if statistic not in ("median", "min"):
        raise ValueError(f"statistic must be 'median' or 'min', got {statistic!r}")
    if order not in ("random", "index"):
        raise ValueError(f"order must be 'random' or 'index', got {order!r}")
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be >= 1 or None, got {limit}")
    if not name or any(ch in name for ch in ", \t\n"):
        raise ValueError(f"name must be a non-empty word (it becomes the column '<name>{LATENCY_SUFFIX}'), got {name!r}")
    out = Path(out_csv)
    part, part_meta = partial_path(out), partial_path(out).with_suffix(".json")
    settings = dict(C=C, N=N, num_classes=num_classes, resolution=resolution, batch_size=batch_size,
                    threads=threads, warmup=warmup, repeats=repeats, iso_only=iso_only, order=order, seed=seed,
                    device=str(device))
    iso = iso_ids()
    targets = iso_representatives() if iso_only else np.arange(NUM_ARCHS, dtype=np.int64)
    targets = np.random.default_rng(seed).permutation(targets) if order == "random" else np.sort(targets)
    n_target = targets.size if limit is None else min(int(limit), targets.size)

    done = pd.DataFrame(columns=list(PARTIAL_COLUMNS))
    first_machine = None
    if resume and part.is_file():
        old = json.loads(part_meta.read_text()) if part_meta.is_file() else {}
        first_machine = old.get("machine")
        differ = {k: (old.get(k), settings[k]) for k in _SETTINGS if old.get(k) != settings[k]}
        if differ:
            raise ValueError(
                f"{part} was measured with other settings {differ} (old, new); use another --out, the same "
                f"settings, or resume=False to start afresh"
            )
        done = _read_partial(part)
        _write_partial(part, done)  # drop a line cut short by an interruption
        log.info("resuming from %s: %d already measured", part, len(done))
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        _write_partial(part, done)
        part_meta.write_text(json.dumps({**settings, "machine": machine_info(threads, device)}, indent=2) + "\n")
    measured = set(done["index"].astype(int).tolist())
    todo = [int(i) for i in targets[:n_target] if int(i) not in measured]
    started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    machine = machine_info(threads, device)
    t0 = time.perf_counter()
    interrupted = False
    try:
        with part.open("a", buffering=1) as fh:
            for i in tqdm(todo, desc=f"latency {name}", unit="arch", disable=not progress or not todo):
                r = measure_latency(int(i), C, N, num_classes, resolution, batch_size, threads, warmup, repeats,
                                    device, seed)
                fh.write(f"{i},{iso[i]},{r['median_ms']:.6g},{r['mean_ms']:.6g},{r['std_ms']:.6g},"
                         f"{r['min_ms']:.6g},{r['p90_ms']:.6g}\n")
                fh.flush()
    except KeyboardInterrupt:
        interrupted = True
        log.warning("interrupted: what was measured is in %s; run again to resume", part)
    seconds = time.perf_counter() - t0
    rows = _read_partial(part)
    col = f"{name}{LATENCY_SUFFIX}"
    if iso_only:  # copy each class's figure to its members
        lat_of_class = pd.Series(rows[f"{statistic}_ms"].to_numpy(), index=rows["iso_id"].to_numpy())
        members = np.flatnonzero(np.isin(iso, rows["iso_id"].to_numpy()))
        lat = lat_of_class.loc[iso[members]].to_numpy()
    else:
        order_ = np.argsort(rows["index"].to_numpy())
        members = rows["index"].to_numpy()[order_]
        lat = rows[f"{statistic}_ms"].to_numpy()[order_]
    table = pd.DataFrame({"index": members, "arch_str": arch_strs()[members].tolist(), col: lat})
    meta = {
        "format": "nasgcn-latency",
        "column": col,
        "unit": f"milliseconds per forward of a batch of {batch_size} ({resolution}x{resolution} RGB), "
                f"{statistic} of {repeats} timed runs after {warmup} warm-up runs",
        "statistic": statistic,
        "network": f"StandaloneNet C={C} N={N} num_classes={num_classes}, eval, inference_mode, live edges only",
        "settings": settings,
        "machine": machine,
        "machine_when_partial_file_started": first_machine,
        "started": started,
        "seconds_this_run": round(seconds, 1),
        "measured_this_run": len(todo) if not interrupted else int(len(rows) - len(measured)),
        "measured": int(len(rows)),
        "of": int(targets.size),
        "rows": int(len(table)),
        "complete": bool(len(rows) >= targets.size),
        "interrupted": interrupted,
        "copied_to_iso_members": iso_only,
        "partial_file": part.name,
        "degenerate_cells": "measured like the others (stem, reduction blocks and head still run)",
    }
    write_table(table, out, meta)
    log.info("wrote %s: %d rows from %d measured %s", out, len(table), len(rows), "classes" if iso_only else "archs")
    if interrupted:
        raise KeyboardInterrupt
    return table


# ============================================================================ predicting
def latency_features(indices: np.ndarray) -> np.ndarray:
    """float64[n, 71]: one-hot op per edge (30) and over live edges only (30), op counts over all and live
    edges (5 + 5), and a degenerate-cell flag (1).  (Params and FLOPs are affine in the op counts.)"""
    from . import graphs as G

    idx = np.asarray(indices, dtype=np.int64)
    return np.concatenate(
        [G.onehot_ops(idx), G.onehot_ops(idx, prune=True),
         G.graph_features(idx, ("counts", "live_counts", "degenerate"))],
        axis=1,
    )


LATENCY_MODELS: tuple[str, ...] = ("ridge", "gbr", "gcn")


class LatencyPredictor(RegressorMixin, BaseEstimator):
    """Latency (ms) of architectures from their cell, fitted on measured ones (sklearn contract).

    ``model``: ``ridge`` (RidgeCV over ``alphas``), ``gbr`` (gradient boosting: ``n_estimators``,
    ``max_depth``, ``learning_rate``, ``subsample``) or ``gcn`` (:class:`predictor.models.GCNPredictor`,
    ``gcn_hidden``, ``gcn_layers``, ``gcn_epochs``, ``gcn_ensemble``; un-pruned, non-canonical graphs so
    dead edges and isomorphic variants keep their own latency).  The target is log(latency) when
    ``log_target`` (multiplicative errors: what "within ±10 %" measures); ``None`` = log for ``gbr`` and
    ``gcn``, raw milliseconds for ``ridge`` (latency is about additive in the ops' costs: on the HW-NAS-Bench
    and HELP devices the raw-target ridge is as good as or better than the log one, e.g. 0.94 vs 0.77
    within ±10 % on a Xeon Gold 6226 from 1,000 measured architectures).
    ``fit(archs, y)``; ``predict(archs)`` -> float64[n] ms.  ``archs``: indices, strings, op tuples.
    """

    def __init__(
        self,
        model: Literal["ridge", "gbr", "gcn"] = "gbr",
        log_target: bool | None = None,
        alphas: tuple[float, ...] = (1e-3, 1e-2, 1e-1, 1.0, 10.0),
        n_estimators: int = 600,
        max_depth: int = 4,
        learning_rate: float = 0.05,
        subsample: float = 0.8,
        gcn_hidden: int = 64,
        gcn_layers: int = 3,
        gcn_epochs: int = 300,
        gcn_ensemble: int = 3,
        random_state: int | None = 0,
    ) -> None:
        self.model = model
        self.log_target = log_target
        self.alphas = alphas
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.subsample = subsample
        self.gcn_hidden = gcn_hidden
        self.gcn_layers = gcn_layers
        self.gcn_epochs = gcn_epochs
        self.gcn_ensemble = gcn_ensemble
        self.random_state = random_state

    def _make(self):
        if self.model == "ridge":
            from sklearn.linear_model import RidgeCV
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import StandardScaler

            return make_pipeline(StandardScaler(), RidgeCV(alphas=self.alphas))
        if self.model == "gbr":
            from sklearn.ensemble import GradientBoostingRegressor

            return GradientBoostingRegressor(
                n_estimators=self.n_estimators, max_depth=self.max_depth, learning_rate=self.learning_rate,
                subsample=self.subsample, random_state=self.random_state,
            )
        if self.model == "gcn":
            from .models import GCNPredictor

            return GCNPredictor(
                hidden=self.gcn_hidden, num_layers=self.gcn_layers, head_hidden=self.gcn_hidden,
                features=("counts", "live_counts", "degenerate"), max_epochs=self.gcn_epochs,
                n_ensemble=self.gcn_ensemble, canonical=False, prune=False, random_state=self.random_state,
            )
        raise ValueError(f"unknown latency model {self.model!r}; choose one of {', '.join(LATENCY_MODELS)}")

    def fit(self, archs, y) -> "LatencyPredictor":
        idx = to_indices(archs)
        yy = np.asarray(y, dtype=np.float64).ravel()
        if yy.shape != idx.shape:
            raise ValueError(f"archs and y must have the same length, got {idx.size} and {yy.size}")
        if idx.size < 2:
            raise ValueError(f"need at least 2 measured architectures, got {idx.size}")
        self.log_target_ = self.model != "ridge" if self.log_target is None else bool(self.log_target)
        if not np.isfinite(yy).all() or (self.log_target_ and (yy <= 0).any()):
            raise ValueError("latencies must be finite (and > 0 with a log target); drop unmeasured rows first")
        t = np.log(yy) if self.log_target_ else yy
        t0 = time.perf_counter()
        est = self._make()
        if self.model == "gcn":
            est.fit(idx, t)
        else:
            est.fit(latency_features(idx), t)
        self.estimator_ = est
        self.n_train_ = int(idx.size)
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    def predict(self, archs) -> np.ndarray:
        if not hasattr(self, "estimator_"):
            raise RuntimeError("LatencyPredictor is not fitted yet: call fit(archs, y) first")
        idx = to_indices(archs)
        t = self.estimator_.predict(idx if self.model == "gcn" else latency_features(idx))
        t = np.asarray(t, dtype=np.float64)
        return np.exp(t) if self.log_target_ else t


def within(pred: np.ndarray, true: np.ndarray, tol: float = 0.10) -> float:
    """Fraction of predictions with ``|pred - true| <= tol * true``."""
    p, t = np.asarray(pred, dtype=np.float64), np.asarray(true, dtype=np.float64)
    return float(np.mean(np.abs(p - t) <= tol * np.abs(t)))


def _split_by_class(idx: np.ndarray, n_train: int | float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Boolean train mask over ``idx``: whole isomorphism classes drawn until ``n_train`` rows are covered."""
    cls = iso_ids()[idx]
    uniq = rng.permutation(np.unique(cls))
    target = int(round(n_train * idx.size)) if isinstance(n_train, float) and n_train < 1 else int(n_train)
    sizes = pd.Series(cls).value_counts().reindex(uniq).to_numpy()
    k = int(np.searchsorted(np.cumsum(sizes), target, side="left")) + 1
    train = np.isin(cls, uniq[:k])
    if train.all() or not train.any():
        raise ValueError(f"cannot split {idx.size} rows ({uniq.size} classes) into train/test with n_train={n_train}")
    return train, ~train


def evaluate_latency_predictor(
    archs,
    y: np.ndarray,
    model: str | LatencyPredictor = "gbr",
    n_train: int | float = 0.8,
    seed: int = 0,
) -> dict[str, Any]:
    """Fit on ``n_train`` measured rows (count, or fraction), score on the rest (split by isomorphism class).

    Returns ``n_train``, ``n_test``, ``within_10pct``, ``within_5pct``, ``kendall_tau``, ``spearman_rho``,
    ``mape`` (percent), ``fit_seconds`` over the held-out rows, and ``n_test_classes``,
    ``within_10pct_per_class`` over one row per held-out isomorphism class (the honest figure when a
    class's members carry copies of one measurement, as :func:`measure_space_latency` writes).
    """
    from .metrics import kendall_tau, spearman_rho

    idx = to_indices(archs)
    yy = np.asarray(y, dtype=np.float64)
    ok = np.isfinite(yy)
    idx, yy = idx[ok], yy[ok]
    tr, te = _split_by_class(idx, n_train, np.random.default_rng(seed))
    est = LatencyPredictor(model=model, random_state=seed) if isinstance(model, str) else model
    est.fit(idx[tr], yy[tr])
    p = est.predict(idx[te])
    _, first = np.unique(iso_ids()[idx[te]], return_index=True)
    return {
        "model": est.model,
        "n_train": int(tr.sum()),
        "n_test": int(te.sum()),
        "within_10pct": within(p, yy[te], 0.10),
        "within_5pct": within(p, yy[te], 0.05),
        "kendall_tau": kendall_tau(p, yy[te]),
        "spearman_rho": spearman_rho(p, yy[te]),
        "mape": float(np.mean(np.abs(p - yy[te]) / yy[te]) * 100),
        "n_test_classes": int(first.size),
        "within_10pct_per_class": within(p[first], yy[te][first], 0.10),
        "fit_seconds": float(est.fit_seconds_),
    }


@dataclass
class FillResult:
    """``df``: all 15,625 rows (official order) with ``column`` complete; ``measured``: bool[15625], True
    where the value was measured (kept as is); ``model``: the fitted :class:`LatencyPredictor`;
    ``holdout``: :func:`evaluate_latency_predictor` on the measured rows (None unless asked)."""

    df: pd.DataFrame
    column: str
    measured: np.ndarray
    model: LatencyPredictor
    holdout: dict[str, Any] | None = None
    info: dict[str, Any] = field(default_factory=dict)


def fill_latency(
    df: pd.DataFrame,
    column: str,
    model: str | LatencyPredictor = "gbr",
    random_state: int | None = 0,
    *,
    evaluate: bool = False,
    n_train: int | float = 0.8,
) -> FillResult:
    """Fill the NaN (or absent) rows of latency ``column`` by a regressor fitted on the measured rows.

    ``df``: a table keyed by ``index`` (official), any subset of the space; the result covers all 15,625
    (other columns NaN on rows ``df`` lacked).  Measured values are kept exactly.  ``evaluate=True`` also
    reports the accuracy on held-out measured rows (a separate fit on ``n_train`` of them).
    """
    from .search import resolve_column

    col = resolve_column(df, column)
    aligned = align_to_space(df, name="latency table")
    full = pd.DataFrame({"index": np.arange(NUM_ARCHS, dtype=np.int64),
                         "arch_str": arch_strs().tolist()})
    rest = [c for c in aligned.columns if c not in ("index", "arch_str")]
    full = full.merge(aligned[["index", *rest]], on="index", how="left")
    y = full[col].to_numpy(dtype=np.float64, copy=True)
    measured = np.isfinite(y)
    if measured.sum() < 2:
        raise ValueError(f"column {col!r} has {int(measured.sum())} measured rows; need at least 2")
    est = LatencyPredictor(model=model, random_state=random_state) if isinstance(model, str) else model
    mi = np.flatnonzero(measured)
    holdout = evaluate_latency_predictor(mi, y[mi], LatencyPredictor(**est.get_params()), n_train,
                                         seed=random_state or 0) if evaluate else None
    est.fit(mi, y[mi])
    missing = np.flatnonzero(~measured)
    if missing.size:
        y[missing] = est.predict(missing)
    full[col] = y
    info = {"column": col, "model": est.model, "n_measured": int(measured.sum()), "n_filled": int(missing.size),
            "fit_seconds": round(float(est.fit_seconds_), 3)}
    log.info("filled %d of %d rows of %s with %s (fitted on %d)", missing.size, NUM_ARCHS, col, est.model, measured.sum())
    return FillResult(full, col, measured, est, holdout, info)


def fill_latency_file(
    table: str | os.PathLike[str],
    out: str | os.PathLike[str],
    column: str | None = None,
    model: str = "gbr",
    random_state: int | None = 0,
    evaluate: bool = True,
) -> FillResult:
    """``nasgcn latency fill``: read a latency CSV (measured subset), fill ``column`` (default: its only
    ``*_latency_ms`` column) for all 15,625 and write ``index, arch_str, <column>, <column minus _ms>_measured``
    (1 where measured, 0 where predicted) with a JSON sidecar (model, counts, held-out accuracy)."""
    df = read_arch_table(table, name=f"latency table {table}")
    if column is None:
        cols = [c for c in df.columns if str(c).endswith(LATENCY_SUFFIX)]
        if len(cols) != 1:
            raise ValueError(f"{table} has latency columns {cols}; say which one to fill")
        column = cols[0]
    res = fill_latency(df, column, model, random_state, evaluate=evaluate)
    flag = res.column[: -len("_ms")] + "_measured" if res.column.endswith("_ms") else res.column + "_measured"
    outdf = res.df[["index", "arch_str", res.column]].assign(**{flag: res.measured.astype(np.int8)})
    write_table(outdf, out, {"source": str(table), **res.info, "holdout": res.holdout,
                             "note": f"{flag} = 1 where measured, 0 where predicted by the {res.info['model']} model"})
    return res
