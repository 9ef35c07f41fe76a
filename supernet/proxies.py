"""Zero-cost proxies: scores of UNTRAINED stand-alone networks on one fixed minibatch (no training).

Definitions (each a score where higher should mean a better architecture), computed on the same
:class:`~supernet.network.StandaloneNet` the costs use (C=16, N=5 by default), BN in training mode,
every edge run as NAS-Bench-201's own networks do (``all_edges=True``, so dead edges see their inputs):

* ``nwot`` (Mellor et al. 2021, NASWOT): log|det K| with ``K[i, j]`` = number of ReLU units on which
  images i and j have the same binary activation (summed over every ReLU's input).
* ``synflow`` (Tanaka et al. 2020): log of ``sum |w * dR/dw|`` over conv and linear weights, where R is
  the sum of the logits of an all-ones input through the network with ``|w|`` weights, BN removed, in
  float64.  Stored as the natural log (the raw sum reaches 1e30 and beyond; ranks are unchanged).
  Run on the live edges only: a dead edge either never reaches R or has an all-zero input, so its term
  is exactly zero and skipping it changes nothing.
* ``jacov`` (Mellor et al. 2020, jacob_cov): ``-sum(log(v + k) + 1/(v + k))``, k = 1e-5, over the
  eigenvalues v of the correlation matrix of the per-image input gradients of the summed logits.
* ``snip`` (Lee et al. 2019 as in Abdelfattah et al. 2021): ``sum |w * dL/dw|`` over conv and linear
  weights, L the cross-entropy of the batch.
* ``grad_norm`` (Abdelfattah et al. 2021): sum over conv and linear layers of ``||dL/dw||_2``.

An architecture's scores depend only on its isomorphism class and the seed: the network is initialised
from ``seed`` (``torch.manual_seed`` inside a forked RNG) for the class's canonical member (smallest
official index), and the minibatch is drawn once from ``seed``.  Degenerate cells (output disconnected
from the input) get NaN: their network is a constant function, so every proxy is undefined or
meaningless; consumers rank them last.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from .classjobs import remove_partials, representatives, score_classes
from .data import ImageSet
from .evaluate import normalise_images
from .hashing import json_digest
from .config import SupernetConfig
from .network import StandaloneNet, SuperNet
from .resolve import parse_many
from .schema import Section, setting
from .space import Arch, all_archs, degenerate_mask, iso_ids
from .tables import Column, TableSchema, write_table
from .training import load_images, resolve_source
from .training.inputs import load_folder

__all__ = [
    "PROXIES", "PROXY_COLUMNS", "PROXY_SCHEMA", "ProxyConfig", "proxy_batch", "score_proxies", "compute_proxies", "load_proxy_images",
    "reference_scores", "same_pattern_counts", "jacov_score", "snip_gradnorm", "log_synflow", "path_synflow", "weighted_layers",
]

log = logging.getLogger(__name__)

PROXIES: tuple[str, ...] = ("nwot", "synflow", "jacov", "snip", "grad_norm")
"""Proxy names: NASLib's (``zc_nwot`` ...) without the prefix."""
PROXY_COLUMNS: tuple[str, ...] = ("index", "arch_str", *PROXIES, "iso_id", "degenerate")
PROXY_SCHEMA = TableSchema(
    "proxy table",
    (
        *(Column(p, required=False, nan=True) for p in PROXIES),  # NaN: degenerate cells
        Column("iso_id", "int", required=False, lo=0),
        Column("degenerate", "bool", required=False),
    ),
    make="recompute it with `nasgcn proxies`",
)
"""The declared columns of a proxy table (any subset of the space; other signal columns pass through)."""


@dataclass(frozen=True)
class ProxyConfig(Section):
    """Network and minibatch of the proxies: width ``C``, ``N`` cells per stage, ``batch_size`` images
    drawn from the training set with ``seed`` (which also initialises every network); at least 2 images,
    as nwot and jacov compare images."""

    SECTION = "proxies"

    C: int = setting(16, ge=1)
    N: int = setting(5, ge=1)
    batch_size: int = setting(32, ge=2)
    seed: int = setting(0, ge=0)


