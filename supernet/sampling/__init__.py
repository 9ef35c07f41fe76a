"""Which architecture each supernet training step trains.

:mod:`.base` holds the sampler contract (``sample_indices``, ``probabilities``, ``state_dict``);
:mod:`.samplers` the strategies (uniform, size-proportional, fixed list); :mod:`.wrappers` the samplers
that change another's draws (repeat, partition); :mod:`.rounds` NAO-V2's independent rounds;
:mod:`.factory` :func:`make_sampler`, the sampler a config names.
"""

from .base import ArchSampler
from .factory import SAMPLERS, make_sampler
from .rounds import IndependentRounds
from .samplers import FixedSetSampler, SizeProportionalSampler, UniformSampler, size_weights
from .wrappers import PartitionSampler, RepeatSampler

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
