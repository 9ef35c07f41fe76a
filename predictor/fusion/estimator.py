"""The fusion estimator: completes partial signals over the cell graphs, fuses them, re-orders the head,
and with landmarks adds corrected twins and maps the fused score onto the true accuracy."""

from __future__ import annotations

import logging
import time
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import Ridge
from sklearn.utils.validation import check_is_fitted

from supernet.space import NUM_ARCHS, degenerate_mask

from ..models import MODELS, LandmarkCorrection, from_logerr, logerr, make_model
from .scores import DEFAULT_HEAD_WEIGHTS, DEFAULT_SPREAD_PENALTY, DEFAULT_WEIGHTS, fuse, normal_scores, order_head

log = logging.getLogger(__name__)

CORRECTED_SUFFIX = "_lm"
"""With landmarks, a completed signal ``<name>`` gets a twin ``<name>_lm``: the same values completed by a
model built for correction and corrected to the landmarks' true accuracy (see :class:`FusionPredictor`)."""


CORRECTION_ALPHAS: tuple[float, ...] = tuple(np.logspace(1, 3, 5))
"""Ridge penalties the twins' landmark correction chooses among by leave-one-out (10 to 1000; the
correction of a plain table, ``nasgcn fit --landmarks`` without proxies, keeps 1e-2 to 1e3).  With
landmarks crowding the predicted top (the loop's proposals) the small penalties let the op-count terms
fit that top and turn the ranking elsewhere: on the tuning seeds 0-4 (20 proposed landmarks, four
weight-sharing sources) one twin ranked the truth at tau 0.15 and the table at 0.63; from 10 up the
worst twin is 0.53 and the table's mean tau 0.745 -> 0.760 (worst 0.632 -> 0.734), with 20 random
landmarks 0.778 -> 0.777 (worst 0.753 -> 0.762) (scratch runs on the fitted tables, the isotonic map,
penalties 10-1000 chosen by the correction's own leave-one-out; not committed)."""


LANDMARK_MAPS = ("isotonic", "linear", "signals")
"""The maps of the fused score onto the landmarks' true accuracy (see :class:`FusionPredictor`)."""


class _IsotonicMap:
    """Isotonic regression of ``t`` on ``x`` (float[n]), continued below ``x``'s range with the slope of the
    ridge ``line`` fitted to all points and above it with the slope of ``upper`` fitted to the upper half
    (both >= 0; the log-error flattens towards the top, so the full line would carry a cell far above the
    landmarks to an accuracy no cell has: 96 % where the best NAS-Bench-201 cell has 94.4).  A slope of
    1e-6 is added throughout so that the map stays strictly increasing (ties in the isotonic steps would
    lose the fused order).  ``predict`` takes float[m, 1]."""

    def __init__(self, line: Ridge, upper: Ridge, x: np.ndarray, t: np.ndarray) -> None:
        self.coef_ = line.coef_
        self.slopes_ = (max(float(line.coef_[0]), 0.0), max(float(upper.coef_[0]), 0.0))
        self.lo_, self.hi_ = float(x.min()), float(x.max())
        self.iso_ = IsotonicRegression(out_of_bounds="clip").fit(x, t)

    def predict(self, X: np.ndarray) -> np.ndarray:
        x = np.asarray(X, dtype=np.float64)[:, 0]
        below, above = np.minimum(x - self.lo_, 0.0), np.maximum(x - self.hi_, 0.0)
        return self.iso_.predict(x) + self.slopes_[0] * below + self.slopes_[1] * above + 1e-6 * x


