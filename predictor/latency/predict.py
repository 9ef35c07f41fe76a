"""Predicting a device's latency where it was not measured: features, the predictor, its evaluation and the fill."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from supernet.resolve import arch_strs, to_indices
from supernet.space import NUM_ARCHS, iso_ids
from supernet.tables import align_to_space, read_arch_table, write_table

from ..metrics import kendall_tau, spearman_rho
from ..models import BasePredictor, make_model
from ..models.base import check_xy, flat_features
from ..search import resolve_column
from ..truth.hardware import LATENCY_SUFFIX


log = logging.getLogger(__name__)


# ============================================================================ predicting
LATENCY_FEATURES: tuple[str, ...] = ("live_ops", "counts", "live_counts", "degenerate")
"""Graph features the latency models add to the one-hot ops (:func:`predictor.graphs.graph_features`)."""


def latency_features(indices: np.ndarray) -> np.ndarray:
    """float64[n, 71]: one-hot op per edge (30) and over live edges only (30), op counts over all and live
    edges (5 + 5), and a degenerate-cell flag (1).  (Params and FLOPs are affine in the op counts.)"""
    return flat_features(np.asarray(indices, dtype=np.int64), LATENCY_FEATURES)


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

    def _make(self) -> BasePredictor:
        """The unfitted estimator :func:`predictor.models.make_model` builds for ``model``."""
        if self.model == "ridge":
            return make_model("ridge", {"alpha": tuple(self.alphas), "features": LATENCY_FEATURES},
                              random_state=self.random_state)
        if self.model == "gbr":
            return make_model("gbr", {"n_estimators": self.n_estimators, "max_depth": self.max_depth,
                                      "learning_rate": self.learning_rate, "subsample": self.subsample,
                                      "features": LATENCY_FEATURES}, random_state=self.random_state)
        if self.model == "gcn":
            return make_model("gcn", {"hidden": self.gcn_hidden, "num_layers": self.gcn_layers,
                                      "head_hidden": self.gcn_hidden, "features": ("counts", "live_counts", "degenerate"),
                                      "max_epochs": self.gcn_epochs, "n_ensemble": self.gcn_ensemble,
                                      "weight_decay": 1e-4,  # a smooth, noise-free target: the accuracy GCN's 0.1 underfits it
                                      "canonical": False, "prune": False}, random_state=self.random_state)
        raise ValueError(f"unknown latency model {self.model!r}; choose one of {', '.join(LATENCY_MODELS)}")

    def fit(self, archs, y) -> "LatencyPredictor":
        """Fit on measured ``archs`` with latencies ``y`` (ms, finite; > 0 with a log target); returns ``self``."""
        idx, yy = check_xy(archs, y)
        self.log_target_ = self.model != "ridge" if self.log_target is None else bool(self.log_target)
        if self.log_target_ and (yy <= 0).any():
            raise ValueError("latencies must be > 0 with a log target; drop unmeasured rows first")
        t = np.log(yy) if self.log_target_ else yy
        t0 = time.perf_counter()
        self.estimator_ = self._make().fit(idx, t)
        self.n_train_ = int(idx.size)
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    def predict(self, archs) -> np.ndarray:
        """Predicted latency (ms), float64[n]."""
        check_is_fitted(self)
        t = np.asarray(self.estimator_.predict(to_indices(archs)), dtype=np.float64)
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