def proxy_batch(train: ImageSet, cfg: ProxyConfig, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """The fixed minibatch: (normalised images [B, 3, H, W], labels [B], positions in ``train``)."""
    if len(train) < cfg.batch_size:
        raise ValueError(f"the training set has {len(train)} images, fewer than the proxy batch size {cfg.batch_size}")
    pos = np.sort(np.random.default_rng([cfg.seed, 0x2C]).choice(len(train), size=cfg.batch_size, replace=False))
    x = normalise_images(train.images[pos], device, channels_last=False)
    y = torch.as_tensor(train.labels[pos], device=device)
    return x, y, pos


def weighted_layers(net: nn.Module | Sequence[nn.Module]) -> list[nn.Module]:
    """The layers the gradient proxies sum over: every Conv2d and Linear of ``net`` (a network, or the list
    of its modules), in module order."""
    mods = net.modules() if isinstance(net, nn.Module) else net
    return [m for m in mods if isinstance(m, (nn.Conv2d, nn.Linear))]


def same_pattern_counts(h: torch.Tensor, int8: bool | None = None) -> torch.Tensor:
    """NASWOT's kernel of one layer from its ReLU inputs h [B, F] (a unit's binary code is ``h > 0``) ->
    float64 [B, B], entry (i, j) = number of units where images i and j agree,
    ``a a^T + (1-a)(1-a)^T = 2 a a^T - s_i - s_j + F`` with ``s_i`` the ones of image i, the diagonal of
    ``a a^T``.  ``a a^T`` is an exact integer product either way: int8 codes into int32 (``int8``, the
    default on CPU: three times faster than float32 where the CPU has VNNI) or float32 (below 2^24)."""
    if int8 is None:
        int8 = h.device.type == "cpu"
    a = torch.empty(h.shape, dtype=torch.int8 if int8 else torch.float32, device=h.device)
    torch.gt(h, 0, out=a)  # straight into the product's type: ten times faster than a bool tensor converted
    g = (torch._int_mm(a, a.T) if int8 else a @ a.T).double()
    s = g.diagonal().unsqueeze(1)
    return 2.0 * g - s - s.T + a.shape[1]


def jacov_score(jac: torch.Tensor) -> float:
    """jacob_cov of input gradients jac [B, ...]: ``-sum(log(v + k) + 1/(v + k))``, k = 1e-5, over the
    eigenvalues v of the images' correlation matrix; NaN when a gradient is constant (undefined)."""
    j = jac.flatten(1).double().cpu().numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(j)
    if not np.isfinite(corr).all():
        return float("nan")
    v = np.clip(np.linalg.eigvalsh(corr), 0.0, None)  # symmetric; clip rounding below zero
    k = 1e-5
    return float(-np.sum(np.log(v + k) + 1.0 / (v + k)))


def snip_gradnorm(weights: Sequence[torch.Tensor], grads: Sequence[torch.Tensor | None]) -> tuple[float, float]:
    """(snip, grad_norm) of the loss gradients ``grads`` of ``weights`` (None: unused by the loss, skipped):
    ``sum |w * g|`` and ``sum_l ||g_l||``."""
    pairs = [(w.detach(), g) for w, g in zip(weights, grads, strict=True) if g is not None]
    snip = sum(float((g * w).abs().sum()) for w, g in pairs)
    grad_norm = sum(float(g.norm()) for _, g in pairs)
    return float(snip), float(grad_norm)


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


def log_synflow(net: nn.Module, input_shape: Sequence[int], run: Callable[[torch.Tensor], torch.Tensor]) -> float:
    """log of synflow: ``|w|`` weights (in place: ``net`` is spent), BN removed, float64, all-ones input
    of ``input_shape`` through ``run``; ``log sum |w * dR/dw|`` over :func:`weighted_layers`, R = sum of
    outputs.  -inf when nothing reaches the output."""
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()
    for m in net.modules():
        if isinstance(m, _BatchNorm):
            m.forward = _identity  # type: ignore[method-assign]
    net.double()
    net.zero_grad(set_to_none=True)
    p = next(net.parameters())
    run(torch.ones(tuple(input_shape), dtype=torch.float64, device=p.device)).sum().backward()
    total = sum(float((m.weight.detach() * m.weight.grad).abs().sum()) for m in weighted_layers(net) if m.weight.grad is not None)
    return math.log(total) if total > 0 else float("-inf")


def path_synflow(modules: Sequence[nn.Module], input_shape: Sequence[int], run: Callable[[torch.Tensor], torch.Tensor],
                 rescale: Sequence[nn.Module] = ()) -> float:
    """:func:`log_synflow` by one forward pass, no gradients, of the network whose modules are ``modules``
    (their weights are spent: ``|w|``, the classifier bias zeroed; their BN is back in place afterwards).

    With ``|w|`` weights, BN removed and an all-ones input, every activation is >= 0, so the ReLUs act as
    identities and R is a sum over input-output paths of weight products.  ``w * dR/dw`` summed over a
    layer is then the sum of the paths through that layer, and synflow the sum over paths of (product x
    number of weighted layers on the path).  That count rides along as a second batch row: a forward
    pre-hook turns each conv and linear layer's input ``[v, c]`` into ``[v, c + v]`` (each path's count
    grows by one there), every other op is linear and carries both rows alike, and synflow is the sum of
    the count row of the output.  The classifier bias (the only bias: R's only term off the paths) is
    zeroed first; a bias elsewhere would make the network affine, so it is refused.

    ``rescale``: modules every path passes through (the stem and body modules of a network); each one's
    output is divided by its detached maximum s and ``sum log s`` added back, which keeps float32 in range
    (the sums reach e^115; float32 ends at e^88) and changes the result only by rounding.
    """
    layers = weighted_layers(modules)
    if any(getattr(m, "bias", None) is not None for m in layers[:-1]):
        raise ValueError("path_synflow needs bias-free layers before the classifier")
    with torch.no_grad():
        if getattr(layers[-1], "bias", None) is not None:
            layers[-1].bias.zero_()
        for m in modules:
            for w in m.parameters(recurse=False):
                w.abs_()
    norms = [m for m in modules if isinstance(m, _BatchNorm)]
    logs: list[float] = []

    def count(_m: nn.Module, inp: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor]:
        vc = inp[0]
        return (vc + vc[:1] * new_path.view(2, *(1,) * (vc.dim() - 1)),)  # [v, c] -> [v, c + v]

    def scale(_m: nn.Module, _inp: tuple[torch.Tensor, ...], out: torch.Tensor) -> torch.Tensor:
        s = float(out.amax())
        if not s > 0:  # nothing reaches here
            return out
        logs.append(math.log(s))
        return out / s

    hooks = [m.register_forward_pre_hook(count) for m in layers] + [m.register_forward_hook(scale) for m in rescale]
    for m in norms:
        m.forward = _identity  # type: ignore[method-assign]
    w = layers[-1].weight
    ones = torch.ones((1, *tuple(input_shape)[1:]), dtype=w.dtype, device=w.device)
    new_path = torch.tensor([0.0, 1.0], dtype=w.dtype, device=w.device)
    try:
        with torch.inference_mode():
            out = run(torch.cat([ones, torch.zeros_like(ones)]))
    finally:
        for h in hooks:
            h.remove()
        for m in norms:
            del m.forward
    total = float(out[1].sum(dtype=torch.float64))
    return math.log(total) + math.fsum(logs) if total > 0 else float("-inf")


def _untrained_net(arch: Arch, cfg: ProxyConfig, num_classes: int, device: torch.device) -> StandaloneNet:
    """The network the proxies score: initialised from ``cfg.seed``, affine BN in training mode."""
    net = StandaloneNet(arch, cfg.C, cfg.N, num_classes, bn_affine=True, track_running_stats=True, seed=cfg.seed)
    return net.to(device).train()


@functools.lru_cache(maxsize=2)
def _shared_supernets(C: int, N: int, num_classes: int, device: str) -> tuple[SuperNet, SuperNet]:
    """(CPU supernet the networks are initialised in, supernet on ``device`` they run in: the same one on
    CPU).  Affine BN in training mode, as the proxies' networks."""
    init = SuperNet(C, N, num_classes, bn_affine=True, track_running_stats=True).train()
    run = init if torch.device(device).type == "cpu" else SuperNet(C, N, num_classes, True, True).to(device).train()
    return init, run


def _untrained_modules(arch: Arch, cfg: ProxyConfig, num_classes: int, device: torch.device) -> tuple[SuperNet, list[nn.Module]]:
    """(supernet, the modules of ``arch`` in it) holding exactly ``_untrained_net(arch, ...)``'s values."""
    init, net = _shared_supernets(cfg.C, cfg.N, num_classes, str(device))
    init.reinit_standalone(arch, cfg.seed)
    mods = net.standalone_modules(arch)
    if net is not init:
        with torch.no_grad():
            for src, dst in zip(init.standalone_modules(arch), mods, strict=True):
                for a, b in zip((*src.parameters(False), *src.buffers(False)), (*dst.parameters(False), *dst.buffers(False)), strict=True):
                    b.copy_(a)
    return net, mods


def score_proxies(arch: Arch, x: torch.Tensor, y: torch.Tensor, cfg: ProxyConfig, num_classes: int = 10) -> tuple[float, ...]:
    """The proxies of ``arch`` (in :data:`PROXIES` order) on the minibatch ``x`` [B, 3, H, W], ``y`` [B].

    The network is ``arch``'s part of a supernet kept between calls, re-initialised to the values
    ``StandaloneNet(arch, seed=cfg.seed)`` is created with (:meth:`SuperNet.reinit_standalone`; building
    a network per architecture cost a tenth of the time).  One forward pass (ReLU hooks for nwot; each
    node's ReLU computed once for all the conv edges out of it) serves nwot, jacov (input gradient) and
    snip/grad_norm (loss gradient of the conv and linear weights only); synflow then spends the weights
    in one gradient-free pass (:func:`path_synflow`).  On CPU the float32 pass runs in channels-last
    memory (faster; sums are ordered differently, so values move by float rounding against
    :func:`reference_scores`: typically a few 1e-3 relative in snip and grad_norm, up to ~6e-2 on a few
    cells of the space; synflow within 1e-6 of the float64 reference's log).
    """
    nhwc = x.device.type == "cpu"
    fmt = torch.channels_last if nhwc else torch.contiguous_format
    net, mods = _untrained_modules(arch, cfg, num_classes, x.device)
    B = x.shape[0]
    K = torch.zeros(B, B, dtype=torch.float64, device=x.device)
    codes: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
    relus: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    def count(_m: nn.Module, inp: tuple[torch.Tensor, ...], _out: torch.Tensor) -> None:
        # every conv edge out of a node has that node (the same tensor) as its ReLU's input: one kernel per
        # node, added once per edge; the tensor is held so that its id is not reused during the pass
        h = inp[0]
        seen = codes.get(id(h))
        if seen is None:
            a = h.detach()
            a = a.permute(0, 2, 3, 1) if nhwc and a.dim() == 4 else a  # a view in NHWC memory: units in any order
            seen = codes[id(h)] = (h, same_pattern_counts(a.flatten(1)))
        K.add_(seen[1])

    def shared_relu(h: torch.Tensor) -> torch.Tensor:
        seen = relus.get(id(h))
        if seen is None:
            seen = relus[id(h)] = (h, torch.relu(h))
        return seen[1]

    relu_modules = [m for m in mods if isinstance(m, nn.ReLU)]
    hooks = [m.register_forward_hook(count) for m in relu_modules]
    for m in relu_modules:
        m.forward = shared_relu  # type: ignore[method-assign]
    try:
        xin = x.clone(memory_format=fmt).requires_grad_(True)
        logits = net(xin, arch, all_edges=True)
    finally:
        for h in hooks:
            h.remove()
        for m in relu_modules:
            del m.forward
        codes.clear()
        relus.clear()
    nwot = float(torch.linalg.slogdet(K)[1])
    (jac,) = torch.autograd.grad(logits.sum(), xin, retain_graph=True)
    jacov = jacov_score(jac)
    weights = [m.weight for m in weighted_layers(mods)]
    grads = torch.autograd.grad(nn.functional.cross_entropy(logits, y), weights, allow_unused=True)
    del logits
    snip, grad_norm = snip_gradnorm(weights, grads)
    synflow = path_synflow(mods, (1, *x.shape[1:]), lambda t: net(t, arch), rescale=[net.stem, *net.cells])
    return nwot, synflow, jacov, snip, grad_norm


def reference_scores(arch: Arch, x: torch.Tensor, y: torch.Tensor, cfg: ProxyConfig, num_classes: int = 10) -> tuple[float, ...]:
    """The same proxies as :func:`score_proxies`, computed the plain way it is checked and timed against
    (tests, ``benchmarks/proxies_speed.py``): a kernel per ReLU, contiguous memory, ``backward()`` into
    every parameter, synflow through every edge."""
    net = _untrained_net(arch, cfg, num_classes, x.device)
    K = torch.zeros(len(x), len(x), dtype=torch.float64, device=x.device)

    def count(_m: nn.Module, inp: tuple[torch.Tensor, ...], _out: torch.Tensor) -> None:
        K.add_(same_pattern_counts(inp[0].detach().flatten(1)))

    hooks = [m.register_forward_hook(count) for m in net.modules() if isinstance(m, nn.ReLU)]
    xin = x.clone().requires_grad_(True)
    logits = net(xin, all_edges=True)
    for h in hooks:
        h.remove()
    (jac,) = torch.autograd.grad(logits.sum(), xin, retain_graph=True)
    nn.functional.cross_entropy(logits, y).backward()
    weights = [m.weight for m in weighted_layers(net)]
    snip, grad_norm = snip_gradnorm(weights, [w.grad for w in weights])
    synflow = log_synflow(net, (1, *x.shape[1:]), lambda t: net(t, all_edges=True))
    return float(torch.linalg.slogdet(K)[1]), synflow, jacov_score(jac), snip, grad_norm


def load_proxy_images(source: str = "auto", root: str | None = None, *, progress: bool = True) -> tuple[ImageSet, str]:
    """(training images, resolved source name): the NB201 train half of CIFAR-10 (``"cifar10"``),
    synthetic images (``"synthetic"``), an image folder (``"folder"``, ``root`` = the folder), or whichever
    of CIFAR-10 and synthetic is found (``"auto"``)."""
    cfg = resolve_source(SupernetConfig().replace(data={"source": source, "root": root}))
    if cfg.data.source == "folder":  # an image folder: its own class count (proxies need no classifier match)
        return load_folder(cfg, progress=progress, check_classes=False)["train"], "folder"
    return load_images(cfg, progress=progress)["train"], cfg.data.source


_METHOD = 3
"""Bumped when a change moves the scores (2: channels-last on CPU; 3: float32 path-count synflow), so partial
runs of another version are not reused."""


def _key(cfg: ProxyConfig, batch_files: Sequence[str]) -> str:
    return json_digest([dataclasses.asdict(cfg), list(batch_files), torch.__version__, _METHOD], 12)


def compute_proxies(
    archs: Sequence[Arch | str | int] | None,
    train: ImageSet,
    out: str | Path,
    cfg: ProxyConfig = ProxyConfig(),
    *,
    device: torch.device | str = "cpu",
    progress: bool = True,
    source: str = "",
) -> pd.DataFrame | None:
    """Proxies of ``archs`` (None = all 15,625) on a minibatch of ``train``; write ``out`` and ``out.json``.

    Each isomorphism class is scored once (its canonical member) and copied to every member; classes
    already in ``<out>.partial-<key>`` are reused, so an interrupted run resumes.  Under torchrun the
    classes are sharded and ranks other than 0 return None.  ``source`` names the images in the sidecar.
    """
    t0 = time.perf_counter()
    out = Path(out)
    dev = torch.device(device)
    arch_list = list(all_archs()) if archs is None else parse_many(archs)
    if not arch_list:
        raise ValueError("no architectures to score")
    num_classes = len(train.classes)
    x, y, pos = proxy_batch(train, cfg, dev)
    batch_files = [str(f) for f in train.files[pos]]
    key = _key(cfg, batch_files)
    reps = representatives(arch_list, canonical=True)
    done = score_classes(
        reps, lambda a: score_proxies(a, x, y, cfg, num_classes), out, key, len(PROXIES),
        desc="zero-cost proxies", progress=progress, device_type=dev.type,
    )
    if done is None:
        return None
    ids, deg = iso_ids(), degenerate_mask()
    nan = (float("nan"),) * len(PROXIES)
    rows = [
        (a.index, a.to_str(), *(nan if deg[a.index] else done[int(ids[a.index])]), int(ids[a.index]), bool(deg[a.index]))
        for a in arch_list
    ]
    df = pd.DataFrame(rows, columns=list(PROXY_COLUMNS))
    sidecar: dict[str, Any] = {
        "proxies": list(PROXIES),
        "config": dataclasses.asdict(cfg),
        "images": source,
        "batch_files": batch_files,
        "architectures": len(df),
        "classes_scored": len(reps),
        "degenerate": int(df["degenerate"].sum()),
        "torch": torch.__version__,
        "device": str(dev),
        "threads": torch.get_num_threads(),
        "seconds": round(time.perf_counter() - t0, 2),
    }
    write_table(df, out, sidecar)
    remove_partials(out, key)
    return df
