"""DrNAS's architecture distribution: per-edge Dirichlet distributions over the op mixing weights.

``theta`` [6 edges, 5 ops] (official edge and op order of :mod:`supernet.space`) gives the concentration
``beta = elu(theta) + 1``; samples are reparameterised (pathwise gradients to ``theta``) and the derived
architecture takes the largest concentration on each edge.  The method is described in
:mod:`supernet.training.drnas`.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.distributions import Dirichlet, kl_divergence

from ..space import NUM_EDGES, NUM_OPS, Arch

__all__ = ["DirichletArch", "MIN_CONCENTRATION"]

MIN_CONCENTRATION = 1e-6
"""Floor of the concentration, reached only for ``theta < log(1e-6) ~ -13.8``: keeps ``Dir(beta)`` valid
(``elu(theta) + 1`` itself rounds to 0 in float32 below about -17) and its pathwise gradient finite."""


class DirichletArch(nn.Module):
    """Per-edge Dirichlet distributions over the op mixing weights.

    ``theta``: parameter [6, 5] (edges in :data:`~supernet.space.EDGES` order, ops in official
    :data:`~supernet.space.OPS` order), initialised ``init_std * N(0, 1)`` from a private generator.
    """

    def __init__(self, init_std: float = 1e-3, seed: int | None = 0) -> None:
        super().__init__()
        g = torch.Generator()
        if seed is not None:
            g.manual_seed(seed)
        else:
            g.seed()
        self.theta = nn.Parameter(init_std * torch.randn(NUM_EDGES, NUM_OPS, generator=g))

    def concentration(self) -> torch.Tensor:
        """[6, 5] ``elu(theta) + 1`` (``exp(theta)`` below 0, ``1 + theta`` above), floored at
        :data:`MIN_CONCENTRATION`; differentiable in ``theta``."""
        t = self.theta
        return (torch.exp(t.clamp(max=0.0)) + t.clamp(min=0.0)).clamp(min=MIN_CONCENTRATION)

    def distribution(self) -> Dirichlet:
        """``Dirichlet(concentration())`` with batch shape [6] and event shape [5]."""
        return Dirichlet(self.concentration())

    def rsample(self) -> torch.Tensor:
        """[6, 5] mixing weights, one Dirichlet sample per edge (rows on the simplex), with a pathwise
        gradient to ``theta``.  Draws from the global torch RNG of the parameter's device."""
        return self.distribution().rsample()

    def mean(self) -> torch.Tensor:
        """[6, 5] expected mixing weights ``beta / sum_o beta``."""
        c = self.concentration()
        return c / c.sum(dim=-1, keepdim=True)

    def kl_to_prior(self) -> torch.Tensor:
        """Scalar ``sum_edges KL(Dir(beta_k) || Dir(1))`` (nats): 0 exactly when every concentration is 1."""
        c = self.concentration()
        return kl_divergence(Dirichlet(c), Dirichlet(torch.ones_like(c))).sum()

    @torch.no_grad()
    def derive(self) -> Arch:
        """The architecture of the largest concentration on each edge (``none`` included; first on ties)."""
        return Arch(tuple(int(i) for i in self.concentration().argmax(dim=-1).tolist()))

    @torch.no_grad()
    def confidence(self) -> tuple[float, float]:
        """(mean over edges of the entropy of the expected weights in nats, mean over edges of their max)."""
        m = self.mean()
        ent = -(m * m.clamp_min(1e-12).log()).sum(-1)
        return float(ent.mean()), float(m.max(-1).values.mean())

    def extra_repr(self) -> str:
        return f"edges={NUM_EDGES}, ops={NUM_OPS}"
