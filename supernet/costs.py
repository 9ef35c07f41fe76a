"""Parameters, FLOPs and measured latency of NAS-Bench-201 stand-alone networks.

All counts come from the real modules of :class:`supernet.network.StandaloneNet`: parameters are the sum
of ``numel`` over its parameters; FLOPs are accumulated by forward hooks on a real forward pass of one
image (on PyTorch's ``meta`` device, so nothing is computed).  :func:`space_costs` measures, with the same
hooks, the cost of the skeleton and of every op on every edge once, and sums them for all 15,625
architectures (exact, because an edge's cost depends only on its op; the tests check it against the
module counts).

Dead edges (``dead_edges``): NAS-Bench-201's networks build and run a module on every non-``none`` edge,
including edges that are not on an input -> output path, so the benchmark's parameter and FLOP counts
include them: ``params = 73,306 + 243,040 n_conv3x3 + 28,000 n_conv1x1`` for C=16, N=5, 10 classes.
``dead_edges=True`` (the default) reproduces that; ``dead_edges=False`` counts only the live edges,
i.e. what :class:`~supernet.network.SuperNet`'s single-path forward actually computes.

FLOP conventions (``convention``), per image, all counted on every module call:

* ``"nb201"``: multiply-accumulates of Conv2d and Linear layers, plus one per output element for a bias
  (NAS-Bench-201 / xautodl ``get_model_infos``; BN, ReLU, pooling and additions are free).  Range over
  the space for CIFAR-10: 7.78 M .. 220.12 M, the range the benchmark publishes.
* ``"naslib"``: NASLib's ``flops`` column (tensorwatch / torchstat ``Flops``): conv MACs (+bias), Linear
  ``in*out`` (no bias), BatchNorm ``numel(input)`` x2 when affine, ReLU ``numel(input)``, Avg/MaxPool2d
  ``k*k*numel(output)``, AdaptiveAvgPool2d ``C * sum over output cells of (window_h + 1)(window_w + 1)``
  (torchstat's off-by-one, reproduced).  Matches ``flops_M`` of the NASLib subset exactly.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from typing import Literal, Sequence, Union

import numpy as np
import pandas as pd
import torch
from torch import nn

from .network import Cell, StandaloneNet
from .space import NUM_ARCHS, NUM_EDGES, NUM_OPS, Arch, all_archs, ops_matrix, parse_arch

__all__ = ["count_params", "count_flops", "space_costs", "measure_latency", "Convention"]

log = logging.getLogger(__name__)

Convention = Literal["nb201", "naslib"]
_CONVENTIONS = ("nb201", "naslib")
ArchLike = Union[Arch, str, int, Sequence[Union[str, int]]]


def _check_convention(convention: str) -> None:
    if convention not in _CONVENTIONS:
        raise ValueError(f"unknown FLOP convention {convention!r}; use one of {', '.join(_CONVENTIONS)}")


def _meta_net(arch: Arch, C: int, N: int, num_classes: int) -> StandaloneNet:
    """The stand-alone network (affine BN, running stats: the benchmark's trained nets) on the meta device."""
    with torch.device("meta"):
        return StandaloneNet(arch, C, N, num_classes, bn_affine=True, track_running_stats=True).eval()


# ----------------------------------------------------------------------------- parameters
def _dead_edge_modules(net: StandaloneNet) -> list[nn.Module]:
    live = net.arch.live_edges()
    out: list[nn.Module] = []
    for m in net.cells:
        if isinstance(m, Cell):
            out.extend(m.edges[k][op] for k, op in enumerate(net.arch.ops) if op != "none" and not live[k])
    return out


def count_params(
    arch: ArchLike, C: int = 16, N: int = 5, num_classes: int = 10, dead_edges: bool = True
) -> int:
    """Number of parameters (weights, BN affine; not BN running statistics) of the stand-alone network.

    ``dead_edges=True`` counts every edge's module, as NAS-Bench-201 does.
    """
    net = _meta_net(parse_arch(arch), C, N, num_classes)
    total = sum(p.numel() for p in net.parameters())
    if not dead_edges:
        total -= sum(p.numel() for m in _dead_edge_modules(net) for p in m.parameters())
    return int(total)


# ----------------------------------------------------------------------------- FLOPs
def _numel(t: torch.Tensor) -> int:
    return math.prod(t.shape)


def _module_flops(m: nn.Module, x: torch.Tensor, y: torch.Tensor, convention: str) -> int:
    """FLOPs of one call of leaf module ``m`` (input ``x``, output ``y``) under ``convention``."""
    if isinstance(m, nn.Conv2d):
        kh, kw = m.kernel_size
        out = _numel(y)  # B * C_out * H_out * W_out
        macs = out * kh * kw * (m.in_channels // m.groups)
        return macs + (out if m.bias is not None else 0)
    if isinstance(m, nn.Linear):
        out = _numel(y)
        return out * m.in_features + (out if m.bias is not None and convention == "nb201" else 0)
    if convention == "nb201":
        return 0
    # naslib: tensorwatch / torchstat rules
    if isinstance(m, nn.BatchNorm2d):
        return _numel(x) * (2 if m.affine else 1)
    if isinstance(m, nn.ReLU):
        return _numel(x)
    if isinstance(m, (nn.AvgPool2d, nn.MaxPool2d)):
        k = m.kernel_size if isinstance(m.kernel_size, tuple) else (m.kernel_size, m.kernel_size)
        return _numel(y) * k[0] * k[1]
    if isinstance(m, nn.AdaptiveAvgPool2d):
        B, Cc, H, W = x.shape
        oh, ow = y.shape[2:]
        hs = sum(math.ceil((i + 1) * H / oh) - math.floor(i * H / oh) + 1 for i in range(oh))
        ws = sum(math.ceil((j + 1) * W / ow) - math.floor(j * W / ow) + 1 for j in range(ow))
        return B * Cc * hs * ws
    return 0


def _hooked_flops(net: nn.Module, resolution: int, convention: str, all_edges: bool) -> int:
    total = [0]

    def hook(m: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        total[0] += _module_flops(m, inputs[0], output, convention)

    handles = [m.register_forward_hook(hook) for m in net.modules() if not any(True for _ in m.children())]
    try:
        with torch.no_grad():
            net(torch.empty(1, 3, resolution, resolution, device="meta"), all_edges=all_edges)
    finally:
        for h in handles:
            h.remove()
    return total[0]


def count_flops(
    arch: ArchLike,
    C: int = 16,
    N: int = 5,
    num_classes: int = 10,
    resolution: int = 32,
    convention: Convention = "nb201",
    dead_edges: bool = True,
) -> int:
    """FLOPs of the stand-alone network for one ``resolution`` x ``resolution`` RGB image.

    Counted by forward hooks on a real forward pass (see the module docstring for ``convention`` and
    ``dead_edges``).  Returns a count (divide by 1e6 for the benchmark's "M" units).
    """
    _check_convention(convention)
    net = _meta_net(parse_arch(arch), C, N, num_classes)
    return _hooked_flops(net, resolution, convention, all_edges=dead_edges)


# ----------------------------------------------------------------------------- whole space
@functools.lru_cache(maxsize=32)
def _edge_op_costs(
    C: int, N: int, num_classes: int, resolution: int, convention: str
) -> tuple[int, int, np.ndarray, np.ndarray]:
    """(base params, base flops, params[6, 5], flops[6, 5]): the skeleton and each op on each edge."""
    none = Arch((0,) * NUM_EDGES)
    base_p = count_params(none, C, N, num_classes)
    base_f = count_flops(none, C, N, num_classes, resolution, convention)
    dp = np.zeros((NUM_EDGES, NUM_OPS), dtype=np.int64)
    df = np.zeros((NUM_EDGES, NUM_OPS), dtype=np.int64)
    for k in range(NUM_EDGES):
        for o in range(1, NUM_OPS):
            codes = [0] * NUM_EDGES
            codes[k] = o
            a = Arch(tuple(codes))
            dp[k, o] = count_params(a, C, N, num_classes) - base_p
            df[k, o] = count_flops(a, C, N, num_classes, resolution, convention) - base_f
    return base_p, base_f, dp, df


@functools.lru_cache(maxsize=1)
def _live_matrix() -> np.ndarray:
    """bool[15625, 6]: live edges of every architecture, official index order."""
    m = np.array([a.live_edges() for a in all_archs()], dtype=bool)
    m.setflags(write=False)
    return m


def space_costs(
    C: int = 16,
    N: int = 5,
    num_classes: int = 10,
    resolution: int = 32,
    convention: Convention = "nb201",
    dead_edges: bool = True,
) -> pd.DataFrame:
    """Params and FLOPs of all 15,625 stand-alone networks: columns ``index``, ``params_m``, ``flops_m``.

    Rows in official index order; ``params_m`` = parameters / 1e6, ``flops_m`` = FLOPs / 1e6 (per image).
    Equal to :func:`count_params` / :func:`count_flops` with the same arguments for every architecture.
    """
    _check_convention(convention)
    base_p, base_f, dp, df = _edge_op_costs(C, N, num_classes, resolution, convention)
    codes = ops_matrix().astype(np.int64)  # [15625, 6]
    cols = np.arange(NUM_EDGES)
    p_edges = dp[cols, codes]  # [15625, 6]
    f_edges = df[cols, codes]
    if not dead_edges:
        live = _live_matrix()
        p_edges = p_edges * live
        f_edges = f_edges * live
    return pd.DataFrame(
        {
            "index": np.arange(NUM_ARCHS, dtype=np.int64),
            "params_m": (base_p + p_edges.sum(1)) / 1e6,
            "flops_m": (base_f + f_edges.sum(1)) / 1e6,
        }
    )


# ----------------------------------------------------------------------------- latency
def measure_latency(
    arch: ArchLike,
    C: int = 16,
    N: int = 5,
    num_classes: int = 10,
    resolution: int = 32,
    batch_size: int = 1,
    threads: int | None = 1,
    warmup: int = 10,
    repeats: int = 50,
    device: str | torch.device = "cpu",
    seed: int = 0,
) -> dict:
    """Wall-clock latency of one forward of the stand-alone network (eval mode, no grad), in ms.

    ``threads`` sets ``torch.set_num_threads`` for the measurement (restored after); ``None`` leaves it.
    Returns ``dict(median_ms, mean_ms, std_ms, min_ms, p90_ms, batch_size, threads, device, repeats)``.
    """
    if repeats < 1 or warmup < 0 or batch_size < 1:
        raise ValueError(f"need repeats >= 1, warmup >= 0, batch_size >= 1; got {repeats}, {warmup}, {batch_size}")
    dev = torch.device(device)
    a = parse_arch(arch)
    net = StandaloneNet(a, C, N, num_classes, seed=seed).to(dev).eval()
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch_size, 3, resolution, resolution, generator=gen).to(dev)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    old_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    times: list[float] = []
    try:
        with torch.inference_mode():
            for i in range(warmup + repeats):
                sync()
                t0 = time.perf_counter()
                net(x)
                sync()
                if i >= warmup:
                    times.append((time.perf_counter() - t0) * 1e3)
    finally:
        torch.set_num_threads(old_threads)
    ts = np.asarray(times)
    return {
        "arch_str": a.to_str(),
        "median_ms": float(np.median(ts)),
        "mean_ms": float(ts.mean()),
        "std_ms": float(ts.std(ddof=1)) if len(ts) > 1 else 0.0,
        "min_ms": float(ts.min()),
        "p90_ms": float(np.percentile(ts, 90)),
        "batch_size": batch_size,
        "threads": torch.get_num_threads() if threads is None else threads,
        "device": str(dev),
        "repeats": repeats,
    }
