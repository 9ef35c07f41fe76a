"""DrNAS: differentiable architecture search with Dirichlet-distributed mixing weights.

Method (Chen, Wang, Cheng, Tang, Hsieh, "DrNAS: Dirichlet Neural Architecture Search", ICLR 2021).
DARTS relaxes the choice of one op per edge into a softmax-weighted mixture of all ops and learns the
softmax logits.  DrNAS instead treats each edge's mixing weights as a random vector on the simplex,
``w_k ~ Dirichlet(beta_k)`` with concentration ``beta_k = elu(theta_k) + 1`` (strictly positive), and
minimises the *expected* validation loss ``E_{w ~ Dir(beta)} L_valid(w, W*)`` (paper Eq. 2-3).  Dirichlet
samples are reparameterised with pathwise (implicit) derivatives (Jankowiak & Obermeyer 2018; PyTorch's
``Dirichlet.rsample``), so ``theta`` gets an ordinary gradient through one sample per step.  An optional
regulariser pulls each edge's distribution towards an anchor ``Dirichlet(1)`` (uniform over the simplex)
with ``reg_scale * sum_k KL(Dir(beta_k) || Dir(1))`` (paper Eq. 4, ``reg_type = "kl"``).

Mapping to this code:

* :class:`DirichletArch` holds ``theta`` [6 edges, 5 ops] (official edge and op order of
  :mod:`supernet.space`), initialised ``init_std * N(0, 1)`` as DrNAS does (``1e-3``).
* One step of :func:`drnas_step` is DrNAS's first-order bilevel update in the published order: first the
  architecture step (a batch of the VALID half, a fresh sample ``w ~ Dir(beta)``, cross-entropy
  (+ KL), Adam on ``theta`` only), then the weight step (a batch of the TRAIN half, another fresh sample,
  treated as a constant, SGD with momentum on the supernet weights, gradient-norm clipping).  Both run
  :meth:`supernet.network.SuperNet.forward_mixed`, the same ``[6, 5]`` weights in every cell.
* The final architecture (:meth:`DirichletArch.derive`) takes, on each edge, the op with the largest
  concentration, i.e. the mode of the expected weights ``beta / sum(beta)``; ``elu + 1`` is monotone, so
  this is also DrNAS's ``argmax softmax(theta)``.  ``none`` is a candidate like any other op, as in DrNAS's
  NAS-Bench-201 search (a derived cell may therefore contain ``none`` edges, or even be degenerate).

Defaults follow the authors' NAS-Bench-201 search script (``201-space/train_search.py``): batch 64, SGD lr
0.025 -> 0.001 (cosine, per epoch), momentum 0.9, weight decay 3e-4, gradient clip 5, 100 epochs; Adam
lr 3e-4 (6e-4 is their DARTS-space value), betas (0.5, 0.999), weight decay 1e-3 on ``theta`` (their
default ``reg_type = "l2"``, ``reg_scale = 1e-3``; here that is ``arch_weight_decay`` with
``reg_type = "none"``; their ``"kl"`` variant turns the Adam weight decay off, i.e. ``arch_weight_decay = 0``
with ``reg_type = "kl"``).  ``arch_warmup_epochs`` delays the architecture steps (their progressive script
waits 10 epochs per stage; the plain script does not wait).

Not implemented: partial channel connections (PC-DARTS, 1/k of the channels through the mixed op) and the
progressive schedule (k decreasing over stages with op pruning and net2wider weight transfer), DrNAS's
memory savers for large search spaces.  The NAS-Bench-201 supernet is small enough to search with every
channel; the unrolled (second-order) architecture gradient is not implemented either (DrNAS uses first order).

A run directory holds ``drnas_config.json``, ``drnas_checkpoint.pt`` (atomic, every epoch and on
SIGINT/SIGTERM; every RNG state, both optimisers and both loader positions, so ``resume=True`` reproduces
the uninterrupted run bit for bit on CPU), ``drnas_log.csv`` (one row per epoch) and, when the run is
finished, ``drnas_result.json``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Dirichlet, kl_divergence
from tqdm.auto import tqdm

from .config import SupernetConfig, config_from_dict, read_toml
from .datasets import ImageSet, TensorLoader
from .fileio import write_json_atomic
from .hashing import json_digest
from .network import SuperNet
from .space import EDGES, NUM_EDGES, NUM_OPS, OPS, Arch
from .train import (
    CheckpointError,
    StopRequested,
    _graceful_stop,
    _rng_state,
    _set_rng_state,
    append_log,
    config_diff,
    cosine_lr,
    load_checkpoint,
    load_images,
    resolve_device,
    resolve_source,
    save_atomic,
    state_hash,
    truncate_log,
)

__all__ = [
    "DrNASConfig",
    "DirichletArch",
    "StepStats",
    "drnas_config_from_dict",
    "load_drnas_config",
    "drnas_step",
    "train_drnas",
    "CHECKPOINT",
    "CONFIG",
    "LOG",
    "RESULT",
]

log = logging.getLogger(__name__)

CHECKPOINT = "drnas_checkpoint.pt"
CONFIG = "drnas_config.json"
LOG = "drnas_log.csv"
RESULT = "drnas_result.json"
_FORMAT = "nasgcn-drnas-v1"
_LOG_FIELDS = [
    "epoch", "lr", "train_loss", "train_acc", "valid_loss", "valid_acc", "seconds",
    "arch_str", "arch_index", "entropy", "max_prob",
]
MIN_CONCENTRATION = 1e-6
"""Floor of the concentration, reached only for ``theta < log(1e-6) ~ -13.8``: keeps ``Dir(beta)`` valid
(``elu(theta) + 1`` itself rounds to 0 in float32 below about -17) and its pathwise gradient finite."""
EDGE_NAMES: tuple[str, ...] = tuple(f"{i}->{j}" for i, j in EDGES)
"""Edge labels in official order, for result files."""


# ---------------------------------------------------------------------- config
@dataclass(frozen=True)
class DrNASConfig:
    """The ``[drnas]`` section: schedule, optimisers and regulariser of a DrNAS search.

    Weights (SGD, momentum, no Nesterov as in DrNAS): ``w_lr`` -> ``w_lr_min`` cosine per epoch,
    ``w_weight_decay``, ``grad_clip`` (max global L2 norm, 0 = off).  Architecture (Adam):
    ``arch_lr``, ``arch_betas``, ``arch_weight_decay`` (L2 on ``theta``), ``reg_type`` ``"kl"``
    (adds ``reg_scale * sum_edges KL(Dir(beta) || Dir(1))`` to the validation loss) or ``"none"``;
    ``arch_warmup_epochs``: epochs of weight steps only before the architecture steps start.
    ``init_std``: ``theta ~ init_std * N(0, 1)``.  ``seed`` seeds the supernet weights, ``theta``, both
    loaders and the Dirichlet samples.  ``threads``: ``torch.set_num_threads`` (None = leave as is);
    ``device``: ``"auto"``, ``"cpu"``, ``"cuda"``...; ``channels_last``: NHWC activations.
    """

    epochs: int = 100
    batch_size: int = 64
    w_lr: float = 0.025
    w_lr_min: float = 0.001
    w_momentum: float = 0.9
    w_weight_decay: float = 3e-4
    grad_clip: float = 5.0
    arch_lr: float = 3e-4
    arch_betas: tuple[float, float] = (0.5, 0.999)
    arch_weight_decay: float = 1e-3
    arch_warmup_epochs: int = 0
    reg_type: str = "none"
    reg_scale: float = 1e-3
    init_std: float = 1e-3
    seed: int = 0
    threads: int | None = None
    device: str = "auto"
    channels_last: bool = True

    def __post_init__(self) -> None:
        betas = tuple(float(b) for b in self.arch_betas)
        object.__setattr__(self, "arch_betas", betas)
        problems = []
        if self.epochs < 1 or self.batch_size < 1:
            problems.append(f"epochs and batch_size must be >= 1 (got {self.epochs}, {self.batch_size})")
        if self.reg_type not in ("kl", "none"):
            problems.append(f"reg_type must be 'kl' or 'none', got {self.reg_type!r}")
        if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
            problems.append(f"arch_betas must be two numbers in [0, 1), got {self.arch_betas!r}")
        if self.w_lr <= 0 or self.arch_lr <= 0 or self.w_lr_min < 0:
            problems.append("w_lr and arch_lr must be > 0 and w_lr_min >= 0")
        if min(self.w_weight_decay, self.arch_weight_decay, self.reg_scale, self.grad_clip, self.init_std) < 0:
            problems.append("weight decays, reg_scale, grad_clip and init_std must be >= 0")
        if self.arch_warmup_epochs < 0:
            problems.append(f"arch_warmup_epochs must be >= 0, got {self.arch_warmup_epochs}")
        if self.threads is not None and self.threads < 1:
            problems.append(f"threads must be >= 1 or absent, got {self.threads}")
        if problems:
            raise ValueError("[drnas] " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (tuples as lists)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    def replace(self, **changes: Any) -> "DrNASConfig":
        """Copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


