"""Supernet training: single-path weight sharing with checkpoints, exact resume and data parallelism.

Each step samples one architecture (:mod:`supernet.sampling`), runs its sub-network of the
:class:`~supernet.network.SuperNet` on one batch, and updates the shared weights it used with SGD
(Nesterov momentum, weight decay, gradient-norm clipping) under a per-epoch cosine schedule.

A run directory holds:

* ``config.json``: the resolved :class:`~supernet.config.SupernetConfig` and its hash;
* ``checkpoint.pt``: written atomically (temp file, then rename) at the end of every epoch, every
  ``checkpoint_every_steps`` steps, and when the run is interrupted (Ctrl-C / SIGTERM).  It holds the
  model, optimiser, scheduler, loader position and every RNG state, so ``resume=True`` continues a
  killed run and, on CPU, reproduces the uninterrupted run's weights bit for bit;
* ``train_log.csv``: one row per epoch (lr, loss, accuracy, images/s, wall seconds);
* ``snapshots/epoch_XXX.pt`` (with ``[train] snapshot_every = k``): the weights after every k-th epoch,
  for studies of how rankings move between epochs.

``[train] init_from`` starts a new run from another run's weights (optimiser and schedule fresh), which
is how few-shot sub-supernets are warm-started (:mod:`supernet.fewshot`).

Data parallelism: launched under ``torchrun --nproc_per_node=P``, every process trains on its shard of
each batch (``batch_size`` is the global batch), all processes sample the same architecture (shared
seed), and gradients are averaged with one all-reduce per step (gloo on CPU, NCCL on CUDA).  Only the
parameters of the sampled sub-network carry gradients, so the reduction covers exactly those.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import os
import signal
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from tqdm.auto import tqdm

from .config import SupernetConfig, config_hash
from .datasets import ImageSet, TensorLoader, cifar10_splits, stratified_split, synthetic_images
from .fileio import atomic_write
from .network import SuperNet
from .paths import data_root
from .sampling import make_sampler

__all__ = [
    "CheckpointError",
    "resolve_device",
    "load_images",
    "resolve_source",
    "build_supernet",
    "train_supernet",
    "load_checkpoint",
    "save_atomic",
    "DistInfo",
    "StopRequested",
    "state_hash",
    "snapshot_paths",
    "cosine_lr",
    "append_log",
    "truncate_log",
    "config_diff",
]

log = logging.getLogger(__name__)

CHECKPOINT = "checkpoint.pt"
CONFIG = "config.json"
TRAIN_LOG = "train_log.csv"
_LOG_FIELDS = ["epoch", "lr", "train_loss", "train_acc", "images", "seconds", "images_per_s", "unique_archs"]


class CheckpointError(ValueError):
    """A checkpoint is missing, unreadable or belongs to another config."""


def resolve_device(name: str | torch.device | None = "auto") -> torch.device:
    """``"auto"`` -> CUDA when present, else CPU; anything else is passed to :class:`torch.device`."""
    if name is None or str(name) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


@dataclass(frozen=True)
class DistInfo:
    """Process-group position: ``rank`` of ``world_size`` (1 when not launched by torchrun)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def _init_distributed(device: torch.device) -> DistInfo:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


# ---------------------------------------------------------------------- data and model
def resolve_source(cfg: SupernetConfig) -> SupernetConfig:
    """Turn ``[data] source = "auto"`` into ``"cifar10"`` when CIFAR-10 is found under the data root
    (or ``[data] root``), else ``"synthetic"``; other sources are returned unchanged."""
    if cfg.data.source != "auto":
        return cfg
    from .datasets import MissingDataError, _resolve_cifar_source

    root = Path(cfg.data.root) if cfg.data.root else data_root()
    try:
        _resolve_cifar_source(root)
        source = "cifar10"
    except MissingDataError:
        source = "synthetic"
    log.info("[data] source auto -> %s (data root %s)", source, root)
    return cfg.replace(data={"source": source})


def load_images(cfg: SupernetConfig, *, progress: bool = True) -> dict[str, ImageSet]:
    """``{"train", "valid"}`` image sets for the config (train half trains, valid half scores)."""
    d = resolve_source(cfg).data
    if d.source == "synthetic":
        return {
            "train": synthetic_images(d.synthetic_train, num_classes=d.num_classes, image_size=d.image_size, seed=d.seed),
            "valid": synthetic_images(
                d.synthetic_valid, num_classes=d.num_classes, image_size=d.image_size, seed=d.seed + 1
            ),
        }
    if d.source != "cifar10":
        raise ValueError(f"[data] source must be 'cifar10', 'synthetic' or 'auto', got {d.source!r}")
    root = Path(d.root) if d.root else data_root()
    sets = cifar10_splits(root, split=d.split, seed=d.seed, cache_dir=d.cache_dir, progress=progress)
    train = sets["train"]
    if d.train_limit is not None and d.train_limit < len(train):
        _, keep = stratified_split(train.labels, int(d.train_limit), seed=d.seed)
        train = train.subset(keep)
    return {"train": train, "valid": sets["valid"]}


