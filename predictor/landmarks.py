"""The landmark correction: a few architectures of known TRUE accuracy map a predictor's output (plus
op-count features) to the true accuracy on a log-error scale; shared by every predictor and the fusion."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.linear_model import Ridge, RidgeCV

from supernet.space import NUM_ARCHS, degenerate_mask

from . import graphs as G

__all__ = ["LandmarkCorrection", "logerr", "from_logerr"]


def logerr(acc: np.ndarray) -> np.ndarray:
    """Accuracy (percent) -> -log(error rate in percent): spreads the top, squeezes the bottom."""
    return -np.log(np.clip(100.0 - np.asarray(acc, dtype=np.float64), 1e-3, None))


def from_logerr(t: np.ndarray) -> np.ndarray:
    return 100.0 - np.exp(-np.asarray(t, dtype=np.float64))


class LandmarkCorrection:
    """Maps a predictor's output to TRUE accuracy using a few landmark architectures.

    ``-log(100 - true) ≈ b0 + b1 z + b2 z^2 + sum_j c_j f_j`` fitted by ridge regression on the
    non-degenerate landmarks (``alpha``; ``None`` = leave-one-out choice among 1e-2..1e3).  ``z`` is the prediction
    standardised over the whole space and clipped to the landmarks' range (the quadratic never
    extrapolates); when the fitted curve in ``z`` is not increasing over that range, the quadratic
    term is dropped and the fit repeated.  ``f_j`` are graph features (names of
    :func:`predictor.graphs.graph_features`), standardised over the whole space.  The log-error
    scale spreads the top of the range, where the ranking matters.  Degenerate cells (output
    disconnected) are not corrected: they keep the model's own prediction (chance level).

    Why op counts: the one-shot supernet's error is largely a function of them (it under-rates
    conv3x3-heavy cells and cells with a skip on the input->output edge, and over-rates pooling;
    see benchmarks/results/predictor_quality.md), which a handful of true accuracies can estimate.
    """

    def __init__(self, features: Sequence[str], alpha: float | None = None) -> None:
        self.features = tuple(features)
        self.alpha = alpha

    def fit(self, pred_space: np.ndarray, idx: np.ndarray, true_acc: np.ndarray) -> "LandmarkCorrection":
        """pred_space float[15625] (official order); idx int[k] landmark indices; true_acc float[k] (percent).

        Degenerate landmarks are left out: their accuracy is chance whatever the features say.
        """
        keep = ~degenerate_mask()[idx]
        if keep.sum() < 2:
            raise ValueError(
                f"need at least 2 non-degenerate landmarks, got {int(keep.sum())} of {idx.size} "
                "(a cell whose output is disconnected from its input says nothing about the others)"
            )
        idx, true_acc = idx[keep], np.asarray(true_acc, dtype=np.float64)[keep]
        self.n_used_ = int(idx.size)
        working = np.asarray(pred_space)[~degenerate_mask()]
        self.p_mean_ = float(working.mean())
        self.p_std_ = float(working.std()) or 1.0
        F = G.graph_features(np.arange(NUM_ARCHS), self.features)
        self.f_mean_ = F.mean(0)
        self.f_std_ = np.where(F.std(0) > 0, F.std(0), 1.0)
        z = (np.asarray(pred_space)[idx] - self.p_mean_) / self.p_std_
        self.z_range_ = (float(z.min()), float(z.max()))
        t = logerr(true_acc)
        for quadratic in (True, False):
            self.quadratic_ = quadratic
            X = self._design(np.asarray(pred_space)[idx], idx)
            if self.alpha is None:
                self.ridge_ = RidgeCV(alphas=np.logspace(-2, 3, 11)).fit(X, t)
            else:
                self.ridge_ = Ridge(alpha=self.alpha).fit(X, t)
            lo, hi = self.z_range_
            b1 = float(self.ridge_.coef_[0])
            b2 = float(self.ridge_.coef_[1]) if quadratic else 0.0
            # increasing in z over [lo, hi] (or decreasing throughout if b1 < 0: then keep linear)
            if not quadratic or (b1 > 0 and min(b1 + 2 * b2 * lo, b1 + 2 * b2 * hi) >= 0):
                break
        return self

    def _design(self, pred: np.ndarray, idx: np.ndarray) -> np.ndarray:
        z = np.clip((np.asarray(pred) - self.p_mean_) / self.p_std_, *self.z_range_)
        F = (G.graph_features(idx, self.features) - self.f_mean_) / self.f_std_
        return np.column_stack([z, z**2, F] if self.quadratic_ else [z, F])

    def transform(self, pred: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """Corrected accuracy (percent) of predictions ``pred`` for architectures ``idx``.

        Degenerate cells keep ``pred``: a constant-output network sits at chance level, which the
        model fitted to weight-sharing accuracy already predicts (the supernet sees chance too).
        """
        out = from_logerr(self.ridge_.predict(self._design(pred, idx)))
        deg = degenerate_mask()[np.asarray(idx)]
        return np.where(deg, np.asarray(pred, dtype=np.float64), out)

    def slope(self, pred: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """d(corrected accuracy)/d(pred) at each point, to carry an ensemble's spread through the
        correction (outside the landmarks' range: the slope at the nearest end of it)."""
        t = self.ridge_.predict(self._design(pred, idx))
        z = np.clip((np.asarray(pred) - self.p_mean_) / self.p_std_, *self.z_range_)
        dz = float(self.ridge_.coef_[0]) + (2 * float(self.ridge_.coef_[1]) * z if self.quadratic_ else 0.0)
        return np.where(degenerate_mask()[np.asarray(idx)], 1.0, np.exp(-t) * dz / self.p_std_)
