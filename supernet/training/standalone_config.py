"""The config of stand-alone training of one architecture (:func:`~supernet.training.standalone.train_standalone`)
and its presets.

Presets follow NAS-Bench-201's published schedule (xautodl ``configs/nas-benchmark/hyper-opts/200E.config``
and ``12E.config``): SGD, Nesterov momentum 0.9, lr 0.1 on a cosine down to 0 over the run's epochs, no
warm-up, weight decay 5e-4, batch 256, softmax cross-entropy, random crop (pad 4) and horizontal flip.
``nb201-200`` trains 200 epochs, ``nb201-12`` 12 (the benchmark's cheap fidelity, its own 12-epoch cosine,
not the first 12 epochs of the 200-epoch run).  The network is NAS-Bench-201's (C=16, N=5; BN affine with
running statistics, as its stand-alone networks).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from ..config import DataConfig
from ..space import parse_arch

__all__ = ["PRESETS", "EVAL_SPLITS", "StandaloneConfig", "standalone_config"]

PRESETS: dict[str, dict[str, Any]] = {
    "nb201-200": {"epochs": 200, "batch_size": 256, "lr": 0.1, "lr_min": 0.0, "momentum": 0.9, "nesterov": True,
                  "weight_decay": 5e-4},
    "nb201-12": {"epochs": 12, "batch_size": 256, "lr": 0.1, "lr_min": 0.0, "momentum": 0.9, "nesterov": True,
                 "weight_decay": 5e-4},
}
"""Named schedules (NAS-Bench-201's 200- and 12-epoch ones); explicit fields override them."""

EVAL_SPLITS = ("valid", "test", "train")
"""Where the trained network is scored: the held-out valid half (default), the test set, or (a check that
it learns) its own training images without augmentation."""

# fields of the run that change where or how fast it goes, not what it computes
RESUMABLE = {("train", "device"), ("train", "threads"), ("train", "checkpoint_every_steps"), ("train", "preset"),
             ("data", "cache_dir"), ("data", "root"), ("eval", "eval_batch_size")}


@dataclass(frozen=True)
class StandaloneConfig:
    """One architecture's training run.

    ``arch``: the cell (arch string, official index or op tuple; stored as the official string).
    ``data``: the images (:class:`~supernet.config.DataConfig`: CIFAR-10 with NAS-Bench-201's halves, an image
    folder, or synthetic; ``train_limit`` keeps a stratified subset of the training half).  ``valid_limit``
    scores only a stratified subset of the evaluation split.  The rest is the schedule (see :data:`PRESETS`).
    """

    arch: str
    preset: str = "nb201-200"
    data: DataConfig = field(default_factory=lambda: DataConfig(source="auto"))
    C: int = 16
    N: int = 5
    epochs: int = 200
    batch_size: int = 256
    lr: float = 0.1
    lr_min: float = 0.0
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    eval_split: str = "valid"
    valid_limit: int | None = None
    eval_batch_size: int = 500
    seed: int = 0
    device: str = "auto"
    threads: int | None = None
    channels_last: bool = True
    checkpoint_every_steps: int = 0

    def __post_init__(self) -> None:
        a = parse_arch(self.arch)  # ArchError (a ValueError) names a malformed cell
        if a.is_degenerate:
            raise ValueError(
                f"cell {a.to_str()} (index {a.index}) is degenerate: no path of non-'none' edges joins its input "
                f"to its output, so every such network outputs a constant; choose a cell whose output is connected"
            )
        object.__setattr__(self, "arch", a.to_str())
        if self.preset not in PRESETS and self.preset != "custom":
            raise ValueError(f"unknown preset {self.preset!r}; choose one of {', '.join(PRESETS)}")
        if self.epochs < 1:
            raise ValueError(f"epochs must be at least 1 (got {self.epochs}): a fidelity of zero epochs trains nothing")
        if self.batch_size < 1 or self.eval_batch_size < 1:
            raise ValueError(f"batch sizes must be positive (got {self.batch_size}, {self.eval_batch_size})")
        if not self.lr > 0 or self.lr_min < 0 or self.weight_decay < 0:
            raise ValueError(f"need lr > 0, lr_min >= 0, weight_decay >= 0 (got {self.lr}, {self.lr_min}, "
                             f"{self.weight_decay})")
        if self.C < 1 or self.N < 1:
            raise ValueError(f"need C >= 1 and N >= 1 (got C={self.C}, N={self.N})")
        if self.eval_split not in EVAL_SPLITS:
            raise ValueError(f"eval_split must be one of {', '.join(EVAL_SPLITS)}, got {self.eval_split!r}")
        if self.valid_limit is not None and self.valid_limit < 1:
            raise ValueError(f"valid_limit must be a positive number of images, got {self.valid_limit}")
        if self.data.train_limit is not None and self.data.train_limit < 1:
            raise ValueError(f"train_limit must be a positive number of images, got {self.data.train_limit}")

    @property
    def index(self) -> int:
        """Official index of the architecture."""
        return parse_arch(self.arch).index

    def replace(self, **changes: Any) -> "StandaloneConfig":
        """Copy with fields changed; ``data={...}`` updates fields of the data section."""
        if "data" in changes and isinstance(changes["data"], dict):
            changes["data"] = dataclasses.replace(self.data, **changes["data"])
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Nested sections (``cell``, ``data``, ``model``, ``train``, ``eval``), as checkpoints record them."""
        d = json.loads(json.dumps(dataclasses.asdict(self)))
        data = d.pop("data")
        return {
            "cell": {"arch": d["arch"]},
            "data": data,
            "model": {"C": d["C"], "N": d["N"]},
            "train": {k: d[k] for k in ("preset", "epochs", "batch_size", "lr", "lr_min", "momentum", "nesterov",
                                        "weight_decay", "seed", "device", "threads", "channels_last",
                                        "checkpoint_every_steps")},
            "eval": {k: d[k] for k in ("eval_split", "valid_limit", "eval_batch_size")},
        }


def standalone_config(arch: Any, preset: str = "nb201-200", *, data: DataConfig | dict[str, Any] | None = None,
                      **overrides: Any) -> StandaloneConfig:
    """The config of ``preset`` for ``arch`` with explicit ``overrides`` (``None`` values are ignored).

    ``data``: a :class:`~supernet.config.DataConfig` or a dict of its fields (default: CIFAR-10 when found
    under the data root, else synthetic images).
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    known = {f.name for f in dataclasses.fields(StandaloneConfig)} - {"arch", "preset", "data"}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"unknown stand-alone option(s) {unknown}; known: {', '.join(sorted(known))}")
    if isinstance(data, dict):
        data = dataclasses.replace(DataConfig(source="auto"), **data)
    kw = {**PRESETS[preset], **{k: v for k, v in overrides.items() if v is not None}}
    return StandaloneConfig(arch=arch, preset=preset, data=data or DataConfig(source="auto"), **kw)
