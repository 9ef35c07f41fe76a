"""What a supernet config trains on: its images (CIFAR-10, an image folder or synthetic, ``[data]``) and its
supernet (``[model]``)."""

from __future__ import annotations

import logging
from pathlib import Path

from ..config import SupernetConfig
from ..data import (
    CorruptDataError,
    ImageSet,
    MissingDataError,
    cifar10_splits,
    decode_image_folder,
    resolve_cifar10_source,
    stratified_split,
    synthetic_images,
)
from ..network import SuperNet
from ..paths import data_root

__all__ = ["resolve_source", "load_images", "load_folder", "build_supernet"]

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
    """``{"train", "valid"}`` image sets for the config (train half trains, valid half scores), plus
    ``"test"`` for CIFAR-10 and for an image folder that has one (:func:`load_folder`)."""
    d = resolve_source(cfg).data
    if d.source == "folder":
        return load_folder(cfg, progress=progress)
    if d.source == "synthetic":
        return {
            "train": synthetic_images(d.synthetic_train, num_classes=d.num_classes, image_size=d.image_size, seed=d.seed),
            "valid": synthetic_images(
                d.synthetic_valid, num_classes=d.num_classes, image_size=d.image_size, seed=d.seed + 1
            ),
        }
    if d.source != "cifar10":
        raise ValueError(f"[data] source must be 'cifar10', 'folder', 'synthetic' or 'auto', got {d.source!r}")

    root = Path(d.root) if d.root else data_root()
    sets = cifar10_splits(root, split=d.split, seed=d.seed, cache_dir=d.cache_dir, progress=progress)
    train = sets["train"]
    if d.train_limit is not None and d.train_limit < len(train):
        _, keep = stratified_split(train.labels, int(d.train_limit), seed=d.seed)
        train = train.subset(keep)
    return {"train": train, "valid": sets["valid"], "test": sets["test"]}


def load_folder(cfg: SupernetConfig, *, progress: bool = True, check_classes: bool = True) -> dict[str, ImageSet]:
    """The image folder ``[data] root`` (``train/<class>/*.png``, optional ``valid/`` or ``val/`` and ``test/``)
    as ``{"train", "valid"[, "test"]}``.

    Without a validation folder the training folder is split in class-stratified halves (seeded by
    ``[data] seed``), as NAS-Bench-201 halves CIFAR-10's training set.  ``train_limit`` keeps a stratified
    subset of the training part.  Errors: no ``root``, fewer than 2 classes, a class count other than
    ``[data] num_classes`` (unless not ``check_classes``: a stand-alone network takes its class count from
    the images), an unreadable image (:class:`~supernet.data.CorruptDataError`).
    """
    d = cfg.data
    if not d.root:
        raise ValueError("[data] source = 'folder' needs [data] root = the image folder (train/<class>/<image> ...)")
    root = Path(d.root)
    sets = decode_image_folder(root, image_size=(d.image_size, d.image_size), cache_dir=d.cache_dir,
                               progress=progress)
    if "train" not in sets:
        raise MissingDataError(f"image folder {root} has no train/ folder (found {sorted(sets)}): expected "
                               f"train/<class>/<image> and optionally valid/<class>/<image>")
    train = sets["train"]
    n_cls = len(train.classes)
    if n_cls < 2:
        raise CorruptDataError(f"image folder {root} has {n_cls} class ({', '.join(train.classes)}): a classifier "
                               f"needs at least 2 class folders under train/")
    if check_classes and n_cls != d.num_classes:
        raise ValueError(f"image folder {root} has {n_cls} classes but [data] num_classes = {d.num_classes}; "
                         f"set num_classes = {n_cls}")
    valid_name = next((s for s in ("valid", "val") if s in sets), None)
    if valid_name is not None:
        valid = sets[valid_name]
        if valid.classes != train.classes:
            raise CorruptDataError(f"{root}: {valid_name}/ has classes {list(valid.classes)} but train/ has "
                                   f"{list(train.classes)}; give both the same class folders")
    else:
        if (train.class_counts() < 2).any():
            raise CorruptDataError(f"{root}: every class needs at least 2 images under train/ to split off a "
                                   f"validation half (counts {train.class_counts().tolist()})")
        keep, held = stratified_split(train.labels, 0.5, seed=d.seed)
        train, valid = train.subset(keep), train.subset(held)
    if d.train_limit is not None and d.train_limit < len(train):
        _, keep = stratified_split(train.labels, int(d.train_limit), seed=d.seed)
        train = train.subset(keep)
    out = {"train": train, "valid": valid}
    if "test" in sets:
        out["test"] = sets["test"]
    return out


def build_supernet(cfg: SupernetConfig, num_classes: int) -> SuperNet:
    """The supernet of the config, initialised from ``train.seed``."""
    m = cfg.model
    return SuperNet(
        C=m.C, N=m.N, num_classes=num_classes, bn_affine=m.bn_affine,
        track_running_stats=m.track_running_stats, seed=cfg.train.seed,
    )
