"""Which architecture each supernet training step trains.

A sampler draws architectures with an explicit ``np.random.Generator`` owned by the caller (the trainer
saves that generator's state in its checkpoints) and keeps any state of its own in ``state_dict()``.

* :class:`UniformSampler` (``"uniform"``): single-path one-shot / random sampling with parameter sharing
  (SPOS, RSPS): the op on every edge is drawn uniformly and independently, i.e. every one of the 15,625
  cells is equally likely.
* :class:`SizeProportionalSampler` (``"size"``, alias ``"nao_v2"``): NAO-V2's balanced training: an
  architecture is drawn with probability proportional to its model size (parameters of its stand-alone
  network), optionally within a pool of candidates as NAO-V2 does.
* :class:`FixedSetSampler` (``"fixed"``: uniform over a given list, ``"cycle"``: through the list in order).
* :class:`RepeatSampler`: wraps any sampler to keep each drawn architecture for ``steps_per_arch``
  consecutive steps.
* :class:`PartitionSampler`: wraps any sampler to draw only architectures matching a pattern (the part
  of the space a few-shot sub-supernet trains, :mod:`supernet.fewshot`); the distribution is the
  wrapped one conditioned on the pattern.
* :class:`IndependentRounds`: NAO-V2's "independent" supernet training, a schedule helper for the trainer.

NAO-V2 (Luo, Qin, Chen 2019, "Understanding and Improving One-shot Neural Architecture Optimization",
later "Balanced One-shot NAO") traces the weak ranking of one-shot supernets to gaps between one-shot and
stand-alone training and changes three things: (1) more updates per individual architecture (it trains
the supernet only on a pool of candidate architectures, about a thousand, so each gets many steps);
(2) sampling in proportion to model size, so large architectures, which need more updates, get more of
them; (3) the supernet training of each search iteration is made independent of the previous ones, which
in the original method was a slice of one long run whose learning-rate decay and momentum carried over.
(1) is a :class:`SizeProportionalSampler` or :class:`FixedSetSampler` with a pool; (2) is
:class:`SizeProportionalSampler`; (3) concerns the optimiser and schedule, not which architecture a step
trains: :class:`IndependentRounds` tells the trainer where rounds start (restart the cosine schedule,
reset momentum). Every step still trains one architecture on one batch; NAO-V2 does not keep an
architecture for several steps (:class:`RepeatSampler` is a separate, optional knob).

Degenerate cells: 341 cells have no path from the cell input to its output (every path crosses a
``none`` edge), so the network's prediction does not depend on the image. Training such a step only
pulls the shared BatchNorm and classifier towards the class prior and spends a step on an architecture
whose accuracy is known (chance) without any training; the evaluator reports them without running
them. So every sampler excludes them by default (``exclude_degenerate=True``); uniform sampling then is
uniform over the other 15,284 cells.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Sequence, Union

import numpy as np

from .hashing import json_digest
from .resolve import to_indices
from .space import (
    NUM_ARCHS, NUM_EDGES, NUM_OPS, Arch, codes_to_indices, degenerate_mask, format_pattern, parse_pattern,
    pattern_mask,
)

__all__ = [
    "ArchSampler",
    "UniformSampler",
    "SizeProportionalSampler",
    "FixedSetSampler",
    "RepeatSampler",
    "PartitionSampler",
    "IndependentRounds",
    "SAMPLERS",
    "make_sampler",
    "size_weights",
]

log = logging.getLogger(__name__)

ArchLike = Union[Arch, str, int, Sequence[Union[str, int]]]


class ArchSampler(ABC):
    """Base class: ``sample(rng) -> Arch``, ``sample_indices(rng, n)``, ``probabilities()``, ``state_dict()``.

    Subclasses implement :meth:`sample_indices` (official indices, int64) and :meth:`probabilities`.
    """

    name: str = "base"

    @abstractmethod
    def sample_indices(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """int64 ``(n,)`` official indices of the next ``n`` architectures."""

    @abstractmethod
    def probabilities(self) -> np.ndarray:
        """float64 ``(15625,)``: the long-run frequency of each official index (sums to 1)."""

    def sample(self, rng: np.random.Generator) -> Arch:
        """The architecture the next training step trains."""
        return Arch.from_index(int(self.sample_indices(rng, 1)[0]))

    def sample_many(self, rng: np.random.Generator, n: int) -> list[Arch]:
        """``n`` architectures at once (same distribution as ``n`` calls of :meth:`sample`)."""
        return [Arch.from_index(int(i)) for i in self.sample_indices(rng, n)]

    # ------------------------------------------------------------------ state
    def _config(self) -> dict[str, Any]:
        """What defines the distribution (hashed into the state, checked on load)."""
        return {}

    def fingerprint(self) -> str:
        """Short hash of the sampler's name and configuration."""
        return json_digest({"name": self.name, **self._config()}, 16, default=str)

    def state_dict(self) -> dict[str, Any]:
        """JSON-able state: name, configuration fingerprint and position (for sequential samplers)."""
        return {"name": self.name, "fingerprint": self.fingerprint()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`; refuses the state of a sampler configured differently."""
        if state.get("name") != self.name or state.get("fingerprint") != self.fingerprint():
            raise ValueError(
                f"sampler state is for {state.get('name')!r} (fingerprint {state.get('fingerprint')}), this "
                f"sampler is {self.name!r} ({self.fingerprint()}): resume with the same sampling config"
            )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v}' for k, v in self._config().items() if k != 'digest')})"


def _allowed(exclude_degenerate: bool) -> np.ndarray:
    return ~degenerate_mask() if exclude_degenerate else np.ones(NUM_ARCHS, dtype=bool)


def _check_n(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    return int(n)


# ---------------------------------------------------------------------------------------------- uniform
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
        n = _check_n(n)
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
        a = _allowed(self.exclude_degenerate).astype(np.float64)
        return a / a.sum()


# ---------------------------------------------------------------------------------------------- size
@functools.lru_cache(maxsize=8)
def _cost_column(column: str, C: int, N: int) -> np.ndarray:
    from .costs import space_costs

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
        mask = _allowed(exclude_degenerate)
        if pool is not None:
            idx = _pool_indices(pool, exclude_degenerate)
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
        self._digest = hashlib.sha256(self.support.tobytes() + self._p.tobytes()).hexdigest()[:16]

    def _config(self) -> dict[str, Any]:
        return {"exclude_degenerate": self.exclude_degenerate, "n_support": len(self.support), "digest": self._digest}

    def sample_indices(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.support[rng.choice(len(self.support), size=_check_n(n), p=self._p)]

    def probabilities(self) -> np.ndarray:
        p = np.zeros(NUM_ARCHS)
        p[self.support] = self._p
        return p


# ---------------------------------------------------------------------------------------------- fixed set
def _pool_indices(archs: Sequence[ArchLike], exclude_degenerate: bool) -> np.ndarray:
    idx = to_indices(archs)
    if len(idx) == 0:
        raise ValueError("the architecture list is empty")
    uniq, counts = np.unique(idx, return_counts=True)
    if (counts > 1).any():
        raise ValueError(f"the architecture list repeats {Arch.from_index(int(uniq[counts > 1][0]))} "
                         f"(and {int((counts > 1).sum()) - 1} more); list each once")
    if exclude_degenerate:
        bad = degenerate_mask()[idx]
        if bad.any():
            log.warning("dropping %d degenerate cell(s) from the architecture list (exclude_degenerate)", bad.sum())
            idx = idx[~bad]
        if len(idx) == 0:
            raise ValueError("every architecture in the list is degenerate; pass exclude_degenerate=False to train them")
    return idx


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
        self.indices = _pool_indices(archs, exclude_degenerate)
        self.position = 0

    def _config(self) -> dict[str, Any]:
        return {"exclude_degenerate": self.exclude_degenerate, "n": len(self.indices),
                "digest": hashlib.sha256(self.indices.tobytes()).hexdigest()[:16]}

    def sample_indices(self, rng: np.random.Generator, n: int) -> np.ndarray:
        n = _check_n(n)
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


# ---------------------------------------------------------------------------------------------- repeat
class RepeatSampler(ArchSampler):
    """Keep each architecture drawn by ``inner`` for ``steps_per_arch`` consecutive steps.

    The long-run distribution is ``inner``'s; ``rng`` is used only when a new architecture is drawn.
    """

    def __init__(self, inner: ArchSampler, steps_per_arch: int) -> None:
        if isinstance(steps_per_arch, bool) or not isinstance(steps_per_arch, (int, np.integer)) or steps_per_arch < 1:
            raise ValueError(f"steps_per_arch must be an integer >= 1, got {steps_per_arch!r}")
        self.inner = inner
        self.steps_per_arch = int(steps_per_arch)
        self.name = inner.name
        self._current = -1
        self._left = 0

    def _config(self) -> dict[str, Any]:
        return {**self.inner._config(), "steps_per_arch": self.steps_per_arch}

    def sample_indices(self, rng: np.random.Generator, n: int) -> np.ndarray:
        n = _check_n(n)
        out = np.empty(n, dtype=np.int64)
        k = 0
        while k < n:
            if self._left == 0:
                self._current = int(self.inner.sample_indices(rng, 1)[0])
                self._left = self.steps_per_arch
            take = min(self._left, n - k)
            out[k:k + take] = self._current
            self._left -= take
            k += take
        return out

    def probabilities(self) -> np.ndarray:
        return self.inner.probabilities()

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "inner": self.inner.state_dict(), "current": self._current, "left": self._left}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.inner.load_state_dict(state["inner"])
        self._current, self._left = int(state["current"]), int(state["left"])


# ---------------------------------------------------------------------------------------------- NAO-V2 rounds

# ---------------------------------------------------------------------------------------------- partition
class PartitionSampler(ArchSampler):
    """Draws from ``inner`` and keeps only architectures matching ``pattern`` (rejection sampling), so the
    distribution is ``inner``'s conditioned on the pattern (uniform stays uniform within the part).

    ``pattern``: the official arch string with ``*`` for free edges (:func:`supernet.space.parse_pattern`).
    """

    name = "partition"

    def __init__(self, inner: ArchSampler, pattern: str) -> None:
        self.inner = inner
        self.pattern = format_pattern(parse_pattern(pattern))
        self.mask = pattern_mask(self.pattern)
        p = inner.probabilities() * self.mask
        if p.sum() <= 0:
            raise ValueError(f"the {inner.name!r} sampler never draws an architecture matching {self.pattern}")
        self._p = p / p.sum()
        self.acceptance = float(inner.probabilities()[self.mask].sum())

    def _config(self) -> dict[str, Any]:
        return {"inner": self.inner.fingerprint(), "pattern": self.pattern}

    def sample_indices(self, rng: np.random.Generator, n: int) -> np.ndarray:
        need = _check_n(n)
        out: list[np.ndarray] = []
        while need > 0:
            draw = self.inner.sample_indices(rng, max(1, math.ceil(need / self.acceptance)))
            got = draw[self.mask[draw]][:need]
            out.append(got)
            need -= len(got)
        return np.concatenate(out) if out else np.empty(0, dtype=np.int64)

    def probabilities(self) -> np.ndarray:
        return self._p.copy()

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "inner": self.inner.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.inner.load_state_dict(state["inner"])


@dataclass(frozen=True)
class IndependentRounds:
    """NAO-V2's independent supernet training, as a schedule the trainer consults.

    Training is cut into rounds of ``epochs_per_round`` epochs (NAO-V2: one round per search iteration,
    each on the iteration's candidate pool). Each round is a complete training schedule of its own: the
    trainer restarts the cosine learning rate from ``lr_max`` at every round start and resets the SGD
    momentum buffers there, instead of continuing one long schedule whose decay and momentum carry over
    from earlier rounds. The shared weights are kept across rounds (the NAO-V2 reference code keeps its
    supernet and optimiser objects across iterations; it re-runs the cosine schedule each iteration).
    """

    epochs_per_round: int

    def __post_init__(self) -> None:
        if self.epochs_per_round < 1:
            raise ValueError(f"epochs_per_round must be >= 1, got {self.epochs_per_round}")

    def round_of(self, epoch: int) -> int:
        """Round (0-based) that epoch ``epoch`` (0-based) belongs to."""
        return int(epoch) // self.epochs_per_round

    def epoch_in_round(self, epoch: int) -> int:
        """Position of ``epoch`` within its round, 0..epochs_per_round-1."""
        return int(epoch) % self.epochs_per_round

    def is_round_start(self, epoch: int) -> bool:
        """True on the first epoch of a round: restart the schedule, reset momentum (and swap the pool)."""
        return self.epoch_in_round(epoch) == 0

    def lr(self, epoch: float, lr_max: float, lr_min: float = 0.0) -> float:
        """Cosine learning rate restarted each round; ``epoch`` may be fractional (per-step schedules)."""
        t = (epoch % self.epochs_per_round) / self.epochs_per_round
        return lr_min + 0.5 * (lr_max - lr_min) * (1.0 + math.cos(math.pi * t))


# ---------------------------------------------------------------------------------------------- factory
SAMPLERS: dict[str, str] = {
    "uniform": "UniformSampler: each edge op uniform (SPOS / RSPS)",
    "size": "SizeProportionalSampler: P(arch) proportional to stand-alone params (NAO-V2); archs= as pool",
    "nao_v2": "alias of 'size'",
    "fixed": "FixedSetSampler(mode='uniform'): uniform over archs=",
    "cycle": "FixedSetSampler(mode='cycle'): archs= in order, repeated",
}
"""Strategy names accepted by :func:`make_sampler`."""


def make_sampler(
    strategy: str,
    *,
    exclude_degenerate: bool = True,
    steps_per_arch: int = 1,
    archs: Sequence[ArchLike] = (),
    weights: np.ndarray | None = None,
    C: int = 16,
    N: int = 5,
    restrict: str = "",
) -> ArchSampler:
    """The sampler for a config's ``[sampling]`` section.

    Args:
        strategy: one of :data:`SAMPLERS`.
        exclude_degenerate: skip the 341 degenerate cells (default; see the module docstring).
        steps_per_arch: keep each drawn architecture this many consecutive steps (1 = a new one every step).
        archs: the list for ``"fixed"``/``"cycle"``, the optional pool for ``"size"``; must be empty for
            ``"uniform"``.
        weights: per-index sizes for ``"size"`` (default parameters of the C/N stand-alone network).
        C, N: the network size whose parameter counts weight ``"size"`` when ``weights`` is None.
        restrict: a pattern (arch string with ``*`` for free edges); only matching architectures are
            drawn (:class:`PartitionSampler`). Empty = the whole space.
    """
    key = strategy.lower().strip()
    if key not in SAMPLERS:
        raise ValueError(f"unknown sampling strategy {strategy!r}; choose one of {', '.join(SAMPLERS)}")
    archs = list(archs)
    if weights is not None and key not in ("size", "nao_v2"):
        raise ValueError(f"weights= only applies to the 'size' strategy, not {strategy!r}")
    sampler: ArchSampler
    if key == "uniform":
        if archs:
            raise ValueError("the 'uniform' strategy samples the whole space; use 'fixed' or 'cycle' to train a list")
        sampler = UniformSampler(exclude_degenerate)
    elif key in ("size", "nao_v2"):
        sampler = SizeProportionalSampler(weights, pool=archs or None, exclude_degenerate=exclude_degenerate, C=C, N=N)
    else:
        if not archs:
            raise ValueError(f"the {strategy!r} strategy needs archs= (the architectures to train)")
        sampler = FixedSetSampler(archs, mode="uniform" if key == "fixed" else "cycle",
                                  exclude_degenerate=exclude_degenerate)
    if restrict:
        sampler = PartitionSampler(sampler, restrict)
    return RepeatSampler(sampler, steps_per_arch) if steps_per_arch != 1 else sampler
