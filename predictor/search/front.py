"""Exact search of a table: the top k feasible architectures and the Pareto front of a score against costs."""

from __future__ import annotations

import logging
from typing import Iterable, Literal, Sequence

import numpy as np
import pandas as pd

from supernet.space import iso_ids



log = logging.getLogger(__name__)
from .constraints import ConstraintLike, InfeasibleError, SearchError, UnknownColumnError, _column, _score_values, check_feasible, parse_constraints, resolve_column


# ============================================================================ top-k
def top_k(
    df: pd.DataFrame,
    score: str = "pred_acc",
    constraints: Iterable[ConstraintLike] | ConstraintLike | None = (),
    k: int = 10,
    *,
    distinct_iso: bool = False,
) -> pd.DataFrame:
    """The ``k`` feasible rows with the largest ``score``, best first (ties: table order), exact.

    Returns those rows of ``df`` (all columns) with a leading column ``rank`` (1 = best); fewer than ``k``
    rows when fewer are feasible.  Rows with a NaN score are skipped.  ``distinct_iso=True`` keeps only
    the best row of each isomorphism class (column ``iso_id``, else derived from ``index``).
    Raises :class:`InfeasibleError` when no row is feasible, :class:`UnknownColumnError` for a bad column.
    """
    if int(k) < 1:
        raise SearchError(f"k must be >= 1, got {k}")
    cons = list(parse_constraints(constraints))
    score = resolve_column(df, score)
    mask = check_feasible(df, cons)
    s = _score_values(df, score, mask, cons)
    rows = np.flatnonzero(mask & ~np.isnan(s))
    order = rows[np.argsort(-s[rows], kind="stable")]
    if distinct_iso:
        iso = _iso_of(df)[order]
        _, first = np.unique(iso, return_index=True)
        order = order[np.sort(first)]
    order = order[: int(k)]
    out = df.iloc[order].copy()
    out.insert(0, "rank", np.arange(1, len(order) + 1))
    return out


def _iso_of(df: pd.DataFrame) -> np.ndarray:
    if "iso_id" in df.columns:
        return df["iso_id"].to_numpy(dtype=np.int64)
    if "index" not in df.columns:
        raise UnknownColumnError("distinct_iso needs an 'iso_id' or 'index' column")
    return iso_ids()[df["index"].to_numpy(dtype=np.int64)]


# ============================================================================ Pareto front
def pareto_mask(score: np.ndarray, costs: np.ndarray, ties: Literal["all", "first"] = "all") -> np.ndarray:
    """bool[n]: the non-dominated points of (``score`` maximised, every column of ``costs`` minimised).

    ``score``: float[n]; ``costs``: float[n] or float[n, m] with m in {1, 2}.  Point ``a`` dominates ``b``
    when it is >= in score, <= in every cost and differs in at least one.  Points with a NaN anywhere are
    never on the front.  ``ties="all"``: identical points are all kept (none dominates another);
    ``"first"``: only the first of each identical group.  O(n log n + n * block) time, exact.
    """
    s = np.asarray(score, dtype=np.float64).ravel()
    c = np.asarray(costs, dtype=np.float64)
    if c.ndim == 1:
        c = c[:, None]
    if c.ndim != 2 or c.shape[0] != s.size:
        raise SearchError(f"costs must be float[n] or float[n, m] with n = {s.size}, got shape {np.shape(costs)}")
    if c.shape[1] not in (1, 2):
        raise SearchError(f"the Pareto front takes one or two cost columns, got {c.shape[1]}")
    if ties not in ("all", "first"):
        raise SearchError(f"ties must be 'all' or 'first', got {ties!r}")
    out = np.zeros(s.size, dtype=bool)
    ok = ~np.isnan(s) & ~np.isnan(c).any(1)
    rows = np.flatnonzero(ok)
    if rows.size == 0:
        return out
    pts = np.column_stack([c[rows], -s[rows]]) + 0.0  # all objectives minimised; -0.0 folded into 0.0
    # lexicographic order (c1, c2, -s), table order within identical points: every dominator comes first
    order = np.lexsort((np.arange(rows.size),) + tuple(pts[:, j] for j in reversed(range(pts.shape[1]))))
    sp = pts[order]
    new_group = np.ones(sp.shape[0], dtype=bool)
    new_group[1:] = (sp[1:] != sp[:-1]).any(1)
    group = np.cumsum(new_group) - 1  # group id of each sorted point
    uniq = sp[new_group]
    first = order[new_group]  # first (table-order) member of each group, as a position in rows
    inv = np.empty(rows.size, dtype=np.int64)
    inv[order] = group
    nd = _nondominated_sorted(uniq[:, 1] if uniq.shape[1] == 3 else None, -uniq[:, -1])
    if ties == "all":
        out[rows] = nd[inv]
    else:
        out[rows[first[nd]]] = True
    return out


