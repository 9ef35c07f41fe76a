"""Ranking metrics of a predicted score against ground-truth accuracy, each defined once.

Every function takes ``pred`` and ``true`` as 1-D float arrays of the same length (one entry per
architecture; higher is better for both) and ignores no entries: callers drop NaNs first, or use
:func:`evaluate_ranking`, which does and reports how many rows were used.

Tie handling, stated once:
* Kendall tau is tau-b (ties in either array reduce the denominator), as ``scipy.stats.kendalltau``.
* Spearman rho ranks ties by their average rank, as ``scipy.stats.spearmanr``.
* "Top-K by a score" is the K largest values, ties broken by position (stable sort), so the set
  always has exactly K members.
* True rank is competition ranking: 1 + the number of architectures with a strictly higher true
  accuracy, so equally good architectures share the better rank.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats

__all__ = [
    "kendall_tau",
    "spearman_rho",
    "top_k_indices",
    "true_ranks",
    "top_fraction_tau",
    "precision_at_k",
    "best_rank_at_k",
    "regret",
    "evaluate_ranking",
]


def _check(pred: np.ndarray, true: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(pred, dtype=np.float64).ravel()
    t = np.asarray(true, dtype=np.float64).ravel()
    if p.shape != t.shape:
        raise ValueError(f"pred and true must have the same length, got {p.size} and {t.size}")
    if p.size == 0:
        raise ValueError("no architectures to evaluate (empty arrays)")
    if not (np.isfinite(p).all() and np.isfinite(t).all()):
        raise ValueError("pred/true contain NaN or inf; drop those rows first (evaluate_ranking does)")
    return p, t


def kendall_tau(pred: np.ndarray, true: np.ndarray) -> float:
    """Kendall tau-b over all given architectures."""
    p, t = _check(pred, true)
    return float(stats.kendalltau(p, t, variant="b").statistic)


def spearman_rho(pred: np.ndarray, true: np.ndarray) -> float:
    """Spearman rank correlation (average ranks for ties)."""
    p, t = _check(pred, true)
    return float(stats.spearmanr(p, t).statistic)


def top_k_indices(score: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` largest scores, best first; ties broken by position."""
    s = np.asarray(score, dtype=np.float64).ravel()
    if not 1 <= k <= s.size:
        raise ValueError(f"k must be in 1..{s.size}, got {k}")
    return np.argsort(-s, kind="stable")[:k]


def true_ranks(true: np.ndarray) -> np.ndarray:
    """Competition rank of each architecture by true accuracy (1 = best; ties share the best)."""
    t = np.asarray(true, dtype=np.float64).ravel()
    return stats.rankdata(-t, method="min").astype(np.int64)


def _k_of(n: int, fraction: float) -> int:
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    # round first: 0.07 * 100 is 7.000000000000001 in floats, whose ceil would be 8
    return max(1, int(math.ceil(round(fraction * n, 9))))


def top_fraction_tau(pred: np.ndarray, true: np.ndarray, fraction: float = 0.1) -> float:
    """Kendall tau-b restricted to the architectures in the TRUE top ``fraction``.

    Measures whether the predictor orders the good architectures among themselves, where a search
    actually has to choose.  The set is the ceil(fraction * n) truly best (ties by position).
    """
    p, t = _check(pred, true)
    idx = top_k_indices(t, _k_of(t.size, fraction))
    if idx.size < 2:
        return float("nan")
    return kendall_tau(p[idx], t[idx])


def precision_at_k(pred: np.ndarray, true: np.ndarray, k: int) -> float:
    """P@K = |predicted top-K ∩ true top-K| / K."""
    p, t = _check(pred, true)
    hit = np.intersect1d(top_k_indices(p, k), top_k_indices(t, k), assume_unique=True)
    return float(hit.size / k)


def best_rank_at_k(pred: np.ndarray, true: np.ndarray, k: int) -> int:
    """BR@K: best true rank (1 = best) among the predicted top-K (some papers call it N@K)."""
    p, t = _check(pred, true)
    return int(true_ranks(t)[top_k_indices(p, k)].min())


def regret(pred: np.ndarray, true: np.ndarray) -> float:
    """Best true accuracy minus the true accuracy of the predicted best (first on ties).

    Apply a constraint by passing only the feasible rows.
    """
    p, t = _check(pred, true)
    return float(t.max() - t[top_k_indices(p, 1)[0]])


def evaluate_ranking(
    pred: np.ndarray,
    true: np.ndarray,
    *,
    degenerate: np.ndarray | None = None,
    fractions: tuple[float, ...] = (0.05, 0.1),
    ks: tuple[int, ...] = (10, 50, 100),
) -> dict[str, Any]:
    """Every metric of ``pred`` against ``true`` over the rows where both are finite.

    Returns a flat dict: ``n``, ``kendall_tau``, ``spearman_rho``, ``top{5,10}pct_tau``,
    ``p_at_{K}``, ``p_at_top{5,10}pct`` (K = that fraction of n), ``br_at_{K}``, ``regret``,
    ``best_true`` (best true accuracy), ``pred_best_true`` (true accuracy of the predicted best) and,
    when ``degenerate`` (bool mask, same length) is given, ``kendall_tau_nondegenerate`` and
    ``n_degenerate``.
    """
    p = np.asarray(pred, dtype=np.float64).ravel()
    t = np.asarray(true, dtype=np.float64).ravel()
    if p.shape != t.shape:
        raise ValueError(f"pred and true must have the same length, got {p.size} and {t.size}")
    ok = np.isfinite(p) & np.isfinite(t)
    if ok.sum() < 2:
        raise ValueError(f"need at least 2 rows with finite pred and true values, got {int(ok.sum())}")
    p, t = p[ok], t[ok]
    n = int(p.size)
    out: dict[str, Any] = {
        "n": n,
        "kendall_tau": kendall_tau(p, t),
        "spearman_rho": spearman_rho(p, t),
    }
    for f in fractions:
        out[f"top{round(f * 100)}pct_tau"] = top_fraction_tau(p, t, f)
    for k in ks:
        if k <= n:
            out[f"p_at_{k}"] = precision_at_k(p, t, k)
    for f in fractions:
        out[f"p_at_top{round(f * 100)}pct"] = precision_at_k(p, t, _k_of(n, f))
    for k in ks:
        if k <= n:
            out[f"br_at_{k}"] = best_rank_at_k(p, t, k)
    best = top_k_indices(p, 1)[0]
    out["best_true"] = float(t.max())
    out["pred_best_true"] = float(t[best])
    out["regret"] = float(t.max() - t[best])
    if degenerate is not None:
        d = np.asarray(degenerate, dtype=bool).ravel()
        if d.shape != ok.shape:
            raise ValueError("degenerate mask must have the same length as pred")
        d = d[ok]
        out["n_degenerate"] = int(d.sum())
        if (~d).sum() >= 2:
            out["kendall_tau_nondegenerate"] = kendall_tau(p[~d], t[~d])
    return out
