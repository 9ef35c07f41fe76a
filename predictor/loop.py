"""The landmark loop of ``nasgcn run`` (config section ``[loop]``): propose K architectures from the lookup
table, train each stand-alone, refit the table with their accuracies as landmarks, search again.

Each round ``r`` writes ``RUN/loop/round<r>/proposed.csv`` (the proposal, :func:`predictor.acquisition.
propose_landmarks`, excluding everything trained so far) and ``RUN/loop/round<r>/table.csv.gz`` (the refit);
every architecture trains in its own resumable run directory ``RUN/loop/<index>/``
(:func:`supernet.training.train_standalone`), so a killed run loses at most one epoch of one network and a
finished network is never trained again.  ``RUN/loop/landmarks.csv`` gathers the trained rows
(``index, arch_str, true_acc, split, epochs, seconds``); the last round's table is ``RUN/table_loop.csv.gz``
with its search ``RUN/search_loop.json``, and ``RUN/loop.json`` lists every landmark with the accuracy the
table predicted for it when it was proposed (and its NAS-Bench-201 truth when a truth table is given).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from supernet.config import DataConfig
from supernet.fileio import write_json_atomic
from supernet.hashing import file_digest, json_digest
from supernet.schema import Section, setting
from supernet.tables import sidecar_path, write_table
from supernet.training import PRESETS, append_result, read_result, standalone_config, train_standalone

from .acquisition import propose_landmarks
from .metrics import kendall_tau
from .table import LookupTable

__all__ = ["LoopSection", "run_landmark_loop", "LOOP_DIR"]

log = logging.getLogger(__name__)

LOOP_DIR = "loop"


@dataclass(frozen=True)
class LoopSection(Section):
    """``[loop]``: ``k`` landmarks per round (0 = no loop), ``rounds``, the stand-alone schedule (``preset``
    and optional overrides ``epochs``, ``batch_size``, ``lr``, ``train_limit``, ``valid_limit``, ``C``,
    ``N``, ``threads``), ``seed`` (proposal draws and network initialisation) and ``top_fraction`` (the
    predicted top the exploit half comes from)."""

    SECTION = "loop"

    k: int = setting(0, ge=0)
    rounds: int = setting(1, ge=1)
    preset: str = setting("nb201-12", choices=tuple(PRESETS))
    epochs: int | None = None
    batch_size: int | None = setting(None, ge=1)
    lr: float | None = setting(None, gt=0)
    train_limit: int | None = setting(None, ge=1)
    valid_limit: int | None = setting(None, ge=1)
    C: int | None = setting(None, ge=1)
    N: int | None = setting(None, ge=1)
    threads: int | None = setting(None, ge=1)
    seed: int = setting(0, ge=0)
    top_fraction: float = setting(0.05, gt=0, le=1)

    def check(self) -> None:
        if self.k:  # the stand-alone schedule fails now, not after the supernet has trained
            standalone_config(1, self.preset, **self._overrides())

    def _overrides(self) -> dict[str, Any]:
        return {"epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr, "valid_limit": self.valid_limit,
                "C": self.C, "N": self.N, "threads": self.threads, "seed": self.seed}


def _proposal(table_path: Path, out: Path, lp: LoopSection, exclude: np.ndarray, rnd: int) -> pd.DataFrame:
    """The round's proposal: read back when it was made from the same table and exclusions, else made."""
    key = json_digest([file_digest(table_path), dataclasses.asdict(lp),
                       sorted(int(i) for i in exclude), rnd], 16)
    side = sidecar_path(out)
    if out.is_file() and side.is_file() and json.loads(side.read_text()).get("key") == key:
        return pd.read_csv(out)
    table = LookupTable.load(table_path)
    prop = propose_landmarks(table.df, lp.k, seed=lp.seed + rnd, exclude=exclude, top_fraction=lp.top_fraction)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_table(prop, out, {"key": key, "table": str(table_path), "round": rnd})
    return prop


def run_landmark_loop(
    run: Path,
    lp: LoopSection,
    data: DataConfig,
    table_path: Path,
    refit: Callable[[pd.DataFrame], LookupTable],
    *,
    device: str = "auto",
    threads: int | None = None,
    progress: bool = True,
    true_acc: np.ndarray | None = None,
) -> dict[str, Any]:
    """Run ``lp.rounds`` rounds of propose -> train -> refit into ``run/loop``; returns the loop summary.

    ``table_path``: the table the first round proposes from.  ``refit(landmarks)`` fits the table again with
    ``landmarks`` (``index``, ``true_acc``: every architecture trained so far).  ``data``: the images each
    network trains on (its ``train_limit`` replaced by ``lp.train_limit`` when given).  ``true_acc``:
    float[15625] benchmark accuracies, reported beside the trained ones when given.
    """
    loop = run / LOOP_DIR
    loop.mkdir(parents=True, exist_ok=True)
    lm_path = loop / "landmarks.csv"
    if lp.train_limit is not None:
        data = dataclasses.replace(data, train_limit=lp.train_limit)
    records: list[dict[str, Any]] = []
    trained: dict[int, dict[str, Any]] = {}
    current = table_path
    for rnd in range(lp.rounds):
        rdir = loop / f"round{rnd}"
        prop = _proposal(current, rdir / "proposed.csv", lp, np.array(sorted(trained), dtype=np.int64), rnd)
        for _, p in prop.iterrows():
            idx = int(p["index"])
            kw = lp._overrides()
            kw["device"], kw["threads"] = device, lp.threads or threads
            cfg = standalone_config(idx, lp.preset, data=data, **kw)
            s = train_standalone(cfg, loop / str(idx), resume="auto", progress=progress)
            append_result(s["result"], lm_path)
            trained[idx] = s
            rec = {"round": rnd, "index": idx, "arch_str": p["arch_str"], "role": p["role"],
                   "pred_acc": float(p["pred_acc"]), "pred_std": float(p["pred_std"]),
                   "true_acc": float(s["true_acc"]), "split": s["split"], "epochs": cfg.epochs,
                   "seconds": float(s["seconds"]), "trained_now": not s.get("already_finished", False)}
            if true_acc is not None:
                rec["benchmark_acc"] = float(true_acc[idx])
            records.append(rec)
        lms = read_result(lm_path)
        table = refit(lms[["index", "arch_str", "true_acc"]])
        current = rdir / "table.csv.gz"
        table.save(current)
    final = run / "table_loop.csv.gz"
    shutil.copyfile(current, final)
    if sidecar_path(current).is_file():
        shutil.copyfile(sidecar_path(current), sidecar_path(final))
    summary: dict[str, Any] = {"k": lp.k, "rounds": lp.rounds, "preset": lp.preset, "landmarks": records,
                               "table": str(final), "landmark_table": str(lm_path),
                               "trained_now": int(sum(r["trained_now"] for r in records))}
    df = pd.DataFrame(records)
    if len(df) >= 3 and df["true_acc"].nunique() > 1:  # tau is undefined when every landmark scores the same
        summary["tau_trained_vs_pred"] = float(kendall_tau(df["pred_acc"].to_numpy(), df["true_acc"].to_numpy()))
        if true_acc is not None:
            summary["tau_trained_vs_benchmark"] = float(kendall_tau(df["true_acc"].to_numpy(),
                                                                    df["benchmark_acc"].to_numpy()))
    write_json_atomic(run / "loop.json", summary, indent=2)
    return summary

