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

* :class:`~supernet.training.dirichlet.DirichletArch` holds ``theta`` [6 edges, 5 ops] (official edge
  and op order of :mod:`supernet.space`), initialised ``init_std * N(0, 1)`` as DrNAS does (``1e-3``).
* One step of :func:`drnas_step` is DrNAS's first-order bilevel update in the published order: first the
  architecture step (a batch of the VALID half, a fresh sample ``w ~ Dir(beta)``, cross-entropy
  (+ KL), Adam on ``theta`` only), then the weight step (a batch of the TRAIN half, another fresh sample,
  treated as a constant, SGD with momentum on the supernet weights, gradient-norm clipping).  Both run
  :meth:`supernet.network.SuperNet.forward_mixed`, the same ``[6, 5]`` weights in every cell.
* The final architecture (:meth:`~supernet.training.dirichlet.DirichletArch.derive`) takes, on each
  edge, the op with the largest concentration, i.e. the mode of the expected weights ``beta / sum(beta)``;
  ``elu + 1`` is monotone, so this is also DrNAS's ``argmax softmax(theta)``.  ``none`` is a candidate like
  any other op, as in DrNAS's NAS-Bench-201 search (a derived cell may therefore contain ``none`` edges,
  or even be degenerate).

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

The configuration (``[drnas]``) is :mod:`supernet.training.drnas_config`; the run plugs its step into the
shared loop skeleton (:mod:`supernet.training.loop`).  A run directory holds ``drnas_config.json``,
``drnas_checkpoint.pt`` (atomic, every epoch and on SIGINT/SIGTERM; every RNG state, both optimisers and
both loader positions, so ``resume=True`` reproduces the uninterrupted run bit for bit on CPU),
``drnas_log.csv`` (one row per epoch) and, when the run is finished, ``drnas_result.json``.

(Over 400 lines by choice: a quarter of it is this mapping of the method to the code; what remains, the
step and the run that drives it, is one responsibility of about 300 lines.)
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..config import SupernetConfig
from ..fileio import write_json_atomic
from ..hashing import json_digest
from ..data import ImageSet, TensorLoader
from ..network import SuperNet
from ..space import EDGES, OPS
from .checkpoint import rng_state, save_atomic, set_rng_state, state_hash
from .control import cosine_lr
from .device import resolve_device
from .dirichlet import DirichletArch
from .drnas_config import DrNASConfig
from .inputs import load_images, resolve_source
from .loop import LoopState, Resume, open_checkpoint, resume_state, run_loop

__all__ = [
    "StepStats",
    "drnas_step",
    "train_drnas",
    "CHECKPOINT",
    "CONFIG",
    "LOG",
    "RESULT",
    "LOG_FIELDS",
]

log = logging.getLogger(__name__)

CHECKPOINT = "drnas_checkpoint.pt"
CONFIG = "drnas_config.json"
LOG = "drnas_log.csv"
RESULT = "drnas_result.json"
_FORMAT = "nasgcn-drnas-v1"
LOG_FIELDS = (
    "epoch", "lr", "train_loss", "train_acc", "valid_loss", "valid_acc", "seconds",
    "arch_str", "arch_index", "entropy", "max_prob",
)
"""Columns of ``drnas_log.csv``."""
EDGE_NAMES: tuple[str, ...] = tuple(f"{i}->{j}" for i, j in EDGES)
"""Edge labels in official order, for result files."""


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
    it.  The weight step's sample is a constant (no gradient to ``theta``).  When the architecture step leaves
    a non-finite ``theta`` (a diverged search) the weight step is skipped and ``valid_loss`` is NaN.
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
            if not bool(torch.isfinite(theta).all()):  # diverged: no Dirichlet left to sample the weight step from
                st.valid_loss = math.nan
                return st
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


