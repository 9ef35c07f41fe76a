"""Constraints on table columns ("params_m<=0.8", device names resolved to latency columns), feasibility, and the search errors."""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from typing import Iterable, Literal, Sequence, Union

import numpy as np
import pandas as pd

from supernet.tables import BenchmarkError

from ..truth.hardware import latency_column


log = logging.getLogger(__name__)



# ============================================================================ errors
class SearchError(ValueError):
    """A search request that cannot be answered (bad constraint, unknown column, nothing feasible)."""


class UnknownColumnError(SearchError):
    """A column that is not in the table, or not numeric; the message lists the numeric columns."""


class InfeasibleError(SearchError):
    """No row satisfies the constraints; the message gives the nearest feasible figures."""


class BudgetExceeded(RuntimeError):
    """A query would take an oracle past its budget of distinct architectures."""


# ============================================================================ constraints
_OPS = {"<=": "max", ">=": "min"}
_EXPR = re.compile(r"^\s*([^<>=\s][^<>=]*?)\s*(<=|>=|=<|=>|≤|≥)\s*([^<>=\s]+)\s*$")
_CLI = re.compile(r"^\s*([^<>=\s][^<>=]*?)\s*=\s*([^<>=\s]+)\s*$")
_NORMALISE = {"=<": "<=", "≤": "<=", "=>": ">=", "≥": ">="}


