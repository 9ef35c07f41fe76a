"""Fitting the predictions a lookup table holds: a predictor by name (optionally corrected with
landmarks), or the fusion of several signals; :func:`fit_table` reads the inputs, fits, predicts the
whole space and hands the predictions to :func:`~predictor.table.lookup.build_table`."""

from __future__ import annotations

import datetime as _dt
import logging
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from supernet.fileio import jsonable
from supernet.hashing import file_digest
from supernet.space import NUM_ARCHS, degenerate_mask

from .. import graphs as G
from ..calibration import calibrated_spread
from ..fusion import FusionPredictor, read_signal_table
from ..models import BasePredictor, GCNPredictor, LandmarkCorrection, make_model, model_name
from .inputs import Source, frame_hash, read_inputs
from .lookup import FORMAT, FORMAT_VERSION, TABLE_COLUMNS, LookupTable, build_table

__all__ = ["fit_table", "fit_predictor", "fit_fusion"]

log = logging.getLogger(__name__)

ProxySources = Sequence[Source] | Source
MIN_GCN_ROWS = 20
"""Below this many weight-sharing rows a GCN fit warns (no held-out slice: see GCNPredictor)."""


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def fit_predictor(
    ws_df: pd.DataFrame,
    model: str | BasePredictor = "gcn",
    seed: int = 0,
    landmarks: tuple[np.ndarray, np.ndarray] | None = None,
    model_params: Mapping[str, Any] | None = None,
) -> tuple[str, BasePredictor, LandmarkCorrection | None]:
    """(model name, the predictor fitted on ``ws_df``'s ``ws_acc``, its landmark correction or None).

    ``model``: a :data:`predictor.models.MODELS` name (``model_params`` override its defaults, which with
    ``landmarks`` are first overridden by :data:`~predictor.models.LANDMARK_BASE_PARAMS`) or an unfitted
    estimator (its ``random_state`` is set to ``seed``); ``landmarks``: (indices, true_acc).
    """
    if isinstance(model, str):
        name, est = model, make_model(model, model_params, random_state=seed, landmark_base=landmarks is not None)
    else:
        if model_params:
            raise ValueError("model_params only apply when model is given by name")
        est = model.set_params(random_state=seed)
        name = model_name(est)
    log.info("fitting %s on %d architectures%s", name, len(ws_df),
             f" + {landmarks[0].size} landmarks" if landmarks else "")
    if isinstance(est, GCNPredictor) and len(ws_df) < MIN_GCN_ROWS:
        log.warning("fitting a GCN on only %d architectures: too few to learn the space from (no held-out "
                    "slice, no early stopping); use at least %d, or --model ridge", len(ws_df), MIN_GCN_ROWS)
    est.fit(ws_df["index"].to_numpy(dtype=np.int64), ws_df["ws_acc"].to_numpy(dtype=np.float64))
    correction = None if landmarks is None else LandmarkCorrection(est).fit(*landmarks)
    return name, est, correction


def _signal_frames(
    ws_df: pd.DataFrame | None, proxies: ProxySources, costs: bool, inputs: dict[str, Any]
) -> pd.DataFrame:
    """The fusion's signals (15,625 rows): ``ws`` (NaN where unmeasured), every proxy column, ``params``;
    records each proxy table's provenance in ``inputs["proxies"]``."""
    tables = list(proxies) if isinstance(proxies, (list, tuple)) else [proxies]
    frames: list[pd.DataFrame] = []
    if ws_df is not None:
        w = np.full(NUM_ARCHS, np.nan)
        w[ws_df["index"].to_numpy(dtype=np.int64)] = ws_df["ws_acc"].to_numpy(dtype=np.float64)
        frames.append(pd.DataFrame({"ws": w}))
    inputs["proxies"] = []
    for k, t in enumerate(tables):
        if isinstance(t, pd.DataFrame):
            f = read_signal_table(t, name=f"proxy table {k + 1}")
            inputs["proxies"].append({"path": None, "sha256_rows": frame_hash(t)})
        else:
            f = read_signal_table(t, name=f"proxy table {t}")
            inputs["proxies"].append({"path": str(t), "sha256": file_digest(t)})
        clash = [c for c in f.columns if any(c in g.columns for g in frames)]
        if clash:
            raise ValueError(f"signal(s) {clash} appear in more than one input table; rename or drop one")
        frames.append(f)
    if costs:
        frames.append(pd.DataFrame({"params": G.graph_features(np.arange(NUM_ARCHS), ["params"])[:, 0]}))
    return pd.concat(frames, axis=1)


