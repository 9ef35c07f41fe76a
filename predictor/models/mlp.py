"""A multi-layer perceptron on the one-hot ops of a cell (scikit-learn)."""

from __future__ import annotations

import numpy as np
from sklearn.neural_network import MLPRegressor

from .base import BasePredictor, flat_features, standardise

__all__ = ["MLPPredictor"]


class MLPPredictor(BasePredictor):
    """scikit-learn MLP on the one-hot ops (+ graph features), standardised target, early stopping."""

    def __init__(
        self,
        hidden: tuple[int, ...] = (64, 64),
        alpha: float = 1e-3,
        learning_rate_init: float = 1e-3,
        max_iter: int = 500,
        features: tuple[str, ...] = (),
        random_state: int | None = 0,
    ) -> None:
        self.hidden = hidden
        self.alpha = alpha
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.features = features
        self.random_state = random_state

    def _fit(self, idx: np.ndarray, y: np.ndarray) -> None:
        X = flat_features(idx, self.features)
        self.x_mean_, self.x_std_ = standardise(X)
        self.y_mean_, self.y_std_ = float(y.mean()), float(y.std()) or 1.0
        self.model_ = MLPRegressor(
            hidden_layer_sizes=tuple(self.hidden),
            alpha=self.alpha,
            learning_rate_init=self.learning_rate_init,
            max_iter=self.max_iter,
            early_stopping=idx.size >= 20,
            n_iter_no_change=20,
            random_state=self.random_state,
        ).fit((X - self.x_mean_) / self.x_std_, (y - self.y_mean_) / self.y_std_)

    def _predict(self, idx: np.ndarray) -> np.ndarray:
        X = (flat_features(idx, self.features) - self.x_mean_) / self.x_std_
        return self.y_mean_ + self.y_std_ * self.model_.predict(X)
