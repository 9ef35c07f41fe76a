"""The configuration of a DrNAS search: the ``[drnas]`` section and the TOML file that holds it.

A DrNAS config has ``[data]`` and ``[model]`` (read as in supernet configs) and ``[drnas]`` (schedule,
optimisers, regulariser; :class:`DrNASConfig`); any other section or unknown key is an error.  Defaults
follow the authors' NAS-Bench-201 search script (see :mod:`supernet.training.drnas`).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import SupernetConfig, config_from_dict, read_toml
from ..schema import Section, build_section, setting

__all__ = ["DrNASConfig", "drnas_config_from_dict", "load_drnas_config"]


@dataclass(frozen=True)
class DrNASConfig(Section):
    """The ``[drnas]`` section: schedule, optimisers and regulariser of a DrNAS search.

    Weights (SGD, momentum, no Nesterov as in DrNAS): ``w_lr`` -> ``w_lr_min`` cosine per epoch,
    ``w_weight_decay``, ``grad_clip`` (max global L2 norm, 0 = off).  Architecture (Adam):
    ``arch_lr``, ``arch_betas``, ``arch_weight_decay`` (L2 on ``theta``), ``reg_type`` ``"kl"``
    (adds ``reg_scale * sum_edges KL(Dir(beta) || Dir(1))`` to the validation loss) or ``"none"``;
    ``arch_warmup_epochs``: epochs of weight steps only before the architecture steps start.
    ``stop_when_stable``: end the search early once the derived architecture has stayed the same for
    that many consecutive epochs (0 = always run all ``epochs``; the schedule still spans ``epochs``).
    ``init_std``: ``theta ~ init_std * N(0, 1)``.  ``seed`` seeds the supernet weights, ``theta``, both
    loaders and the Dirichlet samples.  ``threads``: ``torch.set_num_threads`` (None = leave as is);
    ``device``: ``"auto"``, ``"cpu"``, ``"cuda"``...; ``channels_last``: NHWC activations.
    Types and ranges are checked on creation (:mod:`supernet.schema`).
    """

    SECTION = "drnas"

    epochs: int = setting(100, ge=1)
    batch_size: int = setting(64, ge=1)
    w_lr: float = setting(0.025, gt=0)
    w_lr_min: float = setting(0.001, ge=0)
    w_momentum: float = setting(0.9, ge=0, lt=1)
    w_weight_decay: float = setting(3e-4, ge=0)
    grad_clip: float = setting(5.0, ge=0)
    arch_lr: float = setting(3e-4, gt=0)
    arch_betas: tuple[float, float] = setting((0.5, 0.999), ge=0, lt=1)
    arch_weight_decay: float = setting(1e-3, ge=0)
    arch_warmup_epochs: int = setting(0, ge=0)
    stop_when_stable: int = setting(0, ge=0)
    reg_type: str = setting("none", choices=("kl", "none"))
    reg_scale: float = setting(1e-3, ge=0)
    init_std: float = setting(1e-3, ge=0)
    seed: int = setting(0, ge=0)
    threads: int | None = setting(None, ge=1)
    device: str = "auto"
    channels_last: bool = True

    def check(self) -> None:
        if self.w_lr_min > self.w_lr:
            raise ValueError(f"[drnas] w_lr_min ({self.w_lr_min}) must be <= w_lr ({self.w_lr}): the rate would climb")

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (tuples as lists)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    def replace(self, **changes: Any) -> "DrNASConfig":
        """Copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


# sections of a DrNAS config: [data] and [model] build the SupernetConfig, [drnas] the DrNASConfig
_SECTIONS = ("data", "model", "drnas")


def drnas_config_from_dict(d: dict[str, Any], where: str = "config") -> DrNASConfig:
    """Build a :class:`DrNASConfig` from the ``[drnas]`` table, rejecting unknown keys, wrong types and values
    out of range (``where``, the file it came from, starts every message)."""
    return build_section(DrNASConfig, d, where)


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
    return scfg, drnas_config_from_dict(d.get("drnas"), where=str(p))
