"""Architecture samplers: each draws the distribution it claims (fixed seeds, chi-square / exact checks)."""

from __future__ import annotations

import json
import logging
import random

import numpy as np
import pytest
from scipy import stats

from supernet.sampling import (
    SAMPLERS,
    ArchSampler,
    FixedSetSampler,
    IndependentRounds,
    RepeatSampler,
    SizeProportionalSampler,
    UniformSampler,
    make_sampler,
)
from supernet.space import NUM_ARCHS, OPS, Arch, degenerate_mask, ops_matrix

M = ops_matrix().astype(np.int64)
N3 = (M == OPS.index("nor_conv_3x3")).sum(1)
N1 = (M == OPS.index("nor_conv_1x1")).sum(1)
PARAMS = 73306 + 243040 * N3 + 28000 * N1  # stand-alone C=16, N=5 network, 10 classes
DEG = degenerate_mask()


def chi2_p(idx: np.ndarray, p: np.ndarray, support: np.ndarray | None = None) -> float:
    """p-value of a chi-square goodness-of-fit test of sampled indices against probabilities p."""
    counts = np.bincount(idx, minlength=NUM_ARCHS).astype(np.float64)
    keep = p > 0 if support is None else support
    assert counts[~keep].sum() == 0, "sampled outside the support"
    exp = p[keep] / p[keep].sum() * len(idx)
    return float(stats.chisquare(counts[keep], exp).pvalue)


# ---------------------------------------------------------------------------------------------- uniform
def test_uniform_is_uniform_over_all_15625():
    s = UniformSampler(exclude_degenerate=False)
    idx = s.sample_indices(np.random.default_rng(0), 100 * NUM_ARCHS)
    assert chi2_p(idx, np.full(NUM_ARCHS, 1 / NUM_ARCHS)) > 1e-3
    assert DEG[idx].mean() == pytest.approx(341 / NUM_ARCHS, abs=0.001)
    # each edge op uniform and the edges independent (pairwise table of edges 0 and 5)
    ops = M[idx]
    for e in range(6):
        assert stats.chisquare(np.bincount(ops[:, e], minlength=5)).pvalue > 1e-3
    table = np.histogram2d(ops[:, 0], ops[:, 5], bins=5)[0]
    assert stats.chi2_contingency(table).pvalue > 1e-3
    np.testing.assert_allclose(s.probabilities(), 1 / NUM_ARCHS)


def test_uniform_excluding_degenerate():
    s = UniformSampler()
    idx = s.sample_indices(np.random.default_rng(1), 1_500_000)
    assert len(idx) == 1_500_000 and not DEG[idx].any()
    p = s.probabilities()
    assert (p[DEG] == 0).all() and p[~DEG] == pytest.approx(1 / 15284)
    assert chi2_p(idx, p) > 1e-3
    # single draws: same support, never degenerate
    rng = np.random.default_rng(2)
    archs = [s.sample(rng) for _ in range(2000)]
    assert all(isinstance(a, Arch) and not a.is_degenerate for a in archs)
    assert len({a.index for a in archs}) > 1800


def test_chi_square_check_has_power():
    """The goodness-of-fit check used here rejects a wrong distribution (it is not vacuous)."""
    idx = SizeProportionalSampler(PARAMS.astype(float)).sample_indices(np.random.default_rng(0), 1_500_000)
    assert chi2_p(idx, UniformSampler().probabilities()) < 1e-12


