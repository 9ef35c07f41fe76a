"""Weight-sharing accuracy of many architectures from one trained supernet.

For each architecture: recalibrate BatchNorm statistics on a few fixed training batches (or use each
validation batch's own statistics), then score it on a fixed validation subset.  Each isomorphism
class is run once and its result copied to every member; degenerate cells (output disconnected from
the input: a constant network) are reported at chance level without running them.

Output ``ws.csv`` columns: ``index, arch_str, iso_id, degenerate, ws_acc, ws_loss, measured`` where
``ws_acc`` is a percentage on the validation subset, ``ws_loss`` the mean cross-entropy, and
``measured`` is False for rows copied from their class representative or filled at chance.  A JSON
sidecar ``ws.csv.json`` records the checkpoint, its hash, the evaluation config and timings.

Resumable: a finished ``out`` made from the same checkpoint and eval config for the same architectures
is returned as it is; every scored class is appended to ``<out>.partial-<key>`` (key: checkpoint and eval config; per rank under torchrun) as soon as it
is done; a rerun skips what is there.  Sharded: under ``torchrun`` rank r scores every r-th class.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from .classjobs import remove_partials, representatives, score_classes, world_rank
from .config import EvalConfig, SupernetConfig, config_from_dict
from .tables import Column, TableSchema, check_sidecar, percent, sidecar_path, write_table
from .hashing import file_digest, json_digest
from .data import CIFAR10_MEAN, CIFAR10_STD, ImageSet, stratified_split
from .network import SuperNet
from .resolve import parse_many
from .space import NUM_ARCHS, Arch, all_archs, degenerate_mask, iso_ids
from .training import CheckpointError, build_supernet, load_checkpoint, load_images, resolve_device

__all__ = [
    "sample_archs", "load_trained", "normalise_images", "WSEvaluator", "evaluate_supernet", "WS_COLUMNS", "WS_SCHEMA",
]

log = logging.getLogger(__name__)

WS_COLUMNS = ["index", "arch_str", "iso_id", "degenerate", "ws_acc", "ws_loss", "measured"]
WS_SCHEMA = TableSchema(
    "weight-sharing file",
    (
        percent("ws_acc"),
        Column("ws_loss", required=False, lo=0.0, nan=True),  # NaN: degenerate cells are not run
        Column("iso_id", "int", required=False, lo=0),
        Column("degenerate", "bool", required=False),
        Column("measured", "bool", required=False),
    ),
    make="rescore with `nasgcn supernet eval`, or fix the rows (ws_acc in percent)",
)
"""What a weight-sharing table holds (any subset of the space; ``ws_acc`` is needed on every row)."""


def sample_archs(n: int, seed: int = 0, *, include_degenerate: bool = True) -> list[Arch]:
    """``n`` distinct architectures drawn uniformly from the space (without degenerate cells if asked)."""
    pool = np.arange(NUM_ARCHS) if include_degenerate else np.flatnonzero(~degenerate_mask())
    if not 1 <= n <= len(pool):
        raise ValueError(f"sample size must be in 1..{len(pool)}, got {n}")
    idx = np.sort(np.random.default_rng(seed).choice(pool, size=n, replace=False))
    archs = all_archs()
    return [archs[i] for i in idx]


def load_trained(run: str | Path, device: str | torch.device = "cpu") -> tuple[SuperNet, SupernetConfig, dict[str, Any]]:
    """The supernet, its config and checkpoint metadata from a training run directory or checkpoint file."""
    ck = load_checkpoint(run, map_location="cpu")
    cfg = config_from_dict(ck["config"], where=str(run))
    model = build_supernet(cfg, int(ck.get("num_classes", cfg.data.num_classes)))
    try:
        model.load_state_dict(ck["model"])
    except RuntimeError as e:
        raise CheckpointError(f"checkpoint {run} does not match its config's network: {e}") from None
    meta = {k: ck[k] for k in ("epoch", "global_step", "finished") if k in ck}
    return model.to(device), cfg, meta


def normalise_images(images: np.ndarray, device: torch.device, channels_last: bool = True) -> torch.Tensor:
    """uint8 NHWC images -> normalised float [N, 3, H, W] (NHWC memory when ``channels_last``)."""
    x = torch.as_tensor(images, device=device).permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(CIFAR10_MEAN, device=device).view(1, 3, 1, 1)
    std = torch.tensor(CIFAR10_STD, device=device).view(1, 3, 1, 1)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    return x.sub_(mean).div_(std).contiguous(memory_format=fmt)


class WSEvaluator:
    """Scores architectures with one supernet on fixed recalibration and validation tensors.

    ``valid`` images: a fixed class-balanced subset of ``cfg.valid_size`` (seeded); recalibration
    batches: ``bn_batches`` x ``bn_batch_size`` fixed training images (seeded, no augmentation).
    """

    def __init__(
        self, model: SuperNet, train: ImageSet, valid: ImageSet, cfg: EvalConfig, device: torch.device,
        channels_last: bool = True,
    ) -> None:
        if cfg.bn_mode not in ("recalibrate", "batch"):
            raise ValueError(f"[eval] bn_mode must be 'recalibrate' or 'batch', got {cfg.bn_mode!r}")
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        self.model, self.cfg, self.device = model.to(device, memory_format=fmt), cfg, device
        n_valid = min(cfg.valid_size, len(valid))
        if n_valid < len(valid):
            _, keep = stratified_split(valid.labels, n_valid, seed=cfg.seed)
        else:
            keep = np.arange(len(valid))
        self.valid_x = normalise_images(valid.images[keep], device, channels_last)
        self.valid_y = torch.as_tensor(valid.labels[keep], device=device)
        rng = np.random.default_rng([cfg.seed, 0xB0])
        n_bn = min(cfg.bn_batches * cfg.bn_batch_size, len(train))
        bn_idx = rng.choice(len(train), size=n_bn, replace=False)
        self.bn_x = normalise_images(train.images[bn_idx], device, channels_last)
        self._bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        if cfg.bn_mode == "recalibrate":
            for bn in self._bns:
                if not bn.track_running_stats:  # give batch-statistics BNs buffers to recalibrate into
                    bn.track_running_stats = True
                    bn.register_buffer("running_mean", torch.zeros(bn.num_features, device=device))
                    bn.register_buffer("running_var", torch.ones(bn.num_features, device=device))
                    bn.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long, device=device))
        self._momentum = [bn.momentum for bn in self._bns]

    @torch.inference_mode()
    def score(self, arch: Arch) -> tuple[float, float]:
        """(accuracy %, mean cross-entropy) of ``arch`` on the validation subset."""
        model, cfg = self.model, self.cfg
        if cfg.bn_mode == "recalibrate":
            for bn in self._bns:
                bn.reset_running_stats()
                bn.momentum = None  # cumulative average over the recalibration batches
            model.train()
            for i in range(0, len(self.bn_x), cfg.bn_batch_size):
                model(self.bn_x[i : i + cfg.bn_batch_size], arch)
            model.eval()
        else:
            model.train()  # every BN normalises with the validation batch's statistics
        correct, loss = 0, 0.0
        for i in range(0, len(self.valid_x), cfg.batch_size):
            x, y = self.valid_x[i : i + cfg.batch_size], self.valid_y[i : i + cfg.batch_size]
            logits = model(x, arch)
            loss += float(nn.functional.cross_entropy(logits, y, reduction="sum"))
            correct += int((logits.argmax(1) == y).sum())
        for bn, m in zip(self._bns, self._momentum):
            bn.momentum = m
        n = len(self.valid_y)
        return 100.0 * correct / n, loss / n


def _finished_output(out: Path, ck_hash: str, ecfg: EvalConfig, archs: list[Arch]) -> pd.DataFrame | None:
    """The table already in ``out`` when its sidecar says it was made from the same checkpoint and eval
    config and it holds exactly ``archs``; else None."""
    side_path = sidecar_path(out)
    if not (out.is_file() and side_path.is_file()):
        return None
    try:
        side = check_sidecar(out) or {}  # a table that no longer matches its sidecar is rescored
        df = pd.read_csv(out)
    except (ValueError, OSError):
        return None
    if side.get("checkpoint_sha256_16") != ck_hash or side.get("eval_config") != json.loads(json.dumps(ecfg.__dict__)):
        return None
    want = [a.index for a in archs]
    if list(df.columns) != WS_COLUMNS or len(df) != len(want) or set(df["index"]) != set(want):
        return None
    return df.set_index("index", drop=False).loc[want].reset_index(drop=True)


def evaluate_supernet(
    run: str | Path,
    archs: Sequence[Arch | str | int] | None,
    out: str | Path,
    *,
    eval_cfg: EvalConfig | None = None,
    device: str | torch.device | None = None,
    data: dict[str, ImageSet] | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Score ``archs`` (None = all 15,625) with the supernet of ``run``; write ``out`` (CSV) and its sidecar.

    Returns the table (rows in the order of ``archs``).  Already-scored classes in ``<out>.partial-<key>*``
    are reused, so an interrupted call loses at most the class being scored.
    """
    out = Path(out)
    t0 = time.perf_counter()
    ck_file = Path(run) / "checkpoint.pt" if Path(run).is_dir() else Path(run)
    dev = resolve_device(device or "auto")
    model, cfg, meta = load_trained(run, dev)
    ecfg = eval_cfg or cfg.eval
    arch_list = list(all_archs()) if archs is None else parse_many(archs)
    if not arch_list:
        raise ValueError("no architectures to evaluate")
    reps = representatives(arch_list, canonical=False)
    out.parent.mkdir(parents=True, exist_ok=True)
    ck_hash = file_digest(ck_file, n=16)
    key = json_digest([ck_hash, ecfg.__dict__], 12)
    cached = _finished_output(out, ck_hash, ecfg, arch_list)
    if cached is not None:
        log.info("%s already holds these scores (same checkpoint and eval config); reusing it", out)
        return cached
    world, _ = world_rank(dev.type)
    ev: list[WSEvaluator] = []

    def prepare() -> None:
        images = data if data is not None else load_images(cfg, progress=progress)
        ev.append(WSEvaluator(model, images["train"], images["valid"], ecfg, dev, channels_last=cfg.train.channels_last))

    done = score_classes(
        reps, lambda a: ev[0].score(a), out, key, 2, prepare=prepare, desc="weight-sharing eval",
        progress=progress, device_type=dev.type,
    )
    if done is None:  # a torchrun rank other than 0: rank 0 writes the table
        return pd.DataFrame(columns=WS_COLUMNS)
    ids, deg = iso_ids(), degenerate_mask()
    num_classes = model.num_classes
    rows = []
    for a in arch_list:
        i = a.index
        c = int(ids[i])
        if deg[i]:
            acc, loss, measured = 100.0 / num_classes, float("nan"), False
        else:
            acc, loss = done[c]
            measured = reps[c] == a
        rows.append((i, a.to_str(), c, bool(deg[i]), acc, loss, measured))
    df = pd.DataFrame(rows, columns=WS_COLUMNS)
    sidecar = {
        "checkpoint": str(ck_file.resolve()),
        "checkpoint_sha256_16": ck_hash,
        "trained_epochs": meta.get("epoch"),
        "supernet_config": cfg.to_dict(),
        "eval_config": json.loads(json.dumps(ecfg.__dict__)),
        "architectures": len(df),
        "classes_scored": len(reps),
        "degenerate": int(df["degenerate"].sum()),
        "seconds": round(time.perf_counter() - t0, 2),
        "device": str(dev),
        "world_size": world,
    }
    write_table(df, out, sidecar)
    remove_partials(out, key)
    return df
