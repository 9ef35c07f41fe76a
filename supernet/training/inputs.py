"""What a supernet config trains on: its images (CIFAR-10 or synthetic, ``[data]``) and its supernet (``[model]``)."""

from __future__ import annotations

import logging
from pathlib import Path

from ..config import SupernetConfig
from ..data import (
    ImageSet,
    MissingDataError,
    cifar10_splits,
    resolve_cifar10_source,
    stratified_split,
    synthetic_images,
)
from ..network import SuperNet
from ..paths import data_root

__all__ = ["resolve_source", "load_images", "build_supernet"]

log = logging.getLogger(__name__)


def resolve_source(cfg: SupernetConfig) -> SupernetConfig:
    """Turn ``[data] source = "auto"`` into ``"cifar10"`` when CIFAR-10 is found under the data root
    (or ``[data] root``), else ``"synthetic"``; other sources are returned unchanged."""
    if cfg.data.source != "auto":
        return cfg

    root = Path(cfg.data.root) if cfg.data.root else data_root()
    try:
        resolve_cifar10_source(root)
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
