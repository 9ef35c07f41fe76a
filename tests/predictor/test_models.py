"""Predictors: PyG layers (sparse == dense), the estimator contract, learning, ensembles, the landmark correction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator

from predictor import graphs as G
from predictor.calibration import conformal_factor, logerr, rank_weights
from predictor.metrics import kendall_tau
from predictor.models import (
    MODELS,
    GBRPredictor,
    GCNPredictor,
    LandmarkCorrection,
    MLPPredictor,
    RidgePredictor,
    make_model,
)
from predictor.nn import DirGCNConv, RelDirConv
from predictor.nn import dense_mean as _dense_mean
from supernet.space import NUM_ARCHS, all_archs, degenerate_mask, iso_ids, ops_matrix

# weight_decay 1e-4: these tests check mechanisms on 40 epochs; the default (0.1) regularises for biased
# weight-sharing targets (benchmarks/signal_fusion.py)
FAST_GCN = dict(hidden=16, num_layers=2, head_hidden=16, max_epochs=40, patience=10, n_ensemble=1, batch_size=64,
                weight_decay=1e-4)

# a synthetic "accuracy" that, like the real one, depends on what the cell computes: per-op values
# summed over the LIVE edges, a bonus for a skip on the input->output edge, an interaction, noise
_OP_VALUE = np.array([0.0, 1.0, 2.5, 4.0, -1.0])  # none, skip, conv1x1, conv3x3, pool
_W = np.random.default_rng(42).normal(0, 3, size=(6, 5))  # per-edge effects (for the one-hot ridge)


def synthetic(idx: np.ndarray, noise: float = 0.3, seed: int = 0) -> np.ndarray:
    live = G.op_counts(idx, prune=True)
    skip_io = G.graph_features(idx, ["skip_io"])[:, 0] * G.live_matrix()[idx, 3]
    y = 60 + live @ _OP_VALUE + 3.0 * skip_io + 2.0 * (live[:, 3] >= 2)
    return y + np.random.default_rng(seed).normal(0, noise, idx.size)


@pytest.fixture(scope="module")
def sample() -> np.ndarray:
    return np.random.default_rng(0).choice(NUM_ARCHS, 400, replace=False)


# ------------------------------------------------------------------ layers
def test_dirgcnconv_sparse_equals_dense():
    torch.manual_seed(0)
    conv = DirGCNConv(7, 5)
    x, adj = G.dense_space()
    rows = torch.tensor([0, 11, 500, 15000])
    b = G.batch_from_dense(x[rows], adj[rows])
    sparse = conv(b.x, b.edge_index).reshape(4, 8, 5)
    f, bw = _dense_mean(adj[rows])
    dense = conv.forward_dense(x[rows], f, bw)
    assert torch.allclose(sparse, dense, atol=1e-6)
    assert "DirGCNConv(7, 5" in repr(conv)
    w = conv.lin_fwd.weight.detach().clone()
    conv.reset_parameters()
    assert not torch.equal(w, conv.lin_fwd.weight)


def test_dirgcnconv_uses_both_directions():
    conv = DirGCNConv(1, 1, bias=False)
    with torch.no_grad():
        conv.lin_self.weight.zero_()
        conv.lin_fwd.weight.fill_(1.0)
        conv.lin_bwd.weight.fill_(10.0)
    x = torch.tensor([[1.0], [2.0], [4.0]])
    out = conv(x, torch.tensor([[0, 1], [1, 2]]))  # 0 -> 1 -> 2
    # node 0: only a consumer (1): 10*2; node 1: input 0 and consumer 2: 1 + 40; node 2: input 1: 2
    assert out.squeeze().tolist() == [20.0, 41.0, 2.0]


def test_reldirconv_sparse_equals_dense():
    torch.manual_seed(1)
    conv = RelDirConv(4, 6)
    x, adj = G.dense_space_edge()
    rows = torch.tensor([3, 77, 9000])
    a = adj[rows]
    bb, r, dst, src = a.nonzero(as_tuple=True)
    ei = torch.stack([bb * 4 + src, bb * 4 + dst])
    sparse = conv(x[rows].reshape(-1, 4), ei, r + 1).reshape(3, 4, 6)
    f, bw = _dense_mean(a)
    assert torch.allclose(sparse, conv.forward_dense(x[rows], f, bw), atol=1e-6)
    assert "num_relations=4" in repr(conv)


# ------------------------------------------------------------------ contract
@pytest.mark.parametrize("name", ["gcn", "ridge", "gbr", "mlp"])
def test_estimator_contract(name, sample):
    params = FAST_GCN if name == "gcn" else {"n_estimators": 50} if name == "gbr" else {}
    est = make_model(name, params, random_state=3)
    assert est.get_params()["random_state"] == 3
    c = clone(est)
    assert c.get_params() == est.get_params()
    assert not [k for k in vars(est) if k.endswith("_")]  # __init__ stores hyper-parameters only
    with pytest.raises(NotFittedError, match="not fitted"):
        est.predict([0, 1])
    y = synthetic(sample)
    assert est.fit(sample, y) is est
    learned = [k for k in vars(est) if k.endswith("_")]
    assert "n_train_" in learned and est.n_train_ == sample.size
    p = est.predict(sample[:10])
    assert isinstance(p, np.ndarray) and p.dtype == np.float64 and p.shape == (10,)
    # archs in any form give the same numbers
    strs = [all_archs()[i].to_str() for i in sample[:10]]
    assert np.allclose(est.predict(strs), p)
    # same seed, same model
    again = make_model(name, params, random_state=3).fit(sample, y).predict(sample[:10])
    assert np.allclose(again, p, atol=1e-5)


def test_input_validation(sample):
    est = RidgePredictor()
    with pytest.raises(ValueError, match="same length"):
        est.fit(sample, np.zeros(3))
    y = synthetic(sample)
    y[5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        est.fit(sample, y)
    with pytest.raises(ValueError, match="unknown model"):
        make_model("xgboost")
    with pytest.raises(ValueError, match=r"unknown hyper-parameter\(s\) \['depth'\] for model 'gbr'.*max_depth"):
        make_model("gbr", {"depth": 3})
    with pytest.raises(ValueError, match="random_state is its own argument"):
        make_model("ridge", {"random_state": 1})
    assert make_model("ridge", {"alpha": 2.0}, random_state=None).get_params() == RidgePredictor(alpha=2.0).get_params()
    assert sorted(MODELS) == ["gbr", "gcn", "mlp", "ridge"]
    with pytest.raises(ValueError, match="loss"):
        GCNPredictor(loss="hinge").fit(sample, synthetic(sample))


# ------------------------------------------------------------------ learning
def test_gcn_learns_a_synthetic_target(sample):
    est = GCNPredictor(**{**FAST_GCN, "max_epochs": 80}, random_state=0).fit(sample, synthetic(sample))
    test = np.setdiff1d(np.arange(0, NUM_ARCHS, 7), sample)
    tau = kendall_tau(est.predict(test), synthetic(test, noise=0))
    assert tau > 0.75, tau
    assert est.epochs_[0] >= 1 and np.isfinite(est.val_loss_[0])


def test_gcn_seeds_differ_and_backends_agree(sample):
    y = synthetic(sample)
    a = GCNPredictor(**FAST_GCN, random_state=0).fit(sample, y)
    b = GCNPredictor(**FAST_GCN, random_state=1).fit(sample, y)
    q = np.arange(0, NUM_ARCHS, 97)
    assert not np.allclose(a.predict(q), b.predict(q))
    dense = a.predict(q)
    a.set_params(backend="pyg")  # same fitted weights through MessagePassing
    assert np.allclose(a.predict(q), dense, atol=1e-4)


def test_gcn_isomorphic_cells_predict_the_same(sample):
    est = GCNPredictor(**FAST_GCN, random_state=0).fit(sample, synthetic(sample))
    p = est.predict_space()
    iso = iso_ids()
    spread = np.array([np.ptp(p[iso == c]) for c in np.unique(iso)[:300]])
    assert spread.max() < 1e-6
    raw = GCNPredictor(**FAST_GCN, canonical=False, random_state=0).fit(sample, synthetic(sample)).predict_space()
    assert np.ptp(raw[iso == iso[np.argmax(np.bincount(iso))]]) > 1e-6  # without it they may differ


def test_gcn_ensemble_std_and_rank_loss(sample):
    y = synthetic(sample)
    est = GCNPredictor(**{**FAST_GCN, "n_ensemble": 3, "loss": "both"}, random_state=0).fit(sample, y)
    assert len(est.members_) == 3
    sd = est.predict_std(sample[:50])
    assert sd.shape == (50,) and (sd > 0).all() and sd.mean() < y.std()
    one = GCNPredictor(**FAST_GCN, random_state=0).fit(sample, y)
    # one member: no spread, only the held-out error of the slice it did not train on
    assert one.heldout_rmse_ > 0 and np.allclose(one.predict_std(sample[:5]), one.heldout_rmse_)
    assert (sd >= est.heldout_rmse_ - 1e-12).all()
    rank = GCNPredictor(**{**FAST_GCN, "loss": "rank"}, random_state=0).fit(sample, y)
    p = rank.predict(sample)
    assert abs(p.mean() - y.mean()) < 1.0  # rank-only scores are calibrated back to y's scale
    assert kendall_tau(p, y) > 0.6


def test_gcn_edge_encoding_and_features(sample):
    y = synthetic(sample)
    est = GCNPredictor(**FAST_GCN, encoding="edge", features=("params", "counts"), random_state=0).fit(sample, y)
    test = np.arange(0, NUM_ARCHS, 11)
    assert kendall_tau(est.predict(test), synthetic(test, noise=0)) > 0.5


def test_ridge_recovers_additive_target(sample):
    codes = ops_matrix()[sample].astype(int)
    y = 50 + _W[np.arange(6), codes].sum(1)
    est = RidgePredictor(alpha=1e-6).fit(sample, y)
    q = np.arange(0, NUM_ARCHS, 13)
    want = 50 + _W[np.arange(6), ops_matrix()[q].astype(int)].sum(1)
    assert np.allclose(est.predict(q), want, atol=1e-3)


def test_a_single_penalty_in_a_sequence_is_that_penalty(sample):
    # sklearn's RidgeCV writes into a one-element alphas sequence: a tuple of one used to raise TypeError
    y = synthetic(sample)
    one = RidgePredictor(alpha=(3.0,)).fit(sample, y)
    assert one.alpha_ == 3.0 and np.allclose(one.predict(sample[:50]), RidgePredictor(alpha=3.0).fit(sample, y).predict(sample[:50]))
    lm = np.random.default_rng(1).choice(sample, 12, replace=False)
    fixed = LandmarkCorrection(one, alphas=(30.0,)).fit(lm, synthetic(lm))
    assert fixed.ridge_.alpha_ == 30.0


def test_gbr_and_mlp_learn(sample):
    y = synthetic(sample)
    test = np.arange(0, NUM_ARCHS, 9)
    for est in (GBRPredictor(n_estimators=200, random_state=0), MLPPredictor(random_state=0)):
        assert kendall_tau(est.fit(sample, y).predict(test), synthetic(test, noise=0)) > 0.6


# ------------------------------------------------------------------ landmarks
class _Given(RegressorMixin, BaseEstimator):
    """A fitted 'model' whose whole-space prediction is given (for checking the correction's shape)."""

    def __init__(self, pred: np.ndarray | None = None) -> None:
        self.pred = pred

    def fit(self, archs, y):
        self.pred_ = np.asarray(self.pred, dtype=np.float64)
        return self

    def predict(self, archs):
        return self.pred_[np.asarray(archs, dtype=np.int64)]


def test_landmarks_correct_a_systematic_bias(sample):
    # "true" accuracy rewards conv3x3; the "supernet" penalises it: ws = true - 4 * n_conv3x3
    n_c3 = G.op_counts(np.arange(NUM_ARCHS))[:, 3]
    true = 40.0 + 0.5 * (synthetic(np.arange(NUM_ARCHS), noise=0.0) - 60.0) + 2.0 * n_c3
    ws = true - 4.0 * n_c3
    plain = RidgePredictor(random_state=0).fit(sample, ws[sample])
    lm = np.random.default_rng(5).choice(NUM_ARCHS, 20, replace=False)
    est = LandmarkCorrection(plain, features=("counts",)).fit(lm, true[lm])
    assert est.n_landmarks_ == 20 and est.estimator_ is plain
    q = np.arange(NUM_ARCHS)
    assert kendall_tau(est.predict(q), true) > kendall_tau(plain.predict(q), true) + 0.1
    assert np.array_equal(est.predict_uncorrected(q[:100]), plain.predict(q[:100]))
    assert np.array_equal(est.predict_space(), est.predict(q))
    # a meta-estimator: its parameters reach the wrapped model's; the wrapped model is never refitted
    assert est.get_params()["estimator__alpha"] == 1.0 and est.get_params()["features"] == ("counts",)
    again = LandmarkCorrection(plain).set_params(features=("counts",)).fit(lm, true[lm])
    assert np.array_equal(again.predict(q[:100]), est.predict(q[:100]))
    assert plain.n_train_ == sample.size
    # clone() gives an unfitted wrapped model, which it refuses; FrozenEstimator keeps the fitted one
    with pytest.raises(NotFittedError, match="needs a fitted predictor: fit the RidgePredictor"):
        clone(est).fit(lm, true[lm])
    frozen = clone(LandmarkCorrection(FrozenEstimator(plain), features=("counts",))).fit(lm, true[lm])
    assert np.allclose(frozen.predict(q[:100]), est.predict(q[:100]))
    # pred_std: ridge has no spread of its own, so the shape is constant on the log-error scale; the
    # leave-one-out prediction of a landmark is the correction refitted without it
    sd = est.predict_std(q)
    live = ~degenerate_mask()
    assert np.isfinite(sd[live]).all() and (sd[live] > 0).all() and np.isnan(sd[~live]).all()
    np.testing.assert_allclose(sd[live] / (100.0 - est.predict(q)[live]), sd[live][0] / (100.0 - est.predict(q)[live][0]))
    idx, acc, loo = est.landmark_loo_
    assert np.array_equal(idx, lm[live[lm]]) and np.array_equal(acc, true[idx])
    without = LandmarkCorrection(plain, features=("counts",)).fit(idx[1:], acc[1:])
    assert loo[0] == pytest.approx(without.predict(idx[:1])[0], rel=1e-12)
    k = np.abs(logerr(loo) - logerr(acc))  # the factor is a weighted order statistic of these (constant shape)
    factor = conformal_factor(k, weights=rank_weights(est.predict(q), idx))
    assert factor in k and sd[idx[0]] / (100.0 - est.predict(idx[:1])[0]) == pytest.approx(factor)


def test_landmarks_on_gcn_scale_std(sample):
    y = synthetic(sample)
    gcn = GCNPredictor(**{**FAST_GCN, "n_ensemble": 2}, random_state=0).fit(sample, y)
    lm = sample[:15]
    est = LandmarkCorrection(gcn).fit(lm, y[:15] + 20.0)  # a constant offset: the corrected scale moves with it
    p = est.predict(sample[15:60])
    assert abs(np.median(p - est.predict_uncorrected(sample[15:60])) - 20.0) < 3.0
    sd = est.predict_std(sample[15:60])  # the GCN ensemble's spread is the shape, in log-error units
    ratio = sd / (gcn.predict_std(sample[15:60]) * (100.0 - p))
    assert (sd > 0).all() and np.allclose(ratio, ratio[0])
    with pytest.raises(NotFittedError, match="needs a fitted predictor"):
        LandmarkCorrection(RidgePredictor()).fit(lm, y[:15])
    with pytest.raises(NotFittedError, match="not fitted"):
        LandmarkCorrection(gcn).predict(lm)


def test_landmark_correction_keeps_the_model_order_within_equal_features(sample):
    rng = np.random.default_rng(3)
    pred = rng.normal(60, 10, NUM_ARCHS)  # any prediction of the whole space
    lm = rng.choice(NUM_ARCHS, 25, replace=False)
    true = 85 + 0.1 * pred[lm] + rng.normal(0, 1, 25)
    c = LandmarkCorrection(_Given(pred).fit(None, None), ("live_counts", "skip_io")).fit(lm, true)
    out = c.predict_space()
    assert out.max() < 100 and np.isfinite(out).all()
    # archs with the same features differ only through z: the map must be non-decreasing in pred
    F = G.graph_features(np.arange(NUM_ARCHS), ["live_counts", "skip_io"])
    _, group = np.unique(F, axis=0, return_inverse=True)
    for g in np.unique(group)[:40]:
        m = np.flatnonzero(group == g)
        o = np.argsort(pred[m])
        assert (np.diff(out[m][o]) >= -1e-9).all()
    # beyond the landmarks' range the correction is flat (no extrapolation of the quadratic)
    lo, hi = c.z_range_
    far = np.array([c.p_mean_ + (hi + 5) * c.p_std_, c.p_mean_ + (hi + 50) * c.p_std_])
    assert np.allclose(*c.correct(far, np.array([0, 0])))


def test_landmarks_leave_degenerate_cells_at_the_model_prediction(sample):
    deg = np.flatnonzero(degenerate_mask())
    n_c3 = G.op_counts(np.arange(NUM_ARCHS))[:, 3]
    true = np.where(degenerate_mask(), 10.0, 80.0 + 2.0 * n_c3)
    ws = np.where(degenerate_mask(), 10.0, 40.0 + 1.0 * n_c3)
    plain = RidgePredictor(random_state=0).fit(sample, ws[sample])
    lm = np.concatenate([np.random.default_rng(1).choice(np.setdiff1d(np.arange(NUM_ARCHS), deg), 12, replace=False), deg[:3]])
    est = LandmarkCorrection(plain, features=("counts",)).fit(lm, true[lm])
    assert est.n_used_ == 12 and est.n_landmarks_ == 15  # degenerate landmarks are left out of the fit
    p = est.predict(np.arange(NUM_ARCHS))
    assert np.allclose(p[deg], est.predict_uncorrected(deg))
    assert p[deg].max() < p[np.setdiff1d(np.arange(NUM_ARCHS), deg)].min()  # still ranked last
    with pytest.raises(ValueError, match="non-degenerate"):
        LandmarkCorrection(plain).fit(deg[:5], np.full(5, 10.0))


def test_degenerate_cells_stay_last_when_the_landmarks_scale_lies_below_the_scores():
    # landmarks from a short training run (35-48 %) under weight-sharing scores near 60 %: the
    # degenerate cells' own prediction (~55) must not lift them above every corrected live cell
    live = np.flatnonzero(~degenerate_mask())
    deg = np.flatnonzero(degenerate_mask())
    rng = np.random.default_rng(2)
    pred = np.where(degenerate_mask(), 55.0, rng.normal(60, 3, NUM_ARCHS))
    lm = rng.choice(live, 10, replace=False)
    short = 35 + (pred[lm] - pred[lm].min()) + rng.normal(0, 0.5, 10)
    c = LandmarkCorrection(_Given(pred).fit(None, None), ()).fit(lm, short)
    out = c.predict_space()
    assert out[deg].max() <= out[live].min() == pytest.approx(c.floor_)
    assert np.argmax(out) in live


def test_a_pickled_gcn_is_small_and_predicts_the_same_after_loading():
    import pickle

    rng = np.random.default_rng(0)
    idx = rng.choice(NUM_ARCHS, 300, replace=False)
    y = 80 + 3 * G.op_counts(idx)[:, 3] + rng.normal(0, 1, 300)
    m = GCNPredictor(hidden=16, head_hidden=16, max_epochs=3, n_ensemble=2, random_state=0).fit(idx, y)
    want, want_std = m.predict_space(), m.predict_std(np.arange(NUM_ARCHS))
    blob = pickle.dumps(m)
    assert len(blob) < 1_000_000, len(blob)  # was 11.6 MB: the whole-space graph tensors rode along
    back = pickle.loads(blob)
    assert "_space_cache" not in back.__dict__
    np.testing.assert_array_equal(back.predict_space(), want)  # the cache is rebuilt on first use
    np.testing.assert_array_equal(back.predict_std(np.arange(NUM_ARCHS)), want_std)
    assert "_space_cache" in back.__dict__ and len(pickle.dumps(back)) < 1_000_000


def test_a_model_built_for_landmark_correction_takes_the_landmark_base_params(sample):
    from predictor.models import LANDMARK_BASE_PARAMS
    from predictor.table.fit import fit_predictor

    base = make_model("gcn", landmark_base=True)
    assert base.features == () and base.weight_decay == LANDMARK_BASE_PARAMS["gcn"]["weight_decay"] == 1e-4
    assert make_model("gcn").features == ("live_counts",)  # the plain default is untouched
    assert make_model("gcn", {"weight_decay": 0.5}, landmark_base=True).weight_decay == 0.5  # the caller's win
    assert make_model("ridge", landmark_base=True).get_params() == make_model("ridge").get_params()
    live = sample[~degenerate_mask()[sample]]
    y = synthetic(live)
    ws = pd.DataFrame({"index": live[:40], "ws_acc": y[:40]})
    lm = (live[40:50], y[40:50] + 5.0)
    _, est, corr = fit_predictor(ws, "gcn", landmarks=lm, model_params={"max_epochs": 2, "n_ensemble": 1})
    assert est.features == () and est.weight_decay == 1e-4 and est.max_epochs == 2 and corr is not None
    _, est, corr = fit_predictor(ws, "gcn", model_params={"max_epochs": 2, "n_ensemble": 1})
    assert est.features == ("live_counts",) and corr is None