def fit_fusion(
    signals: pd.DataFrame,
    ws_df: pd.DataFrame | None,
    model: str,
    seed: int,
    landmarks: tuple[np.ndarray, np.ndarray] | None,
    model_params: Mapping[str, Any] | None,
    weights: Mapping[str, float] | None,
    options: Mapping[str, Any] | None = None,
) -> tuple[FusionPredictor, np.ndarray, np.ndarray | None, str]:
    """(the fitted fusion, float[15625] ``pred_acc``, its ``pred_std`` or None, what scale it is on).

    ``pred_acc`` is the true-accuracy scale with landmarks, else the weight-sharing accuracy scale (the
    fused ranking mapped onto the sampled ws_acc quantiles), else a normal score; degenerate cells 10 %
    (chance), or below every other cell without an accuracy input.  ``pred_std`` (the signals'
    disagreement, calibrated by :func:`predictor.calibration.calibrated_spread` on the sampled
    weight-sharing scores or on the landmarks' leave-one-out predictions) needs an accuracy scale: None
    for a normal score.  ``options``: further FusionPredictor arguments (``head_fraction``, ``head_weights``,
    ``landmark_map``, ``spread_penalty``) when given.
    """
    est = FusionPredictor(weights=weights, completion=model, completion_params=model_params, random_state=seed,
                          **dict(options or {}))
    log.info("fusing %s%s", list(signals.columns), f" with {landmarks[0].size} landmarks" if landmarks else "")
    est.fit(signals, landmarks=landmarks)
    score = est.score_space()
    deg = np.isinf(score)
    if landmarks is not None:
        pred = np.where(deg, 10.0, score)
        lm_idx, lm_true, lm_loo = est.landmark_loo_
        std = calibrated_spread(est.spread_, lm_idx, lm_loo, lm_true, acc_space=pred)
        return est, pred, std, "true accuracy (landmark-fitted fusion)"
    if ws_df is not None:
        idx = ws_df["index"].to_numpy(dtype=np.int64)
        ws_acc = ws_df["ws_acc"].to_numpy(dtype=np.float64)
        q = np.sort(ws_acc[~degenerate_mask()[idx]])
        r = (rankdata(score[~deg]) - 0.5) / (~deg).sum()
        pred = np.full(NUM_ARCHS, 10.0)
        pred[~deg] = np.quantile(q, r)
        std = calibrated_spread(est.spread_, idx, pred[idx], ws_acc)
        return est, pred, std, "weight-sharing accuracy (fused ranking mapped onto the sampled ws_acc quantiles)"
    return est, np.where(deg, np.nanmin(score[~deg]) - 1.0, score), None, "normal score (no accuracy input)"


_LANDMARK_STD = ("landmarks' true accuracy by their leave-one-out predictions (log-error scale, weighted "
                 "conformal quantile; predictor.calibration)")


def _landmark_meta(lm: tuple[np.ndarray, np.ndarray] | None) -> dict[str, Any]:
    out: dict[str, Any] = {"n_landmarks": 0 if lm is None else int(lm[0].size),
                           "landmark_indices": None if lm is None else [int(i) for i in lm[0]]}
    if lm is not None:
        out["landmark_rows"] = "pred_acc is the landmark's measured true_acc, pred_std 0"
    return out


