"""The configuration of a DrNAS search: the ``[drnas]`` section and the TOML file that holds it.

A DrNAS config has ``[data]`` and ``[model]`` (read as in supernet configs) and ``[drnas]`` (schedule,
optimisers, regulariser; :class:`DrNASConfig`); any other section or unknown key is an error.  Defaults
follow the authors' NAS-Bench-201 search script (see :mod:`supernet.training.drnas`).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ..config import SupernetConfig, config_from_dict, read_toml

__all__ = ["DrNASConfig", "drnas_config_from_dict", "load_drnas_config"]


@dataclass(frozen=True)
class DrNASConfig:
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
    """

    epochs: int = 100
    batch_size: int = 64
    w_lr: float = 0.025
    w_lr_min: float = 0.001
    w_momentum: float = 0.9
    w_weight_decay: float = 3e-4
    grad_clip: float = 5.0
    arch_lr: float = 3e-4
    arch_betas: tuple[float, float] = (0.5, 0.999)
    arch_weight_decay: float = 1e-3
    arch_warmup_epochs: int = 0
    stop_when_stable: int = 0
    reg_type: str = "none"
    reg_scale: float = 1e-3
    init_std: float = 1e-3
    seed: int = 0
    threads: int | None = None
    device: str = "auto"
    channels_last: bool = True

    def __post_init__(self) -> None:
        betas = tuple(float(b) for b in self.arch_betas)
        object.__setattr__(self, "arch_betas", betas)
        problems = []
        if self.epochs < 1 or self.batch_size < 1:
            problems.append(f"epochs and batch_size must be >= 1 (got {self.epochs}, {self.batch_size})")
        if self.reg_type not in ("kl", "none"):
            problems.append(f"reg_type must be 'kl' or 'none', got {self.reg_type!r}")
        if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
            problems.append(f"arch_betas must be two numbers in [0, 1), got {self.arch_betas!r}")
        if self.w_lr <= 0 or self.arch_lr <= 0 or self.w_lr_min < 0:
            problems.append("w_lr and arch_lr must be > 0 and w_lr_min >= 0")
        if min(self.w_weight_decay, self.arch_weight_decay, self.reg_scale, self.grad_clip, self.init_std) < 0:
            problems.append("weight decays, reg_scale, grad_clip and init_std must be >= 0")
        if self.arch_warmup_epochs < 0:
            problems.append(f"arch_warmup_epochs must be >= 0, got {self.arch_warmup_epochs}")
        if self.stop_when_stable < 0:
            problems.append(f"stop_when_stable must be >= 0, got {self.stop_when_stable}")
        if self.threads is not None and self.threads < 1:
            problems.append(f"threads must be >= 1 or absent, got {self.threads}")
        if problems:
            raise ValueError("[drnas] " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (tuples as lists)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    def replace(self, **changes: Any) -> "DrNASConfig":
        """Copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


# sections of a DrNAS config: [data] and [model] build the SupernetConfig, [drnas] the DrNASConfig
_SECTIONS = ("data", "model", "drnas")


def drnas_config_from_dict(d: dict[str, Any], where: str = "[drnas]") -> DrNASConfig:
    """Build a :class:`DrNASConfig` from the ``[drnas]`` table, rejecting unknown keys and wrong types."""
    known = {f.name: f for f in fields(DrNASConfig)}
    unknown = sorted(set(d) - set(known))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown} in [drnas]; known: {', '.join(known)}")
    defaults = DrNASConfig()
    kwargs: dict[str, Any] = {}
    for k, v in d.items():
        default = getattr(defaults, k)
        if isinstance(default, bool):
            if not isinstance(v, bool):
                raise ValueError(f"{where}: [drnas] {k} must be true or false, got {v!r}")
        elif isinstance(default, (int, float)) or k == "threads":
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ValueError(f"{where}: [drnas] {k} must be a number, got {v!r}")
            if isinstance(default, int) or k == "threads":
                if isinstance(v, float) and not v.is_integer():
                    raise ValueError(f"{where}: [drnas] {k} must be an integer, got {v!r}")
                v = int(v)
            else:
                v = float(v)
        elif isinstance(default, str):
            if not isinstance(v, str):
                raise ValueError(f"{where}: [drnas] {k} must be a string, got {v!r}")
        elif isinstance(default, tuple):
            if not isinstance(v, (list, tuple)) or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
                raise ValueError(f"{where}: [drnas] {k} must be a list of numbers, got {v!r}")
            v = tuple(v)
        kwargs[k] = v
    try:
        return DrNASConfig(**kwargs)
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None


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
    return scfg, drnas_config_from_dict(d.get("drnas", {}) or {}, where=str(p))
