"""The NAS-Bench-201 network skeleton, the weight-sharing supernet and the stand-alone network.

Skeleton (NAS-Bench-201, ``C=16, N=5`` by default), input [B, 3, H, W] -> logits [B, num_classes]:

    stem: Conv3x3(3 -> C, bias-free) + BN
    N cells (C)  -> ResNetBasicblock(C -> 2C, stride 2) -> N cells (2C)
                 -> ResNetBasicblock(2C -> 4C, stride 2) -> N cells (4C)
    BN -> ReLU -> global average pool -> Linear(4C -> num_classes)

Every cell of a network uses the same architecture (:class:`supernet.space.Arch`).  A cell has nodes
0 (its input) .. 3 (its output); node j is the sum of its incoming edges' op outputs.

Work skipped (single-path forward): ``none`` edges and edges that are not on an input -> output path
(:meth:`Arch.live_edges`) are never called.  A node none of whose incoming edges is live is an exact zero;
a cell whose output node has no live input (a degenerate architecture) outputs ``zeros_like(input)``,
which is what NAS-Bench-201's ``Zero`` op sum gives; the stem and the reduction blocks still run (so the
logits of a degenerate architecture do not depend on the input, and costs keep one skeleton for all).

One deliberate difference from the benchmark's implementation: NAS-Bench-201 runs an op on a dead edge
whose source node is zero (e.g. ``nor_conv_3x3`` from a node with only ``none`` inputs).  With BN in
batch-statistics mode and ``affine=False`` (the searched supernets' convention) that op outputs exactly
zero, so skipping it changes nothing; with an affine BN or running statistics it would add a per-channel
constant (BN's shift).  We treat such edges as zero, as the benchmark's own isomorphism rule
(:meth:`Arch.unique_str`) does.

BN convention: ``bn_affine`` / ``track_running_stats`` apply to the BNs inside the cells' ops, as in
NAS-Bench-201's search models; the stem, the residual blocks and the final BN are always affine with
running statistics (also as there).
"""

from __future__ import annotations

import functools
from typing import Callable, Sequence

import torch
from torch import nn

from .ops import ResNetBasicblock, make_op
from .space import EDGES, NUM_EDGES, NUM_OPS, OPS, Arch, parse_arch

__all__ = ["Cell", "SuperNet", "StandaloneNet", "stage_channels", "single_path_plan", "all_edges_plan"]

# A plan step: (source node, destination node, edge position k, op name).
Step = tuple[int, int, int, str]
# A mixed step: (source node, destination node, edge position k, ((op name, op code), ...)).
MixedStep = tuple[int, int, int, tuple[tuple[str, int], ...]]


def stage_channels(C: int, N: int) -> list[tuple[int, bool]]:
    """(channels, is_reduction_block) of every body module in order: N cells, reduction, N, reduction, N."""
    out: list[tuple[int, bool]] = []
    for stage, mult in enumerate((1, 2, 4)):
        if stage > 0:
            out.append((C * mult, True))
        out.extend((C * mult, False) for _ in range(N))
    return out


def _as_arch(arch: "Arch | str | int | Sequence[str | int]") -> Arch:
    return arch if isinstance(arch, Arch) else parse_arch(arch)


@functools.lru_cache(maxsize=None)
def _plan(codes: tuple[int, ...], all_edges: bool) -> tuple[Step, ...]:
    live = Arch(codes).live_edges() if not all_edges else tuple(c != 0 for c in codes)
    return tuple((EDGES[k][0], EDGES[k][1], k, OPS[codes[k]]) for k in range(NUM_EDGES) if live[k])


def single_path_plan(arch: Arch) -> tuple[Step, ...]:
    """The edges a single-path forward of ``arch`` runs: live edges only, in topological order."""
    return _plan(arch.codes, False)


def all_edges_plan(arch: Arch) -> tuple[Step, ...]:
    """Every non-``none`` edge of ``arch``, live or not (how NAS-Bench-201's own networks run)."""
    return _plan(arch.codes, True)


