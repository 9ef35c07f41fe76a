"""The sampler a config's ``[sampling]`` section names: :func:`make_sampler` and :data:`SAMPLERS`."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .base import ArchLike, ArchSampler
from .samplers import FixedSetSampler, SizeProportionalSampler, UniformSampler
from .wrappers import PartitionSampler, RepeatSampler

__all__ = ["SAMPLERS", "make_sampler"]


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
