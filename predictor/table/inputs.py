"""What a lookup table is fitted from: weight-sharing scores, hardware and landmark tables, each read,
checked and recorded with its provenance (path and SHA-256, or a hash of a frame's rows)."""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np
import pandas as pd

from supernet.hashing import bytes_digest, file_digest
from supernet.evaluate import WS_SCHEMA
from supernet.landmarks import LANDMARK_SCHEMA
from supernet.tables import BenchmarkError, align_to_space, read_arch_table, validate_table

from ..truth.hardware import load_hardware, validate_hardware

__all__ = ["read_ws", "sample_ws", "frame_hash", "read_inputs"]

log = logging.getLogger(__name__)

Source = pd.DataFrame | str | os.PathLike[str]


def frame_hash(df: pd.DataFrame) -> str:
    """SHA-256 of a frame's rows (values, not the pandas index): the provenance of an in-memory input."""
    return bytes_digest(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())


def read_ws(path: str | os.PathLike[str], *, drop_nonfinite: bool = False) -> pd.DataFrame:
    """A weight-sharing file (``index`` and/or ``arch_str``, and ``ws_acc`` in percent) aligned to the
    space and checked against :data:`supernet.evaluate.WS_SCHEMA`: a NaN/inf ``ws_acc`` is an error
    unless ``drop_nonfinite`` (then those rows are dropped, with a warning giving their number).
    """
    name = f"weight-sharing file {path}"
    df = read_arch_table(path, schema=WS_SCHEMA, name=name, drop_nonfinite=drop_nonfinite)
    if len(df) < 2:
        raise BenchmarkError(f"{name}: needs at least 2 architectures with a ws_acc value, has {len(df)}")
    return df


def sample_ws(ws: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """``n`` rows of an aligned weight-sharing frame drawn uniformly without replacement, in index order.

    The draw is ``np.random.default_rng([n, seed]).choice(sorted indices, n, replace=False)``, the one
    benchmarks/predictor_quality.py uses, so ``fit_table(sample_ws(ws, n, seed), model, seed=seed)``
    reproduces its plain-model rows.
    """
    have = np.sort(ws["index"].to_numpy(dtype=np.int64))
    if not 1 <= n <= have.size:
        raise ValueError(f"cannot draw {n} architectures from a table of {have.size}")
    pick = np.sort(np.random.default_rng([n, seed]).choice(have, n, replace=False))
    return ws.set_index("index", drop=False).loc[pick].reset_index(drop=True)


def clean_ws(df: pd.DataFrame, name: str, drop_nonfinite: bool = False) -> pd.DataFrame:
    """An aligned weight-sharing frame checked against :data:`WS_SCHEMA`, with at least 2 rows."""
    out = validate_table(df, WS_SCHEMA, name=name, drop_nonfinite=drop_nonfinite)
    if len(out) < 2:
        raise BenchmarkError(f"{name}: needs at least 2 architectures with a ws_acc value, has {len(out)}")
    return out


def read_inputs(
    ws: Source | None, hardware: Source | None, landmarks: Source | None, drop_nonfinite: bool = False
) -> tuple[pd.DataFrame | None, pd.DataFrame | None, tuple[np.ndarray, np.ndarray] | None, dict[str, Any]]:
    """(ws frame, hardware frame, landmarks as (indices, true_acc), provenance) of :func:`fit_table`'s inputs.

    ``ws``: index/arch_str and ``ws_acc`` (NaN rows dropped); ``hardware``: a path (checked with
    :func:`predictor.truth.load_hardware`) or an aligned frame; ``landmarks``: index/arch_str and
    ``true_acc`` (percent).  Any may be None.  ``drop_nonfinite``: drop ws/landmark rows with a NaN/inf
    accuracy (logged) instead of refusing them.
    """
    inputs: dict[str, Any] = {}
    ws_df = None
    if isinstance(ws, pd.DataFrame):
        ws_df = clean_ws(align_to_space(ws, name="weight-sharing table", subset=True), "weight-sharing table",
                         drop_nonfinite)
        inputs["ws"] = {"path": None, "sha256_rows": frame_hash(ws_df[["index", "ws_acc"]])}
    elif ws is not None:
        ws_df = read_ws(ws, drop_nonfinite=drop_nonfinite)
        inputs["ws"] = {"path": str(ws), "sha256": file_digest(ws)}
    hw_df = None
    if isinstance(hardware, pd.DataFrame):
        hw_df = validate_hardware(hardware, subset=True) if any(
            str(c).endswith("_latency_ms") for c in hardware.columns) else align_to_space(
            hardware, name="hardware table", subset=True)
        inputs["hardware"] = {"path": None, "sha256_rows": frame_hash(hw_df)}
    elif hardware is not None:
        hw_df = load_hardware(hardware, subset=True)
        inputs["hardware"] = {"path": str(hardware), "sha256": file_digest(hardware)}
    lm = None
    if landmarks is not None:
        if isinstance(landmarks, pd.DataFrame):
            lm_df = validate_table(align_to_space(landmarks, name="landmark table"), LANDMARK_SCHEMA,
                                   drop_nonfinite=drop_nonfinite)
            inputs["landmarks"] = {"path": None, "sha256_rows": frame_hash(lm_df[["index", "true_acc"]])}
        else:
            lm_df = read_arch_table(landmarks, schema=LANDMARK_SCHEMA, drop_nonfinite=drop_nonfinite)
            inputs["landmarks"] = {"path": str(landmarks), "sha256": file_digest(landmarks)}
        lm = (lm_df["index"].to_numpy(dtype=np.int64), lm_df["true_acc"].to_numpy(dtype=np.float64))
    return ws_df, hw_df, lm, inputs