@functools.lru_cache(maxsize=4096)
def _mixed_plan(mask: tuple[tuple[bool, ...], ...]) -> tuple[MixedStep, ...]:
    """Steps of a mixed forward given which (edge, op) weights are non-zero; ``none`` is never run."""
    ops_per_edge = [tuple((OPS[o], o) for o in range(1, NUM_OPS) if mask[k][o]) for k in range(NUM_EDGES)]
    live = Arch(tuple(1 if ops else 0 for ops in ops_per_edge)).live_edges()
    return tuple((EDGES[k][0], EDGES[k][1], k, ops_per_edge[k]) for k in range(NUM_EDGES) if live[k])


class Cell(nn.Module):
    """A NAS-Bench-201 cell at ``C`` channels holding, per edge, a ModuleDict of ops keyed by op name.

    ``edge_ops[k]`` lists the op names edge k holds (all of :data:`OPS` in a supernet, the one chosen op
    in a stand-alone network).  ``forward(x, plan)`` runs only the plan's steps.  [B, C, H, W] -> same.
    """

    def __init__(
        self, C: int, edge_ops: Sequence[Sequence[str]], affine: bool = True, track_running_stats: bool = True
    ) -> None:
        super().__init__()
        if len(edge_ops) != NUM_EDGES:
            raise ValueError(f"a cell has {NUM_EDGES} edges, got op lists for {len(edge_ops)}")
        self.C = C
        self.edges = nn.ModuleList(
            nn.ModuleDict({name: make_op(name, C, C, 1, affine, track_running_stats) for name in ops})
            for ops in edge_ops
        )

    def forward(self, x: torch.Tensor, plan: Sequence[Step]) -> torch.Tensor:
        nodes: list[torch.Tensor | None] = [x, None, None, None]
        edges = self.edges
        for src, dst, k, name in plan:
            h = nodes[src]
            if h is None:  # only with an all-edges plan: a source node with no input is zero
                h = nodes[src] = torch.zeros_like(x)
            y = edges[k][name](h)
            prev = nodes[dst]
            nodes[dst] = y if prev is None else prev + y
        out = nodes[3]
        return torch.zeros_like(x) if out is None else out

    def forward_mixed(self, x: torch.Tensor, steps: Sequence[MixedStep], weights: torch.Tensor) -> torch.Tensor:
        nodes: list[torch.Tensor | None] = [x, None, None, None]
        edges = self.edges
        for src, dst, k, ops in steps:
            h = nodes[src]
            ed, wk = edges[k], weights[k]
            for name, o in ops:
                y = ed[name](h) * wk[o]
                prev = nodes[dst]
                nodes[dst] = y if prev is None else prev + y
        out = nodes[3]
        return torch.zeros_like(x) if out is None else out

    def extra_repr(self) -> str:
        return f"C={self.C}"


class _TinyNet(nn.Module):
    """Shared skeleton: stem, body (cells and reduction blocks), BN-ReLU, global pool, classifier."""

    def __init__(self, C: int, N: int, num_classes: int, make_cell: Callable[[int], Cell], seed: int | None) -> None:
        super().__init__()
        if C < 1 or N < 1 or num_classes < 1:
            raise ValueError(f"need C >= 1, N >= 1, num_classes >= 1; got C={C}, N={N}, num_classes={num_classes}")
        self.C, self.N, self.num_classes = C, N, num_classes
        with torch.random.fork_rng(devices=[], enabled=seed is not None):
            if seed is not None:
                torch.manual_seed(seed)
            self.stem = nn.Sequential(nn.Conv2d(3, C, 3, padding=1, bias=False), nn.BatchNorm2d(C))
            body: list[nn.Module] = []
            c_prev = C
            for c, reduction in stage_channels(C, N):
                body.append(ResNetBasicblock(c_prev, c, 2) if reduction else make_cell(c))
                c_prev = c
            self.cells = nn.ModuleList(body)
            self.lastact = nn.Sequential(nn.BatchNorm2d(c_prev), nn.ReLU(inplace=True))
            self.global_pooling = nn.AdaptiveAvgPool2d(1)
            self.classifier = nn.Linear(c_prev, num_classes)
        self._is_cell = tuple(isinstance(m, Cell) for m in self.cells)

    def _head(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.global_pooling(self.lastact(x)).flatten(1))

    def _run(self, x: torch.Tensor, plan: Sequence[Step]) -> torch.Tensor:
        x = self.stem(x)
        for is_cell, m in zip(self._is_cell, self.cells):
            x = m(x, plan) if is_cell else m(x)
        return self._head(x)