# sections of a DrNAS config: [data] and [model] build the SupernetConfig, [drnas] the DrNASConfig
_SECTIONS = ("data", "model", "drnas")


def drnas_config_from_dict(d: dict[str, Any], where: str = "[drnas]") -> DrNASConfig:
    """Build a :class:`DrNASConfig` from the ``[drnas]`` table, rejecting unknown keys and wrong types."""
    known = {f.name: f for f in fields(DrNASConfig)}
    unknown = sorted(set(d) - set(known))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown} in [drnas]; known: {', '.join(known)}")
    defaults = DrNASConfig()
    kwargs: dict[str, Any] = {}
    for k, v in d.items():
        default = getattr(defaults, k)
        if isinstance(default, bool):
            if not isinstance(v, bool):
                raise ValueError(f"{where}: [drnas] {k} must be true or false, got {v!r}")
        elif isinstance(default, (int, float)) or k == "threads":
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ValueError(f"{where}: [drnas] {k} must be a number, got {v!r}")
            if isinstance(default, int) or k == "threads":
                if isinstance(v, float) and not v.is_integer():
                    raise ValueError(f"{where}: [drnas] {k} must be an integer, got {v!r}")
                v = int(v)
            else:
                v = float(v)
        elif isinstance(default, str):
            if not isinstance(v, str):
                raise ValueError(f"{where}: [drnas] {k} must be a string, got {v!r}")
        elif isinstance(default, tuple):
            if not isinstance(v, (list, tuple)) or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
                raise ValueError(f"{where}: [drnas] {k} must be a list of numbers, got {v!r}")
            v = tuple(v)
        kwargs[k] = v
    try:
        return DrNASConfig(**kwargs)
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None


