"""Ranking metrics against values worked out by hand on small arrays (ties included).

Every expected number is a literal with the hand computation beside it; nothing is recomputed with
scipy.  Notation: C / D = concordant / discordant pairs, n0 = n(n-1)/2, n1 / n2 = pairs tied in pred /
in true; tau-b = (C - D) / sqrt((n0 - n1)(n0 - n2)).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from predictor.metrics import (
    _k_of,
    best_rank_at_k,
    evaluate_ranking,
    kendall_tau,
    precision_at_k,
    regret,
    spearman_rho,
    top_fraction_tau,
    top_k_indices,
    true_ranks,
)


# ---------------------------------------------------------------------------------------------- Kendall tau-b
def test_kendall_tau_without_ties() -> None:
    # true = [1,3,2,5,4] against pred increasing: the only inverted pairs are (3,2) and (5,4)
    # C = 8, D = 2, n0 = 10 -> (8 - 2) / 10 = 0.6
    assert kendall_tau([1, 2, 3, 4, 5], [1, 3, 2, 5, 4]) == pytest.approx(0.6, abs=1e-12)
    assert kendall_tau([5, 4, 3, 2, 1], [1, 3, 2, 5, 4]) == pytest.approx(-0.6, abs=1e-12)
    assert kendall_tau([1, 2, 3, 4, 5], [10, 20, 30, 40, 50]) == pytest.approx(1.0, abs=1e-12)
    assert kendall_tau([1, 2, 3, 4, 5], [50, 40, 30, 20, 10]) == pytest.approx(-1.0, abs=1e-12)


def test_kendall_tau_b_ties_in_one_array() -> None:
    # pred = [1,2,3,4], true = [1,1,2,3]: pair (0,1) tied in true (n2 = 1, n1 = 0),
    # the other 5 pairs concordant: tau-b = 5 / sqrt(6 * 5) = 5 / sqrt(30) = 0.9128709291752769
    assert kendall_tau([1, 2, 3, 4], [1, 1, 2, 3]) == pytest.approx(0.9128709291752769, abs=1e-12)
    # same ties moved to pred: symmetric formula, same value
    assert kendall_tau([1, 1, 2, 3], [1, 2, 3, 4]) == pytest.approx(0.9128709291752769, abs=1e-12)


def test_kendall_tau_b_ties_in_both_arrays() -> None:
    # pred = [1,1,2,2,3], true = [1,2,1,3,3]
    # pred ties: (0,1), (2,3) -> n1 = 2;  true ties: (0,2), (3,4) -> n2 = 2;  no pair tied in both
    # remaining 6 pairs: (0,3) C, (0,4) C, (1,2) D [pred 1<2, true 2>1], (1,3) C, (1,4) C, (2,4) C
    # tau-b = (5 - 1) / sqrt((10 - 2)(10 - 2)) = 4 / 8 = 0.5   (tau-a would be 0.4)
    assert kendall_tau([1, 1, 2, 2, 3], [1, 2, 1, 3, 3]) == pytest.approx(0.5, abs=1e-12)


# ---------------------------------------------------------------------------------------------- Spearman
def test_spearman_without_ties() -> None:
    # ranks pred [1,2,3,4,5], true [1,3,2,5,4]: sum d^2 = 0+1+1+1+1 = 4
    # rho = 1 - 6 * 4 / (5 * (25 - 1)) = 1 - 24/120 = 0.8
    assert spearman_rho([1, 2, 3, 4, 5], [1, 3, 2, 5, 4]) == pytest.approx(0.8, abs=1e-12)
    assert spearman_rho([10, 20, 30, 40, 50], [1, 3, 2, 5, 4]) == pytest.approx(0.8, abs=1e-12)


def test_spearman_average_ranks_for_ties() -> None:
    # pred = [1,1,2,2,3] -> average ranks [1.5,1.5,3.5,3.5,5]; true = [1,2,1,3,3] -> [1.5,3,1.5,4.5,4.5]
    # both mean 3; deviations p = [-1.5,-1.5,.5,.5,2], t = [-1.5,0,-1.5,1.5,1.5]
    # sum p*t = 2.25 + 0 - 0.75 + 0.75 + 3 = 5.25; sum p^2 = 9; sum t^2 = 9 -> rho = 5.25 / 9 = 7/12
    assert spearman_rho([1, 1, 2, 2, 3], [1, 2, 1, 3, 3]) == pytest.approx(7 / 12, abs=1e-12)


def test_constant_input_gives_nan_correlations() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns that the correlation is undefined
        assert math.isnan(kendall_tau([0.5] * 5, [1, 2, 3, 4, 5]))
        assert math.isnan(spearman_rho([0.5] * 5, [1, 2, 3, 4, 5]))
        assert math.isnan(kendall_tau([1, 2, 3, 4, 5], [7.0] * 5))


# ---------------------------------------------------------------------------------------------- top-K, ranks
def test_top_k_indices_best_first_ties_by_position() -> None:
    # score [3,5,5,1,4]: descending 5 (pos 1), 5 (pos 2), 4 (pos 4), 3 (pos 0), 1 (pos 3)
    assert top_k_indices([3, 5, 5, 1, 4], 3).tolist() == [1, 2, 4]
    assert top_k_indices([3, 5, 5, 1, 4], 5).tolist() == [1, 2, 4, 0, 3]
    # three-way tie at the cut of K = 2: the first two positions win, pos 3 does not
    assert top_k_indices([2, 7, 7, 7, 1], 2).tolist() == [1, 2]


@pytest.mark.parametrize("k", [0, -1, 6])
def test_top_k_indices_rejects_k_outside_1_to_n(k: int) -> None:
    with pytest.raises(ValueError, match=rf"k must be in 1\.\.5, got {k}"):
        top_k_indices([3, 5, 5, 1, 4], k)


def test_true_ranks_are_competition_ranks() -> None:
    # true [90,95,90,80,95]: both 95s rank 1, both 90s rank 3 (two better), 80 rank 5
    assert true_ranks([90, 95, 90, 80, 95]).tolist() == [3, 1, 3, 5, 1]
    assert true_ranks([1.0]).tolist() == [1]


@pytest.mark.parametrize(
    "n,fraction,k",
    [
        (10, 0.05, 1),  # ceil(0.5) = 1
        (10, 0.1, 1),  # ceil(1.0) = 1
        (10, 0.15, 2),  # ceil(1.5) = 2
        (12, 0.1, 2),  # ceil(1.2) = 2
        (1, 0.01, 1),  # ceil(0.01) = 1, and at least 1 anyway
        (5, 1.0, 5),
        (100, 0.07, 7),  # 0.07 * 100 = 7.000000000000001 in floats: still 7, not 8
        (200, 0.07, 14),  # 0.07 * 200 = 14.000000000000002: 14
        (15625, 0.05, 782),  # ceil(781.25)
        (15625, 0.1, 1563),  # ceil(1562.5)
    ],
)
def test_fraction_to_k(n: int, fraction: float, k: int) -> None:
    assert _k_of(n, fraction) == k


@pytest.mark.parametrize("fraction", [0.0, -0.1, 1.5])
def test_fraction_outside_0_1_is_an_error(fraction: float) -> None:
    with pytest.raises(ValueError, match=r"fraction must be in \(0, 1\]"):
        top_fraction_tau([1, 2, 3], [1, 2, 3], fraction)


# ---------------------------------------------------------------------------------------------- top-fraction tau
PRED10 = [0.6, 0.1, 0.9, 0.99, 0.2, 0.95, 0.98, 0.8, 0.3, 0.7]
TRUE10 = [91, 85, 93, 70, 88, 95, 60, 89, 80, 92]


def test_top_fraction_tau_uses_the_true_top() -> None:
    # fraction 0.5 of 10 -> the 5 truly best: pos 5 (95), 2 (93), 9 (92), 0 (91), 7 (89)
    # their preds in that order: 0.95, 0.9, 0.7, 0.6, 0.8
    # pairs (better true first) concordant when pred falls: 0.95 beats all 4 -> 4 C;
    # 0.9 > 0.7, 0.6, 0.8 -> 3 C; 0.7 > 0.6 C, 0.7 < 0.8 D; 0.6 < 0.8 D  => C = 8, D = 2, tau = 6/10
    # (the predicted top 5 would be pos 3, 6, 5, 2, 7 - two of them truly among the worst)
    assert top_fraction_tau(PRED10, TRUE10, 0.5) == pytest.approx(0.6, abs=1e-12)
    # fraction 0.3 -> pos 5, 2, 9 with preds 0.95, 0.9, 0.7: all 3 pairs concordant -> 1.0
    assert top_fraction_tau(PRED10, TRUE10, 0.3) == pytest.approx(1.0, abs=1e-12)
    # fraction 1 is plain Kendall tau over all 10 rows (C = 25, D = 20, counted in the next test)
    assert top_fraction_tau(PRED10, TRUE10, 1.0) == pytest.approx(kendall_tau(PRED10, TRUE10), abs=1e-12)


def test_plain_tau_of_the_ten_rows() -> None:
    # sorted by true desc, preds: 95:.95 93:.9 92:.7 91:.6 89:.8 88:.2 85:.1 80:.3 70:.99 60:.98
    # concordant pairs per element (later elements with a lower pred):
    # .95: 7 (all but .99,.98) | .9: 6 | .7: 4 (.6,.2,.1,.3) | .6: 3 | .8: 3 | .2: 1 (.1) | .1: 0 | .3: 0
    # | .99: 1 (.98)  => C = 25, D = 45 - 25 = 20, tau = 5 / 45 = 0.1111...
    assert kendall_tau(PRED10, TRUE10) == pytest.approx(5 / 45, abs=1e-12)


def test_top_fraction_tau_ties_at_the_cut() -> None:
    # true [90,95,90,80,90,70], fraction 0.5 -> k = 3: 95 (pos 1), then the 90s by position: pos 0, 2
    # (pos 4, also 90, falls outside).  preds there: pos1 = 1, pos0 = 3, pos2 = 2
    # (1,0): true 95 > 90, pred 1 < 3 D; (1,2): 95 > 90, 1 < 2 D; (0,2): tied in true (n2 = 1)
    # tau-b = (0 - 2) / sqrt(3 * (3 - 1)) = -2 / sqrt(6) = -0.8164965809277261
    # (with pos 4 in the set instead of or beside pos 2 the value would differ: pred[4] = 0)
    pred = [3, 1, 2, 9, 0, 8]
    true = [90, 95, 90, 80, 90, 70]
    assert top_fraction_tau(pred, true, 0.5) == pytest.approx(-0.8164965809277261, abs=1e-12)


def test_top_fraction_tau_of_a_single_architecture_is_nan() -> None:
    # 0.1 of 5 -> k = 1: no pair to rank
    assert math.isnan(top_fraction_tau([1, 2, 3, 4, 5], [1, 2, 3, 4, 5], 0.1))


def test_top_fraction_size_is_not_inflated_by_float_rounding() -> None:
    # 100 rows, pred = true except that the 8th best gets the highest pred.
    # The true top 7% is 7 rows (ranks 1..7), ordered perfectly -> tau 1.0; an 8-row set would include the
    # misplaced row: it has the highest pred but the lowest true of the 8 -> 7 D, 21 C -> tau 0.5
    true = np.arange(100, dtype=float)
    pred = true.copy()
    pred[92] = 1000.0  # true value 92 = rank 8
    assert top_fraction_tau(pred, true, 0.07) == pytest.approx(1.0, abs=1e-12)
    assert top_fraction_tau(pred, true, 0.08) == pytest.approx(0.5, abs=1e-12)


# ---------------------------------------------------------------------------------------------- P@K
PRED6 = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]
TRUE6 = [3, 6, 1, 5, 4, 2]  # true ranks by position: [4, 1, 6, 2, 3, 5]


@pytest.mark.parametrize(
    "k,expected",
    [
        (1, 0.0),  # pred {0} vs true {1}
        (2, 0.5),  # pred {0,1} vs true {1,3}: {1}
        (3, 1 / 3),  # pred {0,1,2} vs true {1,3,4}: {1}
        (4, 0.75),  # pred {0,1,2,3} vs true {1,3,4,0}: {0,1,3}
        (6, 1.0),  # everything
    ],
)
def test_precision_at_k(k: int, expected: float) -> None:
    assert precision_at_k(PRED6, TRUE6, k) == pytest.approx(expected, abs=1e-12)


def test_precision_at_k_ties_in_pred_broken_by_position() -> None:
    # pred [1,7,7,7,0], K = 2 -> {1,2} (pos 3 loses the tie); true top 2 = {4,3} -> 0/2
    # (breaking the tie the other way would give {3,2} and 1/2)
    assert precision_at_k([1, 7, 7, 7, 0], [10, 20, 30, 40, 50], 2) == 0.0
    # K = 4 -> {1,2,3,0} vs true {4,3,2,1}: {1,2,3} -> 3/4
    assert precision_at_k([1, 7, 7, 7, 0], [10, 20, 30, 40, 50], 4) == 0.75


def test_precision_at_k_ties_in_true_broken_by_position() -> None:
    # true [50,40,40,40,10], K = 2 -> true top {0,1}; pred [9,0,1,8,2] -> {0,3}; overlap {0} -> 1/2
    # (taking pos 3 among the tied 40s would make it 2/2)
    assert precision_at_k([9, 0, 1, 8, 2], [50, 40, 40, 40, 10], 2) == 0.5


@pytest.mark.parametrize("k", [0, 7])
def test_precision_at_k_outside_1_to_n(k: int) -> None:
    with pytest.raises(ValueError, match=rf"k must be in 1\.\.6, got {k}"):
        precision_at_k(PRED6, TRUE6, k)


# ---------------------------------------------------------------------------------------------- BR@K
@pytest.mark.parametrize(
    "pred,k,expected",
    [
        (PRED6, 1, 4),  # pred best = pos 0, true rank 4
        (PRED6, 2, 1),  # pos 0, 1 -> min(4, 1)
        # reversed preds: order pos 5,4,3,2,1,0 with true ranks 5,3,2,6,1,4
        (PRED6[::-1], 1, 5),
        (PRED6[::-1], 2, 3),  # min(5, 3)
        (PRED6[::-1], 3, 2),  # min(5, 3, 2)
        (PRED6[::-1], 4, 2),  # + rank 6
        (PRED6[::-1], 5, 1),  # + rank 1
    ],
)
def test_best_rank_at_k(pred, k: int, expected: int) -> None:
    got = best_rank_at_k(pred, TRUE6, k)
    assert got == expected and isinstance(got, int)


def test_best_rank_at_k_tied_true_share_the_better_rank() -> None:
    # true [90,95,95,80,70] -> competition ranks [3,1,1,4,5]
    # pred [5,0,1,4,3] -> order pos 0 (3), 3 (4), 4 (5), 2 (1), 1 (1)
    # BR@3 = 3; BR@4 = 1: pos 2 is the SECOND 95 by position but still rank 1 (ordinal ranks would say 2)
    pred, true = [5, 0, 1, 4, 3], [90, 95, 95, 80, 70]
    assert best_rank_at_k(pred, true, 1) == 3
    assert best_rank_at_k(pred, true, 3) == 3
    assert best_rank_at_k(pred, true, 4) == 1


def test_best_rank_at_k_ties_in_pred() -> None:
    # pred [5,5,5,1,0] -> K = 2 takes pos 0, 1 (pos 2 loses the tie); true ranks [4,3,2,1,5] -> min(4,3) = 3
    assert best_rank_at_k([5, 5, 5, 1, 0], [70, 80, 90, 95, 60], 2) == 3
    assert best_rank_at_k([5, 5, 5, 1, 0], [70, 80, 90, 95, 60], 3) == 2


def test_best_rank_at_k_larger_than_n() -> None:
    with pytest.raises(ValueError, match=r"k must be in 1\.\.6, got 10"):
        best_rank_at_k(PRED6, TRUE6, 10)


# ---------------------------------------------------------------------------------------------- regret
def test_regret() -> None:
    true = [91.0, 94.5, 93.0, 90.0]
    # predicted best = pos 2 (0.9): 94.5 - 93.0 = 1.5
    assert regret([0.3, 0.2, 0.9, 0.1], true) == 1.5
    # tie for predicted best between pos 0 and 2: the first (pos 0) counts: 94.5 - 91.0 = 3.5
    assert regret([0.9, 0.2, 0.9, 0.1], true) == 3.5
    # constant predictions pick pos 0 too
    assert regret([0.5] * 4, true) == 3.5
    # right pick: 0
    assert regret([0.0, 1.0, 0.5, 0.2], true) == 0.0


# ---------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "fn", [kendall_tau, spearman_rho, regret, lambda p, t: top_fraction_tau(p, t, 0.5),
           lambda p, t: precision_at_k(p, t, 1), lambda p, t: best_rank_at_k(p, t, 1)],
)
def test_bad_input_messages(fn) -> None:
    with pytest.raises(ValueError, match="same length, got 3 and 2"):
        fn([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match=r"no architectures to evaluate \(empty arrays\)"):
        fn([], [])
    with pytest.raises(ValueError, match="contain NaN or inf; drop those rows first"):
        fn([1, np.nan, 3], [1, 2, 3])
    with pytest.raises(ValueError, match="contain NaN or inf"):
        fn([1, 2, 3], [1, np.inf, 3])


# ---------------------------------------------------------------------------------------------- evaluate_ranking
def test_evaluate_ranking_default_keys_and_values() -> None:
    # 12 rows, pred = -true: everything reversed
    true = np.arange(12, dtype=float)
    pred = -true
    r = evaluate_ranking(pred, true)
    # ks (10, 50, 100): only 10 <= n = 12 gets p_at / br_at
    assert set(r) == {"n", "kendall_tau", "spearman_rho", "top5pct_tau", "top10pct_tau", "p_at_10",
                      "p_at_top5pct", "p_at_top10pct", "br_at_10", "best_true", "pred_best_true", "regret"}
    assert r["n"] == 12
    assert r["kendall_tau"] == pytest.approx(-1.0) and r["spearman_rho"] == pytest.approx(-1.0)
    assert math.isnan(r["top5pct_tau"])  # k = ceil(0.6) = 1
    assert r["top10pct_tau"] == pytest.approx(-1.0)  # k = ceil(1.2) = 2: pos 11, 10 in the wrong order
    assert r["p_at_10"] == pytest.approx(0.8)  # pred pos 0..9 vs true pos 2..11: 8 shared
    assert r["p_at_top5pct"] == 0.0  # K = 1: pos 0 vs pos 11
    assert r["p_at_top10pct"] == 0.0  # K = 2: {0,1} vs {11,10}
    assert r["br_at_10"] == 3  # pos i has true rank 12 - i; best of pos 0..9 is pos 9 -> 3
    assert (r["best_true"], r["pred_best_true"], r["regret"]) == (11.0, 0.0, 11.0)


def test_evaluate_ranking_drops_non_finite_rows_and_reports_degenerate() -> None:
    # PRED6/TRUE6 with two unusable rows slipped in at positions 2 and 5:
    #   (nan, 100): would be the true best if kept;  (0.99, nan): would be the predicted best if kept
    pred = [0.9, 0.8, np.nan, 0.7, 0.6, 0.99, 0.5, 0.4]
    true = [3, 6, 100, 1, 5, np.nan, 4, 2]
    deg = [False, False, True, True, False, False, True, False]  # pos 2 is dropped, so 2 count
    r = evaluate_ranking(pred, true, degenerate=deg, fractions=(0.5,), ks=(1, 3, 7))
    assert r["n"] == 6
    # tau over the 6 kept rows: pred falls with position, true [3,6,1,5,4,2] has 9 falling and 6 rising
    # pairs -> (9 - 6) / 15 = 0.2
    assert r["kendall_tau"] == pytest.approx(0.2, abs=1e-12)
    # ranks pred [6,5,4,3,2,1], true [3,6,1,5,4,2]: d^2 = 9+1+9+4+4+1 = 28 -> 1 - 6*28/(6*35) = 0.2
    assert r["spearman_rho"] == pytest.approx(0.2, abs=1e-12)
    # true top 3 = true 6, 5, 4 with preds 0.8, 0.6, 0.5: perfectly ordered
    assert r["top50pct_tau"] == pytest.approx(1.0, abs=1e-12)
    assert r["p_at_1"] == 0.0 and r["p_at_3"] == pytest.approx(1 / 3)
    assert r["p_at_top50pct"] == pytest.approx(1 / 3)  # K = 3
    assert r["br_at_1"] == 4 and r["br_at_3"] == 1  # ranks [4,1,6,...]
    assert "p_at_7" not in r and "br_at_7" not in r  # 7 > n
    assert (r["best_true"], r["pred_best_true"], r["regret"]) == (6.0, 3.0, 3.0)
    assert r["n_degenerate"] == 2
    # non-degenerate kept rows: pred [0.9,0.8,0.6,0.4], true [3,6,5,2]
    # (3,6) D, (3,5) D, (3,2) C, (6,5) C, (6,2) C, (5,2) C -> (4 - 2) / 6
    assert r["kendall_tau_nondegenerate"] == pytest.approx(1 / 3, abs=1e-12)


def test_evaluate_ranking_constant_predictions() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = evaluate_ranking([0.5] * 5, [1, 2, 3, 4, 5], fractions=(0.4,), ks=(2,))
    assert math.isnan(r["kendall_tau"]) and math.isnan(r["spearman_rho"])
    assert math.isnan(r["top40pct_tau"])  # true top 2 (pos 4, 3) have equal preds
    assert r["p_at_2"] == 0.0  # pred top 2 by position = {0,1}; true {4,3}
    assert r["br_at_2"] == 4  # ranks of pos 0, 1 are 5, 4
    assert (r["pred_best_true"], r["regret"]) == (1.0, 4.0)


def test_evaluate_ranking_degenerate_mask_edge_cases() -> None:
    pred, true = [1, 2, 3, 4], [1, 3, 2, 4]
    # only one non-degenerate row: the count is given, the tau is not
    r = evaluate_ranking(pred, true, degenerate=[True, True, True, False], ks=())
    assert r["n_degenerate"] == 3 and "kendall_tau_nondegenerate" not in r
    # no mask: neither key
    r = evaluate_ranking(pred, true, ks=())
    assert "n_degenerate" not in r and "kendall_tau_nondegenerate" not in r
    # all non-degenerate: equals the overall tau, (6 - 1 inverted pair (3,2)) -> (5 - 1) / 6
    r = evaluate_ranking(pred, true, degenerate=[False] * 4, ks=())
    assert r["n_degenerate"] == 0 and r["kendall_tau_nondegenerate"] == pytest.approx(4 / 6, abs=1e-12)
    with pytest.raises(ValueError, match="degenerate mask must have the same length as pred"):
        evaluate_ranking(pred, true, degenerate=[False] * 3)


def test_evaluate_ranking_bad_input() -> None:
    with pytest.raises(ValueError, match="same length, got 3 and 4"):
        evaluate_ranking([1, 2, 3], [1, 2, 3, 4])
    with pytest.raises(ValueError, match="need at least 2 rows with finite pred and true values, got 1"):
        evaluate_ranking([1, np.nan, 3], [1, 2, np.nan])
    with pytest.raises(ValueError, match="got 0"):
        evaluate_ranking([], [])