# ---------------------------------------------------------------------- the run
def _run_config(scfg: SupernetConfig, dcfg: DrNASConfig) -> dict[str, Any]:
    """The config a DrNAS run records: ``[data]``, ``[model]`` and ``[drnas]``."""
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
    resume: Resume = False,
    progress: bool = True,
    data: dict[str, ImageSet] | None = None,
    max_steps: int | None = None,
) -> dict[str, Any]:
    """Run (or continue) a DrNAS search of the NAS-Bench-201 space into ``out_dir``; returns a summary.

    ``scfg`` gives the data (``[data]``: the train half trains the weights, the valid half the
    architecture) and the supernet (``[model]``); ``dcfg`` everything else.  ``resume=False`` refuses a
    directory that already holds a DrNAS checkpoint or log; ``resume=True`` continues its checkpoint (an error
    when there is none); ``resume="auto"`` continues when there is one, else starts.  ``data``
    (``{"train", "valid"}`` image sets) overrides :func:`supernet.training.load_images`.
    ``max_steps`` stops (with a checkpoint) after that many steps in this call.

    Summary keys: ``out``, ``epochs_done``, ``epochs``, ``finished``, ``stable_epochs`` (consecutive epochs
    ending with the current derived architecture), ``converged`` (``stop_when_stable`` reached), ``global_step``,
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
    defaults = {"data": SupernetConfig().to_dict()["data"], "model": SupernetConfig().to_dict()["model"],
                "drnas": DrNASConfig().to_dict()}
    ck = open_checkpoint(ck_path, resume, kind="DrNAS", config=run_cfg, defaults=defaults, resumable=_RESUMABLE,
                         fmt=_FORMAT, log_path=out / LOG)
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out / CONFIG, {"config": run_cfg, "hash": json_digest(run_cfg, 16)}, indent=2)

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

    trainee = _DrNAS(dcfg, run_cfg, model, arch, w_opt, a_opt, train_loader, valid_loader, num_classes, ck_path)
    state = LoopState()
    if ck is not None:
        trainee.load(ck)
        state = resume_state(ck, ck["epoch_seconds"], out / LOG, LOG_FIELDS)

    t_start = time.perf_counter()
    # Dirichlet samples come from the global torch RNG: fork it, so that the caller's stream is untouched,
    # and seed it (fresh run) or restore it (resume) inside.
    fork_devices = [device.index if device.index is not None else torch.cuda.current_device()] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=fork_devices):
        if ck is None:
            torch.manual_seed(dcfg.seed)
        else:
            set_rng_state(ck["rng"])
        run_loop(trainee, train_loader, state, epochs=dcfg.epochs, log_path=out / LOG, log_fields=LOG_FIELDS,
                 checkpoint_path=ck_path, desc="drnas", max_steps=max_steps, progress=progress, postfix_every=1,
                 until=trainee.converged)
    converged = trainee.converged()
    summary: dict[str, Any] = {
        **state.summary(out, dcfg.epochs, time.perf_counter() - t_start),
        "stable_epochs": trainee.stable_epochs(),
        "converged": converged,
        "device": str(device),
        "data_source": scfg.data.source if data is None else "given",
        "weights_sha256": state_hash(model),
        **_arch_summary(arch),
        "history": trainee.history,
    }
    summary["finished"] = summary["finished"] or converged
    if summary["finished"]:
        result = {**summary, "config": run_cfg, "config_hash": json_digest(run_cfg, 16)}
        result.pop("seconds_this_call")
        write_json_atomic(out / RESULT, result, indent=2)
    return summary


class _DrNAS:
    """DrNAS's part of the loop (:class:`~supernet.training.loop.Trainee`): one bilevel step per training
    batch, the architecture batches drawn from the valid half, cycled epoch after epoch."""

    def __init__(
        self, dcfg: DrNASConfig, run_cfg: dict[str, Any], model: SuperNet, arch: DirichletArch,
        w_opt: torch.optim.Optimizer, a_opt: torch.optim.Optimizer, train_loader: TensorLoader,
        valid_loader: TensorLoader, num_classes: int, ck_path: Path,
    ) -> None:
        self.dcfg, self.run_cfg, self.model, self.arch, self.w_opt, self.a_opt = dcfg, run_cfg, model, arch, w_opt, a_opt
        self.train_loader, self.valid_loader = train_loader, valid_loader
        self.num_classes, self.ck_path = num_classes, ck_path
        self.accum = StepStats()
        self.history: list[dict[str, Any]] = []
        self.lr = dcfg.w_lr
        self.search_arch = False
        self._valid_iter = iter(valid_loader)

    def load(self, ck: dict[str, Any]) -> None:
        """Continue from a checkpoint of :meth:`save` (the global RNG state is restored by the caller)."""
        self.model.load_state_dict(ck["model"])
        self.arch.load_state_dict(ck["arch"])
        self.w_opt.load_state_dict(ck["w_optimizer"])
        self.a_opt.load_state_dict(ck["a_optimizer"])
        self.train_loader.load_state_dict(ck["train_loader"])
        self.valid_loader.load_state_dict(ck["valid_loader"])
        self.accum = StepStats(*ck["epoch_accum"])
        self.history = list(ck["history"])

    def stable_epochs(self) -> int:
        """How many of the last epochs ended with the same derived architecture as the last one."""
        n = 0
        for h in reversed(self.history):
            if h["index"] != self.history[-1]["index"]:
                break
            n += 1
        return n

    def converged(self) -> bool:
        """True once ``stop_when_stable`` > 0 consecutive epochs ended with the same derived architecture."""
        k = self.dcfg.stop_when_stable
        return k > 0 and self.stable_epochs() >= k

    def _next_valid(self) -> tuple[torch.Tensor, torch.Tensor]:
        try:
            return next(self._valid_iter)
        except StopIteration:  # the valid half is cycled through epoch after epoch
            self._valid_iter = iter(self.valid_loader)
            return next(self._valid_iter)

    def start_epoch(self, epoch: int) -> None:
        d = self.dcfg
        self.lr = cosine_lr(d.w_lr, d.w_lr_min, epoch, d.epochs)
        for g in self.w_opt.param_groups:
            g["lr"] = self.lr
        self.search_arch = epoch >= d.arch_warmup_epochs
        self.model.train()

    def step(self, batch: tuple[torch.Tensor, torch.Tensor], state: LoopState) -> float:
        d = self.dcfg
        vb = self._next_valid() if self.search_arch else None
        s = drnas_step(self.model, self.arch, self.w_opt, self.a_opt, batch, vb, reg_type=d.reg_type,
                       reg_scale=d.reg_scale, grad_clip=d.grad_clip)
        for f in fields(StepStats):
            setattr(self.accum, f.name, getattr(self.accum, f.name) + getattr(s, f.name))
        return s.train_loss + s.valid_loss  # NaN/inf when either step diverged

    def postfix(self) -> dict[str, str]:
        a = self.accum
        return {"loss": f"{a.train_loss / a.train_seen:.3f}", "acc": f"{100 * a.train_correct / a.train_seen:.1f}"}

    def end_epoch(self, state: LoopState) -> dict[str, Any]:
        a = self.arch.derive()
        ent, maxp = self.arch.confidence()
        acc = self.accum
        vs = acc.valid_seen
        row = {
            "epoch": state.epoch + 1, "lr": self.lr,
            "train_loss": acc.train_loss / max(acc.train_seen, 1),
            "train_acc": 100 * acc.train_correct / max(acc.train_seen, 1),
            "valid_loss": acc.valid_loss / vs if vs else "",
            "valid_acc": 100 * acc.valid_correct / vs if vs else "",
            "seconds": round(state.epoch_seconds, 3), "arch_str": a.to_str(), "arch_index": int(a.index),
            "entropy": ent, "max_prob": maxp,
        }
        self.history.append({"epoch": state.epoch + 1, "arch_str": a.to_str(), "index": int(a.index),
                             "entropy": ent, "max_prob": maxp})
        self.accum = StepStats()
        return row

    def epoch_done(self, row: dict[str, Any], state: LoopState) -> None:
        searched = row["valid_loss"] != ""
        log.info("drnas epoch %d/%d lr %.4f train %.3f/%.1f%% valid %s arch #%d %s (max p %.3f)",
                 row["epoch"], self.dcfg.epochs, row["lr"], row["train_loss"], row["train_acc"],
                 f"{row['valid_loss']:.3f}/{row['valid_acc']:.1f}%" if searched else "-",
                 row["arch_index"], row["arch_str"], row["max_prob"])

    def save(self, state: LoopState) -> None:
        save_atomic(
            {
                "format": _FORMAT,
                "config": self.run_cfg,
                "config_hash": json_digest(self.run_cfg, 16),
                "num_classes": self.num_classes,
                "model": self.model.state_dict(),
                "arch": self.arch.state_dict(),
                "w_optimizer": self.w_opt.state_dict(),
                "a_optimizer": self.a_opt.state_dict(),
                "train_loader": self.train_loader.state_dict(),
                "valid_loader": self.valid_loader.state_dict(),
                "rng": rng_state(),
                "epoch": state.epoch,
                "step_in_epoch": state.step_in_epoch,
                "global_step": state.global_step,
                "epoch_accum": dataclasses.astuple(self.accum),
                "epoch_seconds": state.epoch_seconds,
                "history": self.history,
                "finished": state.epoch >= self.dcfg.epochs or self.converged(),
            },
            self.ck_path,
        )