# ---------------------------------------------------------------------------------------------- size
def test_size_proportional_frequencies():
    s = SizeProportionalSampler(PARAMS.astype(float))
    n = 2_000_000
    idx = s.sample_indices(np.random.default_rng(3), n)
    p = np.where(DEG, 0, PARAMS) / PARAMS[~DEG].sum()
    np.testing.assert_allclose(s.probabilities(), p)
    assert chi2_p(idx, p) > 1e-3
    # grouped by (n_conv3x3, n_conv1x1): tight check of the size effect
    g = N3 * 7 + N1
    obs = np.bincount(g[idx], minlength=49)
    exp = np.bincount(g, weights=p, minlength=49) * n
    keep = exp > 0
    assert stats.chisquare(obs[keep], exp[keep]).pvalue > 1e-3
    # all-conv3x3 vs all-skip: probability ratio = size ratio (about 20.9x)
    a = Arch.from_ops(["nor_conv_3x3"] * 6).index
    b = Arch.from_ops(["skip_connect"] * 6).index
    ratio = (PARAMS[a]) / PARAMS[b]
    assert s.probabilities()[a] / s.probabilities()[b] == pytest.approx(ratio)
    assert np.mean(N3[idx]) > np.mean(N3[~DEG]) + 0.5  # larger nets are trained more often than uniform


def test_size_default_weights_are_the_standalone_params():
    s = make_sampler("nao_v2")  # uses supernet.costs.space_costs (C=16, N=5)
    assert s.name == "size"
    np.testing.assert_allclose(s.weights * 1e6, PARAMS, rtol=0, atol=1e-3)


def test_size_within_a_pool_and_custom_column():
    rng = np.random.default_rng(4)
    pool = [Arch.from_index(int(i)) for i in rng.choice(NUM_ARCHS, 30, replace=False)]
    flops_like = np.linspace(1.0, 2.0, NUM_ARCHS)
    s = SizeProportionalSampler(flops_like, pool=[a.to_str() for a in pool], exclude_degenerate=False)
    assert set(s.support.tolist()) == {a.index for a in pool}
    idx = s.sample_indices(np.random.default_rng(5), 200_000)
    p = np.zeros(NUM_ARCHS)
    p[s.support] = flops_like[s.support] / flops_like[s.support].sum()
    assert chi2_p(idx, p) > 1e-3
    with pytest.raises(ValueError, match="shape"):
        SizeProportionalSampler(np.ones(10))
    bad = np.ones(NUM_ARCHS)
    bad[5] = 0
    with pytest.raises(ValueError, match="> 0"):
        SizeProportionalSampler(bad, exclude_degenerate=False)


# ---------------------------------------------------------------------------------------------- fixed
def test_fixed_uniform_over_list_and_cycle_in_order():
    archs = [Arch.from_index(i) for i in (7, 100, 2024, 15000, 42)]
    s = make_sampler("fixed", archs=archs)
    idx = s.sample_indices(np.random.default_rng(6), 50_000)
    counts = np.array([(idx == a.index).sum() for a in archs])
    assert counts.sum() == 50_000 and stats.chisquare(counts).pvalue > 1e-3
    c = make_sampler("cycle", archs=[a.index for a in archs])
    got = [c.sample(np.random.default_rng(0)).index for _ in range(12)]
    assert got == [7, 100, 2024, 15000, 42] * 2 + [7, 100]
    np.testing.assert_allclose(c.probabilities()[[a.index for a in archs]], 0.2)


def test_fixed_drops_degenerate_and_rejects_bad_lists(caplog):
    deg = Arch.from_ops(["none"] * 6)
    ok = Arch.from_ops(["nor_conv_3x3"] * 6)
    with caplog.at_level(logging.WARNING, logger="supernet.sampling"):
        s = FixedSetSampler([deg, ok])
    assert s.indices.tolist() == [ok.index] and "degenerate" in caplog.text
    assert FixedSetSampler([deg, ok], exclude_degenerate=False).indices.tolist() == [deg.index, ok.index]
    with pytest.raises(ValueError, match="degenerate"):
        FixedSetSampler([deg])
    with pytest.raises(ValueError, match="repeats"):
        FixedSetSampler([ok, ok.to_str()])
    with pytest.raises(ValueError, match="needs archs"):
        make_sampler("cycle")
    with pytest.raises(ValueError, match="use 'fixed'"):
        make_sampler("uniform", archs=[ok])
    with pytest.raises(ValueError, match="unknown sampling strategy"):
        make_sampler("random_walk")
    with pytest.raises(ValueError, match="weights"):
        make_sampler("uniform", weights=np.ones(NUM_ARCHS))


