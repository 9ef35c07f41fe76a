"""The sampler contract every strategy implements, and the checks they share.

A sampler draws architectures with an explicit ``np.random.Generator`` owned by the caller (the trainer
saves that generator's state in its checkpoints) and keeps any state of its own in ``state_dict()``.

Degenerate cells: 341 cells have no path from the cell input to its output (every path crosses a
``none`` edge), so the network's prediction does not depend on the image. Training such a step only
pulls the shared BatchNorm and classifier towards the class prior and spends a step on an architecture
whose accuracy is known (chance) without any training; the evaluator reports them without running
them. So every sampler excludes them by default (``exclude_degenerate=True``); uniform sampling then is
uniform over the other 15,284 cells.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any, Sequence, Union

import numpy as np

from ..hashing import json_digest
from ..resolve import to_indices
from ..space import NUM_ARCHS, Arch, degenerate_mask

__all__ = ["ArchLike", "ArchSampler", "allowed_mask", "check_n", "pool_indices"]

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


def allowed_mask(exclude_degenerate: bool) -> np.ndarray:
    """bool ``(15625,)``: the cells a sampler may draw (all, or all but the degenerate ones)."""
    return ~degenerate_mask() if exclude_degenerate else np.ones(NUM_ARCHS, dtype=bool)


def check_n(n: int) -> int:
    """``n`` as an int, or ``ValueError`` unless it is a non-negative integer."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    return int(n)


def pool_indices(archs: Sequence[ArchLike], exclude_degenerate: bool) -> np.ndarray:
    """int64 official indices of a list of distinct architectures (degenerate ones dropped, logged, when
    ``exclude_degenerate``); ``ValueError`` for an empty list, a repeat, or nothing left."""
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
