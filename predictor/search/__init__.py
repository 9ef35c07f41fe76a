"""Hardware-constrained search over a table of architectures: exact top-k, Pareto front, budgeted baselines.

A *table* is any DataFrame with one row per architecture, a column ``index`` (official NAS-Bench-201
index) and numeric columns (the lookup table of :mod:`predictor.table`, a hardware table, the truth
table, ...).  It may cover the whole space or a subset.

* :class:`Constraint`: ``COL <= VALUE`` or ``COL >= VALUE`` on a numeric column (``"params_m<=0.8"``;
  CLI style ``--max params_m=0.8`` / ``--min ...`` via :func:`parse_constraints`).  A latency column may
  be named by its device (``raspi4`` -> ``hwnb_c10_raspi4_latency_ms``, see
  :func:`predictor.truth.latency_column`).
* :func:`feasible_mask`: bool[n_rows].  **NaN in a constrained column counts as infeasible** (a device
  measured on a subset constrains the search to that subset; fill it first with
  :func:`predictor.latency.fill_latency` to search the whole space).
* :func:`top_k`: the ``k`` feasible rows with the largest score, exact over the table (vectorised:
  about a millisecond for 15,625 rows).  Rows whose score is NaN are never returned.  Ties by table order.
* :func:`pareto_front`: exactly the non-dominated set of (score up, costs down) over the feasible rows, one
  or two cost columns.  Row ``a`` dominates ``b`` when it is at least as good in every objective and
  strictly better in one.  **Ties**: rows with identical (score, costs) do not dominate each other, so all
  of them are on the front when one is (``ties="all"``, the default; ``ties="first"`` keeps only the
  first such row in table order, e.g. one member of an isomorphism class).  Rows with NaN in the score
  or a cost are left out.
* Budgeted baselines :func:`random_search` and :func:`regularized_evolution`: they see the table's costs
  (cheap) but may ask the score ``oracle`` (the expensive supernet / table) for at most ``budget``
  DISTINCT architectures; a repeated question is answered from a cache at no cost.  Only feasible
  architectures are ever queried.

Errors (subclasses of ``ValueError``): :class:`UnknownColumnError` lists the known numeric columns;
:class:`InfeasibleError` gives the nearest feasible figures (``no architecture has params_m <= 0.01; the
smallest is 0.0733``).

Modules: ``constraints`` (constraints, columns, feasibility, errors), ``front`` (top-k, Pareto),
``baselines`` (random search, regularized evolution), ``output`` (result columns, records, reading).
"""

from __future__ import annotations

from .constraints import coverage_notes, SearchError, UnknownColumnError, InfeasibleError, BudgetExceeded, Constraint, ConstraintLike, parse_constraints, numeric_columns, resolve_column, feasible_mask, check_feasible
from .front import top_k, pareto_mask, pareto_front
from .baselines import Oracle, table_oracle, CountingOracle, SearchResult, random_search, regularized_evolution
from .output import to_records, result_columns, read_table, table_schema

__all__ = [
    "SearchError",
    "UnknownColumnError",
    "InfeasibleError",
    "BudgetExceeded",
    "Constraint",
    "ConstraintLike",
    "parse_constraints",
    "numeric_columns",
    "resolve_column",
    "feasible_mask",
    "check_feasible",
    "top_k",
    "pareto_mask",
    "pareto_front",
    "Oracle",
    "table_oracle",
    "CountingOracle",
    "SearchResult",
    "random_search",
    "regularized_evolution",
    "to_records",
    "result_columns",
    "read_table",
    "coverage_notes",
    "table_schema",
]
