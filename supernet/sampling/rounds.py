"""NAO-V2's independent supernet training rounds, a schedule helper the trainer consults.

NAO-V2 (Luo, Qin, Chen 2019, "Understanding and Improving One-shot Neural Architecture Optimization",
later "Balanced One-shot NAO") traces the weak ranking of one-shot supernets to gaps between one-shot and
stand-alone training and changes three things: (1) more updates per individual architecture (it trains
the supernet only on a pool of candidate architectures, about a thousand, so each gets many steps);
(2) sampling in proportion to model size, so large architectures, which need more updates, get more of
them; (3) the supernet training of each search iteration is made independent of the previous ones, which
in the original method was a slice of one long run whose learning-rate decay and momentum carried over.
(1) is a :class:`~supernet.sampling.SizeProportionalSampler` or :class:`~supernet.sampling.FixedSetSampler`
with a pool; (2) is :class:`~supernet.sampling.SizeProportionalSampler`; (3) concerns the optimiser and
schedule, not which architecture a step trains: :class:`IndependentRounds` tells the trainer where rounds
start (restart the cosine schedule, reset momentum). Every step still trains one architecture on one
batch; NAO-V2 does not keep an architecture for several steps (:class:`~supernet.sampling.RepeatSampler`
is a separate, optional knob).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["IndependentRounds"]


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
