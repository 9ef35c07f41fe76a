"""What ``pred_std`` means: one factor that makes +-1 std cover 68.3 % of held-out reference values.

Every lookup table's ``pred_std`` is a SHAPE (how uncertain one cell is against another: a GCN ensemble's
spread, the fused signals' disagreement) times one factor fitted on reference rows the model did not see
at that point (held-out weight-sharing scores, or the landmarks' leave-one-out predictions).  The factor
is a split-conformal order statistic, so that, with n reference rows exchangeable with the rest of the
space, +-1 std covers at least 68.3 % of the true values in expectation (Vovk et al. 2005; Lei et al.
2018: the ceil((n + 1) q)-th smallest residual ratio).  On the true-accuracy scale the residuals are
taken on the log-error scale (:func:`logerr`), where a cell at 60 % and one at 94 % err alike, and
carried back to percent by the local slope ``100 - acc``.  Landmarks are often not a random draw (the
loop proposes half of them in the table's top 5 %), so each one's residual is weighted by the share of
the ranking it stands for (:func:`rank_weights`, the weighted conformal quantile of Tibshirani et al.
2019 with the predicted rank as the covariate): on the tuning seeds 0-4 this took the loop's coverage
from 0.41 to 0.69 and left tables with random landmarks at 0.67-0.75 (benchmarks/std_calibration.py).

The log-error scale is shared with :class:`~predictor.models.LandmarkCorrection` and the fusion.
"""

from __future__ import annotations

import math

import numpy as np

from supernet.space import degenerate_mask

__all__ = ["COVERAGE", "logerr", "from_logerr", "conformal_factor", "rank_weights", "calibrated_spread"]

COVERAGE = 0.683
"""The fraction of true values ``pred_std`` is calibrated to hold within +-1 std (a Gaussian's)."""


def logerr(acc: np.ndarray) -> np.ndarray:
    """Accuracy (percent) -> -log(error rate in percent): spreads the top, squeezes the bottom."""
    return -np.log(np.clip(100.0 - np.asarray(acc, dtype=np.float64), 1e-3, None))


def from_logerr(t: np.ndarray) -> np.ndarray:
    """Inverse of :func:`logerr`: -log(error rate in percent) -> accuracy (percent)."""
    return 100.0 - np.exp(-np.asarray(t, dtype=np.float64))


def conformal_factor(ratios: np.ndarray, coverage: float = COVERAGE, weights: np.ndarray | None = None) -> float:
    """The ceil((n + 1) coverage)-th smallest of n residual/shape ``ratios`` (the largest when that
    rank exceeds n): the split-conformal factor for +-factor x shape intervals.  With ``weights`` (one
    per ratio, > 0): the smallest ratio whose cumulative weight share reaches coverage x (n + 1) / n."""
    r = np.asarray(ratios, dtype=np.float64)
    if r.size == 0:
        raise ValueError("conformal_factor needs at least one residual ratio")
    order = np.argsort(r, kind="stable")
    if weights is None:
        return float(r[order][min(r.size, math.ceil((r.size + 1) * coverage)) - 1])
    w = np.asarray(weights, dtype=np.float64)[order]
    share = np.cumsum(w) / w.sum()
    level = min(1.0, coverage * (r.size + 1) / r.size)
    return float(r[order][min(r.size - 1, int(np.searchsorted(share, level - 1e-12)))])


def rank_weights(score: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """float[len(idx)]: how much of the space each reference cell ``idx`` stands for, by the ranking of
    ``score`` (float[15625]) over the non-degenerate cells: the width of its interval when the rank axis
    is split halfway between consecutive reference cells.  Reference cells crowded at the top of the
    table (landmarks proposed there) then count for the few cells they represent; cells drawn at
    random get about equal weights."""
    live = ~degenerate_mask()
    n = int(live.sum())
    rank = np.empty(score.size)
    rank[live] = np.argsort(np.argsort(np.asarray(score, dtype=np.float64)[live], kind="stable"), kind="stable")
    r = rank[idx]
    order = np.argsort(r, kind="stable")
    rs = r[order]
    mids = np.concatenate([[-0.5], (rs[1:] + rs[:-1]) / 2, [n - 0.5]])
    w = np.empty(idx.size)
    w[order] = np.maximum(np.diff(mids), 0.5)
    return w


def calibrated_spread(
    spread: np.ndarray, idx: np.ndarray, pred: np.ndarray, ref: np.ndarray, acc_space: np.ndarray | None = None
) -> np.ndarray | None:
    """float[15625] ``pred_std`` (accuracy %): the shape ``spread`` (float[15625], any positive unit)
    times the :func:`conformal_factor` of the reference rows ``idx``, whose values are ``ref`` and whose
    predictions made without them are ``pred`` (both float[len(idx)], percent).

    ``acc_space`` None: residuals in percent, std = factor x spread (the weight-sharing scale, where
    the reference is a thousand sampled scores).  ``acc_space`` given (the table's float[15625]
    prediction, true-accuracy percent): residuals in :func:`logerr` units, weighted by
    :func:`rank_weights` of ``acc_space``, std = factor x spread x (100 - acc_space), the first-order
    change of accuracy for that log-error change.  NaN on degenerate cells; None when fewer than 3
    usable reference rows exist.
    """
    s = np.asarray(spread, dtype=np.float64)[idx]
    pred, ref = np.asarray(pred, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    ok = np.isfinite(s) & (s > 0) & np.isfinite(pred) & np.isfinite(ref) & ~degenerate_mask()[idx]
    if ok.sum() < 3:
        return None
    if acc_space is None:
        k = conformal_factor(np.abs(pred[ok] - ref[ok]) / s[ok])
        std = k * np.asarray(spread, dtype=np.float64)
    else:
        w = rank_weights(np.asarray(acc_space, dtype=np.float64), np.asarray(idx)[ok])
        k = conformal_factor(np.abs(logerr(pred[ok]) - logerr(ref[ok])) / s[ok], weights=w)
        std = k * np.asarray(spread, dtype=np.float64) * np.clip(100.0 - np.asarray(acc_space, dtype=np.float64), 0.0, None)
    return np.where(degenerate_mask(), np.nan, std)
