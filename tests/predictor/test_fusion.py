"""Fusion of signals: normal scores, completion of partial signals, weights, landmarks, bad signal tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge
from scipy.stats import kendalltau

from predictor import graphs as G
from supernet.tables import BenchmarkError
from predictor.cli import main
from predictor.fusion import (CORRECTION_ALPHAS, DEFAULT_SPREAD_PENALTY, DEFAULT_WEIGHTS, LANDMARK_MAPS,
                              FusionPredictor, normal_scores, read_signal_table)
from predictor.fusion.estimator import _IsotonicMap
from predictor.calibration import conformal_factor, from_logerr, logerr, rank_weights
from predictor.table import SIGNAL_PREFIX, LookupTable, calibrated_spread, fit_table
from predictor.models import GCNPredictor
from supernet.space import NUM_ARCHS, all_archs, degenerate_mask, iso_ids

DEG = degenerate_mask()
LIVE = np.flatnonzero(~DEG)
PARAMS = G.graph_features(np.arange(NUM_ARCHS), ["params"])[:, 0]


def test_normal_scores_by_hand() -> None:
    v = np.full(NUM_ARCHS, np.nan)
    a, b, c = LIVE[:3]
    v[[a, b, c]] = [5.0, -1.0, 5.0]  # ranks 2.5, 1, 2.5 of n = 3 -> quantiles 2/3, 1/6, 2/3
    v[np.flatnonzero(DEG)[0]] = 100.0  # degenerate cells never get a score
    z = normal_scores(v)
    assert z[a] == pytest.approx(0.4307273, abs=1e-6) and z[c] == z[a]  # ndtri(2/3)
    assert z[b] == pytest.approx(-0.9674216, abs=1e-6)  # ndtri(1/6)
    assert np.isnan(z).sum() == NUM_ARCHS - 3
    with pytest.raises(ValueError, match="one value per architecture"):
        normal_scores(np.zeros(10))


def _signals(rng: np.random.Generator) -> pd.DataFrame:
    full = PARAMS + rng.normal(0, 0.1, NUM_ARCHS)
    part = np.full(NUM_ARCHS, np.nan)
    some = rng.choice(LIVE, 300, replace=False)
    part[some] = PARAMS[some] * 10 + rng.normal(0, 0.5, some.size)
    ws = np.full(NUM_ARCHS, np.nan)
    few = rng.choice(LIVE, 150, replace=False)
    ws[few] = 80 + 5 * PARAMS[few] + rng.normal(0, 0.5, few.size)
    return pd.DataFrame({"ws": ws, "full": full, "part": part})


def _fused_by_hand(Z: np.ndarray, w: np.ndarray, penalty: float = DEFAULT_SPREAD_PENALTY) -> np.ndarray:
    """The fused score of normal scores ``Z`` (float[n, d]) with weights ``w``: the weighted mean less
    ``penalty`` times the weighted standard deviation about it."""
    w = np.asarray(w, dtype=np.float64) / np.sum(w)
    mean = Z @ w
    return mean - penalty * np.sqrt(((Z - mean[:, None]) ** 2) @ w)


def test_fusion_completes_missing_signals_and_averages_normal_scores() -> None:
    sig = _signals(np.random.default_rng(0))
    f = FusionPredictor(completion="ridge", random_state=0).fit(sig)
    assert f.completed_ == ["ws", "part"]  # "full" is known everywhere and used as it is
    Z = f.signal_scores_
    assert Z.loc[LIVE, "full"].tolist() == normal_scores(sig["full"].to_numpy())[LIVE].tolist()
    assert np.isfinite(Z.loc[LIVE].to_numpy()).all() and Z.loc[DEG].isna().all().all()
    w = np.array([DEFAULT_WEIGHTS.get(c, 1.0) for c in Z.columns])  # ws weighs 0.5 by default
    assert w.tolist() == [0.5, 1.0, 1.0] and DEFAULT_WEIGHTS["snip"] == DEFAULT_WEIGHTS["grad_norm"] == -0.25
    np.testing.assert_allclose(f.fused_[LIVE], _fused_by_hand(Z.loc[LIVE].to_numpy(), w))
    s = f.score_space()
    assert np.isneginf(s[DEG]).all()
    assert kendalltau(s[LIVE], PARAMS[LIVE])[0] > 0.8  # every signal here is a noisy view of params

    g = FusionPredictor(weights={"ws": 2.0, "part": 0.0}, completion="ridge").fit(sig)
    assert list(g.weights_) == ["ws", "full"] and "part" not in g.signal_scores_
    np.testing.assert_allclose(g.fused_[LIVE], _fused_by_hand(Z.loc[LIVE, ["ws", "full"]].to_numpy(), [2.0, 1.0]))
    # a negative weight enters its signal reversed: the same as the negated signal at the weight's magnitude
    r = FusionPredictor(weights={"ws": 2.0, "part": 0.0, "full": -0.5}, completion="ridge").fit(sig)
    assert r.weights_ == {"ws": 2.0, "full": -0.5}
    np.testing.assert_array_equal(r.signal_scores_["full"], Z["full"])  # the table keeps the signal's own score
    flipped = Z.loc[LIVE, ["ws", "full"]].to_numpy() * [1.0, -1.0]
    np.testing.assert_allclose(r.fused_[LIVE], _fused_by_hand(flipped, [2.0, 0.5]))
    assert not np.allclose(r.fused_[LIVE], g.fused_[LIVE])
    # ... but its distance from the others is a ranking term, not an uncertainty: spread_ (-> pred_std) leaves it out
    np.testing.assert_allclose(r.spread_[LIVE], 0.0, atol=1e-12)  # one signal of positive weight: no disagreement
    np.testing.assert_allclose(g.spread_[LIVE], np.abs(Z.loc[LIVE, "ws"] - Z.loc[LIVE, "full"]) * np.sqrt(2.0) / 3.0, atol=1e-12)
    with pytest.raises(ValueError, match="at least one positive"):
        FusionPredictor(weights={"ws": -1.0, "full": 0.0, "part": -2.0}, completion="ridge").fit(sig)
    with pytest.raises(ValueError, match="finite numbers"):
        FusionPredictor(weights={"ws": float("nan")}, completion="ridge").fit(sig)
    with pytest.raises(ValueError, match="15625 rows"):
        FusionPredictor().fit(sig.iloc[:100])


def _landmark_case(seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, FusionPredictor]:
    """(signals, a true accuracy set by the parameter count, 20 landmarks, the default fusion fitted with them)."""
    rng = np.random.default_rng(seed)
    sig = _signals(rng)
    true = 85 + 8 * (PARAMS - PARAMS.min()) / np.ptp(PARAMS)
    lm = rng.choice(LIVE, 20, replace=False)
    return sig, true, lm, FusionPredictor(completion="ridge").fit(sig, landmarks=(lm, true[lm]))


def test_fusion_with_landmarks_predicts_true_accuracy() -> None:
    sig, true, lm, f = _landmark_case(1)
    assert all(c >= 0 for c in f.coef_.values()) and f.alpha_ in (0.1, 1.0, 10.0, 100.0)
    s = f.score_space()
    assert 80 < np.median(s[LIVE]) < 95  # true-accuracy scale, percent
    assert kendalltau(s[LIVE], true[LIVE])[0] > 0.8
    with pytest.raises(ValueError, match="at least 3 non-degenerate landmarks"):
        FusionPredictor(completion="ridge").fit(sig, landmarks=(np.flatnonzero(DEG)[:5], np.full(5, 10.0)))


def test_landmarks_add_a_corrected_twin_of_each_completed_signal() -> None:
    sig, true, lm, f = _landmark_case(2)
    assert list(f.signal_scores_.columns) == list(f.weights_) == ["ws", "full", "part", "ws_lm", "part_lm"]
    w = np.array([DEFAULT_WEIGHTS["ws"], 1.0, 1.0, 3.0, 3.0])
    assert list(f.weights_.values()) == w.tolist()
    np.testing.assert_allclose(f.fused_[LIVE], _fused_by_hand(f.signal_scores_.loc[LIVE].to_numpy(), w))
    assert sorted(f.correctors_) == ["part", "ws"]
    assert all(c.ridge_.alpha_ in CORRECTION_ALPHAS for c in f.correctors_.values())  # the twins' penalties, >= 10
    twin = f.correctors_["ws"].predict_space()  # the ws completion corrected to the landmarks' true accuracy
    assert 80 < np.median(twin[LIVE]) < 95
    np.testing.assert_array_equal(f.signal_scores_["ws_lm"].to_numpy(), normal_scores(twin))
    # the default landmark ridge maps the fused score monotonically: the no-landmark order is kept
    assert list(f.coef_) == ["fused"]
    s = f.score_space()
    assert kendalltau(s[LIVE], f.ranked_[LIVE])[0] == pytest.approx(1.0)
    g = FusionPredictor(completion="ridge", weights={"ws_lm": 0.0, "part_lm": 1.0}, landmark_map="signals").fit(
        sig, landmarks=(lm, true[lm]))
    assert "ws_lm" not in g.signal_scores_ and g.weights_["part_lm"] == 1.0 and sorted(g.correctors_) == ["part"]
    assert list(g.coef_) == ["fused", "ws", "full", "part", "part_lm"] and list(g.weights_) == list(g.coef_)[1:]
    plain = FusionPredictor(completion="ridge").fit(sig)  # no landmarks, no twins
    assert list(plain.signal_scores_.columns) == ["ws", "full", "part"] and not plain.correctors_
    with pytest.raises(ValueError, match="end in '_lm'"):
        FusionPredictor(completion="ridge").fit(sig.assign(full_lm=sig["full"]))
    with pytest.raises(ValueError, match="landmark_map must be one of"):
        FusionPredictor(completion="ridge", landmark_map="all").fit(sig, landmarks=(lm, true[lm]))


def test_isotonic_landmark_map_is_increasing_and_extends_with_the_line_slope() -> None:
    def line(slope: float) -> Ridge:
        return Ridge(alpha=0.0, positive=True).fit(np.array([[0.0], [1.0]]), np.array([0.0, slope]))

    m = _IsotonicMap(line(1.0), line(0.5), np.array([0.0, 1.0, 2.0, 3.0]), np.array([0.0, 2.0, 1.0, 3.0]))
    x = np.array([-1.0, 0.0, 1.0, 1.5, 2.0, 3.0, 4.0])
    # by hand: the violating pair (2, 1) pools to 1.5; below 0 the slope 1, above 3 the upper slope 0.5; + 1e-6 x
    np.testing.assert_allclose(m.predict(x[:, None]), np.array([-1.0, 0.0, 1.5, 1.5, 1.5, 3.0, 3.5]) + 1e-6 * x, atol=1e-12)
    assert np.all(np.diff(m.predict(x[:, None])) > 0)


def test_landmark_map_never_predicts_above_the_best_landmark_inside_their_range() -> None:
    """Landmarks crowding the fused top (as the loop's proposals do) and a true accuracy that saturates
    there: the line overshoots the best landmark inside the landmarks' range, the isotonic map cannot."""
    rng = np.random.default_rng(6)
    sig = _signals(rng)
    true = 94 - 4 * np.exp(-1.5 * (np.nan_to_num(normal_scores(PARAMS)) + 2)) + rng.normal(0, 0.1, PARAMS.size)
    top = LIVE[np.argsort(-sig["full"].to_numpy()[LIVE])[:200]]
    lm = np.concatenate([rng.choice(top, 12, replace=False), rng.choice(LIVE, 8, replace=False)])
    best = {}
    for kind in ("isotonic", "linear"):
        f = FusionPredictor(completion="ridge", landmark_map=kind).fit(sig, landmarks=(lm, true[lm]))
        inside = LIVE[f.fused_[LIVE] <= f.fused_[lm].max()]
        best[kind] = from_logerr(f.map_.predict(f.fused_[inside][:, None])).max()
    assert best["isotonic"] <= true[lm].max() + 1e-3 < best["linear"]


def _proxy_file(tmp_path, rows: np.ndarray, values: dict[str, np.ndarray], name: str = "p.csv"):
    archs = all_archs()
    df = pd.DataFrame({"index": rows, "arch_str": [archs[i].to_str() for i in rows], **values})
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path


def _fused_inputs(tmp_path, rng: np.random.Generator, n_ws: int, synflow: bool = True):
    """(proxy file: nwot = noisy params [+ synflow = noise], ws frame of n_ws cells = noisy params)."""
    values = {"nwot": PARAMS[LIVE] + rng.normal(0, 0.1, LIVE.size)}
    if synflow:
        values["synflow"] = rng.normal(size=LIVE.size)
    px = _proxy_file(tmp_path, LIVE, values)
    rows = rng.choice(LIVE, n_ws, replace=False)
    return px, pd.DataFrame({"index": rows, "ws_acc": 70 + 10 * PARAMS[rows] + rng.normal(0, 1, n_ws)})


def test_read_signal_table_errors(tmp_path) -> None:
    rows = LIVE[:50]
    ok = _proxy_file(tmp_path, rows, {"nwot": np.arange(50.0), "iso_id": rows, "degenerate": False})
    t = read_signal_table(ok)
    assert list(t.columns) == ["nwot"] and t["nwot"].notna().sum() == 50 and t.loc[rows[3], "nwot"] == 3.0
    for bad in (np.nan, np.inf):
        v = np.arange(50.0)
        v[7] = bad
        p = _proxy_file(tmp_path, rows, {"nwot": v}, "bad.csv")
        want = (rf"column 'nwot' is nan at index {rows[7]} .*finite number" if np.isnan(bad) else
                rf"column 'nwot' has 1 inf value\(s\), first at row 7 \(index {rows[7]}: inf\); every row needs a finite value")
        with pytest.raises(BenchmarkError, match=want):
            read_signal_table(p)
    deg_nan = _proxy_file(tmp_path, np.flatnonzero(DEG)[:3], {"nwot": np.full(3, np.nan)}, "deg.csv")
    assert read_signal_table(deg_nan)["nwot"].isna().all()  # NaN of degenerate cells is allowed
    only_keys = _proxy_file(tmp_path, rows, {"iso_id": rows}, "keys.csv")
    with pytest.raises(BenchmarkError, match="no signal column"):
        read_signal_table(only_keys)
    with pytest.raises(BenchmarkError, match="lacks column"):
        read_signal_table(ok, ["synflow"])
    wrong = pd.read_csv(ok)
    wrong.loc[0, "arch_str"] = all_archs()[int(rows[1])].to_str()  # index and arch_str disagree
    wrong.to_csv(tmp_path / "wrong.csv", index=False)
    with pytest.raises(BenchmarkError):
        read_signal_table(tmp_path / "wrong.csv")


def test_fused_table_and_cli(tmp_path, capsys) -> None:
    rng = np.random.default_rng(2)
    px, ws = _fused_inputs(tmp_path, rng, 120)
    t = fit_table(ws, model="ridge", proxies=px, seed=0)
    assert t.signal_columns == [f"{SIGNAL_PREFIX}{c}" for c in ("ws", "nwot", "synflow", "params")]
    assert list(t.signals.columns) == ["ws", "nwot", "synflow", "params"]
    assert np.array_equal(t.signals["nwot"].to_numpy(), t.df[f"{SIGNAL_PREFIX}nwot"].to_numpy(), equal_nan=True)
    assert t.meta["model"] == "fusion" and t.meta["completed_signals"] == ["ws"]
    pred = t.df["pred_acc"].to_numpy()
    assert (pred[DEG] == 10.0).all()
    assert ws["ws_acc"].min() <= pred[LIVE].min() and pred[LIVE].max() <= ws["ws_acc"].max()  # ws quantiles
    only = fit_table(None, proxies=px, seed=0)
    assert only.meta["n_ws"] == 0 and "normal score" in only.meta["pred_acc_scale"]
    ws.to_csv(tmp_path / "ws.csv", index=False)
    out = tmp_path / "t.csv.gz"
    assert main(["fit", "--ws", str(tmp_path / "ws.csv"), "--proxies", str(px), "--model", "ridge",
                 "--weight", "synflow=0", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "fused ws, nwot, params" in printed
    back = LookupTable.load(out)
    assert back.meta["weights"] == {"ws": 0.5, "nwot": 1.0, "params": 1.0} and back.hardware_columns == []
    r = back.meta["signal_redundancy"]["ws"]  # the completed ws against the fusion of nwot and params
    assert -1 <= r <= 1 and f"ws: its completion correlates at r = {r:.2f}" in printed
    assert main(["fit", "--proxies", str(tmp_path / "missing.csv"), "--out", str(out)]) == 2
    assert "missing.csv" in capsys.readouterr().err
    assert main(["fit", "--ws", str(tmp_path / "ws.csv"), "--proxies", str(px), "--weight", "ws", "--out", str(out)]) == 2
    assert "NAME=VALUE" in capsys.readouterr().err
    assert main(["fit", "--out", str(out)]) == 2
    assert "--ws" in capsys.readouterr().err


def test_calibrated_spread_covers_the_reference_rows() -> None:
    rng = np.random.default_rng(5)
    spread = np.where(DEG, np.nan, rng.uniform(0.2, 1.0, NUM_ARCHS))
    idx = rng.choice(LIVE, 400, replace=False)
    pred = rng.uniform(80, 90, NUM_ARCHS)
    ref = pred[idx] + 3.0 * spread[idx] * rng.normal(size=idx.size)  # errors grow with the spread
    std = calibrated_spread(spread, idx, pred[idx], ref)
    inside = np.abs(ref - pred[idx]) <= std[idx]
    assert abs(inside.mean() - 0.683) < 0.01 and np.isnan(std[DEG]).all()
    np.testing.assert_allclose(std[LIVE] / spread[LIVE], std[idx[0]] / spread[idx[0]])  # one factor
    assert 2.0 < std[idx[0]] / spread[idx[0]] < 4.0  # about the true 3 (|N(0,1)| 68% quantile = 1)
    assert calibrated_spread(spread, idx[:2], pred[idx[:2]], ref[:2]) is None


def test_conformal_factor_is_the_finite_sample_order_statistic() -> None:
    r = np.arange(20.0, 0.0, -1.0)  # 20 ratios 1..20, unsorted
    assert conformal_factor(r) == 15.0  # ceil(21 * 0.683) = 15th smallest
    assert conformal_factor(np.array([3.0, 1.0])) == 3.0  # ceil(3 * 0.683) = 3 > n: the largest
    assert conformal_factor(np.arange(1.0, 11.0), coverage=0.5) == 6.0  # ceil(11 * 0.5) = 6
    with pytest.raises(ValueError, match="at least one"):
        conformal_factor(np.array([]))
    # weighted: the smallest ratio whose weight share reaches 0.683 (n + 1) / n = 0.854 for n = 4
    r = np.array([1.0, 2.0, 3.0, 4.0])
    assert conformal_factor(r, weights=np.ones(4)) == 4.0 == conformal_factor(r)
    assert conformal_factor(r, weights=np.array([97.0, 1.0, 1.0, 1.0])) == 1.0
    assert conformal_factor(r, weights=np.array([1.0, 1.0, 97.0, 1.0])) == 3.0


def test_rank_weights_are_the_share_of_the_ranking_each_cell_stands_for() -> None:
    n = LIVE.size
    score = np.arange(NUM_ARCHS, dtype=np.float64)  # ranks among the live cells follow LIVE's order
    idx = LIVE[[n - 1, 0, 1, 10]]  # ranks n-1, 0, 1, 10, unsorted
    w = rank_weights(score, idx)
    want = [n - 0.5 - (10 + n - 1) / 2, 1.0, 5.0, (10 + n - 1) / 2 - 5.5]
    np.testing.assert_allclose(w, want)
    assert w.sum() == pytest.approx(n)


def test_calibrated_spread_on_the_log_error_scale() -> None:
    # errors of a true-accuracy table grow as the accuracy falls: equal on the log-error scale
    rng = np.random.default_rng(7)
    spread = np.where(DEG, np.nan, rng.uniform(0.5, 1.0, NUM_ARCHS))
    acc = np.where(DEG, 10.0, rng.uniform(50, 94, NUM_ARCHS))
    true = from_logerr(logerr(acc) + 0.2 * spread * rng.normal(size=NUM_ARCHS))
    idx = rng.choice(LIVE, 300, replace=False)
    std = calibrated_spread(spread, idx, acc[idx], true[idx], acc_space=acc)
    k = std[LIVE] / (spread[LIVE] * (100.0 - acc[LIVE]))
    np.testing.assert_allclose(k, k[0])  # one factor on the log-error scale
    assert 0.15 < k[0] < 0.25  # about the true 0.2
    inside = np.abs(true[LIVE] - acc[LIVE]) <= std[LIVE]  # on the whole space, not only the 300
    assert abs(inside.mean() - 0.683) < 0.04 and np.isnan(std[DEG]).all()


def test_fused_tables_carry_a_calibrated_pred_std(tmp_path) -> None:
    rng = np.random.default_rng(6)
    px, ws = _fused_inputs(tmp_path, rng, 200)
    ws_rows = ws["index"].to_numpy()
    t = fit_table(ws, model="ridge", proxies=px, seed=0)
    d = t.df
    assert (d.loc[LIVE, "pred_std"] > 0).all() and d.loc[DEG, "pred_std"].isna().all()
    inside = (np.abs(d.loc[ws_rows, "pred_acc"] - ws["ws_acc"].to_numpy()) <= d.loc[ws_rows, "pred_std"]).mean()
    assert abs(inside - 0.683) < 0.02 and "sampled weight-sharing" in t.meta["pred_std"]
    # the std follows the signals' disagreement: cells where synflow (noise) and nwot disagree most are widest
    z = t.df[[f"{SIGNAL_PREFIX}nwot", f"{SIGNAL_PREFIX}synflow"]].to_numpy()
    gap = np.abs(z[:, 0] - z[:, 1])[LIVE]
    assert kendalltau(gap, d.loc[LIVE, "pred_std"])[0] > 0.3
    true = 85 + 8 * (PARAMS - PARAMS.min()) / np.ptp(PARAMS)
    lm = pd.DataFrame({"index": rng.choice(LIVE, 20, replace=False)})
    lm["true_acc"] = true[lm["index"]]
    with_lm = fit_table(ws, model="ridge", proxies=px, seed=0, landmarks=lm)
    others = np.setdiff1d(LIVE, lm["index"])  # the landmarks' own rows are measured: std 0
    assert (with_lm.df.loc[others, "pred_std"] > 0).all() and "landmarks" in with_lm.meta["pred_std"]
    assert with_lm.meta["landmark_map"] == "isotonic" and list(with_lm.meta["landmark_coefficients"]) == ["fused"]
    only = fit_table(None, proxies=px, seed=0)  # a normal score has no accuracy scale to put a std on
    assert only.df["pred_std"].isna().all() and "no accuracy scale" in only.meta["pred_std"]


def test_the_head_is_ordered_by_the_head_signals_and_stays_on_top() -> None:
    rng = np.random.default_rng(7)
    sig = pd.DataFrame({"nwot": np.where(DEG, np.nan, rng.normal(size=NUM_ARCHS)),
                        "synflow": np.where(DEG, np.nan, rng.normal(size=NUM_ARCHS))})
    plain = FusionPredictor(head_fraction=0.0).fit(sig)
    assert np.array_equal(plain.ranked_, plain.fused_, equal_nan=True) and not plain.head_.any()
    f = FusionPredictor(head_fraction=0.1).fit(sig)
    assert f.head_weights_ == {"synflow": 1.0}  # ws and jacov are absent; nwot is not a head signal
    head = np.flatnonzero(f.head_)
    assert head.size == round(0.1 * LIVE.size)
    assert np.array_equal(head, np.sort(np.argsort(-np.nan_to_num(f.fused_, nan=-np.inf))[:head.size]))
    s = f.score_space()
    rest = np.setdiff1d(LIVE, head)
    assert s[head].min() >= s[rest].max()  # the head keeps its place above the rest ...
    assert np.array_equal(s[rest], f.fused_[rest])  # ... the rest keeps the fused score ...
    assert kendalltau(s[head], f.signal_scores_["synflow"].to_numpy()[head])[0] == pytest.approx(1.0)  # ... head by synflow
    np.testing.assert_array_equal(np.sort(s[head]), np.sort(f.fused_[head]))  # same values, re-ordered
    by_nwot = FusionPredictor(head_fraction=0.1, head_weights={"nwot": 1.0}).fit(sig).score_space()
    assert kendalltau(by_nwot[head], sig["nwot"].to_numpy()[head])[0] == pytest.approx(1.0)
    for bad in ({"head_fraction": 1.0}, {"head_fraction": -0.1}, {"head_weights": {"synflow": -1.0}}):
        with pytest.raises(ValueError, match="head"):
            FusionPredictor(**bad).fit(sig)


def test_fit_cli_head_options(tmp_path, capsys) -> None:
    rng = np.random.default_rng(8)
    px = _proxy_file(tmp_path, LIVE, {"nwot": PARAMS[LIVE] + rng.normal(0, 0.1, LIVE.size),
                                      "synflow": rng.normal(size=LIVE.size)})
    out = tmp_path / "t.csv"
    assert main(["fit", "--proxies", str(px), "--head-fraction", "0.05", "--head-weight", "nwot=2",
                 "--out", str(out)]) == 0
    capsys.readouterr()
    m = LookupTable.load(out).meta
    assert m["head_fraction"] == 0.05 and m["head_weights"] == {"nwot": 2.0} and m["head_size"] == round(0.05 * LIVE.size)
    assert main(["fit", "--proxies", str(px), "--head-fraction", "1.5", "--out", str(out)]) == 2
    assert "--head-fraction must be in [0, 1)" in capsys.readouterr().err
    assert main(["fit", "--proxies", str(px), "--head-weight", "synflow", "--out", str(out)]) == 2
    assert "--head-weight takes NAME=VALUE" in capsys.readouterr().err


def test_fit_cli_landmark_map(tmp_path, capsys) -> None:
    rng = np.random.default_rng(10)
    px, ws = _fused_inputs(tmp_path, rng, 150)
    ws.to_csv(tmp_path / "ws.csv", index=False)
    lm = pd.DataFrame({"index": rng.choice(LIVE, 12, replace=False)})
    lm["true_acc"] = 80 + 10 * PARAMS[lm["index"]] + rng.normal(0, 0.5, 12)
    lm.to_csv(tmp_path / "lm.csv", index=False)
    out = tmp_path / "t.csv"
    base = ["fit", "--ws", str(tmp_path / "ws.csv"), "--proxies", str(px), "--model", "ridge", "--out", str(out)]
    lines = {}
    for kind in LANDMARK_MAPS:  # the parser takes every map the fusion has
        assert main([*base, "--landmarks", str(tmp_path / "lm.csv"), "--landmark-map", kind]) == 0
        t = LookupTable.load(out)
        assert t.meta["landmark_map"] == kind
        lines[kind] = t.df["pred_acc"].to_numpy()
    assert list(LookupTable.load(out).meta["landmark_coefficients"]) == ["fused", "ws", "nwot", "synflow", "params",
                                                                        "ws_lm"]  # signals: a coefficient each
    assert not np.allclose(lines["isotonic"], lines["linear"])
    capsys.readouterr()
    assert main([*base, "--landmark-map", "linear"]) == 2  # no landmarks: nothing to map
    assert "--landmark-map maps a fused table onto its landmarks' accuracy: give --proxies and --landmarks" in \
        capsys.readouterr().err
    with pytest.raises(ValueError, match="landmark_map applies to a fused table fitted with landmarks"):
        fit_table(ws, model="ridge", proxies=px, landmark_map="linear")
    with pytest.raises(SystemExit):
        main([*base, "--landmarks", str(tmp_path / "lm.csv"), "--landmark-map", "spline"])
    assert "invalid choice: 'spline'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="landmark_map must be one of isotonic, linear, signals"):
        fit_table(ws, model="ridge", proxies=px, landmarks=lm, landmark_map="spline")


def test_landmark_rows_hold_their_measured_accuracy(tmp_path) -> None:
    rng = np.random.default_rng(9)
    px, ws = _fused_inputs(tmp_path, rng, 150, synflow=False)
    lm = pd.DataFrame({"index": rng.choice(LIVE, 12, replace=False)})
    lm["true_acc"] = rng.uniform(85, 95, 12)  # values no model would predict: they must appear as given
    for kw in ({"proxies": px}, {"model": "ridge"}):
        t = fit_table(ws, seed=0, landmarks=lm, **({"model": "ridge"} | kw))
        rows = t.df.set_index("index").loc[lm["index"]]
        np.testing.assert_allclose(rows["pred_acc"], lm["true_acc"])
        assert (rows["pred_std"].fillna(0.0) == 0).all() and "measured" in t.meta["landmark_rows"]
        others = t.df.drop(index=lm["index"])
        assert not np.isin(others["pred_acc"], lm["true_acc"]).any()
    assert "landmark_rows" not in fit_table(ws, model="ridge", seed=0).meta


def test_a_measured_landmark_wins_a_tie_with_a_prediction(tmp_path) -> None:
    from predictor.table.fit import MEASURED_TIE, _measured
    rng = np.random.default_rng(4)
    px, ws = _fused_inputs(tmp_path, rng, 150, synflow=False)
    lm = pd.DataFrame({"index": rng.choice(LIVE, 12, replace=False)})
    lm["true_acc"] = rng.uniform(85, 94, 12)
    t = fit_table(ws, seed=0, landmarks=lm, proxies=px)
    free = np.ones(NUM_ARCHS, bool)
    free[lm["index"]] = False
    free &= ~DEG
    pred = t.df["pred_acc"].to_numpy()
    assert np.all(pred[DEG] == 10.0)
    # the tie case: an unmeasured cell predicted 5e-5 points above the best landmark (the isotonic map's
    # flat upper tail and its tie-breaking slope) ranks below it; the unmeasured order is kept
    best = int(lm["index"][lm["true_acc"].idxmax()])
    raw = np.where(DEG, 10.0, rng.uniform(80, 90, NUM_ARCHS))
    a, b = np.flatnonzero(free)[:2]
    raw[a], raw[b] = lm["true_acc"].max() + 5e-5, lm["true_acc"].max() + 3e-5
    out, _ = _measured(raw, None, (lm["index"].to_numpy(), lm["true_acc"].to_numpy()))
    assert np.argmax(out) == best and out[a] > out[b] > out[best] - MEASURED_TIE
    np.testing.assert_allclose(out[free], raw[free] - MEASURED_TIE)
    np.testing.assert_array_equal(out[DEG], 10.0)
    far, _ = _measured(np.where(free, raw + 1e-3, raw), None, (lm["index"].to_numpy(), lm["true_acc"].to_numpy()))
    assert np.argmax(far) == a  # a prediction beyond the margin still ranks first
    assert np.isin(pred[~free & ~DEG], lm["true_acc"]).all()


def test_spread_penalty_ranks_agreed_cells_above_disputed_ones(tmp_path, capsys) -> None:
    rng = np.random.default_rng(9)
    a, b = (np.where(DEG, np.nan, rng.normal(size=NUM_ARCHS)) for _ in range(2))
    sig = pd.DataFrame({"nwot": a, "synflow": b})
    plain = FusionPredictor(head_fraction=0.0, spread_penalty=0.0).fit(sig)
    f = FusionPredictor(head_fraction=0.0, spread_penalty=0.5).fit(sig)
    assert FusionPredictor().spread_penalty == DEFAULT_SPREAD_PENALTY == 0.5
    Z = f.signal_scores_.to_numpy()
    mean = Z.mean(axis=1)
    np.testing.assert_allclose(f.spread_[LIVE], np.abs(Z[LIVE, 0] - Z[LIVE, 1]) / 2)  # two equal weights
    np.testing.assert_allclose(f.fused_[LIVE], mean[LIVE] - 0.5 * f.spread_[LIVE])
    np.testing.assert_allclose(plain.fused_[LIVE], mean[LIVE])  # 0 is the plain mean
    np.testing.assert_array_equal(f.spread_, plain.spread_)
    agreed, disputed = LIVE[0], LIVE[1]  # both signals rate one cell good (z 1.2); one alone rates the other best
    toy = sig.copy()
    toy.loc[agreed] = [1.2, 1.2]
    toy.loc[disputed] = [10.0, np.nanmedian(b)]
    s0 = FusionPredictor(head_fraction=0.0, spread_penalty=0.0).fit(toy).score_space()
    s = FusionPredictor(head_fraction=0.0, spread_penalty=0.5).fit(toy).score_space()
    assert s0[disputed] > s0[agreed] and s[agreed] > s[disputed]
    for bad in (-0.1, np.inf, np.nan):
        with pytest.raises(ValueError, match="spread_penalty must be a finite number >= 0"):
            FusionPredictor(spread_penalty=bad).fit(sig)
    px = _proxy_file(tmp_path, LIVE, {"nwot": a[LIVE], "synflow": b[LIVE]})
    out = tmp_path / "t.csv"
    assert main(["fit", "--proxies", str(px), "--spread-penalty", "0.5", "--head-fraction", "0", "--no-params", "--out", str(out)]) == 0
    t = LookupTable.load(out)
    assert t.meta["spread_penalty"] == 0.5
    assert kendalltau(t.df["pred_acc"].to_numpy()[LIVE], f.fused_[LIVE])[0] == pytest.approx(1.0)
    assert main(["fit", "--proxies", str(px), "--spread-penalty", "0", "--no-params", "--out", str(out)]) == 0
    assert LookupTable.load(out).meta["spread_penalty"] == 0.0
    assert main(["fit", "--proxies", str(px), "--spread-penalty", "-1", "--out", str(out)]) == 2
    assert "--spread-penalty must be a finite number >= 0" in capsys.readouterr().err
    with pytest.raises(ValueError, match="spread_penalty applies to a fused table"):
        fit_table(pd.DataFrame({"index": LIVE[:50], "ws_acc": 80.0 + rng.normal(size=50)}), model="ridge", spread_penalty=0.5)


def test_completion_sees_the_whole_space_signals_as_side_features() -> None:
    """A partial signal that follows a full one the cell graph cannot predict (noise drawn per isomorphism
    class) is completed well only when the GCN sees the full signal (its side features)."""
    rng = np.random.default_rng(3)
    ids = iso_ids()
    r = rng.normal(size=int(ids.max()) + 1)[ids]
    ws = np.full(NUM_ARCHS, np.nan)
    seen = rng.choice(LIVE, 400, replace=False)
    ws[seen] = 80 + 5 * r[seen]
    sig = pd.DataFrame({"ws": ws, "full": r})
    unseen = np.setdiff1d(LIVE, seen)
    taus = {}
    for side in (True, False):
        f = FusionPredictor(completion_params={"max_epochs": 40, "n_ensemble": 1}, completion_side=side, random_state=0)
        f.fit(sig)
        assert f.side_signals_ == (["full"] if side else [])
        got = f.completers_["ws"].side_features
        assert (got is None) != side and (not side or got.shape == (NUM_ARCHS, 1))
        taus[side] = kendalltau(f.signal_scores_["ws"].to_numpy()[unseen], r[unseen])[0]
    assert taus[True] > 0.6 and abs(taus[False]) < 0.2, taus
    # a model without side features (ridge) completes as before; a bad side array is refused
    assert FusionPredictor(completion="ridge").fit(sig).side_signals_ == []
    with pytest.raises(ValueError, match="side_features must be"):
        GCNPredictor(side_features=np.zeros((10, 2)), max_epochs=1).fit(LIVE[:30], np.arange(30.0))


def test_redundancy_says_how_much_a_completed_signal_repeats_the_full_ones() -> None:
    rng = np.random.default_rng(5)
    seen = rng.choice(LIVE, 400, replace=False)
    full = PARAMS + rng.normal(0, 0.05, NUM_ARCHS)
    copy, other = np.full(NUM_ARCHS, np.nan), np.full(NUM_ARCHS, np.nan)
    copy[seen] = 80 + 5 * PARAMS[seen]
    other[seen] = rng.normal(size=seen.size)  # nothing the full signal (or the graph) knows
    f = FusionPredictor(completion="ridge").fit(pd.DataFrame({"copy": copy, "other": other, "full": full}))
    assert set(f.redundancy_) == {"copy", "other"}
    assert f.redundancy_["copy"] > 0.9 > 0.5 > f.redundancy_["other"], f.redundancy_
    z = f.signal_scores_.loc[LIVE]  # by hand: the completion against the (here single) full signal's fusion
    assert f.redundancy_["other"] == pytest.approx(np.corrcoef(z["other"], z["full"])[0, 1], abs=1e-12)
    assert FusionPredictor(completion="ridge").fit(pd.DataFrame({"copy": copy})).redundancy_ == {}  # nothing to compare