def load_drnas_config(path: str | Path) -> tuple[SupernetConfig, DrNASConfig]:
    """Read a DrNAS TOML config: ``[data]`` and ``[model]`` (as in supernet configs) plus ``[drnas]``.

    Every other section is an error (``[train]``/``[sampling]`` settings of single-path training are not
    read by DrNAS; its own live in ``[drnas]``), as is any unknown key.
    """
    p = Path(path)
    d = read_toml(p)
    other = sorted(set(d) - set(_SECTIONS))
    if other:
        raise ValueError(
            f"{p}: section(s) {other} are not read by DrNAS; a DrNAS config has [data], [model] and [drnas] "
            f"(weight-training settings such as the learning rate live in [drnas])"
        )
    scfg = config_from_dict({k: d[k] for k in ("data", "model") if k in d}, where=str(p))
    return scfg, drnas_config_from_dict(d.get("drnas", {}) or {}, where=str(p))


# ---------------------------------------------------------------------- the distribution
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


# ---------------------------------------------------------------------- one bilevel step
@dataclass
class StepStats:
    """Sums over one step's batches: train loss x images, correct, images; same for the valid batch
    (zeros when no architecture step ran)."""

    train_loss: float = 0.0
    train_correct: float = 0.0
    train_seen: float = 0.0
    valid_loss: float = 0.0
    valid_correct: float = 0.0
    valid_seen: float = 0.0


