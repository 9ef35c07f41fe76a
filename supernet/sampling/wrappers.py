"""Samplers that change another sampler's draws: keep each architecture for several steps
(:class:`RepeatSampler`), or draw only within a part of the space (:class:`PartitionSampler`, the part a
few-shot sub-supernet trains, :mod:`supernet.fewshot`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..space import format_pattern, parse_pattern, pattern_mask
from .base import ArchSampler, check_n

__all__ = ["RepeatSampler", "PartitionSampler"]


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
        n = check_n(n)
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
        need = check_n(n)
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
