"""Typed configuration of supernet training and weight-sharing evaluation, loaded from TOML.

A config file has the sections ``[data]``, ``[model]``, ``[train]``, ``[sampling]`` and ``[eval]``
(every key optional; unknown keys, wrong types and values out of range are errors naming the file and
key (:mod:`supernet.schema`), so a typo never silently falls back to a default or fails mid-run).
``configs/`` holds the shipped ones: ``tiny.toml`` (synthetic, seconds), ``cpu.toml`` (CIFAR-10, about
2 hours on 2 cores) and ``gpu-full.toml`` (NAS-Bench-201's RSPS protocol).
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .hashing import json_digest
from .schema import Section, build_section, setting

__all__ = [
    "DataConfig",
    "ModelConfig",
    "TrainConfig",
    "SamplingConfig",
    "LandmarkConfig",
    "EvalConfig",
    "SupernetConfig",
    "load_config",
    "read_toml",
    "config_from_dict",
    "config_hash",
]


@dataclass(frozen=True)
class DataConfig(Section):
    """Which images train and score the supernet.

    ``source``: ``"cifar10"`` (from ``root``, default the data root), ``"folder"`` (your own images:
    ``root`` is an image folder ``train/<class>/<image>`` with optional ``valid/``; see
    :func:`supernet.training.inputs.load_folder`), ``"synthetic"``, or ``"auto"`` (CIFAR-10 when it is
    found, else synthetic; the resolved choice is what runs record).
    ``split``: ``"nb201"`` (NAS-Bench-201's 25k/25k train/valid halves) or ``"stratified"`` (seeded).
    ``train_limit`` / ``valid_limit``: use only the first k images of each half (after a seeded,
    class-stratified shuffle), for quick runs; ``None`` = all.
    """

    SECTION = "data"

    source: str = setting("cifar10", choices=("cifar10", "folder", "synthetic", "auto"))
    root: str | None = None
    cache_dir: str | None = None
    split: str = setting("nb201", choices=("nb201", "stratified"))
    train_limit: int | None = setting(None, ge=1)
    synthetic_train: int = setting(2000, ge=1)
    synthetic_valid: int = setting(500, ge=1)
    image_size: int = setting(32, ge=1)
    num_classes: int = setting(10, ge=2)
    seed: int = setting(0, ge=0)


@dataclass(frozen=True)
class ModelConfig(Section):
    """Supernet width ``C`` (stem channels), ``N`` cells per stage, and the BN convention of cell ops."""

    SECTION = "model"

    C: int = setting(16, ge=1)
    N: int = setting(5, ge=1)
    bn_affine: bool = False
    track_running_stats: bool = False


@dataclass(frozen=True)
class TrainConfig(Section):
    """SGD with Nesterov momentum and a per-epoch cosine schedule from ``lr`` to ``lr_min`` (``lr_min <= lr``)."""

    SECTION = "train"

    epochs: int = setting(250, ge=1)
    batch_size: int = setting(64, ge=1)
    lr: float = setting(0.025, gt=0)
    lr_min: float = setting(0.001, ge=0)
    momentum: float = setting(0.9, ge=0, lt=1)
    nesterov: bool = True
    weight_decay: float = setting(5e-4, ge=0)
    grad_clip: float = setting(5.0, ge=0)  # max global L2 norm of the gradients, 0 = off
    seed: int = setting(0, ge=0)
    device: str = "auto"
    threads: int | None = setting(None, ge=1)
    checkpoint_every_steps: int = setting(0, ge=0)  # 0 = only at the end of each epoch (and on interrupt)
    channels_last: bool = True  # NHWC activations: about 1.4x faster convolutions on CPU
    snapshot_every: int = setting(0, ge=0)  # keep the weights of every k-th epoch as snapshots/epoch_XXX.pt (0 = none)
    init_from: str | None = None  # warm start: a run directory or checkpoint whose weights a new run starts from

    def check(self) -> None:
        if self.lr_min > self.lr:
            raise ValueError(f"[train] lr_min ({self.lr_min}) must be <= lr ({self.lr}): the rate would climb")
        if self.nesterov and self.momentum == 0:
            raise ValueError("[train] nesterov needs momentum > 0 (set nesterov = false or a momentum)")


@dataclass(frozen=True)
class SamplingConfig(Section):
    """Which architecture each training step uses (see :mod:`supernet.sampling`).

    ``restrict``: a pattern (the arch string with ``*`` for free edges); only matching architectures are
    trained, as a few-shot sub-supernet does (:mod:`supernet.fewshot`).  Empty = the whole space.
    """

    SECTION = "sampling"

    strategy: str = "uniform"
    exclude_degenerate: bool = True
    steps_per_arch: int = setting(1, ge=1)
    archs: tuple[str, ...] = ()
    restrict: str = ""


@dataclass(frozen=True)
class LandmarkConfig(Section):
    """Landmark regularisation (Yu, Ranftl, Salzmann 2021), off unless ``file`` is given.

    ``file``: CSV with ``index`` or ``arch_str`` and ``true_acc`` (percent) of architectures whose true
    accuracy is known.  Every ``every`` steps, ``pairs`` landmark pairs are drawn and a hinge loss
    ``weight * relu(loss(better) - loss(worse) + margin)`` on the same batch is added, so the supernet's
    losses order the landmarks as their true accuracies do.  ``limit`` uses only that many of the file's
    rows, chosen by ``select``: ``"random"`` (seeded by ``[train] seed``) or ``"quantile"`` (evenly spaced
    along their true-accuracy ranking).
    """

    SECTION = "landmarks"

    file: str | None = None
    every: int = setting(10, ge=0)
    weight: float = setting(1.0, ge=0)
    margin: float = setting(0.0, ge=0)
    pairs: int = setting(1, ge=1)
    limit: int | None = setting(None, ge=2)
    select: str = setting("random", choices=("random", "quantile"))


@dataclass(frozen=True)
class EvalConfig(Section):
    """How weight-sharing accuracy is measured.

    ``valid_size`` images of the validation half (a fixed, seeded, class-balanced subset) are scored
    for each architecture after ``bn_batches`` training batches of ``bn_batch_size`` recalibrate the
    BatchNorm statistics (``bn_mode="recalibrate"``), or with the validation batch's own statistics
    (``bn_mode="batch"``, as NAS-Bench-201's supernets with ``track_running_stats=False`` do).
    """

    SECTION = "eval"

    valid_size: int = setting(2000, ge=1)
    batch_size: int = setting(500, ge=1)
    bn_mode: str = setting("recalibrate", choices=("recalibrate", "batch"))
    bn_batches: int = setting(4, ge=1)
    bn_batch_size: int = setting(128, ge=1)
    seed: int = setting(0, ge=0)


@dataclass(frozen=True)
class SupernetConfig:
    """The whole supernet stage."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    landmarks: LandmarkConfig = field(default_factory=LandmarkConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (tuples as lists), the inverse of :func:`config_from_dict`."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    def replace(self, **sections: Any) -> "SupernetConfig":
        """Copy with some fields changed: ``cfg.replace(train={"epochs": 3})``."""
        d = self.to_dict()
        for sec, vals in sections.items():
            if sec not in d:
                raise ValueError(f"unknown config section [{sec}]; known: {', '.join(d)}")
            d[sec].update(vals)
        return config_from_dict(d)


_CLASSES = {
    "data": DataConfig,
    "model": ModelConfig,
    "train": TrainConfig,
    "sampling": SamplingConfig,
    "landmarks": LandmarkConfig,
    "eval": EvalConfig,
}


def config_from_dict(d: dict[str, Any], where: str = "config") -> SupernetConfig:
    """Build a :class:`SupernetConfig` from nested dicts, rejecting unknown sections and keys, wrong types and
    values out of range (``where``, the file they came from, starts every message)."""
    unknown = sorted(set(d) - set(_CLASSES))
    if unknown:
        raise ValueError(f"{where}: unknown section(s) {unknown}; known: {', '.join(_CLASSES)}")
    return SupernetConfig(**{sec: build_section(cls, d.get(sec, {}), where) for sec, cls in _CLASSES.items()})


def read_toml(path: str | Path) -> dict[str, Any]:
    """The parsed TOML file, with errors that name the file and list the shipped configs."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(
            f"config {p} not found; shipped configs are in configs/ (tiny.toml, demo.toml, cpu.toml, gpu-full.toml)"
        )
    try:
        return tomllib.loads(p.read_text())
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{p} is not valid TOML: {e}") from None


def load_config(path: str | Path) -> SupernetConfig:
    """Read a TOML config; its supernet sections may sit at top level or under ``[supernet]``."""
    p = Path(path)
    d = read_toml(p)
    d = d.get("supernet", d)
    d = {k: v for k, v in d.items() if k in _CLASSES or not isinstance(v, dict) or k not in _OTHER_STAGES}
    return config_from_dict(d, where=str(p))


# sections of a full pipeline config that belong to later stages, ignored here
_OTHER_STAGES = {"predictor", "search", "run", "report", "hardware", "proxies", "loop"}


def config_hash(cfg: SupernetConfig, *sections: str) -> str:
    """Short SHA-256 of the given sections (all when none), to detect a changed config on resume."""
    d = cfg.to_dict()
    if sections:
        d = {s: d[s] for s in sections}
    return json_digest(d, 16)