class FusionPredictor(BaseEstimator):
    """Weighted mean of signals' normal scores; GCN completion of partial signals; optional landmarks.

    Hyper-parameters: ``weights`` (signal name -> weight, missing names weigh 1; 0 drops a signal, a
    negative weight enters it reversed; defaults :data:`DEFAULT_WEIGHTS`),
    ``completion`` (model name for partial signals, ``gcn`` by default), ``completion_params``
    (its hyper-parameters), ``head_fraction`` and ``head_weights`` (the cells in the fused top
    ``head_fraction`` of the non-degenerate space keep their places above the rest, but take the fused
    values among themselves in the order of the ``head_weights`` mean, :data:`DEFAULT_HEAD_WEIGHTS` when
    None; 0, or no head signal among the fused ones, leaves the fused order), ``corrected_weight`` (the
    default weight of a landmark-corrected twin, below; ``weights`` may name the twin, 0 drops it),
    ``spread_penalty`` (L >= 0: the fused score is the weighted mean less L times the signals' weighted
    spread about it, so a cell only some signals rate high ranks below one they agree on; default
    :data:`DEFAULT_SPREAD_PENALTY`; 0 is the plain mean), ``completion_side`` (True: the completion
    model of a partial signal, where it takes side features (the GCN's ``side_features``), also sees the
    normal scores of the fused signals known for the whole space; off by default: on the tuning seeds
    it completed the one-shot file's unseen scores closer to the file's own (Pearson 0.70 -> 0.76) and
    raised the fused tau by 0.000-0.002 on every source and the pick of four of the project's five
    supernet files (93.76 -> 94.02), but lowered P@top-5% (one-shot file 0.426 -> 0.386, below issue
    12's 0.40; the project's files by between +0.003 and -0.037) and the one-shot file's pick (93.76 -> 93.34);
    ``benchmarks/results/fusion_completion_side.md``),
    ``landmark_map`` (``isotonic``, ``linear`` or
    ``signals``, below), ``landmark_alphas`` (the map's ridge penalties tried by leave-one-out),
    ``correction_alphas`` (the twins' correction's, :data:`CORRECTION_ALPHAS`), ``random_state``.

    With landmarks, each completed signal ``c`` also enters as ``c_lm``: completed again by the
    ``completion`` model built with :data:`~predictor.models.LANDMARK_BASE_PARAMS` and corrected to the
    landmarks' true accuracy by :class:`~predictor.models.LandmarkCorrection` (op counts and a curve in
    the completed value).  The fused score is then mapped onto the true-accuracy scale (log-error) by
    ``landmark_map``: ``"isotonic"`` (default), the isotonic regression of the landmarks' log-error on
    the fused score, continued beyond the landmarks' range by the slopes of ridge lines (below: on all
    landmarks, the ``"linear"`` map; above: on the upper half of them);
    ``"linear"``, a non-negative ridge line on the fused score; ``"signals"``, a non-negative ridge on the
    fused score and every signal (in its weight's direction; re-weighting them).  The first two are
    monotone (the landmarks change the ranking through the twins only).  Chosen on the tuning seeds 0-4: over the four weight-sharing
    sources, mean tau with 20 / 50 random landmarks was 0.729 / 0.740 for the design before (no twin,
    the signals ridge; 0.742 without landmarks), 0.743 / 0.772 (worst run 0.647) for the twin with the
    signals ridge and 0.766 / 0.777 for the twin with the linear map (``fusion_landmarks.md`` as of
    commit 75cf64a).  The isotonic map ranks like the
    linear one but cannot overshoot inside the landmarks' range: with the loop's landmarks (half of them
    proposed from the predicted top) the line handed an unmeasured cell a prediction above the best
    landmark (the one-shot file's table then picked a 93.34 cell over a measured 94.36 one).  Record
    (``benchmarks/results/fusion_landmarks.md``, one-shot file and the project's CPU supernet, with the
    twins' penalties of :data:`CORRECTION_ALPHAS`): 20 random landmarks, tau 0.776 with either map (pick
    93.74 isotonic, 93.76 linear); 20 proposed, tau 0.762 with either, the pick >= 94.1 in 10 / 10 runs
    with the isotonic map against 6 / 10 with the line (8 / 10, tau 0.737, for the design before).  The
    twin's weight 3 came from scratch sweeps on the same seeds (1 / 2 / 3 gave tau 0.761 / 0.775 / 0.781
    on the one-shot file, 0.769 / 0.778 / 0.781 on the project's CPU supernet); the head is left to the
    plain signals (the twin in the head raised the one-shot file's top-5% tau, 0.131 -> 0.178, and
    lowered the CPU supernet's, 0.196 -> 0.157); fitting the signals ridge on the twin's leave-one-out
    values (proper stacking) was lower still.

    ``fit(signals, landmarks=None)``: ``signals`` a DataFrame of 15,625 rows in official index order,
    one column per signal, NaN where unknown.  Learned: ``signal_scores_`` (completed normal scores),
    ``fused_``, ``ranked_`` (``fused_`` with the head re-ordered: the no-landmark score), ``head_``
    (bool[15625]), ``head_weights_``, ``side_signals_`` (the signals the completion saw as side
    features), ``redundancy_`` (completed signal -> correlation of its completion with the fusion of the
    signals known for the whole space, see ``_redundancy``), ``completers_`` / ``correctors_`` (signal -> fitted completion model /
    its landmark correction), ``spread_`` (float[15625]: weighted standard deviation of the
    normal scores of the signals of positive weight about their weighted mean, how much the signals that
    rate a cell disagree on it; it becomes the table's ``pred_std`` and so steers the loop's proposals.
    The fused score's penalty takes the spread of every signal, reversed ones included, but a reversed
    signal sits far from the others at the top by design (that is what its weight rewards), so its
    distance is a ranking term, not an uncertainty: with it in ``spread_``, the landmarks the loop
    proposed on the one-shot file's tables (tuning seeds 0-3) missed the 94.36 cell in 4 / 4 seeds
    (best landmark 93.98), without it they held it in 4 / 4, as before the reversal), ``weights_``, and
    with landmarks ``coef_`` (the map's ridge coefficients; for the isotonic map the lower tail's slope),
    ``alpha_`` and ``landmark_loo_`` ((indices, true accuracy %, leave-one-out accuracy %) of the
    non-degenerate landmarks).
    """

    def __init__(
        self,
        weights: Mapping[str, float] | None = None,
        completion: str = "gcn",
        completion_params: Mapping[str, Any] | None = None,
        head_fraction: float = 0.2,
        head_weights: Mapping[str, float] | None = None,
        corrected_weight: float = 3.0,
        spread_penalty: float = DEFAULT_SPREAD_PENALTY,
        completion_side: bool = False,
        landmark_map: str = "isotonic",
        landmark_alphas: Sequence[float] = (0.1, 1.0, 10.0, 100.0),
        correction_alphas: Sequence[float] = CORRECTION_ALPHAS,
        random_state: int | None = 0,
    ) -> None:
        self.weights = weights
        self.completion = completion
        self.completion_params = completion_params
        self.head_fraction = head_fraction
        self.head_weights = head_weights
        self.corrected_weight = corrected_weight
        self.spread_penalty = spread_penalty
        self.completion_side = completion_side
        self.landmark_map = landmark_map
        self.landmark_alphas = landmark_alphas
        self.correction_alphas = correction_alphas
        self.random_state = random_state

    def _complete(self, name: str, v: np.ndarray, side: np.ndarray | None = None) -> tuple[np.ndarray, bool]:
        """(values for the whole space, completed?) of one signal; ``side`` (float[15625, k]): the completion
        model's side features (see :meth:`_side_signals`)."""
        known = self._known(name, v)
        if self._whole(v):
            return v, False
        params = dict(self.completion_params or {})
        if side is not None:
            params["side_features"] = side
        est = make_model(self.completion, params, random_state=self.random_state)
        idx = np.flatnonzero(known)
        log.info("completing signal %s from %d architectures with %s", name, idx.size, self.completion)
        est.fit(idx, v[idx])
        self.completers_[name] = est
        return est.predict_space(), True

    @staticmethod
    def _whole(v: np.ndarray) -> bool:
        """Whether signal values ``v`` (float[15625]) are known on every non-degenerate cell."""
        return bool(np.isfinite(v[~degenerate_mask()]).all())

    def _side_signals(self, signals: pd.DataFrame, names: Sequence[str]) -> list[str]:
        """The signals among ``names`` the completion sees as side features: with ``completion_side``,
        those known for the whole space, when some other signal is to be completed by a model that takes
        side features and ``completion_params`` does not set them; else none."""
        model = MODELS.get(self.completion)
        if not self.completion_side or model is None or "side_features" not in model().get_params() \
                or "side_features" in (self.completion_params or {}):
            return []
        whole = [c for c in names if self._whole(signals[c].to_numpy(dtype=np.float64))]
        return whole if len(whole) < len(names) else []

    @staticmethod
    def _known(name: str, v: np.ndarray) -> np.ndarray:
        """bool[15625]: the non-degenerate cells where signal ``name`` has a value (at least 2)."""
        known = np.isfinite(v) & ~degenerate_mask()
        if known.sum() < 2:
            raise ValueError(f"signal {name!r} has {int(known.sum())} non-degenerate values; need at least 2")
        return known

    def _corrected(self, name: str, v: np.ndarray, landmarks: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """float[15625]: a partial signal completed by a model built for correction (``landmark_base``)
        and corrected to the landmarks' true accuracy (:class:`~predictor.models.LandmarkCorrection`)."""
        idx = np.flatnonzero(self._known(name, v))
        est = make_model(self.completion, self.completion_params, random_state=self.random_state, landmark_base=True)
        log.info("completing signal %s for the landmark correction with %s", name, self.completion)
        corr = LandmarkCorrection(est.fit(idx, v[idx]), alphas=self.correction_alphas).fit(*landmarks)
        self.correctors_[name] = corr
        return corr.predict_space()

    def fit(self, signals: pd.DataFrame, landmarks: tuple[np.ndarray, np.ndarray] | None = None) -> "FusionPredictor":
        t0 = time.perf_counter()
        if len(signals) != NUM_ARCHS or signals.shape[1] == 0:
            raise ValueError(f"signals must be a frame of {NUM_ARCHS} rows (official order) and >= 1 column, got {signals.shape}")
        twins = [f"{c}{CORRECTED_SUFFIX}" for c in signals.columns]
        clash = sorted(set(map(str, signals.columns)) & set(twins))
        if clash:
            raise ValueError(f"signal name(s) {clash} end in {CORRECTED_SUFFIX!r}, the suffix of a landmark-corrected "
                             "signal; rename them")
        given = dict(self.weights or {})
        w = {str(c): float(given.get(str(c), DEFAULT_WEIGHTS.get(str(c), 1.0))) for c in signals.columns}
        w = {c: x for c, x in w.items() if x != 0.0}
        if not all(np.isfinite(x) for x in w.values()) or not any(x > 0 for x in w.values()):
            raise ValueError(f"signal weights must be finite numbers with at least one positive (a negative "
                             f"weight enters its signal reversed); got {w}")
        if not (np.isfinite(self.spread_penalty) and self.spread_penalty >= 0):
            raise ValueError(f"spread_penalty must be a finite number >= 0, got {self.spread_penalty}")
        if landmarks is not None:
            landmarks = self._check_landmarks(*landmarks)
        self.completers_: dict[str, Any] = {}
        self.correctors_: dict[str, Any] = {}
        scores, completed = {}, []
        self.side_signals_ = self._side_signals(signals, list(w))
        side = np.column_stack([normal_scores(signals[c].to_numpy(dtype=np.float64)) for c in self.side_signals_]) \
            if self.side_signals_ else None
        for c in list(w):
            v = signals[c].to_numpy(dtype=np.float64)
            full, was = self._complete(c, v, side)
            scores[c] = normal_scores(full)
            if not was:
                continue
            completed.append(c)
            twin = f"{c}{CORRECTED_SUFFIX}"
            tw = float(given.get(twin, self.corrected_weight))
            if landmarks is not None and tw != 0.0:
                if tw < 0:
                    raise ValueError(f"signal weights must be >= 0; got {twin}: {tw}")
                scores[twin] = normal_scores(self._corrected(c, v, landmarks))
                w[twin] = tw
        self.signal_scores_ = pd.DataFrame({c: scores[c] for c in w})  # columns in the order of the weights
        self.completed_ = completed
        self.weights_ = w
        self.fused_, self.spread_ = fuse(self.signal_scores_.to_numpy(), np.array(list(w.values())),
                                         self.spread_penalty)
        pos = [c for c, x in w.items() if x > 0]
        if len(pos) < len(w):  # the uncertainty leaves the reversed signals out (see the class docstring)
            self.spread_ = fuse(self.signal_scores_[pos].to_numpy(), np.array([w[c] for c in pos]))[1]
        self.redundancy_ = self._redundancy(completed)
        self._order_head()
        self.coef_ = None
        if landmarks is not None:
            self._fit_landmarks(*landmarks)
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    def _redundancy(self, completed: Sequence[str]) -> dict[str, float]:
        """completed signal -> Pearson correlation, over the non-degenerate cells, of its completed normal
        score with the fusion of the plain signals known for the whole space (without it and the twins):
        how much of it the free signals already say.  Needs no truth; empty without such signals."""
        live = ~degenerate_mask()
        Z = self.signal_scores_
        full = [c for c in Z.columns if c not in completed and not c.endswith(CORRECTED_SUFFIX)]
        if not full:
            return {}
        rest = fuse(Z[full].to_numpy()[live], np.array([self.weights_[c] for c in full]), self.spread_penalty)[0]
        return {c: float(np.corrcoef(Z[c].to_numpy()[live], rest)[0, 1]) for c in completed}

    def _order_head(self) -> None:
        """Set ``head_``, ``head_weights_`` and ``ranked_`` (see the class docstring)."""
        hw = DEFAULT_HEAD_WEIGHTS if self.head_weights is None else self.head_weights
        self.head_weights_ = {c: float(x) for c, x in hw.items() if c in self.weights_ and float(x) != 0}
        self.ranked_, self.head_ = order_head(self.fused_, self.signal_scores_, self.head_fraction, self.head_weights_)

    def _landmark_design(self) -> tuple[np.ndarray, list[str]]:
        """(float[15625, d] design of the landmark ridge, its column names) for ``landmark_map``."""
        if self.landmark_map != "signals":
            return self.fused_[:, None], ["fused"]
        signs = np.sign([self.weights_[c] for c in self.signal_scores_.columns])  # reversed signals enter reversed
        return np.column_stack([self.fused_, self.signal_scores_.to_numpy() * signs]), ["fused", *self.signal_scores_.columns]

    def _check_landmarks(self, idx: Any, true_acc: Any) -> tuple[np.ndarray, np.ndarray]:
        """(indices, true accuracy %) of the non-degenerate landmarks; ``ValueError`` for fewer than 3 or
        an unknown ``landmark_map``."""
        if self.landmark_map not in LANDMARK_MAPS:
            raise ValueError(f"landmark_map must be one of {', '.join(LANDMARK_MAPS)}, got {self.landmark_map!r}")
        idx = np.asarray(idx, dtype=np.int64)
        keep = ~degenerate_mask()[idx]
        if keep.sum() < 3:
            raise ValueError(f"need at least 3 non-degenerate landmarks, got {int(keep.sum())}")
        return idx[keep], np.asarray(true_acc, dtype=np.float64)[keep]

    def _fit_landmarks(self, idx: np.ndarray, true_acc: np.ndarray) -> None:
        t = logerr(true_acc)
        X, names = self._landmark_design()
        best: tuple[float, float, np.ndarray] = (np.inf, 0.0, np.empty(0))
        for a in self.landmark_alphas:  # leave-one-out squared error of the map
            loo = np.empty(idx.size)
            for i in range(idx.size):
                m = np.arange(idx.size) != i
                loo[i] = self._map(X[idx[m]], t[m], a).predict(X[idx[i : i + 1]])[0]
            err = float(((loo - t) ** 2).sum())
            if err < best[0]:
                best = (err, a, loo)
        self.alpha_ = float(best[1])
        self.map_ = self._map(X[idx], t, self.alpha_)
        self.landmark_loo_ = (idx, from_logerr(t), from_logerr(best[2]))
        self.coef_ = dict(zip(names, map(float, self.map_.coef_)))

    def _map(self, X: np.ndarray, t: np.ndarray, alpha: float) -> Any:
        """The landmark map fitted to design rows ``X`` (float[n, d]) and log-errors ``t`` (float[n])."""
        line = Ridge(alpha=alpha, positive=True).fit(X, t)
        if self.landmark_map != "isotonic":
            return line
        top = np.argsort(X[:, 0], kind="stable")[X.shape[0] // 2 :]
        return _IsotonicMap(line, Ridge(alpha=alpha, positive=True).fit(X[top], t[top]), X[:, 0], t)

    def score_space(self) -> np.ndarray:
        """float64[15625]: the fused ranking score (true-accuracy percent with landmarks, else ``ranked_``,
        a normal score); degenerate cells -inf (they rank last).  With landmarks the head of the ridge's
        prediction is re-ordered in the same way as the fused mean's (:func:`order_head`)."""
        check_is_fitted(self, "fused_")
        deg = degenerate_mask()
        s = self.ranked_.copy()
        if self.coef_ is not None:
            s[~deg] = from_logerr(self.map_.predict(self._landmark_design()[0][~deg]))
            s, _ = order_head(s, self.signal_scores_, self.head_fraction, self.head_weights_)  # s is NaN on deg
        return np.where(deg, -np.inf, s)