def fit_table(
    ws: Source | None,
    model: str | BasePredictor = "gcn",
    seed: int = 0,
    hardware: Source | None = None,
    landmarks: Source | None = None,
    model_params: Mapping[str, Any] | None = None,
    proxies: ProxySources | None = None,
    fusion_weights: Mapping[str, float] | None = None,
    costs: bool = True,
    drop_nonfinite: bool = False,
    head_fraction: float | None = None,
    head_weights: Mapping[str, float] | None = None,
    landmark_map: str | None = None,
    spread_penalty: float | None = None,
) -> LookupTable:
    """Fit ``model`` on every row of ``ws`` and tabulate the whole space.

    With ``proxies`` (one or more signal tables, e.g. ``nasgcn proxies`` output, for all or some
    architectures) the table is FUSED (:class:`predictor.fusion.FusionPredictor`): the weight-sharing
    scores (completed by ``model`` over the cell graphs), every proxy column and, with ``costs``, the
    parameter count become normal scores averaged with ``fusion_weights`` (signal name -> weight; less
    ``spread_penalty`` times their weighted spread), the fused top ``head_fraction`` ordered among itself
    by ``head_weights`` (with landmarks too; None: the :class:`~predictor.fusion.FusionPredictor`
    defaults); ``ws`` may then be None (proxies-only fusion).
    ``landmark_map``: how a fused table with landmarks maps its score onto the true accuracy (one of
    :data:`~predictor.fusion.LANDMARK_MAPS`; None: the isotonic default); only for a fused table with
    landmarks.

    ``ws``: a path or a DataFrame with ``index`` and/or ``arch_str`` and ``ws_acc`` (percent; NaN rows
    dropped).  ``model``: ``gcn | ridge | gbr | mlp`` (then ``model_params`` override the defaults) or
    an unfitted estimator.  ``seed``: the estimator's ``random_state``.  ``hardware``: path (checked
    with :func:`predictor.truth.load_hardware`) or aligned DataFrame; its columns are appended.
    ``landmarks``: OPTIONAL path or DataFrame (``index``/``arch_str`` and ``true_acc``, percent) of
    architectures whose true accuracy is known; they correct the model's bias (see
    :class:`predictor.models.LandmarkCorrection`; a model given by name is then built with
    :data:`~predictor.models.LANDMARK_BASE_PARAMS`; in a fused table they correct the weight-sharing
    signal's twin ``ws_lm``, see :class:`~predictor.fusion.FusionPredictor`), their own rows hold their
    measured accuracy (std 0), and they are recorded in the sidecar.
    ``drop_nonfinite``: drop ws/landmark rows with NaN/inf accuracy (logged) instead of refusing them.
    A GCN fitted on fewer than :data:`MIN_GCN_ROWS` architectures is fitted with a warning.
    """
    if ws is None and proxies is None:
        raise ValueError("nothing to fit: give weight-sharing scores (ws) and/or proxy tables")
    if landmark_map is not None and (proxies is None or landmarks is None):
        raise ValueError("landmark_map applies to a fused table fitted with landmarks: give proxy tables "
                         "and landmarks, or leave it out")
    if spread_penalty is not None and proxies is None:
        raise ValueError("spread_penalty applies to a fused table: give proxy tables, or leave it out")
    ws_df, hw_df, lm, inputs = read_inputs(ws, hardware, landmarks, drop_nonfinite)
    hw_cols = [] if hw_df is None else [c for c in hw_df.columns if c not in ("index", "arch_str")]
    if proxies is not None:
        if not isinstance(model, str):
            raise ValueError("a fused table completes signals with a model given by name (gcn, ridge, gbr, mlp)")
        signals = _signal_frames(ws_df, proxies, costs, inputs)
        options: dict[str, Any] = {} if head_fraction is None else {"head_fraction": head_fraction}
        if head_weights is not None:
            options["head_weights"] = head_weights
        if landmark_map is not None:
            options["landmark_map"] = landmark_map
        if spread_penalty is not None:
            options["spread_penalty"] = spread_penalty
        fusion, pred, std, scale = fit_fusion(signals, ws_df, model, seed, lm, model_params, fusion_weights, options)
        sig = fusion.signal_scores_
        meta = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "created": _now(),
            "model": "fusion", "estimator": "FusionPredictor", "completion_model": model,
            "params": {k: jsonable(v) for k, v in (model_params or {}).items()},
            "signals": list(fusion.weights_), "weights": fusion.weights_,
            "head_fraction": fusion.head_fraction, "head_weights": fusion.head_weights_,
            "head_size": int(fusion.head_.sum()), "spread_penalty": fusion.spread_penalty,
            "completed_signals": fusion.completed_, "completion_side_signals": fusion.side_signals_,
            "signal_redundancy": {c: round(r, 4) for c, r in fusion.redundancy_.items()},
            "corrected_signals": list(fusion.correctors_),
            "landmark_map": None if lm is None else fusion.landmark_map, "landmark_coefficients": fusion.coef_,
            "seed": seed, "n_ws": 0 if ws_df is None else int(len(ws_df)), **_landmark_meta(lm),
            "pred_acc_scale": scale,
            "pred_std": ("not estimated: the fused score has no accuracy scale (NaN)" if std is None else
                         "the signals' disagreement, scaled to cover 68.3% of the "
                         + (_LANDMARK_STD if lm is not None else "sampled weight-sharing scores")),
            "fit_seconds": round(float(fusion.fit_seconds_), 3), "inputs": inputs,
            "columns": [*TABLE_COLUMNS, *(f"sig_{c}" for c in sig.columns), *hw_cols],
        }
        return build_table(*_measured(pred, std, lm), ws_df, hw_df, signals=sig, meta=meta)

    name, est, correction = fit_predictor(ws_df, model, seed, lm, model_params)
    final = est if correction is None else correction
    std = final.predict_std(np.arange(NUM_ARCHS)) if hasattr(final, "predict_std") else None
    meta = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "created": _now(),
        "model": name, "estimator": type(est).__name__,
        "params": {k: jsonable(v) for k, v in est.get_params().items()},
        "seed": seed, "n_ws": int(len(ws_df)), **_landmark_meta(lm),
        "pred_acc_scale": "true accuracy (landmark-corrected)" if lm is not None else "weight-sharing accuracy",
        "pred_std": ("not estimated: the model has no spread (NaN)" if std is None
                     else "the model's spread (constant for a model without one), scaled to cover 68.3% of the "
                     + _LANDMARK_STD if lm is not None
                     else "the model's spread (ensemble spread and held-out error)"),
        "fit_seconds": round(float(est.fit_seconds_ + (0.0 if correction is None else correction.fit_seconds_)), 3),
        "inputs": inputs,
        "columns": [*TABLE_COLUMNS, *hw_cols],
    }
    if correction is not None:
        meta["landmark_correction"] = {"features": list(correction.features), "alpha": correction.alpha}
    if isinstance(est, GCNPredictor):
        meta["epochs"] = [int(e) for e in est.epochs_]
    return build_table(*_measured(final.predict_space(), std, lm), ws_df, hw_df, meta=meta)


