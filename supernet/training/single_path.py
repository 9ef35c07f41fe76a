"""Single-path supernet training (:func:`train_supernet`): each step trains one sampled architecture.

Each step samples one architecture (:mod:`supernet.sampling`), runs its sub-network of the
:class:`~supernet.network.SuperNet` on one batch, and updates the shared weights it used with SGD
(Nesterov momentum, weight decay, gradient-norm clipping) under a per-epoch cosine schedule; optional
landmark regularisation (:mod:`supernet.landmarks`) adds a ranking loss every few steps.

A run directory holds ``config.json`` (the resolved config and its hash), ``checkpoint.pt`` (model,
optimiser, loader position, sampler and every RNG state: ``resume=True`` continues a killed run and, on
CPU, reproduces the uninterrupted run's weights bit for bit), ``train_log.csv`` (one row per epoch) and,
with ``[train] snapshot_every = k``, ``snapshots/epoch_XXX.pt``.  ``[train] init_from`` starts from another
run's weights (how few-shot sub-supernets are warm-started, :mod:`supernet.fewshot`).

Under ``torchrun`` every process trains on its shard of each batch (``batch_size`` is the global batch),
all sample the same architecture (shared seed), and gradients are averaged once per step.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from ..config import SupernetConfig, config_hash
from ..data import ImageSet, TensorLoader
from ..fileio import write_json_atomic
from ..landmarks import LandmarkSet, landmark_rank_loss
from ..network import SuperNet
from ..sampling import ArchSampler, make_sampler
from .checkpoint import CHECKPOINT, rng_state, save_atomic, save_snapshot, set_rng_state, state_hash, warm_start
from .control import cosine_lr
from .device import DistInfo, allreduce_grads, average_buffers, init_distributed, rank_device, resolve_device
from .inputs import build_supernet, load_images
from .loop import LoopState, Resume, open_checkpoint, resume_state, run_loop

__all__ = ["train_supernet", "CONFIG", "TRAIN_LOG", "LOG_FIELDS"]

log = logging.getLogger(__name__)

CONFIG = "config.json"
TRAIN_LOG = "train_log.csv"
LOG_FIELDS = ("epoch", "lr", "train_loss", "train_acc", "images", "seconds", "images_per_s", "unique_archs")
"""Columns of ``train_log.csv``."""

# options that change where or how fast a run goes, not what it computes
_RESUMABLE_CHANGES = {
    ("train", "device"), ("train", "threads"), ("train", "checkpoint_every_steps"), ("train", "snapshot_every"),
    ("data", "cache_dir"), ("data", "root"),
}


def train_supernet(
    cfg: SupernetConfig,
    out_dir: str | Path,
    *,
    resume: Resume = False,
    progress: bool = True,
    data: dict[str, ImageSet] | None = None,
    max_steps: int | None = None,
) -> dict[str, Any]:
    """Train (or continue training) the supernet of ``cfg`` into ``out_dir``; returns a summary dict.

    ``resume=False`` refuses a directory that already holds a checkpoint or a log (nothing is overwritten);
    ``resume=True`` continues from its checkpoint (an error when there is none); ``resume="auto"`` continues
    when there is one, else starts.  ``data`` overrides
    :func:`~supernet.training.inputs.load_images`.  ``max_steps`` stops (with a checkpoint) after that many
    steps in this call, for tests and time-boxed runs.
    """
    out = Path(out_dir)
    t_cfg = cfg.train
    device = resolve_device(t_cfg.device)
    di = init_distributed(device)
    device = rank_device(device, di)
    if t_cfg.threads:
        torch.set_num_threads(int(t_cfg.threads))
    if t_cfg.batch_size % di.world_size:
        raise ValueError(f"[train] batch_size {t_cfg.batch_size} is not divisible by {di.world_size} processes; "
                         f"use a multiple of {di.world_size}")
    ck_path = out / CHECKPOINT
    ck = open_checkpoint(
        ck_path, resume, kind="training", config=cfg.to_dict(), defaults=SupernetConfig().to_dict(),
        resumable=_RESUMABLE_CHANGES, skip=("eval",), log_path=out / TRAIN_LOG,
    )
    if di.is_main:
        out.mkdir(parents=True, exist_ok=True)
        write_json_atomic(out / CONFIG, {"config": cfg.to_dict(), "hash": config_hash(cfg)}, indent=2)

    images = data if data is not None else load_images(cfg, progress=progress and di.is_main)
    train_set = images["train"]
    num_classes = int(cfg.data.num_classes)
    model = build_supernet(cfg, num_classes).to(device)
    if t_cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(
        model.parameters(), lr=t_cfg.lr, momentum=t_cfg.momentum, nesterov=t_cfg.nesterov,
        weight_decay=t_cfg.weight_decay,
    )
    loader = TensorLoader(
        train_set, batch_size=t_cfg.batch_size // di.world_size, device=device, shuffle=True, augment=True,
        drop_last=True, seed=t_cfg.seed, rank=di.rank, world_size=di.world_size, channels_last=t_cfg.channels_last,
    )
    if len(loader) == 0:
        raise ValueError(f"{len(train_set)} training images give no full batch of {t_cfg.batch_size}")
    s = cfg.sampling
    sampler = make_sampler(s.strategy, exclude_degenerate=s.exclude_degenerate, steps_per_arch=s.steps_per_arch,
                           archs=list(s.archs), C=cfg.model.C, N=cfg.model.N, restrict=s.restrict)
    lm_cfg = cfg.landmarks
    landmarks = None
    if lm_cfg.file and lm_cfg.every > 0:
        landmarks = LandmarkSet.from_csv(lm_cfg.file, limit=lm_cfg.limit, seed=t_cfg.seed, select=lm_cfg.select)
        log.info("landmark regularisation: %d landmarks, every %d steps, weight %g",
                 len(landmarks.indices), lm_cfg.every, lm_cfg.weight)
    trainee = _SinglePath(cfg, out, di, model, opt, loader, sampler, landmarks, num_classes, ck_path, device)
    if ck is not None:
        trainee.load(ck)
        state = resume_state(ck, ck["epoch_accum"][-1], out / TRAIN_LOG, LOG_FIELDS, is_main=di.is_main)
    else:
        state = LoopState()
        if t_cfg.init_from:
            warm_start(model, t_cfg.init_from)

    t_start = time.perf_counter()
    run_loop(
        trainee, loader, state, epochs=t_cfg.epochs, log_path=out / TRAIN_LOG, log_fields=LOG_FIELDS,
        checkpoint_path=ck_path, desc="epoch", max_steps=max_steps,
        checkpoint_every_steps=t_cfg.checkpoint_every_steps, progress=progress, is_main=di.is_main,
    )
    return {
        **state.summary(out, t_cfg.epochs, time.perf_counter() - t_start),
        "world_size": di.world_size,
        "device": str(device),
        "weights_sha256": state_hash(model),
    }


class _SinglePath:
    """The single-path trainer's part of the loop (:class:`~supernet.training.loop.Trainee`): one sampled
    architecture per step, epoch sums kept on the device (no host sync per step)."""

    def __init__(
        self, cfg: SupernetConfig, out: Path, di: DistInfo, model: SuperNet, opt: torch.optim.Optimizer,
        loader: TensorLoader, sampler: ArchSampler, landmarks: LandmarkSet | None, num_classes: int, ck_path: Path,
        device: torch.device,
    ) -> None:
        self.cfg, self.out, self.di, self.model, self.opt = cfg, out, di, model, opt
        self.loader, self.sampler, self.landmarks = loader, sampler, landmarks
        self.num_classes, self.ck_path = num_classes, ck_path
        self.criterion = nn.CrossEntropyLoss()
        self.arch_rng = np.random.default_rng([cfg.train.seed, 0xA4C4])  # same stream on every rank
        self.params = [p for p in model.parameters()]
        # loss x images, correct, images of the current epoch
        self.accum = torch.zeros(3, dtype=torch.float64, device=device)
        self.seen_archs: set[int] = set()
        self.lr = cfg.train.lr

    def load(self, ck: dict[str, Any]) -> None:
        """Continue from a checkpoint of :meth:`save` (global RNG states included)."""
        self.model.load_state_dict(ck["model"])
        self.opt.load_state_dict(ck["optimizer"])
        self.loader.load_state_dict(ck["loader"])
        self.sampler.load_state_dict(ck["sampler"])
        self.arch_rng.bit_generator.state = ck["arch_rng"]
        set_rng_state(ck["rng"])
        *sums, _ = ck["epoch_accum"]
        self.accum = torch.tensor(sums, dtype=torch.float64, device=self.accum.device)
        self.seen_archs = set(ck.get("seen_archs", []))

    def start_epoch(self, epoch: int) -> None:
        t = self.cfg.train
        self.lr = cosine_lr(t.lr, t.lr_min, epoch, t.epochs)
        for g in self.opt.param_groups:
            g["lr"] = self.lr
        self.model.train()

    def step(self, batch: tuple[torch.Tensor, torch.Tensor], state: LoopState) -> torch.Tensor:
        x, y = batch
        t, lm = self.cfg.train, self.cfg.landmarks
        arch = self.sampler.sample(self.arch_rng)
        self.seen_archs.add(arch.index)
        logits = self.model(x, arch)
        loss = self.criterion(logits, y)
        total = loss
        if self.landmarks is not None and (state.global_step + 1) % lm.every == 0:
            pairs = self.landmarks.sample_pairs(self.arch_rng, lm.pairs)
            total = loss + lm.weight * landmark_rank_loss(self.model, x, y, pairs, self.criterion, lm.margin)
        self.opt.zero_grad(set_to_none=True)
        total.backward()
        if self.di.world_size > 1:
            allreduce_grads(self.params, self.di.world_size)
        if t.grad_clip and t.grad_clip > 0:
            nn.utils.clip_grad_norm_([p for p in self.params if p.grad is not None], t.grad_clip)
        self.opt.step()
        with torch.no_grad():
            stats = torch.stack(
                [loss.detach() * y.numel(), (logits.argmax(1) == y).sum().float(),
                 torch.tensor(float(y.numel()), device=y.device), total.detach()]
            )
        if self.di.world_size > 1:
            dist.all_reduce(stats)
        self.accum += stats[:3].double()
        return stats[3]  # the loss that was minimised, summed over ranks: the same on every rank

    def postfix(self) -> dict[str, str]:
        sl, sc, sn = self.accum.tolist()
        return {"loss": f"{sl / sn:.3f}", "acc": f"{100 * sc / sn:.1f}"}

    def end_epoch(self, state: LoopState) -> dict[str, Any]:
        acc_loss, acc_correct, acc_seen = self.accum.tolist()
        row = {
            "epoch": state.epoch + 1, "lr": self.lr, "train_loss": acc_loss / max(acc_seen, 1),
            "train_acc": 100 * acc_correct / max(acc_seen, 1), "images": int(acc_seen),
            "seconds": round(state.epoch_seconds, 3), "images_per_s": acc_seen / max(state.epoch_seconds, 1e-9),
            "unique_archs": len(self.seen_archs),
        }
        if self.di.world_size > 1:
            average_buffers(self.model, self.di.world_size)
        self.accum.zero_()
        self.seen_archs = set()
        return row

    def epoch_done(self, row: dict[str, Any], state: LoopState) -> None:
        if not self.di.is_main:
            return
        t = self.cfg.train
        log.info(
            "epoch %d/%d lr %.4f loss %.4f acc %.2f%% %.0f img/s", row["epoch"], t.epochs, row["lr"],
            row["train_loss"], row["train_acc"], row["images_per_s"],
        )
        if t.snapshot_every and state.epoch % t.snapshot_every == 0:
            save_snapshot(self.out, self.model, self.cfg, self.num_classes, state.epoch, state.global_step)

    def save(self, state: LoopState) -> None:
        if not self.di.is_main:
            return
        cfg = self.cfg
        save_atomic(
            {
                "format": "nasgcn-supernet-v1",
                "config": cfg.to_dict(),
                "config_hash": config_hash(cfg, "data", "model", "train", "sampling", "landmarks"),
                "num_classes": self.num_classes,
                "model": self.model.state_dict(),
                "optimizer": self.opt.state_dict(),
                "loader": self.loader.state_dict(),
                "sampler": self.sampler.state_dict(),
                "arch_rng": self.arch_rng.bit_generator.state,
                "rng": rng_state(),
                "epoch": state.epoch,
                "step_in_epoch": state.step_in_epoch,
                "global_step": state.global_step,
                "epoch_accum": (*self.accum.tolist(), state.epoch_seconds),
                "seen_archs": sorted(self.seen_archs),
                "finished": state.epoch >= cfg.train.epochs,
                "world_size": self.di.world_size,
            },
            self.ck_path,
        )
