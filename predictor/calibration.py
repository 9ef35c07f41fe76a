"""What ``pred_std`` means: one factor that makes +-1 std cover 68.3 % of held-out reference values.

Every lookup table's ``pred_std`` is a SHAPE (how uncertain one cell is against another: a GCN ensemble's
spread, the fused signals' disagreement) times one factor fitted on reference rows the model did not see
at that point (held-out weight-sharing scores, or the landmarks' leave-one-out predictions).  The factor
is a split-conformal order statistic, so that, with n reference rows exchangeable with the rest of the
space, +-1 std covers at least 68.3 % of the true values in expectation (Vovk et al. 2005; Lei et al.
2018: the ceil((n + 1) q)-th smallest residual ratio).  On the true-accuracy scale the residuals are
taken on the log-error scale (:func:`logerr`), where a cell at 60 % and one at 94 % err alike, and
carried back to percent by the local slope ``100 - acc``.

The log-error scale is shared with :class:`~predictor.models.LandmarkCorrection` and the fusion.
"""

from __future__ import annotations

import math

import numpy as np

from supernet.space import degenerate_mask

__all__ = ["COVERAGE", "logerr", "from_logerr", "conformal_factor", "calibrated_spread"]

COVERAGE = 0.683
"""The fraction of true values ``pred_std`` is calibrated to hold within +-1 std (a Gaussian's)."""


def logerr(acc: np.ndarray) -> np.ndarray:
    """Accuracy (percent) -> -log(error rate in percent): spreads the top, squeezes the bottom."""
    return -np.log(np.clip(100.0 - np.asarray(acc, dtype=np.float64), 1e-3, None))


def from_logerr(t: np.ndarray) -> np.ndarray:
    """Inverse of :func:`logerr`: -log(error rate in percent) -> accuracy (percent)."""
    return 100.0 - np.exp(-np.asarray(t, dtype=np.float64))


def conformal_factor(ratios: np.ndarray, coverage: float = COVERAGE) -> float:
    """The ceil((n + 1) coverage)-th smallest of n residual/shape ``ratios`` (the largest when that
    rank exceeds n): the split-conformal factor for +-factor x shape intervals."""
    r = np.sort(np.asarray(ratios, dtype=np.float64))
    if r.size == 0:
        raise ValueError("conformal_factor needs at least one residual ratio")
    return float(r[min(r.size, math.ceil((r.size + 1) * coverage)) - 1])


def calibrated_spread(
    spread: np.ndarray, idx: np.ndarray, pred: np.ndarray, ref: np.ndarray, acc_space: np.ndarray | None = None
) -> np.ndarray | None:
    """float[15625] ``pred_std`` (accuracy %): the shape ``spread`` (float[15625], any positive unit)
    times the :func:`conformal_factor` of the reference rows ``idx``, whose values are ``ref`` and whose
    predictions made without them are ``pred`` (both float[len(idx)], percent).

    ``acc_space`` None: residuals in percent, std = factor x spread (the weight-sharing scale, where
    the reference is a thousand sampled scores).  ``acc_space`` given (the table's float[15625]
    prediction, true-accuracy percent): residuals in :func:`logerr` units, std = factor x spread x
    (100 - acc_space), the first-order change of accuracy for that log-error change.  NaN on degenerate
    cells; None when fewer than 3 usable reference rows exist.
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
        k = conformal_factor(np.abs(logerr(pred[ok]) - logerr(ref[ok])) / s[ok])
        std = k * np.asarray(spread, dtype=np.float64) * np.clip(100.0 - np.asarray(acc_space, dtype=np.float64), 0.0, None)
    return np.where(degenerate_mask(), np.nan, std)
