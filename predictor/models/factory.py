"""The one place accuracy predictors are built by name: :data:`MODELS` and :func:`make_model`."""

from __future__ import annotations

from typing import Any, Mapping

from .base import BasePredictor
from .gbr import GBRPredictor
from .gcn import GCNPredictor
from .mlp import MLPPredictor
from .ridge import RidgePredictor

__all__ = ["MODELS", "make_model", "model_name"]

MODELS: dict[str, type[BasePredictor]] = {
    "gcn": GCNPredictor,
    "ridge": RidgePredictor,
    "gbr": GBRPredictor,
    "mlp": MLPPredictor,
}
"""Predictor names (``--model``, ``[predictor] model``, ``completion``) and their classes."""


def make_model(name: str, params: Mapping[str, Any] | None = None, *, random_state: int | None = 0) -> BasePredictor:
    """The estimator called ``name`` (gcn, ridge, gbr, mlp), its defaults overridden by ``params``
    (hyper-parameter name -> value; an unknown name is a ``ValueError`` listing the known ones) and
    seeded with ``random_state``."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    cls = MODELS[name]
    params = dict(params or {})
    known = set(cls().get_params()) - {"random_state"}
    unknown = sorted(set(params) - known)
    if unknown:
        hint = " (random_state is its own argument)" if "random_state" in unknown else ""
        raise ValueError(f"unknown hyper-parameter(s) {unknown} for model {name!r}{hint}; it takes {sorted(known)}")
    return cls(**params, random_state=random_state)


def model_name(est: Any) -> str:
    """The :data:`MODELS` name of an estimator's class, else its class name."""
    return next((k for k, v in MODELS.items() if isinstance(est, v)), type(est).__name__)
