"""Landmark acquisition: which K architectures of a lookup table to train stand-alone next.

Strategy (:func:`propose_landmarks`), on one representative per isomorphism class (its member with the
highest predicted accuracy; degenerate cells, classes already trained and classes of ``exclude`` left out):

* **exploit** (``k // 2``): among the predicted top (the best ``top_fraction`` of the classes, at least
  ``2 * k // 2`` of them), the ones with the largest ``pred_std``: where the table is good but unsure,
  a true accuracy changes the ranking most.  A table without ``pred_std`` (NaN, e.g. a fused one) gives
  the top ones by ``pred_acc`` instead.
* **spread** (the rest): the remaining classes ranked by ``pred_acc`` are cut into equal quantile strata,
  one seeded draw per stratum, so the landmarks span the whole range and the correction fitted to them
  (:class:`predictor.landmarks.LandmarkCorrection`) sees bad cells as well as good ones.

Never two architectures of one isomorphism class (they are the same network), never a degenerate cell,
never an architecture (or a twin of one) already in an ``exclude`` table.  Deterministic for a seed.
"""

from __future__ import annotations

import math
import os
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from supernet.space import degenerate_mask, iso_ids
from supernet.tables import align_to_space, read_arch_table

__all__ = ["propose_landmarks", "excluded_indices", "PROPOSAL_COLUMNS"]

PROPOSAL_COLUMNS = ("index", "arch_str", "iso_id", "pred_acc", "pred_std", "pred_rank", "role", "stratum")
"""Columns of a proposal (``pred_rank``: 1 = best class by ``pred_acc``; ``role``: exploit or spread)."""


def excluded_indices(tables: Iterable[str | os.PathLike[str] | pd.DataFrame]) -> np.ndarray:
    """Official indices of every architecture in the given tables (``index`` and/or ``arch_str``)."""
    out: list[np.ndarray] = []
    for t in tables:
        df = align_to_space(t, name="exclude table") if isinstance(t, pd.DataFrame) else \
            read_arch_table(t, name=f"exclude table {t}")
        out.append(df["index"].to_numpy(dtype=np.int64))
    return np.unique(np.concatenate(out)) if out else np.zeros(0, np.int64)


def propose_landmarks(
    table: pd.DataFrame,
    k: int,
    *,
    seed: int = 0,
    exclude: Sequence[int] | np.ndarray = (),
    score: str = "pred_acc",
    top_fraction: float = 0.05,
) -> pd.DataFrame:
    """``k`` architectures of ``table`` to train next (see the module docstring); columns :data:`PROPOSAL_COLUMNS`.

    ``table``: a lookup table or any table with ``index``/``arch_str`` and ``score`` (rows may be a subset
    of the space; rows whose score is not finite are skipped); ``pred_std`` is used when present.
    ``exclude``: official indices already trained (their isomorphism classes are skipped too).
    """
    if k < 1:
        raise ValueError(f"k must be a positive number of landmarks, got {k}")
    if not 0 < top_fraction <= 1:
        raise ValueError(f"top_fraction must lie in (0, 1], got {top_fraction}")
    df = align_to_space(table, name="lookup table")
    if score not in df.columns:
        raise ValueError(f"the table has no {score!r} column to rank by (columns {list(df.columns)})")
    idx = df["index"].to_numpy(dtype=np.int64)
    pred = pd.to_numeric(df[score], errors="coerce").to_numpy(dtype=np.float64)
    std = pd.to_numeric(df["pred_std"], errors="coerce").to_numpy(dtype=np.float64) if "pred_std" in df.columns \
        else np.full(len(df), np.nan)
    iso = iso_ids()[idx]
    bad_iso = np.unique(iso_ids()[np.asarray(exclude, dtype=np.int64)]) if len(exclude) else np.zeros(0, np.int64)
    ok = np.isfinite(pred) & ~degenerate_mask()[idx] & ~np.isin(iso, bad_iso)
    cand = pd.DataFrame({"index": idx[ok], "iso_id": iso[ok], "pred_acc": pred[ok], "pred_std": std[ok],
                         "arch_str": df["arch_str"].to_numpy(dtype=object)[ok]})
    # one representative per class: the member predicted best (ties: lowest index)
    reps = (cand.sort_values(["pred_acc", "index"], ascending=[False, True], kind="stable")
            .drop_duplicates("iso_id", keep="first").reset_index(drop=True))
    reps["pred_rank"] = np.arange(1, len(reps) + 1)
    if k > len(reps):
        raise ValueError(f"asked for {k} landmarks but only {len(reps)} isomorphism classes remain "
                         f"(non-degenerate, not excluded); ask for fewer")
    k_top = k // 2
    k_spread = k - k_top
    pool = reps.iloc[: max(math.ceil(top_fraction * len(reps)), 2 * k_top)]
    if k_top and np.isfinite(pool["pred_std"]).any():
        top = pool.assign(_s=pool["pred_std"].fillna(-np.inf)).sort_values(
            ["_s", "pred_acc", "index"], ascending=[False, False, True], kind="stable").head(k_top).drop(columns="_s")
    else:
        top = pool.head(k_top)
    top = top.assign(role="exploit", stratum=-1)
    rest = reps[~reps["index"].isin(top["index"])].reset_index(drop=True)
    rng = np.random.default_rng(seed)
    picks = []
    for s, part in enumerate(np.array_split(np.arange(len(rest)), k_spread)):
        row = rest.iloc[[int(rng.choice(part))]].assign(role="spread", stratum=s)
        picks.append(row)
    out = pd.concat([top, *picks], ignore_index=True)
    return out[list(PROPOSAL_COLUMNS)].reset_index(drop=True)