def _parse_value(text: str, where: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise SearchError(f"{where}: {text!r} is not a number") from None
    if math.isnan(v):
        raise SearchError(f"{where}: the bound must be a number, not NaN")
    return v


@dataclass(frozen=True)
class Constraint:
    """``column <= value`` (``op="<="``, an upper bound) or ``column >= value`` (``op=">="``)."""

    column: str
    op: Literal["<=", ">="]
    value: float

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise SearchError(f"constraint operator must be '<=' or '>=', got {self.op!r}")
        if not isinstance(self.column, str) or not self.column.strip():
            raise SearchError(f"constraint column must be a non-empty name, got {self.column!r}")
        object.__setattr__(self, "value", _parse_value(str(self.value), f"constraint on {self.column!r}"))

    @classmethod
    def parse(cls, text: str) -> "Constraint":
        """From ``"COL<=VALUE"`` or ``"COL>=VALUE"`` (spaces allowed; ``≤``/``≥`` accepted)."""
        if isinstance(text, Constraint):
            return text
        m = _EXPR.match(str(text))
        if m is None:
            raise SearchError(
                f"cannot read constraint {text!r}: write COLUMN<=VALUE or COLUMN>=VALUE, e.g. 'params_m<=0.8' "
                f"or 'hwnb_c10_raspi4_latency_ms<=20'"
            )
        col, op, val = m.group(1).strip(), _NORMALISE.get(m.group(2), m.group(2)), m.group(3)
        return cls(col, op, _parse_value(val, f"constraint {text!r}"))  # type: ignore[arg-type]

    @classmethod
    def from_cli(cls, text: str, kind: Literal["max", "min"]) -> "Constraint":
        """From the CLI form ``COL=VALUE`` of ``--max`` (``kind="max"``: ``<=``) or ``--min`` (``>=``)."""
        if kind not in ("max", "min"):
            raise SearchError(f"kind must be 'max' or 'min', got {kind!r}")
        m = _CLI.match(str(text))
        if m is None:
            raise SearchError(f"cannot read --{kind} {text!r}: write COLUMN=VALUE, e.g. --{kind} params_m=0.8")
        col, val = m.group(1).strip(), m.group(2)
        return cls(col, "<=" if kind == "max" else ">=", _parse_value(val, f"--{kind} {text!r}"))

    def resolved(self, df: pd.DataFrame) -> "Constraint":
        """The same constraint with ``column`` resolved against ``df`` (see :func:`resolve_column`)."""
        col = resolve_column(df, self.column)
        return self if col == self.column else Constraint(col, self.op, self.value)

    def satisfied(self, values: np.ndarray) -> np.ndarray:
        """bool[n]: which values satisfy the bound (NaN never does)."""
        v = np.asarray(values, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            return v <= self.value if self.op == "<=" else v >= self.value

    def __str__(self) -> str:
        return f"{self.column} {self.op} {self.value:g}"


ConstraintLike = Union[Constraint, str]


def parse_constraints(
    constraints: Iterable[ConstraintLike] | ConstraintLike | None = (),
    *,
    max: Iterable[str] = (),  # noqa: A002 - mirrors the CLI flag
    min: Iterable[str] = (),  # noqa: A002
) -> list[Constraint]:
    """All constraints of a request: expressions (``"COL<=V"``, :class:`Constraint`) plus CLI-style
    ``max=["COL=V", ...]`` (upper bounds) and ``min=[...]`` (lower bounds)."""
    if constraints is None:
        constraints = ()
    if isinstance(constraints, (str, Constraint)):
        constraints = (constraints,)
    out = [c if isinstance(c, Constraint) else Constraint.parse(c) for c in constraints]
    out += [Constraint.from_cli(t, "max") for t in ([max] if isinstance(max, str) else max)]
    out += [Constraint.from_cli(t, "min") for t in ([min] if isinstance(min, str) else min)]
    return out


# ============================================================================ columns
def numeric_columns(df: pd.DataFrame) -> list[str]:
    """Numeric columns of ``df`` (bool excluded) other than ``index``, in table order."""
    return [
        c for c in df.columns
        if c != "index" and pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
    ]


def resolve_column(df: pd.DataFrame, name: str) -> str:
    """The numeric column ``name`` of ``df``; a device name resolves to its ``*_latency_ms`` column.

    Raises :class:`UnknownColumnError` listing the numeric columns.
    """
    known = numeric_columns(df)
    if name in df.columns:
        if name in known or name == "index":
            return name
        raise UnknownColumnError(
            f"column {name!r} is not numeric (dtype {df[name].dtype}); numeric columns: {', '.join(known)}"
        )
    try:
        col = latency_column(df, name)
    except BenchmarkError:
        col = None
    if col is not None and col in known:
        return col
    close = [c for c in known if name.lower() in c.lower()]
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise UnknownColumnError(f"unknown column {name!r}{hint}; numeric columns: {', '.join(known) or '(none)'}")


def coverage_notes(
    df: pd.DataFrame, score: str, constraints: Iterable[ConstraintLike] | ConstraintLike | None = (),
    costs: Sequence[str] = (),
) -> list[str]:
    """One line per score, constrained or cost column that has values for only some rows: a search
    then covers only those rows (e.g. a device measured on 1,999 of 15,625 architectures)."""
    cols = [resolve_column(df, score), *(c.column for c in _resolve_all(df, constraints)),
            *(resolve_column(df, c) for c in costs)]
    out = []
    for col in dict.fromkeys(cols):
        have = int(np.isfinite(_column(df, col)).sum())
        if have < len(df):
            out.append(f"{col} has values for {have:,} of the {len(df):,} rows: the result covers only those {have:,}")
    return out


def _column(df: pd.DataFrame, col: str) -> np.ndarray:
    return df[col].to_numpy(dtype=np.float64, na_value=np.nan)


def _resolve_all(df: pd.DataFrame, constraints: Iterable[ConstraintLike] | ConstraintLike | None) -> list[Constraint]:
    return [c.resolved(df) for c in parse_constraints(constraints)]


def feasible_mask(df: pd.DataFrame, constraints: Iterable[ConstraintLike] | ConstraintLike | None = ()) -> np.ndarray:
    """bool[len(df)]: rows satisfying every constraint.  NaN in a constrained column = infeasible."""
    mask = np.ones(len(df), dtype=bool)
    for c in _resolve_all(df, constraints):
        mask &= c.satisfied(_column(df, c.column))
    return mask


def _fmt(v: float) -> str:
    return f"{v:.6g}"


def _infeasible_message(df: pd.DataFrame, cons: list[Constraint]) -> str:
    """Why nothing is feasible, with the nearest feasible figure of each constraint."""
    vals = {c: _column(df, c.column) for c in cons}
    ok = {c: c.satisfied(vals[c]) for c in cons}
    parts: list[str] = []
    alone = [c for c in cons if not ok[c].any()]
    for c in alone:
        v = vals[c]
        finite = ~np.isnan(v)
        if not finite.any():
            parts.append(f"column {c.column} has no values (all NaN)")
            continue
        pos = int(np.nanargmin(v)) if c.op == "<=" else int(np.nanargmax(v))
        word = "smallest" if c.op == "<=" else "largest"
        parts.append(f"no architecture has {c}; the {word} is {_fmt(v[pos])} (index {_index_of(df, pos)})")
    if not alone:  # each bound alone is satisfiable; together they are not
        parts.append(f"no architecture satisfies all of: {'; '.join(str(c) for c in cons)} (each alone is satisfiable)")
        for c in cons:
            others = np.ones(len(df), dtype=bool)
            for o in cons:
                if o is not c:
                    others &= ok[o]
            v = np.where(others, vals[c], np.nan)
            if np.isnan(v).all():
                continue
            pos = int(np.nanargmin(v)) if c.op == "<=" else int(np.nanargmax(v))
            word = "smallest" if c.op == "<=" else "largest"
            rest = "; ".join(str(o) for o in cons if o is not c)
            parts.append(f"under {rest}, the {word} {c.column} is {_fmt(v[pos])} (index {_index_of(df, pos)})")
    nan_cols = [c.column for c in cons if np.isnan(vals[c]).any()]
    if nan_cols:
        parts.append(
            "NaN counts as infeasible: " + ", ".join(
                f"{col} has values for {int((~np.isnan(_column(df, col))).sum())} of {len(df)} rows"
                for col in dict.fromkeys(nan_cols)
            )
        )
    return "; ".join(parts)


def _index_of(df: pd.DataFrame, pos: int) -> int:
    return int(df["index"].iat[pos]) if "index" in df.columns else pos


def check_feasible(df: pd.DataFrame, constraints: Iterable[ConstraintLike] | ConstraintLike | None = ()) -> np.ndarray:
    """:func:`feasible_mask`, raising :class:`InfeasibleError` (with the nearest figures) when it is empty."""
    cons = _resolve_all(df, constraints)
    mask = np.ones(len(df), dtype=bool)
    for c in cons:
        mask &= c.satisfied(_column(df, c.column))
    if len(df) == 0:
        raise InfeasibleError("the table has no rows")
    if not mask.any():
        raise InfeasibleError(_infeasible_message(df, cons))
    return mask


def _score_values(df: pd.DataFrame, score: str, mask: np.ndarray, cons: Sequence[ConstraintLike]) -> np.ndarray:
    s = _column(df, score)
    if not (mask & ~np.isnan(s)).any():
        raise InfeasibleError(
            f"{int(mask.sum())} architectures satisfy {'; '.join(str(c) for c in parse_constraints(cons)) or 'no constraint'}"
            f", but none of them has a value in the score column {score!r}"
        )
    return s
