"""The strategies that decide which architecture a training step trains.

* :class:`UniformSampler` (``"uniform"``): single-path one-shot / random sampling with parameter sharing
  (SPOS, RSPS): the op on every edge is drawn uniformly and independently, i.e. every one of the 15,625
  cells is equally likely.
* :class:`SizeProportionalSampler` (``"size"``, alias ``"nao_v2"``): NAO-V2's balanced training: an
  architecture is drawn with probability proportional to its model size (parameters of its stand-alone
  network), optionally within a pool of candidates as NAO-V2 does.
* :class:`FixedSetSampler` (``"fixed"``: uniform over a given list, ``"cycle"``: through the list in order).
"""

from __future__ import annotations

import functools
import math
from typing import Any, Sequence

import numpy as np

from ..costs import space_costs
from ..hashing import bytes_digest
from ..space import NUM_ARCHS, NUM_EDGES, NUM_OPS, codes_to_indices, degenerate_mask
from .base import ArchLike, ArchSampler, allowed_mask, check_n, pool_indices

__all__ = ["UniformSampler", "SizeProportionalSampler", "FixedSetSampler", "size_weights"]


class UniformSampler(ArchSampler):
    """SPOS / RSPS uniform single-path sampling: each edge's op uniform and independent.

    That is uniform over all 15,625 cells; with ``exclude_degenerate`` (default) degenerate draws are
    rejected and redrawn, which is uniform over the 15,284 others.
    """

    name = "uniform"

    def __init__(self, exclude_degenerate: bool = True) -> None:
        self.exclude_degenerate = bool(exclude_degenerate)

    def _config(self) -> dict[str, Any]:
        return {"exclude_degenerate": self.exclude_degenerate}

    def sample_indices(self, rng: np.random.Generator, n: int) -> np.ndarray:
        n = check_n(n)
        bad = degenerate_mask()
        out: list[np.ndarray] = []
        need = n
        while need > 0:
            draw = need + (math.ceil(need * 0.03) if self.exclude_degenerate and need > 100 else 0)
            idx = codes_to_indices(rng.integers(0, NUM_OPS, size=(draw, NUM_EDGES)))
            if self.exclude_degenerate:
                idx = idx[~bad[idx]]
            idx = idx[:need]
            out.append(idx)
            need -= len(idx)
        return np.concatenate(out) if out else np.empty(0, dtype=np.int64)

    def probabilities(self) -> np.ndarray:
        a = allowed_mask(self.exclude_degenerate).astype(np.float64)
        return a / a.sum()


@functools.lru_cache(maxsize=8)
def _cost_column(column: str, C: int, N: int) -> np.ndarray:
    df = space_costs(C=C, N=N)
    if column not in df.columns:
        raise ValueError(f"unknown cost column {column!r}; space_costs has {list(df.columns)}")
    w = df.sort_values("index")[column].to_numpy(np.float64)
    w.setflags(write=False)
    return w


def size_weights(column: str = "params_m", C: int = 16, N: int = 5) -> np.ndarray:
    """float64 ``(15625,)``: a :func:`supernet.costs.space_costs` column (default parameters, in millions)
    of the stand-alone network with ``C`` channels and ``N`` cells per stage, official index order.

    For C=16, N=5 the parameters are ``73,306 + 243,040 n_conv3x3 + 28,000 n_conv1x1``.
    """
    return _cost_column(column, int(C), int(N))


class SizeProportionalSampler(ArchSampler):
    """NAO-V2 balanced sampling: P(arch) proportional to its model size.

    Args:
        weights: float ``(15625,)`` per official index, e.g. any column of ``space_costs`` (must be > 0
            where sampled); default :func:`size_weights` (``params_m`` of the C=16, N=5 network, or of
            ``C``/``N`` given here: NAO-V2 counts the parameters of the network at the search-time size).
        pool: restrict sampling to these architectures (NAO-V2 samples within its candidate pool); default
            the whole space.
        exclude_degenerate: drop degenerate cells (from the pool too).
    """

    name = "size"

    def __init__(
        self,
        weights: np.ndarray | None = None,
        *,
        pool: Sequence[ArchLike] | None = None,
        exclude_degenerate: bool = True,
        C: int = 16,
        N: int = 5,
    ) -> None:
        w = size_weights(C=C, N=N) if weights is None else np.asarray(weights, dtype=np.float64)
        if w.shape != (NUM_ARCHS,):
            raise ValueError(f"weights need one value per architecture, shape ({NUM_ARCHS},), got {w.shape}")
        mask = allowed_mask(exclude_degenerate)
        if pool is not None:
            idx = pool_indices(pool, exclude_degenerate)
            m = np.zeros(NUM_ARCHS, dtype=bool)
            m[idx] = True
            mask &= m
        if not mask.any():
            raise ValueError("no architecture left to sample (empty pool after excluding degenerate cells)")
        ws = w[mask]
        if not np.isfinite(ws).all() or (ws <= 0).any():
            raise ValueError("weights must be finite and > 0 for every architecture that can be sampled")
        self.exclude_degenerate = bool(exclude_degenerate)
        self.weights = w
        self.support = np.flatnonzero(mask).astype(np.int64)
        self._p = ws / ws.sum()
        self._digest = bytes_digest([self.support.tobytes(), self._p.tobytes()], 16)

    def _config(self) -> dict[str, Any]:
        return {"exclude_degenerate": self.exclude_degenerate, "n_support": len(self.support), "digest": self._digest}

    def sample_indices(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.support[rng.choice(len(self.support), size=check_n(n), p=self._p)]

    def probabilities(self) -> np.ndarray:
        p = np.zeros(NUM_ARCHS)
        p[self.support] = self._p
        return p


class FixedSetSampler(ArchSampler):
    """Train only the given architectures: ``mode="uniform"`` draws uniformly from the list (name
    ``"fixed"``), ``mode="cycle"`` goes through it in the given order and starts over (name ``"cycle"``,
    draws nothing from ``rng``; its position is in :meth:`state_dict`).
    """

    def __init__(self, archs: Sequence[ArchLike], *, mode: str = "uniform", exclude_degenerate: bool = True) -> None:
        if mode not in ("uniform", "cycle"):
            raise ValueError(f"mode must be 'uniform' or 'cycle', got {mode!r}")
        self.mode = mode
        self.name = "fixed" if mode == "uniform" else "cycle"
        self.exclude_degenerate = bool(exclude_degenerate)
        self.indices = pool_indices(archs, exclude_degenerate)
        self.position = 0

    def _config(self) -> dict[str, Any]:
        return {"exclude_degenerate": self.exclude_degenerate, "n": len(self.indices),
                "digest": bytes_digest(self.indices.tobytes(), 16)}

    def sample_indices(self, rng: np.random.Generator, n: int) -> np.ndarray:
        n = check_n(n)
        if self.mode == "uniform":
            return self.indices[rng.integers(0, len(self.indices), size=n)]
        pos = (self.position + np.arange(n)) % len(self.indices)
        self.position = int((self.position + n) % len(self.indices))
        return self.indices[pos]

    def probabilities(self) -> np.ndarray:
        p = np.zeros(NUM_ARCHS)
        p[self.indices] = 1.0 / len(self.indices)
        return p

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "position": self.position}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.position = int(state.get("position", 0))
