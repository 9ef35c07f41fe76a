"""Gradient-boosted trees on the one-hot ops of a cell (scikit-learn)."""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import GradientBoostingRegressor

from .base import BasePredictor, flat_features

__all__ = ["GBRPredictor"]


class GBRPredictor(BasePredictor):
    """scikit-learn gradient-boosted trees on the one-hot ops plus optional graph features."""

    def __init__(
        self,
        n_estimators: int = 300,
        learning_rate: float = 0.05,
        max_depth: int = 3,
        subsample: float = 0.8,
        features: tuple[str, ...] = (),
        random_state: int | None = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.subsample = subsample
        self.features = features
        self.random_state = random_state

    def _fit(self, idx: np.ndarray, y: np.ndarray) -> None:
        self.model_ = GradientBoostingRegressor(
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            max_depth=self.max_depth,
            subsample=self.subsample,
            random_state=self.random_state,
        ).fit(flat_features(idx, self.features), y)

    def _predict(self, idx: np.ndarray) -> np.ndarray:
        return self.model_.predict(flat_features(idx, self.features))
