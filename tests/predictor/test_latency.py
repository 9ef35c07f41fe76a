"""Latency: resumable measurement of the space on this machine, latency predictor, filling a subset device."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

import supernet.costs as costs
from predictor import graphs as G
from predictor import latency as L
from predictor.latency import measure as latency_measure
from predictor.latency import predict as latency_predict
from predictor.latency.predict import _split_by_class as split_by_class
from predictor.truth import load_hardware
from supernet.space import NUM_ARCHS, degenerate_mask, iso_ids, ops_matrix

TINY = dict(C=4, N=1, warmup=0, repeats=1, progress=False)


@pytest.fixture
def fake_timer(monkeypatch):
    """Replace the real timer: latency = 1 + index / 1000 ms; records the architectures timed."""
    calls: list[int] = []

    def fake(arch, *args, **kwargs):
        calls.append(int(arch))
        v = 1.0 + int(arch) / 1000
        return {"median_ms": v, "mean_ms": v, "std_ms": 0.0, "min_ms": v, "p90_ms": v}

    monkeypatch.setattr(latency_measure, "measure_latency", fake)
    return calls


def test_measure_copies_to_iso_members_and_records_machine(tmp_path, fake_timer):
    out = tmp_path / "lat.csv"
    t = L.measure_space_latency(out, limit=40, **TINY)
    assert len(fake_timer) == 40 and len(set(fake_timer)) == 40
    reps = L.iso_representatives()
    assert set(fake_timer) <= set(reps.tolist())  # one representative per class
    iso = iso_ids()
    measured_classes = set(iso[fake_timer].tolist())
    assert set(iso[t["index"]].tolist()) == measured_classes
    assert len(t) == int(np.isin(iso, list(measured_classes)).sum())  # every member of every measured class
    col = "local_cpu_latency_ms"
    for cls, grp in t.groupby(iso[t["index"].to_numpy()]):
        rep = int(reps[cls])
        assert np.allclose(grp[col].to_numpy(), 1.0 + rep / 1000)
    back = load_hardware(out, subset=True)  # a valid hardware table
    assert list(back.columns) == ["index", "arch_str", col]
    meta = json.loads((tmp_path / "lat.csv.json").read_text())
    for key in ("cpu_model", "threads", "torch_version", "logical_cpus"):
        assert key in meta["machine"]
    assert meta["measured"] == 40 and meta["of"] == len(reps) and meta["complete"] is False
    assert meta["settings"]["batch_size"] == 1 and meta["settings"]["threads"] == 1


def test_measure_random_order_is_a_seeded_uniform_prefix(tmp_path, fake_timer):
    L.measure_space_latency(tmp_path / "a.csv", limit=30, seed=3, **TINY)
    first = list(fake_timer)
    fake_timer.clear()
    L.measure_space_latency(tmp_path / "b.csv", limit=30, seed=3, **TINY)
    assert fake_timer == first
    fake_timer.clear()
    L.measure_space_latency(tmp_path / "c.csv", limit=30, order="index", **TINY)
    assert fake_timer == sorted(L.iso_representatives().tolist())[:30]


def test_measure_resumes_and_extends(tmp_path, fake_timer):
    out = tmp_path / "lat.csv"
    L.measure_space_latency(out, limit=10, **TINY)
    L.measure_space_latency(out, limit=25, **TINY)
    assert len(fake_timer) == 25 and len(set(fake_timer)) == 25  # nothing timed twice
    part = pd.read_csv(tmp_path / "lat.partial.csv")
    assert len(part) == 25
    with pytest.raises(ValueError, match="other settings"):
        L.measure_space_latency(out, limit=30, **{**TINY, "repeats": 5})
    fake_timer.clear()
    L.measure_space_latency(out, limit=5, resume=False, **TINY)
    assert len(fake_timer) == 5 and len(pd.read_csv(tmp_path / "lat.partial.csv")) == 5


def test_measure_statistic_min_rewrites_without_remeasuring(tmp_path, monkeypatch):
    def timer(arch, *a, **k):
        return {"median_ms": 5.0, "mean_ms": 5.0, "std_ms": 1.0, "min_ms": 3.0, "p90_ms": 6.0}

    monkeypatch.setattr(latency_measure, "measure_latency", timer)
    out = tmp_path / "lat.csv"
    assert (L.measure_space_latency(out, limit=4, **TINY)["local_cpu_latency_ms"] == 5.0).all()

    def fail(*a, **k):
        raise AssertionError("nothing should be re-measured")

    monkeypatch.setattr(latency_measure, "measure_latency", fail)
    t = L.measure_space_latency(out, limit=4, statistic="min", **TINY)
    assert (t["local_cpu_latency_ms"] == 3.0).all()
    assert json.loads((tmp_path / "lat.csv.json").read_text())["statistic"] == "min"
    with pytest.raises(ValueError, match="statistic"):
        L.measure_space_latency(out, statistic="mean", **TINY)


def test_measure_interrupted_then_resumed(tmp_path, monkeypatch):
    n = {"calls": 0}

    def flaky(arch, *a, **k):
        n["calls"] += 1
        if n["calls"] == 4:
            raise KeyboardInterrupt
        return {"median_ms": 2.0, "mean_ms": 2.0, "std_ms": 0.0, "min_ms": 2.0, "p90_ms": 2.0}

    monkeypatch.setattr(latency_measure, "measure_latency", flaky)
    out = tmp_path / "lat.csv"
    with pytest.raises(KeyboardInterrupt):
        L.measure_space_latency(out, limit=8, **TINY)
    assert len(pd.read_csv(tmp_path / "lat.partial.csv")) == 3
    assert json.loads((tmp_path / "lat.csv.json").read_text())["interrupted"] is True
    # a line cut short by the interruption is dropped and re-measured
    with open(tmp_path / "lat.partial.csv", "a") as fh:
        fh.write("123,45,1.")
    L.measure_space_latency(out, limit=8, **TINY)
    assert n["calls"] == 4 + 5
    assert json.loads((tmp_path / "lat.csv.json").read_text())["measured"] == 8


def test_measure_every_architecture_when_not_iso_only(tmp_path, fake_timer):
    t = L.measure_space_latency(tmp_path / "all.csv", limit=12, iso_only=False, **TINY)
    assert len(t) == 12 and sorted(t["index"].tolist()) == sorted(fake_timer)


def test_measure_real_timer_including_a_degenerate_cell(tmp_path):
    """The real timer on a tiny network: positive finite times, degenerate cells measured (not NaN)."""
    deg = np.flatnonzero(degenerate_mask())
    reps = L.iso_representatives()
    assert np.isin(reps, deg).any()
    t = L.measure_space_latency(tmp_path / "r.csv", limit=6, order="index", **TINY)
    v = t["local_cpu_latency_ms"].to_numpy()
    assert np.isfinite(v).all() and (v > 0).all() and (v < 1000).all()
    one_deg = int(reps[np.isin(reps, deg)][0])
    r = costs.measure_latency(one_deg, C=4, N=1, warmup=0, repeats=2)
    assert r["median_ms"] > 0


def test_measure_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="order"):
        L.measure_space_latency(tmp_path / "x.csv", order="sorted", **TINY)
    with pytest.raises(ValueError, match="limit"):
        L.measure_space_latency(tmp_path / "x.csv", limit=0, **TINY)
    with pytest.raises(ValueError, match="name"):
        L.measure_space_latency(tmp_path / "x.csv", name="my cpu", **TINY)


# ----------------------------------------------------------------------------- predictor
def synthetic_latency(idx: np.ndarray, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """Per-op cost on live edges plus a base: a device that prunes dead edges."""
    from predictor.graphs import live_matrix

    cost = np.array([0.0, 0.1, 0.6, 2.0, 0.4])
    codes = ops_matrix()[idx].astype(int)
    y = 1.0 + (cost[codes] * live_matrix()[idx]).sum(1)
    return y * np.exp(np.random.default_rng(seed).normal(0, noise, idx.size))


def test_latency_features_shape_and_content():
    X = L.latency_features(np.array([0, 1, 2]))
    assert X.shape == (3, 71)
    assert np.array_equal(X[:, 30:60], G.onehot_ops(np.array([0, 1, 2]), prune=True))  # live edges only
    assert (X[:, :30].reshape(3, 6, 5).sum(2) == 1).all()  # one op per edge
    counts = X[:, 60:65]
    assert (counts == np.stack([(ops_matrix()[i] == np.arange(5)[:, None]).sum(1) for i in [0, 1, 2]])).all()


@pytest.mark.parametrize("model", ["ridge", "gbr"])
def test_predictor_learns_additive_latency(model):
    rng = np.random.default_rng(0)
    idx = rng.choice(NUM_ARCHS, 1200, replace=False)
    y = synthetic_latency(idx, noise=0.02)
    r = L.evaluate_latency_predictor(idx, y, model, n_train=800, seed=0)
    assert r["n_train"] >= 800 and r["n_train"] + r["n_test"] == 1200
    assert 0 < r["n_test_classes"] <= r["n_test"] and r["within_10pct_per_class"] > 0.9
    assert r["within_10pct"] > 0.9 and r["kendall_tau"] > 0.8
    est = L.LatencyPredictor(model=model).fit(idx, y)
    p = est.predict(np.arange(NUM_ARCHS))
    assert p.shape == (NUM_ARCHS,) and (p > 0).all()
    assert L.within(p, synthetic_latency(np.arange(NUM_ARCHS))) > 0.9


def test_predictor_errors():
    with pytest.raises(ValueError, match="unknown latency model"):
        L.LatencyPredictor(model="svm").fit([0, 1, 2], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="> 0"):
        L.LatencyPredictor(model="gbr").fit([0, 1, 2], [1.0, 0.0, 3.0])
    assert L.LatencyPredictor(model="ridge").fit([0, 1, 2], [1.0, 0.0, 3.0]).log_target_ is False
    with pytest.raises(NotFittedError, match="not fitted"):
        L.LatencyPredictor().predict([0])


def test_split_keeps_isomorphism_classes_on_one_side():
    idx = np.arange(NUM_ARCHS)
    tr, te = split_by_class(idx, 2000, np.random.default_rng(0))
    iso = iso_ids()
    assert not set(iso[tr]) & set(iso[te])
    assert 2000 <= tr.sum() < 2000 + np.bincount(iso).max()


def test_fill_latency_keeps_measured_and_fills_the_rest():
    rng = np.random.default_rng(1)
    idx = np.sort(rng.choice(NUM_ARCHS, 900, replace=False))
    y = synthetic_latency(idx)
    df = pd.DataFrame({"index": idx, "edge_latency_ms": y})
    res = L.fill_latency(df, "edge", model="ridge", evaluate=True)  # device name resolves to the column
    out = res.df
    assert len(out) == NUM_ARCHS and list(out["index"]) == list(range(NUM_ARCHS))
    assert np.array_equal(out["edge_latency_ms"].to_numpy()[idx], y)  # measured values kept exactly
    assert res.measured.sum() == 900 and res.info["n_filled"] == NUM_ARCHS - 900
    assert np.isfinite(out["edge_latency_ms"]).all()
    assert L.within(out["edge_latency_ms"].to_numpy(), synthetic_latency(np.arange(NUM_ARCHS))) > 0.9
    assert res.holdout is not None and res.holdout["within_10pct"] > 0.9
    with pytest.raises(ValueError, match="need at least 2"):
        L.fill_latency(df.assign(edge_latency_ms=np.nan), "edge_latency_ms")


def test_gcn_latency_model_fits_and_predicts():
    rng = np.random.default_rng(2)
    idx = rng.choice(NUM_ARCHS, 400, replace=False)
    y = synthetic_latency(idx)
    est = L.LatencyPredictor(model="gcn", gcn_epochs=150, gcn_ensemble=1, gcn_hidden=32).fit(idx, y)
    test = rng.choice(NUM_ARCHS, 500, replace=False)
    p = est.predict(test)
    assert p.shape == (500,) and (p > 0).all()
    # an additive, noise-free latency: within +-10% almost everywhere (0.99; with the accuracy GCN's
    # weight decay 0.1 instead of the latency model's own 1e-4 it was 0.87)
    assert np.mean(np.abs(p / synthetic_latency(test) - 1) <= 0.1) > 0.95


def test_real_subset_device_prediction(data_file):
    hw = pd.read_csv(data_file("nb201/nb201_hw_latency.csv.gz"), usecols=["index", "hwnb_c10_edgetpu_latency_ms"])
    hw = hw[hw["hwnb_c10_edgetpu_latency_ms"].notna()]
    assert len(hw) == 1740
    r = L.evaluate_latency_predictor(hw["index"].to_numpy(), hw["hwnb_c10_edgetpu_latency_ms"].to_numpy(), "ridge", 0.8)
    assert r["within_10pct"] > 0.9 and r["kendall_tau"] > 0.8  # measured: 0.99, 0.93


def test_per_class_metric_counts_each_class_once(monkeypatch):
    """A big class predicted badly weighs once in the per-class figure, once per member in the row figure."""
    iso = iso_ids()
    big = int(np.bincount(iso).argmax())
    members = np.flatnonzero(iso == big)
    others = np.flatnonzero(iso != big)[:300]
    idx = np.concatenate([members, others])
    y = np.ones(idx.size)

    class Const:
        model = "const"
        fit_seconds_ = 0.0

        def fit(self, a, b):
            return self

        def predict(self, a):  # right on every class but the big one
            return np.where(iso[np.asarray(a)] == big, 2.0, 1.0)

    monkeypatch.setattr(latency_predict, "_split_by_class", lambda i, n, rng: (np.zeros(i.size, bool) | (np.arange(i.size) >= idx.size - 50),
                                                                 np.arange(i.size) < idx.size - 50))
    r = L.evaluate_latency_predictor(idx, y, Const(), 0.5)
    n_classes = r["n_test_classes"]
    assert r["within_10pct"] == pytest.approx(1 - members.size / r["n_test"])
    assert r["within_10pct_per_class"] == pytest.approx(1 - 1 / n_classes)


def test_fill_latency_file_and_search_read_table(tmp_path):
    from predictor import search as S

    rng = np.random.default_rng(4)
    idx = np.sort(rng.choice(NUM_ARCHS, 600, replace=False))
    src = tmp_path / "lat.csv"
    pd.DataFrame({"index": idx, "dev_latency_ms": synthetic_latency(idx)}).to_csv(src, index=False)
    out = tmp_path / "filled.csv.gz"
    res = L.fill_latency_file(src, out, model="ridge")
    back = pd.read_csv(out)
    assert len(back) == NUM_ARCHS and back["dev_latency_measured"].sum() == 600
    assert np.allclose(back.loc[idx, "dev_latency_ms"], synthetic_latency(idx))
    meta = json.loads((tmp_path / "filled.csv.gz.json").read_text())
    assert meta["n_filled"] == NUM_ARCHS - 600 and meta["holdout"]["within_10pct"] > 0.9
    assert res.info["model"] == "ridge"
    # search over a table plus the extra filled file: every pick satisfies the bound
    base = tmp_path / "base.csv"
    pd.DataFrame({"index": np.arange(NUM_ARCHS), "score": rng.normal(size=NUM_ARCHS)}).to_csv(base, index=False)
    t = S.read_table(base, extra=[out])
    top = S.top_k(t, "score", ["dev<=3"], k=5)
    assert (top["dev_latency_ms"] <= 3).all() and len(top) == 5
    with pytest.raises(S.SearchError, match="already in"):
        S.read_table(out, extra=[out])