def _nondominated_sorted(c2: np.ndarray | None, s: np.ndarray, block: int = 512) -> np.ndarray:
    """Distinct points sorted lexicographically by (c1, c2, -s): i is dominated iff some j < i has
    c2[j] <= c2[i] and s[j] >= s[i] (c1[j] <= c1[i] holds by the order)."""
    n = s.size
    if c2 is None:  # one cost: dominated iff an earlier point scores at least as well
        prev_max = np.concatenate([[-np.inf], np.maximum.accumulate(s)[:-1]])
        return ~(prev_max >= s)
    dominated = np.zeros(n, dtype=bool)
    for b0 in range(0, n, block):
        b1 = min(n, b0 + block)
        cq, sq = c2[b0:b1], s[b0:b1]
        if b0:
            order = np.argsort(c2[:b0], kind="stable")
            c_sorted = c2[:b0][order]
            s_cummax = np.maximum.accumulate(s[:b0][order])
            pos = np.searchsorted(c_sorted, cq, side="right")
            has = pos > 0
            dominated[b0:b1] |= has & (s_cummax[np.maximum(pos - 1, 0)] >= sq)
        # within the block: j < i
        tri = np.tri(b1 - b0, k=-1, dtype=bool)  # tri[i, j] = j < i
        dominated[b0:b1] |= (tri & (cq[None, :] <= cq[:, None]) & (sq[None, :] >= sq[:, None])).any(1)
    return ~dominated


def pareto_front(
    df: pd.DataFrame,
    score: str = "pred_acc",
    costs: Sequence[str] | str = ("params_m",),
    constraints: Iterable[ConstraintLike] | ConstraintLike | None = (),
    *,
    ties: Literal["all", "first"] = "all",
) -> pd.DataFrame:
    """The rows of ``df`` on the Pareto front of ``score`` (maximised) against one or two ``costs``
    (minimised), among the rows satisfying ``constraints``; sorted by the first cost, then score
    descending, then table order.  Exactly the non-dominated set (see :func:`pareto_mask` for ties/NaN).
    """
    cost_cols = [costs] if isinstance(costs, str) else list(costs)
    if not 1 <= len(cost_cols) <= 2:
        raise SearchError(f"give one or two cost columns, got {cost_cols}")
    cons = list(parse_constraints(constraints))
    score = resolve_column(df, score)
    cost_cols = [resolve_column(df, c) for c in cost_cols]
    mask = check_feasible(df, cons)
    s = _score_values(df, score, mask, cons)
    cmat = np.column_stack([_column(df, c) for c in cost_cols])
    rows = np.flatnonzero(mask)
    if not (~np.isnan(cmat[rows]).any(1) & ~np.isnan(s[rows])).any():
        raise InfeasibleError(f"no feasible row has values in all of {[score, *cost_cols]}")
    on = np.zeros(len(df), dtype=bool)
    on[rows] = pareto_mask(s[rows], cmat[rows], ties=ties)
    pos = np.flatnonzero(on)
    keys = [pos, -s[pos]] + [cmat[pos, j] for j in reversed(range(len(cost_cols)))]
    pos = pos[np.lexsort(keys)]
    return df.iloc[pos].copy()
