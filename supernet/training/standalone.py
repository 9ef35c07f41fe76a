"""Stand-alone training of one architecture (:func:`train_standalone`): the NAS-Bench-201 network of a cell,
trained from scratch and scored once on a held-out split, so a user's own images get true accuracies.

The trainer plugs into the loop skeleton (:mod:`.loop`) like the supernet trainers: a checkpoint at the end
of every epoch (and every ``checkpoint_every_steps``) and on SIGINT/SIGTERM, exact resume (``resume=True``
or ``"auto"`` continues a killed run and, on CPU, reproduces the uninterrupted run's weights bit for bit),
a progress bar, data-parallel training under ``torchrun`` and CUDA when present.

A run directory holds ``config.json``, ``checkpoint.pt``, ``train_log.csv`` (one row per epoch) and, once
finished, ``result.csv`` with one row ``index, arch_str, true_acc, split, epochs, seconds`` (accuracy in
percent on ``split``, e.g. ``cifar10-valid``; ``seconds`` of training and scoring) and its sidecar
``result.json``.  ``result.csv`` is a landmark table as it stands (``nasgcn fit --landmarks``);
:func:`append_result` gathers many into one.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.distributed as dist
from torch import nn

from ..config import SupernetConfig
from ..data import ImageSet, TensorLoader, stratified_split
from ..fileio import atomic_write
from ..network import StandaloneNet
from ..hashing import json_digest
from ..tables import read_csv, write_table
from .checkpoint import CHECKPOINT, rng_state, save_atomic, set_rng_state, state_hash
from .control import cosine_lr
from .device import DistInfo, allreduce_grads, average_buffers, init_distributed, rank_device, resolve_device
from .inputs import load_folder, load_images, resolve_source
from .loop import LoopState, Resume, open_checkpoint, resume_state, run_loop
from .standalone_config import RESUMABLE, StandaloneConfig

__all__ = ["train_standalone", "evaluate_net", "append_result", "read_result", "RESULT", "RESULT_COLUMNS",
           "LOG_FIELDS", "FORMAT"]

log = logging.getLogger(__name__)

CONFIG = "config.json"
TRAIN_LOG = "train_log.csv"
RESULT = "result.csv"
FORMAT = "nasgcn-standalone-v1"
RESULT_COLUMNS = ("index", "arch_str", "true_acc", "split", "epochs", "seconds")
"""Columns of ``result.csv`` (a landmark table: ``index``/``arch_str`` and ``true_acc`` in percent)."""
LOG_FIELDS = ("epoch", "lr", "train_loss", "train_acc", "eval_acc", "images", "seconds", "images_per_s")
"""Columns of ``train_log.csv`` (``eval_acc`` only on the last epoch)."""


def _resolved(cfg: StandaloneConfig) -> StandaloneConfig:
    """``[data] source = "auto"`` turned into what runs (CIFAR-10 when found, else synthetic)."""
    return cfg.replace(data=resolve_source(SupernetConfig(data=cfg.data)).data)


def _images(cfg: StandaloneConfig, progress: bool) -> tuple[ImageSet, ImageSet]:
    """(training images, evaluation images) of the config."""
    scfg = SupernetConfig(data=cfg.data)
    sets = load_folder(scfg, progress=progress, check_classes=False) if cfg.data.source == "folder" else \
        load_images(scfg, progress=progress)
    train = sets["train"]
    if cfg.eval_split not in sets:
        raise ValueError(f"the {cfg.data.source} images have no {cfg.eval_split!r} split (found {sorted(sets)}); "
                         f"use eval_split 'valid'")
    ev = sets[cfg.eval_split]
    if cfg.valid_limit is not None and cfg.valid_limit < len(ev):
        _, keep = stratified_split(ev.labels, int(cfg.valid_limit), seed=cfg.data.seed)
        ev = ev.subset(keep)
    return train, ev


def split_name(cfg: StandaloneConfig) -> str:
    """The evaluation split as result rows name it: ``<source>-<split>`` (``cifar10-valid``: trained on the
    NB201 train half, scored on the valid half; ``-sub`` when ``valid_limit`` scores a subset)."""
    return f"{cfg.data.source}-{cfg.eval_split}" + ("-sub" if cfg.valid_limit is not None else "")


@torch.no_grad()
def evaluate_net(model: nn.Module, images: ImageSet, device: torch.device, *, batch_size: int = 500,
                 channels_last: bool = True, di: DistInfo | None = None) -> float:
    """Top-1 accuracy (percent) of ``model`` in eval mode on ``images`` (no augmentation, fixed order).

    Under torchrun each process scores its shard and the counts are summed."""
    di = di or DistInfo()
    was = model.training
    model.eval()
    loader = TensorLoader(images, batch_size=batch_size, device=device, shuffle=False, augment=False,
                          rank=di.rank, world_size=di.world_size, channels_last=channels_last)
    counts = torch.zeros(2, dtype=torch.float64, device=device)
    for x, y in loader:
        counts += torch.stack([(model(x).argmax(1) == y).sum().double(), torch.tensor(float(y.numel()), device=device,
                                                                                      dtype=torch.float64)])
    if di.world_size > 1:
        dist.all_reduce(counts)
    model.train(was)
    correct, n = counts.tolist()
    return 100.0 * correct / max(n, 1.0)


def train_standalone(
    cfg: StandaloneConfig,
    out_dir: str | Path,
    *,
    resume: Resume = False,
    progress: bool = True,
    data: tuple[ImageSet, ImageSet] | None = None,
    max_steps: int | None = None,
) -> dict[str, Any]:
    """Train (or continue) the stand-alone network of ``cfg.arch`` into ``out_dir``; returns a summary dict.

    ``resume=False`` refuses a directory that already holds a checkpoint; ``resume=True`` continues it (an
    error when there is none), ``resume="auto"`` continues it or starts; a finished run returns its result
    without training.  ``data``: (train, eval) image sets instead of the
    config's.  ``max_steps`` stops (with a checkpoint) after that many steps in this call.  The summary has
    the loop's keys plus ``true_acc`` (None until finished), ``split``, ``result`` and ``weights_sha256``.
    """
    out = Path(out_dir)
    if data is None:
        cfg = _resolved(cfg)
    device = resolve_device(cfg.device)
    di = init_distributed(device)
    device = rank_device(device, di)
    if cfg.threads:
        torch.set_num_threads(int(cfg.threads))
    if cfg.batch_size % di.world_size:
        raise ValueError(f"batch_size {cfg.batch_size} is not divisible by {di.world_size} processes")
    ck_path = out / CHECKPOINT
    defaults = StandaloneConfig(arch=cfg.arch).to_dict()
    ck = open_checkpoint(ck_path, resume, kind="stand-alone training", config=cfg.to_dict(), defaults=defaults,
                         resumable=RESUMABLE, fmt=FORMAT, log_path=out / TRAIN_LOG)
    if ck is not None and ck.get("finished") and (out / RESULT).is_file():
        row = read_result(out / RESULT).iloc[0]
        return {"out": str(out), "epochs_done": ck["epoch"], "epochs": cfg.epochs, "finished": True,
                "global_step": ck["global_step"], "seconds_this_call": 0.0, "world_size": di.world_size,
                "device": str(device), "arch_str": cfg.arch, "index": cfg.index, "true_acc": float(row["true_acc"]),
                "split": str(row["split"]), "seconds": float(row["seconds"]), "result": str(out / RESULT),
                "weights_sha256": ck.get("weights_sha256"), "already_finished": True}
    if di.is_main:
        out.mkdir(parents=True, exist_ok=True)
        (out / CONFIG).write_text(json.dumps({"config": cfg.to_dict(), "hash": _hash(cfg)}, indent=2))

    train_set, eval_set = data if data is not None else _images(cfg, progress and di.is_main)
    num_classes = len(train_set.classes)
    if num_classes < 2 or len(np.unique(train_set.labels)) < 2:
        raise ValueError(f"the training images hold {len(np.unique(train_set.labels))} class(es); a classifier "
                         f"needs at least 2")
    model = StandaloneNet(cfg.arch, cfg.C, cfg.N, num_classes, bn_affine=True, track_running_stats=True,
                          seed=cfg.seed).to(device)
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov,
                          weight_decay=cfg.weight_decay)
    loader = TensorLoader(train_set, batch_size=cfg.batch_size // di.world_size, device=device, shuffle=True,
                          augment=True, drop_last=False, seed=cfg.seed, rank=di.rank, world_size=di.world_size,
                          channels_last=cfg.channels_last)
    if len(loader) == 0:
        raise ValueError(f"{len(train_set)} training images give no batch")
    trainee = _Standalone(cfg, di, model, opt, loader, eval_set, ck_path, device)
    if ck is not None:
        trainee.load(ck)
        state = resume_state(ck, ck["epoch_accum"][-1], out / TRAIN_LOG, LOG_FIELDS, is_main=di.is_main)
    else:
        state = LoopState()
    t_start = time.perf_counter()
    run_loop(trainee, loader, state, epochs=cfg.epochs, log_path=out / TRAIN_LOG, log_fields=LOG_FIELDS,
             checkpoint_path=ck_path, desc=f"#{cfg.index} epoch", max_steps=max_steps,
             checkpoint_every_steps=cfg.checkpoint_every_steps, progress=progress, is_main=di.is_main)
    summary: dict[str, Any] = {
        **state.summary(out, cfg.epochs, time.perf_counter() - t_start), "world_size": di.world_size,
        "device": str(device), "arch_str": cfg.arch, "index": cfg.index, "true_acc": None, "split": split_name(cfg),
        "result": None, "weights_sha256": state_hash(model),
    }
    if state.epoch < cfg.epochs:
        return summary
    if trainee.last_eval is None:  # a kill between the last checkpoint and its row: score again (no RNG used)
        t0 = time.perf_counter()
        trainee.last_eval = trainee.evaluate()
        trainee.eval_seconds = time.perf_counter() - t0
    seconds = _train_seconds(out / TRAIN_LOG) + trainee.eval_seconds
    summary.update(true_acc=trainee.last_eval, seconds=round(seconds, 2))
    if di.is_main:
        row = pd.DataFrame([{"index": cfg.index, "arch_str": cfg.arch, "true_acc": trainee.last_eval,
                             "split": split_name(cfg), "epochs": cfg.epochs, "seconds": round(seconds, 2)}])
        meta = {"format": FORMAT, "config": cfg.to_dict(), "config_hash": _hash(cfg), "device": str(device),
                "world_size": di.world_size, "weights_sha256": summary["weights_sha256"],
                "train_images": len(train_set), "eval_images": len(eval_set), "classes": list(train_set.classes),
                "params": int(sum(p.numel() for p in model.parameters()))}
        write_table(row, out / RESULT, meta)
        summary["result"] = str(out / RESULT)
    return summary


def _hash(cfg: StandaloneConfig) -> str:
    """Short SHA-256 of the config sections that decide what is computed."""
    d = cfg.to_dict()
    return json_digest({s: d[s] for s in ("cell", "data", "model", "train", "eval")}, 16)


def _train_seconds(log_path: Path) -> float:
    """Training seconds of every logged epoch (over all calls of a resumed run)."""
    if not log_path.is_file():
        return 0.0
    return float(pd.read_csv(log_path)["seconds"].sum())


class _Standalone:
    """The stand-alone trainer's part of the loop (:class:`~supernet.training.loop.Trainee`)."""

    def __init__(self, cfg: StandaloneConfig, di: DistInfo, model: StandaloneNet, opt: torch.optim.Optimizer,
                 loader: TensorLoader, eval_set: ImageSet, ck_path: Path, device: torch.device) -> None:
        self.cfg, self.di, self.model, self.opt, self.loader = cfg, di, model, opt, loader
        self.eval_set, self.ck_path, self.device = eval_set, ck_path, device
        self.criterion = nn.CrossEntropyLoss()
        self.params = list(model.parameters())
        self.accum = torch.zeros(3, dtype=torch.float64, device=device)  # loss x images, correct, images
        self.lr = cfg.lr
        self.last_eval: float | None = None
        self.eval_seconds = 0.0

    def evaluate(self) -> float:
        return evaluate_net(self.model, self.eval_set, self.device, batch_size=self.cfg.eval_batch_size,
                            channels_last=self.cfg.channels_last, di=self.di)

    def load(self, ck: dict[str, Any]) -> None:
        self.model.load_state_dict(ck["model"])
        self.opt.load_state_dict(ck["optimizer"])
        self.loader.load_state_dict(ck["loader"])
        set_rng_state(ck["rng"])
        *sums, _ = ck["epoch_accum"]
        self.accum = torch.tensor(sums, dtype=torch.float64, device=self.device)
        self.last_eval = ck.get("eval_acc")
        self.eval_seconds = float(ck.get("eval_seconds", 0.0))

    def start_epoch(self, epoch: int) -> None:
        self.lr = cosine_lr(self.cfg.lr, self.cfg.lr_min, epoch, self.cfg.epochs)
        for g in self.opt.param_groups:
            g["lr"] = self.lr
        self.model.train()

    def step(self, batch: tuple[torch.Tensor, torch.Tensor], state: LoopState) -> None:
        x, y = batch
        logits = self.model(x)
        loss = self.criterion(logits, y)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        if self.di.world_size > 1:
            allreduce_grads(self.params, self.di.world_size)
        self.opt.step()
        with torch.no_grad():
            stats = torch.stack([loss.detach().double() * y.numel(), (logits.argmax(1) == y).sum().double(),
                                 torch.tensor(float(y.numel()), device=y.device, dtype=torch.float64)])
        if self.di.world_size > 1:
            dist.all_reduce(stats)
        self.accum += stats

    def postfix(self) -> dict[str, str]:
        sl, sc, sn = self.accum.tolist()
        return {"loss": f"{sl / max(sn, 1):.3f}", "acc": f"{100 * sc / max(sn, 1):.1f}"}

    def end_epoch(self, state: LoopState) -> dict[str, Any]:
        loss, correct, seen = self.accum.tolist()
        if self.di.world_size > 1:
            average_buffers(self.model, self.di.world_size)
        eval_acc = None
        if state.epoch + 1 >= self.cfg.epochs:
            t0 = time.perf_counter()
            eval_acc = self.last_eval = self.evaluate()
            self.eval_seconds = time.perf_counter() - t0
        self.accum.zero_()
        return {"epoch": state.epoch + 1, "lr": self.lr, "train_loss": loss / max(seen, 1),
                "train_acc": 100 * correct / max(seen, 1), "eval_acc": eval_acc, "images": int(seen),
                "seconds": round(state.epoch_seconds, 3), "images_per_s": seen / max(state.epoch_seconds, 1e-9)}

    def epoch_done(self, row: dict[str, Any], state: LoopState) -> None:
        if self.di.is_main:
            log.info("#%d epoch %d/%d lr %.4f loss %.4f acc %.2f%%%s", self.cfg.index, row["epoch"], self.cfg.epochs,
                     row["lr"], row["train_loss"], row["train_acc"],
                     f" eval {row['eval_acc']:.2f}%" if row["eval_acc"] is not None else "")

    def save(self, state: LoopState) -> None:
        if not self.di.is_main:
            return
        save_atomic({
            "format": FORMAT, "config": self.cfg.to_dict(), "model": self.model.state_dict(),
            "optimizer": self.opt.state_dict(), "loader": self.loader.state_dict(), "rng": rng_state(),
            "epoch": state.epoch, "step_in_epoch": state.step_in_epoch, "global_step": state.global_step,
            "epoch_accum": (*self.accum.tolist(), state.epoch_seconds), "eval_acc": self.last_eval,
            "eval_seconds": self.eval_seconds, "finished": state.epoch >= self.cfg.epochs,
            "weights_sha256": state_hash(self.model) if state.epoch >= self.cfg.epochs else None,
            "world_size": self.di.world_size,
        }, self.ck_path)


