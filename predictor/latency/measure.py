"""Latency of this machine: every class's stand-alone network timed, resumably, with the machine recorded."""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import platform
import time
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from supernet.costs import measure_latency
from supernet.fileio import write_csv_atomic
from supernet.resolve import arch_strs
from supernet.space import NUM_ARCHS, iso_ids
from supernet.tables import write_table

from ..truth.hardware import LATENCY_SUFFIX


log = logging.getLogger(__name__)



PARTIAL_COLUMNS: tuple[str, ...] = ("index", "iso_id", "median_ms", "mean_ms", "std_ms", "min_ms", "p90_ms")
"""Columns of the resumable ``*.partial.csv`` file (one row per measured class / architecture)."""
_SETTINGS = ("C", "N", "num_classes", "resolution", "batch_size", "threads", "warmup", "repeats", "iso_only",
             "order", "seed", "device")


# ============================================================================ machine
def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def machine_info(threads: int | None = None, device: str = "cpu") -> dict[str, Any]:
    """What the measurement ran on: CPU model, logical CPUs, threads, versions, load average."""
    info: dict[str, Any] = {
        "cpu_model": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "threads": threads if threads is not None else torch.get_num_threads(),
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "platform": platform.platform(),
        "device": str(device),
    }
    try:
        info["load_average_1_5_15"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover - not on every OS
        pass
    if str(device).startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return info


# ============================================================================ measuring
def partial_path(out: str | os.PathLike[str]) -> Path:
    """``LAT.csv`` -> ``LAT.partial.csv`` (the resumable per-class file)."""
    p = Path(out)
    stem = p.name.removesuffix(".gz").removesuffix(".csv")
    return p.with_name(stem + ".partial.csv")


def iso_representatives() -> np.ndarray:
    """int64[6466]: the smallest official index of every isomorphism class, ordered by class id."""
    iso = iso_ids()
    first = np.full(int(iso.max()) + 1, NUM_ARCHS, dtype=np.int64)
    np.minimum.at(first, iso, np.arange(NUM_ARCHS, dtype=np.int64))
    return first


def _read_partial(path: Path) -> pd.DataFrame:
    """Rows of a partial file; a line cut short by an interruption is dropped."""
    try:
        df = pd.read_csv(path, on_bad_lines="skip")
    except pd.errors.EmptyDataError:
        return pd.DataFrame(columns=list(PARTIAL_COLUMNS))
    missing = [c for c in PARTIAL_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path} is not a latency partial file: it lacks {missing}")
    df = df[list(PARTIAL_COLUMNS)].apply(pd.to_numeric, errors="coerce").dropna()
    df = df.astype({"index": np.int64, "iso_id": np.int64}).drop_duplicates("index", keep="last")
    return df.reset_index(drop=True)


def _write_partial(path: Path, df: pd.DataFrame) -> None:
    write_csv_atomic(df, path, index=False, columns=list(PARTIAL_COLUMNS))


def measure_space_latency(
    out_csv: str | os.PathLike[str],
    C: int = 16,
    N: int = 5,
    batch_size: int = 1,
    threads: int | None = 1,
    warmup: int = 5,
    repeats: int = 20,
    iso_only: bool = True,
    limit: int | None = None,
    resume: bool = True,
    *,
    name: str = "local_cpu",
    statistic: Literal["median", "min"] = "median",
    order: Literal["random", "index"] = "random",
    seed: int = 0,
    num_classes: int = 10,
    resolution: int = 32,
    device: str = "cpu",
    progress: bool = True,
) -> pd.DataFrame:
    """Time the stand-alone network of every isomorphism class (or every architecture) and write a table.

    ``limit``: measure at most this many classes in all (already measured ones count), e.g. a uniform
    random subset with ``order="random"``.  ``resume``: continue from ``<out>.partial.csv`` (its settings
    must match); ``False`` starts afresh.  Returns the written table: ``index, arch_str,
    <name>_latency_ms`` (milliseconds per forward of a ``batch_size`` batch), rows in official index
    order, only the measured classes' members.  ``statistic``: which summary of the repeats goes into
    the table, ``median`` (default) or ``min`` (the partial file keeps both; switching needs no
    re-measuring).  See the module docstring for the files.
    """

    if statistic not in ("median", "min"):
        raise ValueError(f"statistic must be 'median' or 'min', got {statistic!r}")
    if order not in ("random", "index"):
        raise ValueError(f"order must be 'random' or 'index', got {order!r}")
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be >= 1 or None, got {limit}")
    if not name or any(ch in name for ch in ", \t\n"):
        raise ValueError(f"name must be a non-empty word (it becomes the column '<name>{LATENCY_SUFFIX}'), got {name!r}")
    out = Path(out_csv)
    part, part_meta = partial_path(out), partial_path(out).with_suffix(".json")
    settings = dict(C=C, N=N, num_classes=num_classes, resolution=resolution, batch_size=batch_size,
                    threads=threads, warmup=warmup, repeats=repeats, iso_only=iso_only, order=order, seed=seed,
                    device=str(device))
    iso = iso_ids()
    targets = iso_representatives() if iso_only else np.arange(NUM_ARCHS, dtype=np.int64)
    targets = np.random.default_rng(seed).permutation(targets) if order == "random" else np.sort(targets)
    n_target = targets.size if limit is None else min(int(limit), targets.size)

    done = pd.DataFrame(columns=list(PARTIAL_COLUMNS))
    first_machine = None
    if resume and part.is_file():
        old = json.loads(part_meta.read_text()) if part_meta.is_file() else {}
        first_machine = old.get("machine")
        differ = {k: (old.get(k), settings[k]) for k in _SETTINGS if old.get(k) != settings[k]}
        if differ:
            raise ValueError(
                f"{part} was measured with other settings {differ} (old, new); use another --out, the same "
                f"settings, or resume=False to start afresh"
            )
        done = _read_partial(part)
        _write_partial(part, done)  # drop a line cut short by an interruption
        log.info("resuming from %s: %d already measured", part, len(done))
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        _write_partial(part, done)
        part_meta.write_text(json.dumps({**settings, "machine": machine_info(threads, device)}, indent=2) + "\n")
    measured = set(done["index"].astype(int).tolist())
    todo = [int(i) for i in targets[:n_target] if int(i) not in measured]
    started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    machine = machine_info(threads, device)
    t0 = time.perf_counter()
    interrupted = False
    try:
        with part.open("a", buffering=1) as fh:
            for i in tqdm(todo, desc=f"latency {name}", unit="arch", disable=not progress or not todo):
                r = measure_latency(int(i), C, N, num_classes, resolution, batch_size, threads, warmup, repeats,
                                    device, seed)
                fh.write(f"{i},{iso[i]},{r['median_ms']:.6g},{r['mean_ms']:.6g},{r['std_ms']:.6g},"
                         f"{r['min_ms']:.6g},{r['p90_ms']:.6g}\n")
                fh.flush()
    except KeyboardInterrupt:
        interrupted = True
        log.warning("interrupted: what was measured is in %s; run again to resume", part)
    seconds = time.perf_counter() - t0
    rows = _read_partial(part)
    col = f"{name}{LATENCY_SUFFIX}"
    if iso_only:  # copy each class's figure to its members
        lat_of_class = pd.Series(rows[f"{statistic}_ms"].to_numpy(), index=rows["iso_id"].to_numpy())
        members = np.flatnonzero(np.isin(iso, rows["iso_id"].to_numpy()))
        lat = lat_of_class.loc[iso[members]].to_numpy()
    else:
        order_ = np.argsort(rows["index"].to_numpy())
        members = rows["index"].to_numpy()[order_]
        lat = rows[f"{statistic}_ms"].to_numpy()[order_]
    table = pd.DataFrame({"index": members, "arch_str": arch_strs()[members].tolist(), col: lat})
    meta = {
        "format": "nasgcn-latency",
        "column": col,
        "unit": f"milliseconds per forward of a batch of {batch_size} ({resolution}x{resolution} RGB), "
                f"{statistic} of {repeats} timed runs after {warmup} warm-up runs",
        "statistic": statistic,
        "network": f"StandaloneNet C={C} N={N} num_classes={num_classes}, eval, inference_mode, live edges only",
        "settings": settings,
        "machine": machine,
        "machine_when_partial_file_started": first_machine,
        "started": started,
        "seconds_this_run": round(seconds, 1),
        "measured_this_run": len(todo) if not interrupted else int(len(rows) - len(measured)),
        "measured": int(len(rows)),
        "of": int(targets.size),
        "rows": int(len(table)),
        "complete": bool(len(rows) >= targets.size),
        "interrupted": interrupted,
        "copied_to_iso_members": iso_only,
        "partial_file": part.name,
        "degenerate_cells": "measured like the others (stem, reduction blocks and head still run)",
    }
    write_table(table, out, meta)
    log.info("wrote %s: %d rows from %d measured %s", out, len(table), len(rows), "classes" if iso_only else "archs")
    if interrupted:
        raise KeyboardInterrupt
    return table