def build_supernet(cfg: SupernetConfig, num_classes: int) -> SuperNet:
    """The supernet of the config, initialised from ``train.seed``."""
    m = cfg.model
    return SuperNet(
        C=m.C, N=m.N, num_classes=num_classes, bn_affine=m.bn_affine,
        track_running_stats=m.track_running_stats, seed=cfg.train.seed,
    )


# ---------------------------------------------------------------------- checkpoints
def save_atomic(obj: Any, path: Path) -> None:
    """``torch.save`` to a temp file beside ``path``, fsync, then rename over it."""
    atomic_write(path, lambda t: torch.save(obj, t), fsync=True)


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint, with an error that says what to do when it is missing or corrupt."""
    p = Path(path)
    if p.is_dir():
        p = p / CHECKPOINT
    if not p.is_file():
        raise CheckpointError(f"no checkpoint at {p}: train first (nasgcn supernet train --out {p.parent})")
    try:
        ck = torch.load(p, map_location=map_location, weights_only=False)
    except Exception as e:  # noqa: BLE001 - any unpickling failure means the same thing here
        raise CheckpointError(
            f"checkpoint {p} is corrupt or truncated ({type(e).__name__}: {e}); "
            f"delete it and rerun to start that run afresh, or restore it from a copy"
        ) from None
    need = {"model", "config", "epoch", "format"}
    if not isinstance(ck, dict) or not need <= set(ck):
        raise CheckpointError(f"{p} is not a nasgcn supernet checkpoint (expected keys {sorted(need)})")
    return ck


def _rng_state() -> dict[str, Any]:
    st: dict[str, Any] = {"torch": torch.get_rng_state(), "numpy_global": np.random.get_state()}
    if torch.cuda.is_available():
        st["cuda"] = torch.cuda.get_rng_state_all()
    return st


def _set_rng_state(st: dict[str, Any]) -> None:
    torch.set_rng_state(st["torch"])
    np.random.set_state(st["numpy_global"])
    if "cuda" in st and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(st["cuda"])


class StopRequested(KeyboardInterrupt):
    """Raised after a graceful stop (SIGINT/SIGTERM) once the checkpoint is written."""


class _StopFlag:
    requested: bool = False


@contextmanager
def _graceful_stop() -> Iterator[_StopFlag]:
    """SIGINT/SIGTERM set a flag checked between steps (so the checkpoint is consistent); a second
    SIGINT interrupts at once."""
    flag = _StopFlag()

    def handler(signum: int, frame: Any) -> None:
        if flag.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        flag.requested = True
        log.warning("stop requested: finishing this step, then writing a checkpoint")

    try:
        old = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread: no handlers
        yield flag
        return
    try:
        yield flag
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)


# ---------------------------------------------------------------------- the loop
def cosine_lr(lr: float, lr_min: float, epoch: int, epochs: int) -> float:
    """Learning rate of ``epoch`` (0-based) on a per-epoch cosine from ``lr`` down towards ``lr_min``."""
    return lr_min + 0.5 * (lr - lr_min) * (1 + math.cos(math.pi * epoch / epochs))


def train_supernet(
    cfg: SupernetConfig,
    out_dir: str | Path,
    *,
    resume: bool = False,
    progress: bool = True,
    data: dict[str, ImageSet] | None = None,
    max_steps: int | None = None,
) -> dict[str, Any]:
    """Train (or continue training) the supernet of ``cfg`` into ``out_dir``; returns a summary dict.

    ``resume=False`` refuses a directory that already holds a checkpoint (nothing is overwritten);
    ``resume=True`` continues from it (or starts when there is none).  ``data`` overrides
    :func:`load_images`.  ``max_steps`` stops (with a checkpoint) after that many steps in this call,
    for tests and time-boxed runs.
    """
    out = Path(out_dir)
    t_cfg = cfg.train
    device = resolve_device(t_cfg.device)
    di = _init_distributed(device)
    if device.type == "cuda" and di.world_size > 1:
        device = torch.device("cuda", di.local_rank)
        torch.cuda.set_device(device)
    if t_cfg.threads:
        torch.set_num_threads(int(t_cfg.threads))
    if t_cfg.batch_size % di.world_size:
        raise ValueError(f"batch_size {t_cfg.batch_size} is not divisible by {di.world_size} processes")
    ck_path = out / CHECKPOINT
    ck: dict[str, Any] | None = None
    if ck_path.exists():
        if not resume:
            raise CheckpointError(
                f"{out} already holds a training checkpoint; pass --resume to continue it or choose a new --out"
            )
        ck = load_checkpoint(ck_path)
        diff = config_diff(ck["config"], cfg.to_dict(), SupernetConfig().to_dict(), _RESUMABLE_CHANGES, skip=("eval",))
        if diff:
            raise CheckpointError(
                f"{ck_path} was made with another config ({diff}); resume with the same config or use a new --out"
            )
    if di.is_main:
        out.mkdir(parents=True, exist_ok=True)
        (out / CONFIG).write_text(
            json.dumps({"config": cfg.to_dict(), "hash": config_hash(cfg)}, indent=2)
        )

    images = data if data is not None else load_images(cfg, progress=progress and di.is_main)
    train_set = images["train"]
    num_classes = int(cfg.data.num_classes)
    model = build_supernet(cfg, num_classes).to(device)
    if t_cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    criterion = nn.CrossEntropyLoss()
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
    arch_rng = np.random.default_rng([t_cfg.seed, 0xA4C4])  # same stream on every rank
    lm_cfg = cfg.landmarks
    landmarks = None
    if lm_cfg.file and lm_cfg.every > 0:
        from .landmarks import LandmarkSet, landmark_rank_loss

        landmarks = LandmarkSet.from_csv(lm_cfg.file, limit=lm_cfg.limit, seed=t_cfg.seed, select=lm_cfg.select)
        log.info("landmark regularisation: %d landmarks, every %d steps, weight %g",
                 len(landmarks.indices), lm_cfg.every, lm_cfg.weight)
    epoch, step_in_epoch, global_step = 0, 0, 0
    # epoch sums (loss x images, correct, images) stay on the device: no host sync per step
    accum = torch.zeros(3, dtype=torch.float64, device=device)
    epoch_seconds = 0.0
    seen_archs: set[int] = set()
    if ck is not None:
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        loader.load_state_dict(ck["loader"])
        sampler.load_state_dict(ck["sampler"])
        arch_rng.bit_generator.state = ck["arch_rng"]
        _set_rng_state(ck["rng"])
        epoch, step_in_epoch, global_step = ck["epoch"], ck["step_in_epoch"], ck["global_step"]
        *sums, epoch_seconds = ck["epoch_accum"]
        accum = torch.tensor(sums, dtype=torch.float64, device=device)
        seen_archs = set(ck.get("seen_archs", []))
        if di.is_main:
            truncate_log(out / TRAIN_LOG, epoch)
        log.info("resumed %s at epoch %d step %d", out, epoch, step_in_epoch)
    elif t_cfg.init_from:
        _warm_start(model, t_cfg.init_from)

    def checkpoint() -> None:
        if not di.is_main:
            return
        save_atomic(
            {
                "format": "nasgcn-supernet-v1",
                "config": cfg.to_dict(),
                "config_hash": config_hash(cfg, "data", "model", "train", "sampling", "landmarks"),
                "num_classes": num_classes,
                "model": model.state_dict(),
                "optimizer": opt.state_dict(),
                "loader": loader.state_dict(),
                "sampler": sampler.state_dict(),
                "arch_rng": arch_rng.bit_generator.state,
                "rng": _rng_state(),
                "epoch": epoch,
                "step_in_epoch": step_in_epoch,
                "global_step": global_step,
                "epoch_accum": (*accum.tolist(), epoch_seconds),
                "seen_archs": sorted(seen_archs),
                "finished": epoch >= t_cfg.epochs,
                "world_size": di.world_size,
            },
            ck_path,
        )

    params = [p for p in model.parameters()]
    steps_this_call = 0
    stopped_early = False
    t_start = time.perf_counter()
    try:
        with _graceful_stop() as stop:
            while epoch < t_cfg.epochs:
                lr = cosine_lr(t_cfg.lr, t_cfg.lr_min, epoch, t_cfg.epochs)
                for g in opt.param_groups:
                    g["lr"] = lr
                model.train()
                show_bar = progress and di.is_main
                bar = tqdm(
                    total=len(loader), initial=step_in_epoch, desc=f"epoch {epoch + 1}/{t_cfg.epochs}",
                    disable=not show_bar, leave=False, unit="step",
                )
                t0 = time.perf_counter()
                for x, y in loader:
                    arch = sampler.sample(arch_rng)
                    seen_archs.add(arch.index)
                    logits = model(x, arch)
                    loss = criterion(logits, y)
                    total = loss
                    if landmarks is not None and (global_step + 1) % lm_cfg.every == 0:
                        pairs = landmarks.sample_pairs(arch_rng, lm_cfg.pairs)
                        total = loss + lm_cfg.weight * landmark_rank_loss(model, x, y, pairs, criterion, lm_cfg.margin)
                    opt.zero_grad(set_to_none=True)
                    total.backward()
                    if di.world_size > 1:
                        _allreduce_grads(params, di.world_size)
                    if t_cfg.grad_clip and t_cfg.grad_clip > 0:
                        nn.utils.clip_grad_norm_([p for p in params if p.grad is not None], t_cfg.grad_clip)
                    opt.step()
                    with torch.no_grad():
                        stats = torch.stack(
                            [loss.detach() * y.numel(), (logits.argmax(1) == y).sum().float(),
                             torch.tensor(float(y.numel()), device=y.device)]
                        )
                    if di.world_size > 1:
                        dist.all_reduce(stats)
                    accum += stats.double()
                    step_in_epoch += 1
                    global_step += 1
                    steps_this_call += 1
                    bar.update(1)
                    if show_bar and (step_in_epoch % 20 == 0 or step_in_epoch == len(loader)):
                        sl, sc, sn = accum.tolist()
                        bar.set_postfix(loss=f"{sl / sn:.3f}", acc=f"{100 * sc / sn:.1f}")
                    if t_cfg.checkpoint_every_steps and global_step % t_cfg.checkpoint_every_steps == 0:
                        epoch_seconds += time.perf_counter() - t0
                        t0 = time.perf_counter()
                        checkpoint()
                    if stop.requested:
                        raise StopRequested
                    if max_steps is not None and steps_this_call >= max_steps:
                        stopped_early = True
                        break
                bar.close()
                epoch_seconds += time.perf_counter() - t0
                if stopped_early and step_in_epoch < len(loader):
                    checkpoint()
                    break
                acc_loss, acc_correct, acc_seen = accum.tolist()
                row = {
                    "epoch": epoch + 1, "lr": lr, "train_loss": acc_loss / max(acc_seen, 1),
                    "train_acc": 100 * acc_correct / max(acc_seen, 1), "images": int(acc_seen),
                    "seconds": round(epoch_seconds, 3), "images_per_s": acc_seen / max(epoch_seconds, 1e-9),
                    "unique_archs": len(seen_archs),
                }
                if di.world_size > 1:
                    _average_buffers(model, di.world_size)
                epoch += 1
                step_in_epoch = 0
                accum.zero_()
                epoch_seconds = 0.0
                seen_archs = set()
                if di.is_main:
                    append_log(out / TRAIN_LOG, row)
                    log.info(
                        "epoch %d/%d lr %.4f loss %.4f acc %.2f%% %.0f img/s", row["epoch"], t_cfg.epochs, lr,
                        row["train_loss"], row["train_acc"], row["images_per_s"],
                    )
                checkpoint()
                if di.is_main and t_cfg.snapshot_every and epoch % t_cfg.snapshot_every == 0:
                    _snapshot(out, model, cfg, num_classes, epoch, global_step)
                if stopped_early:
                    break
    except StopRequested:
        checkpoint()
        log.warning("interrupted: checkpoint written to %s (resume with --resume)", ck_path)
        raise
    return {
        "out": str(out),
        "epochs_done": epoch,
        "epochs": t_cfg.epochs,
        "finished": epoch >= t_cfg.epochs,
        "global_step": global_step,
        "seconds_this_call": round(time.perf_counter() - t_start, 2),
        "world_size": di.world_size,
        "device": str(device),
        "weights_sha256": state_hash(model),
    }


SNAPSHOTS = "snapshots"


def _snapshot(out: Path, model: nn.Module, cfg: SupernetConfig, num_classes: int, epoch: int, step: int) -> None:
    """Weights after ``epoch`` as ``snapshots/epoch_XXX.pt``, a checkpoint the evaluator reads like the last one."""
    d = out / SNAPSHOTS
    d.mkdir(exist_ok=True)
    save_atomic(
        {"format": "nasgcn-supernet-v1", "config": cfg.to_dict(), "num_classes": num_classes,
         "model": model.state_dict(), "epoch": epoch, "global_step": step, "finished": epoch >= cfg.train.epochs},
        d / f"epoch_{epoch:03d}.pt",
    )


def snapshot_paths(run: str | Path) -> dict[int, Path]:
    """``{epoch: path}`` of a run's weight snapshots (``[train] snapshot_every``), in epoch order."""
    d = Path(run) / SNAPSHOTS
    found = {int(p.stem.split("_")[1]): p for p in d.glob("epoch_*.pt")} if d.is_dir() else {}
    return dict(sorted(found.items()))


