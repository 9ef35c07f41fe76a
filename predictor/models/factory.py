"""The one place accuracy predictors are built by name: :data:`MODELS` and :func:`make_model`."""

from __future__ import annotations

from typing import Any, Mapping

from .base import BasePredictor
from .gbr import GBRPredictor
from .gcn import GCNPredictor
from .mlp import MLPPredictor
from .ridge import RidgePredictor

__all__ = ["MODELS", "LANDMARK_BASE_PARAMS", "make_model", "model_name"]

MODELS: dict[str, type[BasePredictor]] = {
    "gcn": GCNPredictor,
    "ridge": RidgePredictor,
    "gbr": GBRPredictor,
    "mlp": MLPPredictor,
}
"""Predictor names (``--model``, ``[predictor] model``, ``completion``) and their classes."""

LANDMARK_BASE_PARAMS: dict[str, dict[str, Any]] = {"gcn": {"features": (), "weight_decay": 1e-4}}
"""Hyper-parameters (over the model's defaults, under the caller's) of a model fitted to weight-sharing
scores in order to be corrected by landmarks (:class:`~predictor.models.LandmarkCorrection`).  The GCN
then sees no graph-level features and a light weight decay: the correction adds the op counts itself,
fitted to true accuracies, whereas a GCN whose head learnt the supernet's op-count bias leaves the
correction that bias to undo.  Tuning seeds 0-4, 1,000 scores, 20 random landmarks: tau 0.752 / 0.742
against 0.699 / 0.675 with the plain default (one-shot file / the project's CPU supernet); with
weight decay 0.1 and no features 0.705 / 0.680."""


def make_model(
    name: str, params: Mapping[str, Any] | None = None, *, random_state: int | None = 0, landmark_base: bool = False
) -> BasePredictor:
    """The estimator called ``name`` (gcn, ridge, gbr, mlp), its defaults overridden by ``params``
    (hyper-parameter name -> value; an unknown name is a ``ValueError`` listing the known ones) and
    seeded with ``random_state``; ``landmark_base``: the defaults are first overridden by
    :data:`LANDMARK_BASE_PARAMS` (a model to be corrected by landmarks)."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    cls = MODELS[name]
    params = {**(LANDMARK_BASE_PARAMS.get(name, {}) if landmark_base else {}), **(params or {})}
    known = set(cls().get_params()) - {"random_state"}
    unknown = sorted(set(params) - known)
    if unknown:
        hint = " (random_state is its own argument)" if "random_state" in unknown else ""
        raise ValueError(f"unknown hyper-parameter(s) {unknown} for model {name!r}{hint}; it takes {sorted(known)}")
    return cls(**params, random_state=random_state)


def model_name(est: Any) -> str:
    """The :data:`MODELS` name of an estimator's class, else its class name."""
    return next((k for k, v in MODELS.items() if isinstance(est, v)), type(est).__name__)
