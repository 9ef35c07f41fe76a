"""The tiny synthetic supernet config the training tests share (seconds on one thread)."""

from __future__ import annotations

from typing import Any

from supernet.config import SupernetConfig, config_from_dict

TINY: dict[str, dict[str, Any]] = {
    "data": {"source": "synthetic", "synthetic_train": 256, "synthetic_valid": 128},
    "model": {"C": 4, "N": 1},
    "train": {"epochs": 3, "batch_size": 32, "lr": 0.05, "threads": 1, "device": "cpu"},
    "sampling": {"strategy": "uniform"},
    "eval": {"valid_size": 128, "batch_size": 128, "bn_batches": 2, "bn_batch_size": 32},
}


def tiny_cfg(**over: dict[str, Any]) -> SupernetConfig:
    """:data:`TINY` with some section values replaced: ``tiny_cfg(train={"epochs": 1})``."""
    d = {k: dict(v) for k, v in TINY.items()}
    for sec, vals in over.items():
        d[sec].update(vals)
    return config_from_dict(d)