def _warm_start(model: nn.Module, source: str | Path) -> None:
    """Copy the weights of another run's checkpoint into a fresh ``model`` (few-shot sub-supernets,
    fine-tuning); the networks must have the same shapes."""
    src = load_checkpoint(source)
    own = model.state_dict()
    bad = sorted(k for k, v in src["model"].items() if k not in own or own[k].shape != v.shape)
    missing = sorted(set(own) - set(src["model"]))
    if bad or missing:
        raise CheckpointError(
            f"[train] init_from {source}: its network differs from this config's ("
            f"{len(bad)} mismatched, {len(missing)} missing tensors, e.g. {(bad + missing)[:3]}); "
            f"use the same [model] section as the run it comes from"
        )
    model.load_state_dict(src["model"])
    log.info("warm start from %s (epoch %s)", source, src.get("epoch"))


def state_hash(model: nn.Module) -> str:
    """SHA-256 of every tensor of the model's state dict (names, shapes and bytes), for reproducibility."""
    import hashlib

    h = hashlib.sha256()
    for k, v in model.state_dict().items():
        h.update(k.encode())
        t = v.detach().cpu().contiguous()
        h.update(str(tuple(t.shape)).encode())
        h.update(t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.float().numpy().tobytes())
    return h.hexdigest()