class SuperNet(_TinyNet):
    """Weight-sharing supernet: every op on every edge of every cell (ModuleDict per edge, keyed by op name).

    Args:
        C, N, num_classes: NAS-Bench-201 width (stem channels), cells per stage, classes.
        bn_affine, track_running_stats: BN convention of the cell ops (NAS-Bench-201's searched supernets
            use ``False``/``False``: batch statistics, no affine parameters).
        seed: if given, the weight initialisation is drawn from ``torch.manual_seed(seed)`` inside a forked
            RNG (the global RNG state is left untouched).
    """

    def __init__(
        self,
        C: int = 16,
        N: int = 5,
        num_classes: int = 10,
        bn_affine: bool = False,
        track_running_stats: bool = False,
        seed: int | None = None,
    ) -> None:
        super().__init__(
            C, N, num_classes, lambda c: Cell(c, [OPS] * NUM_EDGES, bn_affine, track_running_stats), seed
        )
        self.bn_affine, self.track_running_stats = bn_affine, track_running_stats
        self._edge_keys: list[tuple[tuple[int, str] | None, nn.Module]] | None = None  # per module: ((edge, op) in a cell, else None; module)

    def forward(self, x: torch.Tensor, arch: "Arch | str | int | Sequence[str | int]", *, all_edges: bool = False) -> torch.Tensor:
        """Single-path forward of ``arch``: [B, 3, H, W] -> logits [B, num_classes]. Runs live edges only,
        or with ``all_edges=True`` every non-``none`` edge as :meth:`StandaloneNet.forward` does."""
        arch = _as_arch(arch)
        return self._run(x, all_edges_plan(arch) if all_edges else single_path_plan(arch))

    def standalone_modules(self, arch: "Arch | str | int | Sequence[str | int]") -> list[nn.Module]:
        """The modules of this supernet that make up ``arch``'s stand-alone network: one per module of
        ``StandaloneNet(arch)`` (the root included, first), under the same names and in its order."""
        if self._edge_keys is None:  # the module tree is fixed once built: walk it once (2,800 modules)
            keys: list[tuple[tuple[int, str] | None, nn.Module]] = []
            for name, m in self.named_modules():
                parts = name.split(".")  # cells.<i>.edges.<k>.<op>[.<sub>...]
                edge_op = len(parts) >= 5 and parts[0] == "cells" and parts[2] == "edges"
                keys.append(((int(parts[3]), parts[4]) if edge_op else None, m))
            self._edge_keys = keys
        keep = {(k, op) for k, op in enumerate(_as_arch(arch).ops) if op != "none"}
        return [m for key, m in self._edge_keys if key is None or key in keep]

    def reinit_standalone(self, arch: "Arch | str | int | Sequence[str | int]", seed: int) -> None:
        """Give ``arch``'s modules (:meth:`standalone_modules`) the exact values ``StandaloneNet(arch, ...,
        seed=seed)`` is created with, in place; the other ops keep theirs.

        Each module's ``reset_parameters`` draws from ``torch.manual_seed(seed)`` (a forked CPU RNG) in the
        order the stand-alone network creates them, which is the order its own initialisation draws in.
        Scoring many untrained networks this way skips building one per architecture (module
        construction cost as much as a tenth of a proxy pass).  CPU only: another device draws from
        another generator.
        """
        if next(self.parameters()).device.type != "cpu":
            raise ValueError("reinit_standalone draws from the CPU generator: run it on a CPU supernet")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            for m in self.standalone_modules(arch):
                reset = getattr(m, "reset_parameters", None)
                if reset is not None:
                    reset()

    def forward_mixed(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """Weighted-sum forward (DARTS / DrNAS style), the same weights in every cell.

        ``weights``: [6, 5] per-edge op weights, edges in :data:`EDGES` order, ops in official :data:`OPS`
        order.  Edge k's output is ``sum_o weights[k, o] * op_o(input)`` over ops with a non-zero weight;
        ``none`` contributes zero whatever its weight and is never run, and edges left without a path
        input -> output are skipped as in :meth:`forward`.  With one-hot weights this equals
        ``forward(x, arch)``.  Gradients flow to ``weights``.
        """
        if weights.shape != (NUM_EDGES, NUM_OPS):
            raise ValueError(f"weights must have shape ({NUM_EDGES}, {NUM_OPS}) (edges x official ops), got {tuple(weights.shape)}")
        mask = tuple(tuple(row) for row in (weights.detach() != 0).cpu().tolist())
        steps = _mixed_plan(mask)
        x = self.stem(x)
        for is_cell, m in zip(self._is_cell, self.cells):
            x = m.forward_mixed(x, steps, weights) if is_cell else m(x)
        return self._head(x)

    def extract(self, arch: "Arch | str | int | Sequence[str | int]") -> "StandaloneNet":
        """The stand-alone network of ``arch`` with this supernet's weights copied (not shared).

        Same BN convention, device, dtype and train/eval mode as the supernet.  Its forward equals
        ``self.forward(x, arch)``.
        """
        arch = _as_arch(arch)
        p = next(self.parameters())
        net = StandaloneNet(arch, self.C, self.N, self.num_classes, self.bn_affine, self.track_running_stats)
        net.to(device=p.device, dtype=p.dtype)
        own = self.state_dict()
        net.load_state_dict({k: own[k] for k in net.state_dict()}, strict=True)
        return net.train(self.training)


class StandaloneNet(_TinyNet):
    """The stand-alone network of one architecture, built from the same op modules as :class:`SuperNet`.

    Each edge holds only its op (nothing for ``none``); dead edges keep their modules, as NAS-Bench-201's
    networks do (their parameters count, see :mod:`supernet.costs`), but :meth:`forward` does not run
    them unless ``all_edges=True``.  State-dict keys are a subset of the supernet's.
    """

    def __init__(
        self,
        arch: "Arch | str | int | Sequence[str | int]",
        C: int = 16,
        N: int = 5,
        num_classes: int = 10,
        bn_affine: bool = True,
        track_running_stats: bool = True,
        seed: int | None = None,
    ) -> None:
        arch = _as_arch(arch)
        edge_ops = [[] if op == "none" else [op] for op in arch.ops]
        super().__init__(C, N, num_classes, lambda c: Cell(c, edge_ops, bn_affine, track_running_stats), seed)
        self.arch = arch
        self.bn_affine, self.track_running_stats = bn_affine, track_running_stats
        self._plan = single_path_plan(self.arch)
        self._plan_all = all_edges_plan(self.arch)

    def forward(self, x: torch.Tensor, *, all_edges: bool = False) -> torch.Tensor:
        """[B, 3, H, W] -> logits [B, num_classes].  ``all_edges=True`` also runs dead edges (zero inputs)."""
        if all_edges:
            x = self.stem(x)
            for is_cell, m in zip(self._is_cell, self.cells):
                x = m(x, self._plan_all) if is_cell else m(x)
            return self._head(x)
        return self._run(x, self._plan)

    def extra_repr(self) -> str:
        return f"arch={self.arch.to_str()}"
