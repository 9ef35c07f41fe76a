"""Summarise a DrNAS run made with ``configs/drnas-cpu-converge.toml``: the found cell, how long it has
held, and its NAS-Bench-201 CIFAR-10 accuracy (anchor: DrNAS at full scale finds 94.36).

    nasgcn drnas --config configs/drnas-cpu-converge.toml --out ~/nasgcn-runs/drnas-converge
    NASGCN_DATA=../shared/data .venv/bin/python benchmarks/drnas_converged.py ~/nasgcn-runs/drnas-converge

Writes ``benchmarks/results/drnas_converged.json`` and ``drnas_converged_log.csv`` (the run's epoch log).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from predictor.truth import load_truth, truth_accuracy
from supernet.fileio import write_csv_atomic, write_json_atomic
from supernet.training.drnas import LOG, RESULT

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"


def main(run: Path) -> None:
    res = json.loads((run / RESULT).read_text())
    log = pd.read_csv(run / LOG)
    true = truth_accuracy(load_truth(), "cifar10")
    along = true[log["arch_index"].to_numpy()]
    out = {
        "arch_str": res["arch_str"], "index": res["index"], "epochs": int(res["epochs_done"]),
        "epoch_budget": int(res["epochs"]), "stable_epochs": int(res["stable_epochs"]),
        "converged": bool(res["converged"]), "true_acc": float(true[res["index"]]),
        "anchor_true_acc": 94.36, "optimum_true_acc": float(np.nanmax(true)),
        "distinct_cells_along_the_way": int(log["arch_index"].nunique()),
        "true_acc_along_the_way": [float(a) for a in along],
        "max_prob": float(res["max_prob"]), "entropy": float(res["entropy"]),
        "train_minutes": round(float(log["seconds"].sum()) / 60, 1),
        "config": res["config"],
    }
    write_json_atomic(RESULTS / "drnas_converged.json", out, indent=2)
    write_csv_atomic(log, RESULTS / "drnas_converged_log.csv", index=False)
    print(json.dumps({k: v for k, v in out.items() if k not in ("config", "true_acc_along_the_way")}, indent=2))


if __name__ == "__main__":
    main(Path(sys.argv[1]).expanduser())
