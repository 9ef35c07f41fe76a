"""Constrained search: constraint parsing, feasibility, exact top-k, Pareto front, budgeted baselines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from predictor import search as S
from predictor.search import Constraint, InfeasibleError, SearchError, UnknownColumnError
from supernet.space import NUM_ARCHS, iso_ids, ops_matrix

COLS = ("a", "b", "c")


# ----------------------------------------------------------------------------- helpers
def brute_front(s: np.ndarray, c: np.ndarray) -> np.ndarray:
    """O(n^2) non-dominated set: maximise s, minimise every cost column; NaN rows excluded."""
    c = c.reshape(len(s), -1) if len(s) else np.zeros((0, 1))
    ok = ~np.isnan(s) & ~np.isnan(c).any(1)
    out = np.zeros(len(s), dtype=bool)
    for i in np.flatnonzero(ok):
        dominated = False
        for j in np.flatnonzero(ok):
            ge = s[j] >= s[i] and (c[j] <= c[i]).all()
            strict = s[j] > s[i] or (c[j] < c[i]).any()
            if ge and strict:
                dominated = True
                break
        out[i] = not dominated
    return out


@st.composite
def tables(draw, min_rows: int = 1, max_rows: int = 60):
    """Small tables with integer-valued columns (many ties) and some NaN; index = a random subset."""
    n = draw(st.integers(min_rows, max_rows))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    data = {"index": np.sort(rng.choice(NUM_ARCHS, n, replace=False))}
    for col in ("score", *COLS):
        v = rng.integers(0, draw(st.integers(1, 6)), n).astype(np.float64)
        v[rng.random(n) < draw(st.sampled_from([0.0, 0.1, 0.3]))] = np.nan
        data[col] = v
    return pd.DataFrame(data)


@st.composite
def constraint_lists(draw):
    k = draw(st.integers(0, 3))
    return [
        Constraint(draw(st.sampled_from(COLS)), draw(st.sampled_from(["<=", ">="])), draw(st.integers(-1, 6)) + 0.5 * draw(st.integers(0, 1)))
        for _ in range(k)
    ]


def satisfies(row: pd.Series, cons: list[Constraint]) -> bool:
    for c in cons:
        v = row[c.column]
        if np.isnan(v) or not (v <= c.value if c.op == "<=" else v >= c.value):
            return False
    return True


# ----------------------------------------------------------------------------- constraints
@pytest.mark.parametrize(
    "text, col, op, val",
    [
        ("params_m<=0.8", "params_m", "<=", 0.8),
        ("  flops_m >= 1e2 ", "flops_m", ">=", 100.0),
        ("hwnb_c10_raspi4_latency_ms≤20", "hwnb_c10_raspi4_latency_ms", "<=", 20.0),
        ("x=>-3", "x", ">=", -3.0),
    ],
)
def test_constraint_parse(text, col, op, val):
    c = Constraint.parse(text)
    assert (c.column, c.op, c.value) == (col, op, val)


def test_constraint_cli_forms():
    cons = S.parse_constraints(["a<=1"], max=["params_m=0.8"], min=["flops_m=10"])
    assert [str(c) for c in cons] == ["a <= 1", "params_m <= 0.8", "flops_m >= 10"]
    assert S.parse_constraints("b>=2")[0] == Constraint("b", ">=", 2.0)


@pytest.mark.parametrize("bad", ["params_m<0.8", "params_m", "<=3", "params_m<=abc", "params_m<=nan", "a<=1<=2"])
def test_constraint_parse_errors(bad):
    with pytest.raises(SearchError, match="constraint|number|NaN"):
        Constraint.parse(bad)


def test_constraint_cli_error_says_how():
    with pytest.raises(SearchError, match="COLUMN=VALUE"):
        Constraint.from_cli("params_m", "max")
    with pytest.raises(SearchError, match="not a number"):
        Constraint.from_cli("params_m=big", "min")


def test_feasible_mask_nan_is_infeasible():
    df = pd.DataFrame({"index": [0, 1, 2, 3], "lat": [1.0, np.nan, 3.0, 2.0], "p": [5.0, 1.0, 1.0, 1.0]})
    assert S.feasible_mask(df, ["lat<=10"]).tolist() == [True, False, True, True]
    assert S.feasible_mask(df, ["lat>=0", "p<=1"]).tolist() == [False, False, True, True]
    assert S.feasible_mask(df, []).all()


# ----------------------------------------------------------------------------- top-k (property-based)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(df=tables(), cons=constraint_lists(), k=st.integers(1, 8))
def test_top_k_feasible_and_exact(df, cons, k):
    brute = df[[satisfies(r, cons) for _, r in df.iterrows()]]
    brute = brute[brute["score"].notna()]
    if not S.feasible_mask(df, cons).any() or brute.empty:
        with pytest.raises(InfeasibleError):
            S.top_k(df, "score", cons, k)
        return
    got = S.top_k(df, "score", cons, k)
    assert all(satisfies(r, cons) for _, r in got.iterrows())
    assert got["rank"].tolist() == list(range(1, len(got) + 1))
    expect = brute.sort_values("score", ascending=False, kind="stable").head(k)
    assert got["index"].tolist() == expect["index"].tolist()  # same rows, ties in table order


@settings(max_examples=150, deadline=None)
@given(df=tables(min_rows=1, max_rows=50), cons=constraint_lists(), two=st.booleans())
def test_pareto_front_is_exactly_the_nondominated_set(df, cons, two):
    costs = ["a", "b"] if two else ["a"]
    mask = S.feasible_mask(df, cons)
    sub = df[mask]
    s = sub["score"].to_numpy()
    c = sub[costs].to_numpy()
    expect = set(sub["index"][brute_front(s, c)])
    if not expect:
        with pytest.raises(InfeasibleError):
            S.pareto_front(df, "score", costs, cons)
        return
    front = S.pareto_front(df, "score", costs, cons)
    assert set(front["index"]) == expect
    assert all(satisfies(r, cons) for _, r in front.iterrows())
    # sorted by the first cost ascending
    assert (np.diff(front[costs[0]].to_numpy()) >= 0).all()


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 120), m=st.sampled_from([1, 2]), levels=st.integers(1, 4))
def test_pareto_mask_matches_brute_force_with_heavy_ties(seed, n, m, levels):
    rng = np.random.default_rng(seed)
    s = rng.integers(0, levels, n).astype(float)
    c = rng.integers(0, levels, (n, m)).astype(float)
    got = S.pareto_mask(s, c)
    assert (got == brute_front(s, c)).all()
    first = S.pareto_mask(s, c, ties="first")
    # "first": exactly one (the first in order) per distinct front point
    pts = np.column_stack([s, c])[got]
    assert first.sum() == len({tuple(p) for p in pts})
    assert (first <= got).all()
    for i in np.flatnonzero(first):
        same = np.flatnonzero((np.column_stack([s, c]) == np.r_[s[i], c[i]]).all(1))
        assert i == same[0]


def test_pareto_block_boundaries_large():
    """Enough distinct points to cross several internal blocks (512) of the 2-cost algorithm."""
    rng = np.random.default_rng(3)
    n = 1500
    s = rng.integers(0, 40, n).astype(float)
    c = rng.integers(0, 40, (n, 2)).astype(float)
    exp = brute_front(s, c)
    assert exp.sum() > 10
    assert (S.pareto_mask(s, c) == exp).all()


def test_pareto_front_known_small_case():
    df = pd.DataFrame({
        "index": [0, 1, 2, 3, 4, 5],
        "acc": [90.0, 92.0, 92.0, 91.0, 93.0, 93.0],
        "lat": [1.0, 2.0, 2.0, 3.0, 5.0, 5.0],
    })
    front = S.pareto_front(df, "acc", ["lat"])
    assert front["index"].tolist() == [0, 1, 2, 4, 5]  # 3 is dominated by 1; ties 1=2 and 4=5 all kept
    assert S.pareto_front(df, "acc", "lat", ties="first")["index"].tolist() == [0, 1, 4]
    with pytest.raises(SearchError, match="one or two"):
        S.pareto_front(df, "acc", ["lat", "lat", "acc"])


# ----------------------------------------------------------------------------- errors
@pytest.fixture(scope="module")
def cost_table() -> pd.DataFrame:
    n = (ops_matrix()[:, :, None] == np.arange(5)).sum(1)  # op counts [15625, 5]
    df = pd.DataFrame({  # the closed forms of the C=16 N=5 network (NASLib subset / supernet.costs)
        "index": np.arange(NUM_ARCHS),
        "params_m": (73306 + 243040 * n[:, 3] + 28000 * n[:, 2]) / 1e6,
        "flops_m": 7.78 + 35.4 * n[:, 3] + 4.3 * n[:, 2],
    })
    rng = np.random.default_rng(0)
    df["pred_acc"] = rng.normal(90, 2, len(df))
    df["hwnb_c10_raspi4_latency_ms"] = rng.gamma(3.0, 5.0, len(df))
    sub = np.full(len(df), np.nan)
    sub[:1999] = rng.gamma(3.0, 2.0, 1999)
    df["hwnb_c10_edgegpu_latency_ms"] = sub
    df["arch_str"] = "x"
    return df


def test_infeasible_single_bound_gives_nearest_figure(cost_table):
    with pytest.raises(InfeasibleError, match=r"no architecture has params_m <= 0\.01; the smallest is 0\.073306"):
        S.top_k(cost_table, "pred_acc", ["params_m<=0.01"])
    with pytest.raises(InfeasibleError, match=r"flops_m >= 1000; the largest is 220\.18 \(index"):
        S.pareto_front(cost_table, "pred_acc", ["params_m"], ["flops_m>=1000"])


def test_infeasible_jointly_gives_each_bound_under_the_others(cost_table):
    with pytest.raises(InfeasibleError) as e:
        S.top_k(cost_table, "pred_acc", ["params_m<=0.2", "flops_m>=100"])
    msg = str(e.value)
    assert "each alone is satisfiable" in msg
    mask = cost_table["flops_m"] >= 100
    assert f"the smallest params_m is {cost_table['params_m'][mask].min():.6g}" in msg
    assert f"the largest flops_m is {cost_table['flops_m'][cost_table['params_m'] <= 0.2].max():.6g}" in msg


def test_infeasible_mentions_nan_coverage(cost_table):
    with pytest.raises(InfeasibleError, match="has values for 1999 of 15625 rows"):
        S.top_k(cost_table, "pred_acc", ["edgegpu<=0.001"])


def test_unknown_and_non_numeric_columns(cost_table):
    with pytest.raises(UnknownColumnError) as e:
        S.top_k(cost_table, "pred_acc", ["paramz<=1"])
    assert "params_m, flops_m, pred_acc" in str(e.value)
    with pytest.raises(UnknownColumnError, match="not numeric"):
        S.top_k(cost_table, "pred_acc", ["arch_str<=1"])
    with pytest.raises(UnknownColumnError, match="unknown column 'acc'"):
        S.top_k(cost_table, "acc")


def test_device_alias_resolves_to_latency_column(cost_table):
    got = S.top_k(cost_table, "pred_acc", ["raspi4<=10", "params_m<=0.8"], k=5)
    assert (got["hwnb_c10_raspi4_latency_ms"] <= 10).all() and (got["params_m"] <= 0.8).all()
    ref = cost_table[(cost_table["hwnb_c10_raspi4_latency_ms"] <= 10) & (cost_table["params_m"] <= 0.8)]
    assert got["index"].tolist() == ref.nlargest(5, "pred_acc")["index"].tolist()


def test_nan_subset_device_restricts_to_measured(cost_table):
    got = S.top_k(cost_table, "pred_acc", ["hwnb_c10_edgegpu_latency_ms<=100"], k=20000)
    assert len(got) == 1999 and got["index"].max() < 1999


def test_distinct_iso_keeps_one_per_class():
    df = pd.DataFrame({"index": np.arange(NUM_ARCHS), "s": np.zeros(NUM_ARCHS)})
    got = S.top_k(df, "s", k=50, distinct_iso=True)
    assert len(set(iso_ids()[got["index"]])) == 50
    assert len(S.top_k(df, "s", k=50)) == 50 and len(set(iso_ids()[S.top_k(df, "s", k=50)["index"]])) < 50


def test_score_all_nan_among_feasible():
    df = pd.DataFrame({"index": [0, 1], "s": [np.nan, 1.0], "c": [0.0, 5.0]})
    with pytest.raises(InfeasibleError, match="none of them has a value in the score column 's'"):
        S.top_k(df, "s", ["c<=1"])


# ----------------------------------------------------------------------------- budgeted baselines
def conv_oracle(counter: list | None = None):
    """Score = number of nor_conv_3x3 edges (+ a small index tie-breaker); records every call."""
    codes = ops_matrix()

    def oracle(idx: np.ndarray) -> np.ndarray:
        if counter is not None:
            counter.append(np.asarray(idx).copy())
        idx = np.asarray(idx)
        return (codes[idx] == 3).sum(1) + idx / 1e6

    return oracle


@pytest.fixture(scope="module")
def ops_table() -> pd.DataFrame:
    codes = ops_matrix()
    return pd.DataFrame({"index": np.arange(NUM_ARCHS), "n_conv3": (codes == 3).sum(1).astype(float),
                         "n_pool": (codes == 4).sum(1).astype(float)})


@pytest.mark.parametrize("budget", [1, 37, 300])
def test_random_search_budget_exact_and_feasible(budget, ops_table):
    calls: list = []
    res = S.random_search(conv_oracle(calls), budget, ["n_conv3<=3", "n_pool>=1"], rng=1, table=ops_table)
    asked = np.concatenate(calls)
    assert len(calls) == 1 and asked.size == budget == res.n_queries == len(res.history)
    assert len(np.unique(asked)) == budget
    assert (ops_table.loc[asked, "n_conv3"] <= 3).all() and (ops_table.loc[asked, "n_pool"] >= 1).all()
    assert res.best_score == res.history["score"].max()
    assert res.best_index == res.history["index"][res.history["score"].idxmax()]
    assert (np.diff(res.history["best_score"]) >= 0).all()
    again = S.random_search(conv_oracle(), budget, ["n_conv3<=3", "n_pool>=1"], rng=1, table=ops_table)
    assert again.history["index"].tolist() == res.history["index"].tolist()


@pytest.mark.parametrize("budget, pop, sample", [(1, 10, 3), (10, 10, 3), (250, 20, 5)])
def test_evolution_budget_exact_distinct_and_feasible(budget, pop, sample, ops_table):
    calls: list = []
    cons = ["n_conv3<=4", "n_pool<=1"]
    res = S.regularized_evolution(conv_oracle(calls), budget, pop, sample, cons, rng=0, table=ops_table)
    asked = np.concatenate(calls)
    assert asked.size == budget == res.n_queries == len(res.history)
    assert len(np.unique(asked)) == budget  # never asks twice
    assert (ops_table.loc[asked, "n_conv3"] <= 4).all() and (ops_table.loc[asked, "n_pool"] <= 1).all()
    assert res.history["index"].tolist() == asked.tolist()


def test_evolution_finds_the_optimum_where_random_does_not(ops_table):
    """Score = #conv3x3 with an index tie-break: the best feasible has 4 conv3x3 and no pool...

    Evolution reaches the maximum count (4) under the constraint within 300 queries on every seed;
    random search with 300 queries usually does not hit the unique best architecture."""
    cons = ["n_conv3<=4"]
    feas = ops_table[ops_table["n_conv3"] <= 4]
    best = conv_oracle()(feas["index"].to_numpy()).max()
    hits_evo = hits_rand = 0
    for seed in range(5):
        evo = S.regularized_evolution(conv_oracle(), 300, 30, 10, cons, rng=seed, table=ops_table)
        rnd = S.random_search(conv_oracle(), 300, cons, rng=seed, table=ops_table)
        assert evo.best_score >= 4  # reached the top count
        hits_evo += evo.best_score == best
        hits_rand += rnd.best_score == best
    assert hits_evo >= hits_rand


def test_baselines_stop_when_feasible_set_is_smaller_than_budget(ops_table):
    cons = ["n_conv3>=6"]  # exactly one architecture
    for res in (
        S.random_search(conv_oracle(), 50, cons, rng=0, table=ops_table),
        S.regularized_evolution(conv_oracle(), 50, 10, 3, cons, rng=0, table=ops_table),
    ):
        assert res.n_queries == 1 and (ops_matrix()[res.best_index] == 3).all()
    cons = ["n_conv3>=5"]  # 1 + 6*4 = 25 architectures
    res = S.regularized_evolution(conv_oracle(), 100, 10, 3, cons, rng=0, table=ops_table)
    assert res.n_queries == 25 and res.stats["feasible"] == 25


def test_counting_oracle_refuses_past_budget():
    o = S.CountingOracle(conv_oracle(), 3)
    o([1, 2])
    o([2, 1])  # cached: free
    assert o.n_queries == 2 and o.n_calls == 1
    with pytest.raises(S.BudgetExceeded):
        o([3, 4])
    assert o.n_queries == 2


def test_baseline_errors(ops_table):
    with pytest.raises(SearchError, match="need a table"):
        S.random_search(conv_oracle(), 5, ["n_conv3<=1"])
    with pytest.raises(InfeasibleError, match="the largest is 6"):
        S.regularized_evolution(conv_oracle(), 5, constraints=["n_conv3>=7"], table=ops_table)
    with pytest.raises(SearchError, match="budget"):
        S.random_search(conv_oracle(), 0)


def test_table_oracle_and_records():
    df = pd.DataFrame({"index": [5, 7], "ws_acc": [80.0, np.nan]})
    o = S.table_oracle(df, "ws_acc")
    out = o(np.array([7, 5, 6]))
    assert out[1] == 80.0 and np.isnan(out[0]) and np.isnan(out[2])
    assert S.to_records(df) == [{"index": 5, "ws_acc": 80.0}, {"index": 7, "ws_acc": None}]


def test_plot_pareto_writes_png(tmp_path, cost_table):
    from predictor.report import plot_pareto

    for costs in (["params_m"], ["params_m", "raspi4"]):
        p = plot_pareto(cost_table, tmp_path / f"f{len(costs)}.png", "pred_acc", costs, ["flops_m<=150"],
                        marks={"best": int(cost_table["pred_acc"].idxmax())})
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 5000


def test_top_k_real_truth_optimum(truth_csv):
    from predictor.truth import load_truth

    truth = load_truth(truth_csv)
    best = S.top_k(truth, "cifar10_test_acc", k=1)
    assert best["cifar10_test_acc"].iloc[0] == pytest.approx(94.37, abs=0.005)
    n3 = (ops_matrix()[truth["index"]] == 3).sum(1)
    n1 = (ops_matrix()[truth["index"]] == 2).sum(1)
    t = truth.assign(params_m=(73306 + 243040 * n3 + 28000 * n1) / 1e6)
    got = S.top_k(t, "cifar10_test_acc", ["params_m<=0.5"], k=3)
    assert (got["params_m"] <= 0.5).all()
    assert got["cifar10_test_acc"].iloc[0] == t.loc[t["params_m"] <= 0.5, "cifar10_test_acc"].max()
