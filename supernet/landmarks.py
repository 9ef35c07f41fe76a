"""Landmark regularisation of supernet training (Yu, Ranftl, Salzmann, "Landmark Regularization", 2021).

A few architectures with known true accuracy ("landmarks") anchor the supernet's ranking: every few
steps a pair of landmarks is scored on the current batch and a hinge loss
``relu(loss(better) - loss(worse) + margin)`` pushes the shared weights so that the landmark with the
higher true accuracy gets the lower loss.  Pairs are drawn with the trainer's architecture generator,
so a resumed run draws the same pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .space import Arch, all_archs, degenerate_mask
from .tables import TableSchema, percent, read_arch_table

__all__ = ["LandmarkSet", "landmark_rank_loss", "LANDMARK_SCHEMA"]

LANDMARK_SCHEMA = TableSchema(
    "landmark table", (percent("true_acc"),), make="give each landmark's true accuracy in percent (0..100)"
)
"""A landmark table: architectures (any subset) with their TRUE accuracy in percent."""


@dataclass(frozen=True)
class LandmarkSet:
    """Landmark architectures (official indices, int64[m]) and their true accuracies (percent, float64[m])."""

    indices: np.ndarray
    true_acc: np.ndarray

    def __post_init__(self) -> None:
        if self.indices.shape != self.true_acc.shape or self.indices.ndim != 1:
            raise ValueError("landmark indices and accuracies must be 1-d arrays of one length")
        if len(np.unique(self.true_acc)) < 2:
            raise ValueError("landmarks need at least two different true accuracies to form a pair")
        if degenerate_mask()[self.indices].any():
            raise ValueError("degenerate cells (output disconnected from input) cannot be landmarks")

    @classmethod
    def from_csv(
        cls, path: str | Path, limit: int | None = None, seed: int = 0, select: str = "random"
    ) -> "LandmarkSet":
        """Read ``index``/``arch_str`` and ``true_acc`` (percent) and keep ``limit`` of the rows.

        ``select``: ``"random"`` (drawn with ``seed``) or ``"quantile"`` (evenly spaced along the rows'
        true-accuracy ranking, best and worst included, so the landmarks span the whole range).
        """
        if select not in ("random", "quantile"):
            raise ValueError(f"[landmarks] select must be 'random' or 'quantile', got {select!r}")
        df = read_arch_table(path, schema=LANDMARK_SCHEMA, drop_nonfinite=None)
        df = df[~degenerate_mask()[df["index"].to_numpy()]]
        if limit is not None and limit < len(df):
            if limit < 2:
                raise ValueError(f"[landmarks] limit must be at least 2 (a pair), got {limit}")
            if select == "random":
                keep = np.sort(np.random.default_rng(seed).choice(len(df), size=limit, replace=False))
            else:
                order = np.argsort(df["true_acc"].to_numpy(), kind="stable")
                keep = np.sort(order[np.unique(np.round(np.linspace(0, len(df) - 1, limit)).astype(int))])
            df = df.iloc[keep]
        return cls(df["index"].to_numpy(np.int64), df["true_acc"].to_numpy(np.float64))

    def sample_pairs(self, rng: np.random.Generator, n: int) -> list[tuple[Arch, Arch]]:
        """``n`` pairs (better, worse) of landmarks with different true accuracies."""
        archs = all_archs()
        out: list[tuple[Arch, Arch]] = []
        while len(out) < n:
            i, j = rng.choice(len(self.indices), size=2, replace=False)
            if self.true_acc[i] == self.true_acc[j]:
                continue
            if self.true_acc[i] < self.true_acc[j]:
                i, j = j, i
            out.append((archs[int(self.indices[i])], archs[int(self.indices[j])]))
        return out


def landmark_rank_loss(
    model: Callable[[torch.Tensor, Arch], torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    pairs: list[tuple[Arch, Arch]],
    criterion: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    margin: float = 0.0,
) -> torch.Tensor:
    """Mean over ``pairs`` of ``relu(loss(better) - loss(worse) + margin)`` on the batch ``(x, y)``."""
    terms = [torch.relu(criterion(model(x, b), y) - criterion(model(x, w), y) + margin) for b, w in pairs]
    return torch.stack(terms).mean()