def drnas_step(
    model: SuperNet,
    arch: DirichletArch,
    w_opt: torch.optim.Optimizer,
    a_opt: torch.optim.Optimizer,
    train_batch: tuple[torch.Tensor, torch.Tensor],
    valid_batch: tuple[torch.Tensor, torch.Tensor] | None,
    *,
    reg_type: str = "none",
    reg_scale: float = 0.0,
    grad_clip: float = 0.0,
) -> StepStats:
    """One first-order DrNAS step: architecture step on ``valid_batch`` (skipped when None), then weight step
    on ``train_batch``.  Batches are ``(x [B, 3, H, W] float, y [B] int64)``.

    The architecture step leaves ``theta.grad`` holding the gradient it applied (valid cross-entropy with a
    fresh sample, plus ``reg_scale * KL`` when ``reg_type == "kl"``); no supernet weight gets a gradient from
    it.  The weight step's sample is a constant (no gradient to ``theta``).
    """
    st = StepStats()
    theta = arch.theta
    if valid_batch is not None:
        xv, yv = valid_batch
        a_opt.zero_grad(set_to_none=True)
        logits = model.forward_mixed(xv, arch.rsample())
        ce = F.cross_entropy(logits, yv)
        loss = (ce + reg_scale * arch.kl_to_prior()) if reg_type == "kl" else ce
        loss.backward(inputs=[theta])  # only theta: no weight gradients are computed
        a_opt.step()
        with torch.no_grad():
            st.valid_loss = float(ce) * yv.numel()
            st.valid_correct = float((logits.argmax(1) == yv).sum())
            st.valid_seen = float(yv.numel())
    x, y = train_batch
    with torch.no_grad():
        w = arch.rsample()
    w_opt.zero_grad(set_to_none=True)
    logits = model.forward_mixed(x, w)
    loss = F.cross_entropy(logits, y)
    loss.backward()
    if grad_clip and grad_clip > 0:
        nn.utils.clip_grad_norm_([p for p in model.parameters() if p.grad is not None], grad_clip)
    w_opt.step()
    with torch.no_grad():
        st.train_loss = float(loss) * y.numel()
        st.train_correct = float((logits.argmax(1) == y).sum())
        st.train_seen = float(y.numel())
    return st


# ---------------------------------------------------------------------- the loop
def _run_config(scfg: SupernetConfig, dcfg: DrNASConfig) -> dict[str, Any]:
    s = scfg.to_dict()
    return {"data": s["data"], "model": s["model"], "drnas": dcfg.to_dict()}


# options that change where or how fast a run goes, not what it computes
_RESUMABLE = {("drnas", "device"), ("drnas", "threads"), ("data", "cache_dir"), ("data", "root")}


def _arch_summary(arch: DirichletArch) -> dict[str, Any]:
    """Derived architecture, concentration and expected weights of ``arch`` as JSON-ready values."""
    a = arch.derive()
    with torch.no_grad():
        conc = arch.concentration().detach().cpu().double()
        mean = arch.mean().detach().cpu().double()
    ent, maxp = arch.confidence()
    return {
        "arch_str": a.to_str(),
        "index": int(a.index),
        "ops": list(a.ops),
        "edges": list(EDGE_NAMES),
        "op_names": list(OPS),
        "concentration": [[float(v) for v in row] for row in conc.tolist()],
        "concentration_by_edge": {e: dict(zip(OPS, (float(v) for v in row))) for e, row in zip(EDGE_NAMES, conc.tolist())},
        "expected_weights": [[float(v) for v in row] for row in mean.tolist()],
        "entropy": ent,
        "max_prob": maxp,
    }