# ---------------------------------------------------------------------------------------------- repeat, state, seeds
def test_repeat_keeps_each_arch_for_k_steps_and_resumes():
    s = make_sampler("uniform", steps_per_arch=3)
    assert isinstance(s, RepeatSampler) and s.name == "uniform"
    rng = np.random.default_rng(7)
    idx = s.sample_indices(rng, 3000)
    runs = idx.reshape(-1, 3)
    assert (runs == runs[:, :1]).all() and len(np.unique(runs[:, 0])) > 900
    # resume mid-run: state + rng state reproduce the rest exactly
    a, ra = make_sampler("uniform", steps_per_arch=3), np.random.default_rng(8)
    ref = [a.sample(ra).index for _ in range(10)]
    b, rb = make_sampler("uniform", steps_per_arch=3), np.random.default_rng(8)
    first = [b.sample(rb).index for _ in range(4)]
    st, rng_state = json.loads(json.dumps(b.state_dict())), rb.bit_generator.state
    c, rc = make_sampler("uniform", steps_per_arch=3), np.random.default_rng(0)
    c.load_state_dict(st)
    rc.bit_generator.state = rng_state
    assert first + [c.sample(rc).index for _ in range(6)] == ref
    with pytest.raises(ValueError, match="steps_per_arch"):
        make_sampler("uniform", steps_per_arch=0)


def test_state_dicts_are_json_and_checked():
    archs = [1, 2, 3]
    c = make_sampler("cycle", archs=archs)
    c.sample_indices(np.random.default_rng(0), 2)
    st = json.loads(json.dumps(c.state_dict()))
    d = make_sampler("cycle", archs=archs)
    d.load_state_dict(st)
    assert d.sample(np.random.default_rng(0)).index == 3
    with pytest.raises(ValueError, match="same sampling config"):
        make_sampler("cycle", archs=[1, 2, 4]).load_state_dict(st)
    with pytest.raises(ValueError, match="same sampling config"):
        make_sampler("uniform").load_state_dict(make_sampler("uniform", exclude_degenerate=False).state_dict())
    with pytest.raises(ValueError, match="same sampling config"):
        make_sampler("uniform").load_state_dict(make_sampler("uniform", steps_per_arch=2).state_dict())


def test_seeds_are_explicit():
    py, npy = random.getstate(), np.random.get_state()
    for s in (make_sampler("uniform"), SizeProportionalSampler(PARAMS.astype(float)), make_sampler("fixed", archs=[5, 6])):
        a = s.sample_indices(np.random.default_rng(11), 50)
        b = s.sample_indices(np.random.default_rng(11), 50)
        assert np.array_equal(a, b)
        assert not np.array_equal(a, s.sample_indices(np.random.default_rng(12), 50))
    assert random.getstate() == py and np.array_equal(np.random.get_state()[1], npy[1])
    assert set(SAMPLERS) == {"uniform", "size", "nao_v2", "fixed", "cycle"}
    assert all(isinstance(make_sampler(k, archs=[9] if k in ("fixed", "cycle") else (),
                                       weights=PARAMS.astype(float) if k in ("size", "nao_v2") else None), ArchSampler)
               for k in SAMPLERS)


# ---------------------------------------------------------------------------------------------- NAO-V2 rounds
def test_independent_rounds_restart_the_schedule():
    r = IndependentRounds(epochs_per_round=4)
    assert [r.round_of(e) for e in range(9)] == [0, 0, 0, 0, 1, 1, 1, 1, 2]
    assert [r.is_round_start(e) for e in range(6)] == [True, False, False, False, True, False]
    lrs = [r.lr(e, 0.1, 0.001) for e in range(8)]
    assert lrs[0] == lrs[4] == pytest.approx(0.1)
    assert lrs[0] > lrs[1] > lrs[2] > lrs[3] > 0.001 and lrs[3] < 0.02
    assert r.lr(3.999, 0.1, 0.001) == pytest.approx(0.001, abs=1e-5)
    with pytest.raises(ValueError):
        IndependentRounds(0)
