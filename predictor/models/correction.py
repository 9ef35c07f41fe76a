"""The landmark correction: a meta-estimator that maps any fitted predictor's output (plus op-count
features) to the TRUE accuracy of a few landmark architectures, on a log-error scale.

Used by every accuracy predictor (``LandmarkCorrection(fitted_model).fit(landmarks, true_acc)``); the
log-error scale (:func:`~predictor.calibration.logerr`) and the calibration of ``predict_std`` are
:mod:`predictor.calibration`'s.
"""

from __future__ import annotations

import copy
import time
from typing import Any, Sequence

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import Ridge, RidgeCV
from sklearn.utils.validation import check_is_fitted

from supernet.resolve import to_indices
from supernet.space import NUM_ARCHS, degenerate_mask

from .. import graphs as G
from ..calibration import calibrated_spread, from_logerr, logerr
from .base import check_xy

__all__ = ["LandmarkCorrection"]


class LandmarkCorrection(RegressorMixin, BaseEstimator):
    """Corrects a FITTED predictor with a few landmark architectures of known TRUE accuracy.

    ``LandmarkCorrection(estimator).fit(archs, true_acc)``: ``estimator`` is any predictor already
    fitted (to weight-sharing scores, say; it is used as given, never refitted, so one fitted model can
    be corrected with several landmark sets; wrap it in :class:`sklearn.frozen.FrozenEstimator` to keep
    it through :func:`sklearn.base.clone`); ``archs``/``true_acc``: the landmarks (percent, >= 2
    non-degenerate).  ``predict(archs)`` then returns corrected, true-accuracy-scale values,
    ``predict_uncorrected`` the wrapped model's, and ``predict_std`` a calibrated std (percent): the
    wrapped model's own ``predict_std`` as the shape (a constant for models without one) scaled by
    :func:`~predictor.calibration.calibrated_spread` on the landmarks' leave-one-out predictions
    (``landmark_loo_`` = (indices, true accuracy, leave-one-out accuracy) of the non-degenerate
    landmarks; NaN with fewer than 3 of them).

    ``-log(100 - true) ≈ b0 + b1 z + b2 z^2 + sum_j c_j f_j`` fitted by ridge regression on the
    non-degenerate landmarks (``alpha``; ``None`` = leave-one-out choice among ``alphas``, by default 11
    values from 1e-2 to 1e3).  ``z`` is the prediction
    standardised over the whole space and clipped to the landmarks' range (the quadratic never
    extrapolates); when the fitted curve in ``z`` is not increasing over that range, the quadratic
    term is dropped and the fit repeated.  ``f_j`` are graph ``features`` (names of
    :func:`predictor.graphs.graph_features`), standardised over the whole space.  The log-error
    scale spreads the top of the range, where the ranking matters.  Degenerate cells (output
    disconnected) are not corrected: they keep the model's own prediction (chance level).

    Why op counts: the one-shot supernet's error is largely a function of them (it under-rates
    conv3x3-heavy cells and cells with a skip on the input->output edge, and over-rates pooling;
    see benchmarks/results/predictor_quality.md), which a handful of true accuracies can estimate.
    """

    def __init__(
        self,
        estimator: Any,
        features: Sequence[str] = ("live_counts", "skip_io"),
        alpha: float | None = None,
        alphas: Sequence[float] | None = None,
    ) -> None:
        self.estimator = estimator
        self.features = features
        self.alpha = alpha
        self.alphas = alphas

    def fit(self, archs: Any, true_acc: Any) -> "LandmarkCorrection":
        """Fit the correction on landmarks ``archs`` with TRUE accuracy ``true_acc`` (percent).

        Degenerate landmarks are left out: their accuracy is chance whatever the features say.
        """
        check_is_fitted(self.estimator, msg=(
            f"LandmarkCorrection needs a fitted predictor: fit the {type(self.estimator).__name__} "
            "(e.g. on weight-sharing scores) before correcting it with landmarks"))
        idx, acc = check_xy(archs, true_acc)
        t0 = time.perf_counter()
        keep = ~degenerate_mask()[idx]
        if keep.sum() < 2:
            raise ValueError(
                f"need at least 2 non-degenerate landmarks, got {int(keep.sum())} of {idx.size} "
                "(a cell whose output is disconnected from its input says nothing about the others)"
            )
        self.estimator_ = self.estimator
        self.landmark_indices_ = idx
        self.n_landmarks_ = int(idx.size)
        pred_space = np.asarray(self.estimator_.predict(np.arange(NUM_ARCHS)), dtype=np.float64)
        idx, acc = idx[keep], acc[keep]
        self.n_used_ = int(idx.size)
        working = pred_space[~degenerate_mask()]
        self.p_mean_ = float(working.mean())
        self.p_std_ = float(working.std()) or 1.0
        F = G.graph_features(np.arange(NUM_ARCHS), self.features)
        self.f_mean_ = F.mean(0)
        self.f_std_ = np.where(F.std(0) > 0, F.std(0), 1.0)
        self._fit_ridge(pred_space, idx, acc)
        everything = np.arange(NUM_ARCHS)
        self.landmark_loo_ = (idx, acc, np.full(idx.size, np.nan))
        self.std_space_ = np.full(NUM_ARCHS, np.nan)
        if idx.size >= 3:
            for i in range(idx.size):  # the same fit (alpha choice included) without landmark i
                m = np.arange(idx.size) != i
                one = copy.copy(self)
                one._fit_ridge(pred_space, idx[m], acc[m])
                self.landmark_loo_[2][i] = one.correct(pred_space[idx[i : i + 1]], idx[i : i + 1])[0]
            shape = (np.asarray(self.estimator_.predict_std(everything), dtype=np.float64)
                     if hasattr(self.estimator_, "predict_std") else np.ones(NUM_ARCHS))
            std = calibrated_spread(shape, idx, self.landmark_loo_[2], acc, acc_space=self.correct(pred_space, everything))
            if std is not None:
                self.std_space_ = std
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    def _fit_ridge(self, pred_space: np.ndarray, idx: np.ndarray, acc: np.ndarray) -> None:
        """Fit the ridge of ``logerr(acc)`` on the design of landmarks ``idx`` (non-degenerate), given the
        wrapped model's prediction ``pred_space`` for the whole space; sets ``z_range_``,
        ``quadratic_``, ``ridge_`` and ``floor_``."""
        z = (pred_space[idx] - self.p_mean_) / self.p_std_
        self.z_range_ = (float(z.min()), float(z.max()))
        t = logerr(acc)
        for quadratic in (True, False):
            self.quadratic_ = quadratic
            X = self._design(pred_space[idx], idx)
            if self.alpha is None:
                alphas = np.logspace(-2, 3, 11) if self.alphas is None else np.asarray(self.alphas, dtype=np.float64)
                self.ridge_ = RidgeCV(alphas=alphas).fit(X, t)  # an array: sklearn writes into a 1-element tuple
            else:
                self.ridge_ = Ridge(alpha=self.alpha).fit(X, t)
            lo, hi = self.z_range_
            b1 = float(self.ridge_.coef_[0])
            b2 = float(self.ridge_.coef_[1]) if quadratic else 0.0
            # increasing in z over [lo, hi] (or decreasing throughout if b1 < 0: then keep linear)
            if not quadratic or (b1 > 0 and min(b1 + 2 * b2 * lo, b1 + 2 * b2 * hi) >= 0):
                break
        live = np.flatnonzero(~degenerate_mask())
        self.floor_ = float(from_logerr(self.ridge_.predict(self._design(pred_space[live], live))).min())

    def _design(self, pred: np.ndarray, idx: np.ndarray) -> np.ndarray:
        z = np.clip((np.asarray(pred) - self.p_mean_) / self.p_std_, *self.z_range_)
        F = (G.graph_features(idx, self.features) - self.f_mean_) / self.f_std_
        return np.column_stack([z, z**2, F] if self.quadratic_ else [z, F])

    def correct(self, pred: np.ndarray, archs: Any) -> np.ndarray:
        """Corrected accuracy (percent) of the wrapped model's predictions ``pred`` for ``archs``.

        Degenerate cells keep ``pred`` (a constant-output network sits at chance level, which the
        model fitted to weight-sharing accuracy already predicts), capped at the lowest corrected value
        of any live cell (``floor_``), so that they never outrank a live cell when the landmarks' scale
        lies below the scores' (e.g. landmarks trained for a few epochs).
        """
        check_is_fitted(self)
        idx = to_indices(archs)
        out = from_logerr(self.ridge_.predict(self._design(pred, idx)))
        return np.where(degenerate_mask()[idx], np.minimum(np.asarray(pred, dtype=np.float64), self.floor_), out)

    def predict(self, archs: Any) -> np.ndarray:
        """Corrected (true-accuracy-scale) prediction, percent, float64[n]."""
        check_is_fitted(self)
        idx = to_indices(archs)
        return self.correct(self.estimator_.predict(idx), idx)

    def predict_uncorrected(self, archs: Any) -> np.ndarray:
        """The wrapped model's own prediction, float64[n]."""
        check_is_fitted(self)
        return np.asarray(self.estimator_.predict(to_indices(archs)), dtype=np.float64)

    def predict_std(self, archs: Any) -> np.ndarray:
        """Calibrated std of the corrected prediction (percent), float64[n]; NaN on degenerate cells
        and when fewer than 3 non-degenerate landmarks were given (see the class docstring)."""
        check_is_fitted(self)
        return self.std_space_[to_indices(archs)]

    def predict_space(self) -> np.ndarray:
        """Corrected prediction for all 15,625 architectures in official index order."""
        return self.predict(np.arange(NUM_ARCHS))