def train_drnas(
    scfg: SupernetConfig,
    dcfg: DrNASConfig,
    out_dir: str | Path,
    *,
    resume: bool = False,
    progress: bool = True,
    data: dict[str, ImageSet] | None = None,
    max_steps: int | None = None,
) -> dict[str, Any]:
    """Run (or continue) a DrNAS search of the NAS-Bench-201 space into ``out_dir``; returns a summary.

    ``scfg`` gives the data (``[data]``: the train half trains the weights, the valid half the
    architecture) and the supernet (``[model]``); ``dcfg`` everything else.  ``resume=False`` refuses a
    directory that already holds a DrNAS checkpoint; ``resume=True`` continues it (or starts when there is
    none).  ``data`` (``{"train", "valid"}`` image sets) overrides :func:`supernet.train.load_images`.
    ``max_steps`` stops (with a checkpoint) after that many steps in this call.

    Summary keys: ``out``, ``epochs_done``, ``epochs``, ``finished``, ``global_step``,
    ``seconds_this_call``, ``device``, ``weights_sha256``, ``history`` (per-epoch derived architectures)
    and the current architecture (``arch_str``, ``index``, ``concentration`` [6][5], ... see
    ``drnas_result.json``).
    """
    out = Path(out_dir)
    device = resolve_device(dcfg.device)
    if dcfg.threads:
        torch.set_num_threads(int(dcfg.threads))
    if data is None:
        scfg = resolve_source(scfg)
    run_cfg = _run_config(scfg, dcfg)
    ck_path = out / CHECKPOINT
    ck: dict[str, Any] | None = None
    if ck_path.exists():
        if not resume:
            raise CheckpointError(
                f"{out} already holds a DrNAS checkpoint; pass --resume to continue it or choose a new --out"
            )
        ck = load_checkpoint(ck_path)
        if ck.get("format") != _FORMAT:
            raise CheckpointError(f"{ck_path} is not a DrNAS checkpoint (format {ck.get('format')!r})")
        defaults = {"data": SupernetConfig().to_dict()["data"], "model": SupernetConfig().to_dict()["model"],
                    "drnas": DrNASConfig().to_dict()}
        diff = config_diff(ck["config"], run_cfg, defaults, _RESUMABLE)
        if diff:
            raise CheckpointError(
                f"{ck_path} was made with another config ({diff}); resume with the same config or use a new --out"
            )
    out.mkdir(parents=True, exist_ok=True)
    (out / CONFIG).write_text(json.dumps({"config": run_cfg, "hash": json_digest(run_cfg, 16)}, indent=2))

    images = data if data is not None else load_images(scfg, progress=progress)
    num_classes = int(scfg.data.num_classes)
    m = scfg.model
    model = SuperNet(C=m.C, N=m.N, num_classes=num_classes, bn_affine=m.bn_affine,
                     track_running_stats=m.track_running_stats, seed=dcfg.seed).to(device)
    if dcfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    arch = DirichletArch(init_std=dcfg.init_std, seed=dcfg.seed + 1).to(device)
    w_opt = torch.optim.SGD(model.parameters(), lr=dcfg.w_lr, momentum=dcfg.w_momentum,
                            weight_decay=dcfg.w_weight_decay)
    a_opt = torch.optim.Adam(arch.parameters(), lr=dcfg.arch_lr, betas=dcfg.arch_betas,
                             weight_decay=dcfg.arch_weight_decay)
    train_loader = TensorLoader(images["train"], batch_size=dcfg.batch_size, device=device, shuffle=True,
                                augment=True, drop_last=True, seed=dcfg.seed, channels_last=dcfg.channels_last)
    # DrNAS draws the architecture batches from the valid half with the training augmentation
    valid_loader = TensorLoader(images["valid"], batch_size=dcfg.batch_size, device=device, shuffle=True,
                                augment=True, drop_last=True, seed=dcfg.seed + 2, channels_last=dcfg.channels_last)
    for name, ld in (("train", train_loader), ("valid", valid_loader)):
        if len(ld) == 0:
            raise ValueError(f"{len(ld.images)} {name} images give no full batch of {dcfg.batch_size}")

    epoch, step_in_epoch, global_step = 0, 0, 0
    accum = StepStats()
    epoch_seconds = 0.0
    history: list[dict[str, Any]] = []
    rng_state: dict[str, Any] | None = None
    if ck is not None:
        model.load_state_dict(ck["model"])
        arch.load_state_dict(ck["arch"])
        w_opt.load_state_dict(ck["w_optimizer"])
        a_opt.load_state_dict(ck["a_optimizer"])
        train_loader.load_state_dict(ck["train_loader"])
        valid_loader.load_state_dict(ck["valid_loader"])
        rng_state = ck["rng"]
        epoch, step_in_epoch, global_step = ck["epoch"], ck["step_in_epoch"], ck["global_step"]
        accum = StepStats(*ck["epoch_accum"])
        epoch_seconds = ck["epoch_seconds"]
        history = list(ck["history"])
        truncate_log(out / LOG, epoch, _LOG_FIELDS)
        log.info("resumed %s at epoch %d step %d", out, epoch, step_in_epoch)

    def checkpoint() -> None:
        save_atomic(
            {
                "format": _FORMAT,
                "config": run_cfg,
                "config_hash": json_digest(run_cfg, 16),
                "num_classes": num_classes,
                "model": model.state_dict(),
                "arch": arch.state_dict(),
                "w_optimizer": w_opt.state_dict(),
                "a_optimizer": a_opt.state_dict(),
                "train_loader": train_loader.state_dict(),
                "valid_loader": valid_loader.state_dict(),
                "rng": _rng_state(),
                "epoch": epoch,
                "step_in_epoch": step_in_epoch,
                "global_step": global_step,
                "epoch_accum": dataclasses.astuple(accum),
                "epoch_seconds": epoch_seconds,
                "history": history,
                "finished": epoch >= dcfg.epochs,
            },
            ck_path,
        )

    valid_iter = iter(valid_loader)

    def next_valid() -> tuple[torch.Tensor, torch.Tensor]:
        nonlocal valid_iter
        try:
            return next(valid_iter)
        except StopIteration:  # the valid half is cycled through epoch after epoch
            valid_iter = iter(valid_loader)
            return next(valid_iter)

    steps_this_call = 0
    stopped_early = False
    t_start = time.perf_counter()
    # Dirichlet samples come from the global torch RNG: fork it, so that the caller's stream is untouched,
    # and seed it (fresh run) or restore it (resume) inside.
    fork_devices = [device.index if device.index is not None else torch.cuda.current_device()] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=fork_devices):
        if rng_state is None:
            torch.manual_seed(dcfg.seed)
        else:
            _set_rng_state(rng_state)
        try:
            with _graceful_stop() as stop:
                while epoch < dcfg.epochs:
                    lr = cosine_lr(dcfg.w_lr, dcfg.w_lr_min, epoch, dcfg.epochs)
                    for g in w_opt.param_groups:
                        g["lr"] = lr
                    search_arch = epoch >= dcfg.arch_warmup_epochs
                    model.train()
                    bar = tqdm(total=len(train_loader), initial=step_in_epoch, desc=f"drnas {epoch + 1}/{dcfg.epochs}",
                               disable=not progress, leave=False, unit="step")
                    t0 = time.perf_counter()
                    for xb, yb in train_loader:
                        vb = next_valid() if search_arch else None
                        s = drnas_step(model, arch, w_opt, a_opt, (xb, yb), vb, reg_type=dcfg.reg_type,
                                       reg_scale=dcfg.reg_scale, grad_clip=dcfg.grad_clip)
                        for f in fields(StepStats):
                            setattr(accum, f.name, getattr(accum, f.name) + getattr(s, f.name))
                        step_in_epoch += 1
                        global_step += 1
                        steps_this_call += 1
                        bar.update(1)
                        bar.set_postfix(loss=f"{accum.train_loss / accum.train_seen:.3f}",
                                        acc=f"{100 * accum.train_correct / accum.train_seen:.1f}")
                        if stop.requested:
                            raise StopRequested
                        if max_steps is not None and steps_this_call >= max_steps:
                            stopped_early = True
                            break
                    bar.close()
                    epoch_seconds += time.perf_counter() - t0
                    if stopped_early and step_in_epoch < len(train_loader):
                        checkpoint()
                        break
                    a = arch.derive()
                    ent, maxp = arch.confidence()
                    vs = accum.valid_seen
                    row = {
                        "epoch": epoch + 1, "lr": lr,
                        "train_loss": accum.train_loss / max(accum.train_seen, 1),
                        "train_acc": 100 * accum.train_correct / max(accum.train_seen, 1),
                        "valid_loss": accum.valid_loss / vs if vs else "",
                        "valid_acc": 100 * accum.valid_correct / vs if vs else "",
                        "seconds": round(epoch_seconds, 3), "arch_str": a.to_str(), "arch_index": int(a.index),
                        "entropy": ent, "max_prob": maxp,
                    }
                    history.append({"epoch": epoch + 1, "arch_str": a.to_str(), "index": int(a.index),
                                    "entropy": ent, "max_prob": maxp})
                    epoch += 1
                    step_in_epoch = 0
                    accum = StepStats()
                    epoch_seconds = 0.0
                    append_log(out / LOG, row, _LOG_FIELDS)
                    log.info("drnas epoch %d/%d lr %.4f train %.3f/%.1f%% valid %s arch #%d %s (max p %.3f)",
                             row["epoch"], dcfg.epochs, lr, row["train_loss"], row["train_acc"],
                             f"{row['valid_loss']:.3f}/{row['valid_acc']:.1f}%" if vs else "-",
                             a.index, a.to_str(), maxp)
                    checkpoint()
                    if stopped_early:
                        break
        except StopRequested:
            checkpoint()
            log.warning("interrupted: checkpoint written to %s (resume with --resume)", ck_path)
            raise
    finished = epoch >= dcfg.epochs
    current = _arch_summary(arch)
    summary: dict[str, Any] = {
        "out": str(out),
        "epochs_done": epoch,
        "epochs": dcfg.epochs,
        "finished": finished,
        "global_step": global_step,
        "seconds_this_call": round(time.perf_counter() - t_start, 2),
        "device": str(device),
        "data_source": scfg.data.source if data is None else "given",
        "weights_sha256": state_hash(model),
        **current,
        "history": history,
    }
    if finished:
        result = {**summary, "config": run_cfg, "config_hash": json_digest(run_cfg, 16)}
        result.pop("seconds_this_call")
        write_json_atomic(out / RESULT, result, indent=2)
    return summary
