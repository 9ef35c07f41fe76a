"""Accuracy predictors over the NAS-Bench-201 space, all behind one scikit-learn estimator contract.

:mod:`.base` holds the contract (``fit(archs, y)`` returns self, ``predict(archs)`` float64[n],
``NotFittedError`` before fit); one estimator per module: :mod:`.gcn` (:class:`GCNPredictor`), the
baselines :mod:`.ridge`, :mod:`.gbr`, :mod:`.mlp`; :mod:`.correction` the landmark correction, a
meta-estimator over any fitted predictor; :mod:`.factory` :func:`make_model`, the one way to build a
predictor by name.
"""

from .base import BasePredictor
from ..calibration import from_logerr, logerr
from .correction import LandmarkCorrection
from .factory import LANDMARK_BASE_PARAMS, MODELS, make_model, model_name
from .gbr import GBRPredictor
from .gcn import GCNPredictor
from .mlp import MLPPredictor
from .ridge import RidgePredictor

__all__ = [
    "BasePredictor",
    "GCNPredictor",
    "RidgePredictor",
    "GBRPredictor",
    "MLPPredictor",
    "LandmarkCorrection",
    "logerr",
    "from_logerr",
    "MODELS",
    "LANDMARK_BASE_PARAMS",
    "make_model",
    "model_name",
]
