"""The contract every accuracy predictor follows, and the feature matrix the flat baselines share.

``est = Model(**explicit_hyper_parameters, random_state=0)``; ``est.fit(archs, y)`` returns ``est``;
``est.predict(archs)`` returns float64[n]; learned state ends in ``_``; an unfitted model raises
:class:`sklearn.exceptions.NotFittedError`.  ``archs`` is anything :func:`supernet.resolve.to_indices`
reads (official indices, arch strings, op tuples, :class:`~supernet.space.Arch`); ``y`` is an accuracy
in percent (weight-sharing accuracy in the usual use).
"""

from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from supernet.resolve import to_indices
from supernet.space import NUM_ARCHS

from .. import graphs as G

__all__ = ["BasePredictor", "check_xy", "flat_features", "standardise"]


def check_xy(archs: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """(int64 official indices, float64 targets) of a training set; ``ValueError`` naming what is wrong."""
    idx = to_indices(archs)
    yy = np.asarray(y, dtype=np.float64).ravel()
    if yy.shape != idx.shape:
        raise ValueError(f"archs and y must have the same length, got {idx.size} and {yy.size}")
    if idx.size < 2:
        raise ValueError(f"need at least 2 architectures to fit, got {idx.size}")
    if not np.isfinite(yy).all():
        raise ValueError("y contains NaN or inf; drop the unmeasured architectures first")
    return idx, yy


def flat_features(idx: np.ndarray, features: Sequence[str]) -> np.ndarray:
    """float64[n, 30 + d]: one-hot op per edge, then :func:`predictor.graphs.graph_features` ``features``."""
    return np.concatenate([G.onehot_ops(idx), G.graph_features(idx, features)], axis=1)


def standardise(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean, std) per column of ``X``, a std of 0 replaced by 1 (constant columns stay constant)."""
    return X.mean(0), np.where(X.std(0) > 0, X.std(0), 1.0)


class BasePredictor(RegressorMixin, BaseEstimator):
    """Shared fit/predict plumbing: index conversion, target checks, the fitted check.

    Subclasses implement ``_fit(idx, y)`` and ``_predict(idx) -> float64[n]`` (accuracy units).
    """

    def fit(self, archs: Any, y: Any) -> "BasePredictor":
        """Fit on ``archs`` with targets ``y`` (percent); returns ``self``."""
        idx, yy = check_xy(archs, y)
        t0 = time.perf_counter()
        self._fit(idx, yy)
        self.n_train_ = int(idx.size)
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "n_train_")

    def _fit(self, idx: np.ndarray, y: np.ndarray) -> None:
        raise NotImplementedError

    def _predict(self, idx: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def predict(self, archs: Any) -> np.ndarray:
        """Predicted accuracy (percent), float64[n]."""
        check_is_fitted(self)
        return self._predict(to_indices(archs))

    def predict_space(self) -> np.ndarray:
        """Prediction for all 15,625 architectures in official index order, float64[15625]."""
        return self.predict(np.arange(NUM_ARCHS))