MEASURED_TIE = 1e-4
"""Percentage points by which a table with landmarks lowers every unmeasured, non-degenerate prediction, so
that a measured accuracy wins a tie within that margin (a search then picks the known cell over one
predicted level with it).  The fused table's isotonic map is flat above its best landmark (when the
upper half's line slopes down) and keeps the fused order there only by a tie-breaking slope of 1e-6 per
unit of fused score (a normal score, a range of about 7: some 4e-5 points at 94 %).  On the tuning seeds
0-9 that slope alone lifted an unmeasured 94.02 cell 1.1e-5 / 1.2e-5 points above the measured 94.36
one in 2 of 40 runs of the loop, and the table picked it; the rule changed those two picks and no other
(``benchmarks/results/measured_ties.md``).  It changes no order among unmeasured cells."""


def _measured(
    pred: np.ndarray, std: np.ndarray | None, lm: tuple[np.ndarray, np.ndarray] | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """(pred, std) with every landmark's row set to its measured true accuracy and std 0, the other
    non-degenerate rows lowered by :data:`MEASURED_TIE`: an architecture whose accuracy is known is looked
    up, not predicted (so a search over the table can pick it), and wins ties with predictions."""
    if lm is None:
        return pred, std
    pred = np.array(pred, dtype=np.float64)
    pred[~degenerate_mask()] -= MEASURED_TIE
    pred[lm[0]] = lm[1]
    if std is not None:
        std = np.array(std, dtype=np.float64)
        std[lm[0]] = 0.0
    return pred, std