def _allreduce_grads(params: list[torch.Tensor], world_size: int) -> None:
    """Average the gradients that exist (the sampled sub-network's) across processes, one all-reduce."""
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat.div_(world_size)
    off = 0
    for g in grads:
        n = g.numel()
        g.copy_(flat[off : off + n].view_as(g))
        off += n


def _average_buffers(model: nn.Module, world_size: int) -> None:
    """Average floating buffers (BN running statistics) so every rank holds the same state."""
    for b in model.buffers():
        if b.is_floating_point():
            dist.all_reduce(b)
            b.div_(world_size)


def append_log(path: Path, row: dict[str, Any], fields: Sequence[str] = tuple(_LOG_FIELDS)) -> None:
    """Append one epoch's row to a CSV log (header written with the first row)."""
    new = not path.exists()
    with open(path, "a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(fields))
        if new:
            w.writeheader()
        w.writerow(row)


def truncate_log(path: Path, epochs_done: int, fields: Sequence[str] = tuple(_LOG_FIELDS)) -> None:
    """Drop log rows of epochs the checkpoint does not include (a kill between log and checkpoint)."""
    if not path.exists():
        return
    with open(path, newline="") as f:
        rows = [r for r in csv.DictReader(f) if int(r["epoch"]) <= epochs_done]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(fields))
        w.writeheader()
        w.writerows(rows)


# options that change where or how fast a run goes, not what it computes
_RESUMABLE_CHANGES = {
    ("train", "device"), ("train", "threads"), ("train", "checkpoint_every_steps"), ("train", "snapshot_every"),
    ("data", "cache_dir"), ("data", "root"),
}


def config_diff(
    old: dict[str, Any], new: dict[str, Any], defaults: dict[str, dict[str, Any]],
    resumable: set[tuple[str, str]], skip: tuple[str, ...] = (),
) -> str:
    """Differences between two nested config dicts that matter for resuming, as one readable line.

    Keys a checkpoint predates count as their value in ``defaults`` (so adding an option does not orphan
    old runs); ``(section, key)`` pairs in ``resumable`` and whole sections in ``skip`` are ignored.
    """
    diffs = []
    for sec in sorted(set(old) | set(new)):
        if sec in skip:
            continue
        o, n, d = old.get(sec, {}), new.get(sec, {}), defaults.get(sec, {})
        for k in sorted(set(o) | set(n)):
            if (sec, k) in resumable:
                continue
            ov, nv = o.get(k, d.get(k)), n.get(k, d.get(k))
            if ov != nv:
                diffs.append(f"[{sec}] {k}: {ov!r} -> {nv!r}")
    return "; ".join(diffs)
