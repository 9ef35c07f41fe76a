"""Ridge regression on the one-hot ops of a cell (the linear baseline)."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import Ridge, RidgeCV

from .base import BasePredictor, flat_features, standardise

__all__ = ["RidgePredictor"]


class RidgePredictor(BasePredictor):
    """Ridge regression on the one-hot ops of the 6 edges (30 columns) plus optional graph features,
    standardised.  ``alpha``: the penalty, or a tuple of penalties to choose among by efficient
    leave-one-out (:class:`sklearn.linear_model.RidgeCV`; the choice is ``alpha_``)."""

    def __init__(
        self,
        alpha: float | tuple[float, ...] = 1.0,
        features: tuple[str, ...] = (),
        random_state: int | None = None,
    ) -> None:
        self.alpha = alpha
        self.features = features
        self.random_state = random_state  # deterministic model; kept for the common contract

    def _fit(self, idx: np.ndarray, y: np.ndarray) -> None:
        X = flat_features(idx, self.features)
        self.x_mean_, self.x_std_ = standardise(X)
        Z = (X - self.x_mean_) / self.x_std_
        if isinstance(self.alpha, (tuple, list)):
            self.model_ = RidgeCV(alphas=np.asarray(self.alpha, dtype=np.float64)).fit(Z, y)
            self.alpha_ = float(self.model_.alpha_)
        else:
            self.model_ = Ridge(alpha=self.alpha).fit(Z, y)
            self.alpha_ = float(self.alpha)

    def _predict(self, idx: np.ndarray) -> np.ndarray:
        X = flat_features(idx, self.features)
        return self.model_.predict((X - self.x_mean_) / self.x_std_)