# ---------------------------------------------------------------------- result tables
def read_result(path: str | Path) -> pd.DataFrame:
    """A result / landmark table of stand-alone runs (columns :data:`RESULT_COLUMNS`)."""
    p = Path(path)
    df = read_csv(p, "stand-alone result table")
    missing = [c for c in RESULT_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{p} lacks column(s) {missing}; a stand-alone result table has {list(RESULT_COLUMNS)}")
    return df


def append_result(result: str | Path | pd.DataFrame, table: str | Path) -> pd.DataFrame:
    """Add the row(s) of ``result`` to the landmark table ``table`` (created when missing), replacing rows of
    the same architecture, sorted by index; written atomically.  Returns the new table."""
    new = read_result(result) if not isinstance(result, pd.DataFrame) else result
    t = Path(table)
    old = read_result(t) if t.is_file() else pd.DataFrame(columns=list(RESULT_COLUMNS))
    keep = old[~old["index"].isin(new["index"])]
    both = pd.concat([keep, new[list(RESULT_COLUMNS)]], ignore_index=True) if len(keep) else \
        new[list(RESULT_COLUMNS)].reset_index(drop=True)
    both = both.sort_values("index", kind="stable").reset_index(drop=True)
    comp = "gzip" if t.name.endswith(".gz") else None
    t.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(t, lambda tmp: both.to_csv(tmp, index=False, compression=comp))
    return both
