"""Budgeted search baselines over a table oracle: random search and regularized evolution, counting queries."""

from __future__ import annotations

import logging
import math
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from supernet.space import NUM_ARCHS, NUM_EDGES, NUM_OPS, all_archs, codes_to_indices, ops_matrix



log = logging.getLogger(__name__)
from .constraints import BudgetExceeded, ConstraintLike, SearchError, UnknownColumnError, _column, check_feasible, parse_constraints, resolve_column


# ============================================================================ budgeted baselines
Oracle = Callable[[np.ndarray], np.ndarray]
"""A score oracle: official indices int64[m] -> scores float64[m] (higher is better; NaN = unusable)."""


def table_oracle(df: pd.DataFrame, column: str) -> Oracle:
    """An oracle reading ``column`` of a table keyed by ``index`` (NaN for architectures not in it)."""
    col = resolve_column(df, column)
    full = np.full(NUM_ARCHS, np.nan)
    full[df["index"].to_numpy(dtype=np.int64)] = _column(df, col)

    def oracle(indices: np.ndarray) -> np.ndarray:
        return full[np.asarray(indices, dtype=np.int64)]

    oracle.__name__ = f"table[{col}]"
    return oracle


class CountingOracle:
    """Wraps an oracle: caches answers, counts DISTINCT architectures asked, refuses to pass ``budget``.

    ``n_queries``: distinct architectures sent to the wrapped oracle; ``n_calls``: calls made to it.
    """

    def __init__(self, oracle: Oracle, budget: int) -> None:
        if int(budget) < 1:
            raise SearchError(f"budget must be >= 1, got {budget}")
        self.oracle = oracle
        self.budget = int(budget)
        self.cache: dict[int, float] = {}
        self.order: list[int] = []
        self.n_calls = 0

    @property
    def n_queries(self) -> int:
        return len(self.order)

    @property
    def remaining(self) -> int:
        return self.budget - self.n_queries

    def __call__(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        idx = np.atleast_1d(np.asarray(indices, dtype=np.int64))
        new = list(dict.fromkeys(int(i) for i in idx if int(i) not in self.cache))
        if len(new) > self.remaining:
            raise BudgetExceeded(f"{len(new)} new queries but only {self.remaining} of {self.budget} left")
        if new:
            got = np.asarray(self.oracle(np.asarray(new, dtype=np.int64)), dtype=np.float64).ravel()
            if got.shape != (len(new),):
                raise SearchError(f"the oracle returned {got.shape} scores for {len(new)} architectures")
            self.n_calls += 1
            for i, v in zip(new, got.tolist()):
                self.cache[i] = v
                self.order.append(i)
        return np.array([self.cache[int(i)] for i in idx], dtype=np.float64)


@dataclass
class SearchResult:
    """Outcome of a budgeted search.

    ``history``: one row per distinct queried architecture in query order: ``step`` (1-based),
    ``index``, ``arch_str``, ``score``, ``best_score`` (best so far), ``best_index``.  ``best_index`` /
    ``best_score``: the best queried (NaN scores never win; ties: first queried).  ``n_queries`` <= budget.
    ``stats``: counters (e.g. ``infeasible_children`` discarded without a query).
    """

    method: str
    budget: int
    history: pd.DataFrame
    best_index: int
    best_score: float
    n_queries: int
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def best_arch_str(self) -> str:
        return all_archs()[self.best_index].to_str()


def _universe(
    table: pd.DataFrame | None, constraints: Iterable[ConstraintLike] | ConstraintLike | None
) -> np.ndarray:
    """bool[15625]: architectures a baseline may query (in ``table`` and feasible; all when no table)."""
    cons = parse_constraints(constraints)
    if table is None:
        if cons:
            raise SearchError("constraints need a table with the constrained columns (pass table=...)")
        return np.ones(NUM_ARCHS, dtype=bool)
    if "index" not in table.columns:
        raise UnknownColumnError(f"the table needs an 'index' column (official index); columns: {list(table.columns)}")
    mask = check_feasible(table, cons)
    out = np.zeros(NUM_ARCHS, dtype=bool)
    out[table["index"].to_numpy(dtype=np.int64)[mask]] = True
    return out


def _rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _result(method: str, oracle: CountingOracle, stats: dict[str, int]) -> SearchResult:
    idx = np.asarray(oracle.order, dtype=np.int64)
    sc = np.asarray([oracle.cache[i] for i in oracle.order], dtype=np.float64)
    filled = np.where(np.isnan(sc), -np.inf, sc)
    run_best = np.maximum.accumulate(filled) if sc.size else sc
    # position of the best so far (first reaching it)
    best_pos = np.zeros(sc.size, dtype=np.int64)
    cur = 0
    for t in range(sc.size):
        if filled[t] > filled[cur]:
            cur = t
        best_pos[t] = cur
    hist = pd.DataFrame(
        {
            "step": np.arange(1, sc.size + 1),
            "index": idx,
            "arch_str": [all_archs()[i].to_str() for i in idx],
            "score": sc,
            "best_score": np.where(np.isinf(run_best), np.nan, run_best),
            "best_index": idx[best_pos] if sc.size else idx,
        }
    )
    if sc.size == 0 or np.isnan(sc).all():
        raise SearchError(f"{method}: no queried architecture got a score (all NaN)")
    b = int(best_pos[-1])
    return SearchResult(method, oracle.budget, hist, int(idx[b]), float(sc[b]), oracle.n_queries, stats)


def random_search(
    oracle: Oracle,
    budget: int,
    constraints: Iterable[ConstraintLike] | ConstraintLike | None = (),
    rng: np.random.Generator | int | None = None,
    *,
    table: pd.DataFrame | None = None,
) -> SearchResult:
    """Query ``budget`` distinct feasible architectures drawn uniformly without replacement; keep the best.

    ``table``: the costs the constraints refer to (rows = the architectures that may be drawn; without
    it the whole space, and no constraints).  Fewer than ``budget`` queries only when fewer
    architectures are feasible.  The oracle is called once, with all of them.
    """
    r = _rng(rng)
    allowed = np.flatnonzero(_universe(table, constraints))
    counted = CountingOracle(oracle, budget)
    n = min(int(budget), allowed.size)
    pick = r.choice(allowed, size=n, replace=False)
    counted(pick)
    return _result("random", counted, {"feasible": int(allowed.size)})


def regularized_evolution(
    oracle: Oracle,
    budget: int,
    population: int = 50,
    sample_size: int = 10,
    constraints: Iterable[ConstraintLike] | ConstraintLike | None = (),
    rng: np.random.Generator | int | None = None,
    *,
    table: pd.DataFrame | None = None,
    max_redraws: int = 100,
) -> SearchResult:
    """Regularized (aging) evolution (Real et al. 2019) with at most ``budget`` distinct oracle queries.

    Start: ``population`` distinct feasible architectures drawn uniformly (one oracle call).  Each cycle:
    draw ``sample_size`` members of the population without replacement, take the best as parent, mutate
    ONE edge to a different op (uniform over the edge and the 4 other ops), query the child, append it
    and remove the OLDEST member.  A child that is infeasible (or not in ``table``) or was already
    queried is discarded without a query and redrawn (new tournament and mutation); after
    ``max_redraws`` discards in a row the child is a uniformly drawn, not yet queried feasible
    architecture instead.  Stops when ``budget`` distinct architectures were queried or none is left.
    ``stats``: ``infeasible_children``, ``repeat_children`` (discarded), ``random_children``.
    """
    if int(population) < 1 or int(sample_size) < 1:
        raise SearchError(f"population and sample_size must be >= 1, got {population}, {sample_size}")
    r = _rng(rng)
    allowed = _universe(table, constraints)
    n_allowed = int(allowed.sum())
    counted = CountingOracle(oracle, budget)
    codes_all = ops_matrix()
    stats = {"feasible": n_allowed, "infeasible_children": 0, "repeat_children": 0, "random_children": 0}

    p0 = min(int(population), int(budget), n_allowed)
    init = r.choice(np.flatnonzero(allowed), size=p0, replace=False)
    init_scores = counted(init)
    pop: deque[tuple[int, float]] = deque(zip(init.tolist(), init_scores.tolist()))
    seen = np.zeros(NUM_ARCHS, dtype=bool)
    seen[init] = True

    while counted.remaining > 0 and counted.n_queries < n_allowed:
        child = -1
        for _ in range(int(max_redraws)):
            members = r.choice(len(pop), size=min(int(sample_size), len(pop)), replace=False)
            parent = max((pop[m] for m in members), key=lambda t: -np.inf if math.isnan(t[1]) else t[1])[0]
            codes = codes_all[parent].astype(np.int64)
            edge = int(r.integers(NUM_EDGES))
            codes[edge] = (codes[edge] + 1 + int(r.integers(NUM_OPS - 1))) % NUM_OPS
            cand = int(codes_to_indices(codes[None, :])[0])
            if not allowed[cand]:
                stats["infeasible_children"] += 1
            elif seen[cand]:
                stats["repeat_children"] += 1
            else:
                child = cand
                break
        if child < 0:
            stats["random_children"] += 1
            child = int(r.choice(np.flatnonzero(allowed & ~seen)))
        seen[child] = True
        score = float(counted([child])[0])
        pop.append((child, score))
        if len(pop) > int(population):
            pop.popleft()
    return _result("evolution", counted, stats)
