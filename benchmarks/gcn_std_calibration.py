"""Calibration of the GCN table's pred_std: fraction of held-out weight-sharing scores within +-1 std.

Per seed 10-19: 1,000 one-shot scores drawn as in benchmarks/signal_fusion.py, `fit_table(..., "gcn")`,
and the check on every other non-degenerate architecture (the one-shot file scores all of them).

    NASGCN_DATA=../shared/data .venv/bin/python benchmarks/gcn_std_calibration.py > benchmarks/results/gcn_std_calibration.txt
"""
import numpy as np, torch
from predictor.table import read_ws, sample_ws, fit_table
from supernet.space import degenerate_mask
from supernet.paths import data_path
torch.set_num_threads(1)
deg = degenerate_mask()
ws_all = read_ws(str(data_path("nb201", "nb201_ws_oneshot.csv.gz")))
wt = np.full(15625, np.nan); wt[ws_all["index"]] = ws_all["ws_acc"]
for seed in range(10, 20):
    ws = sample_ws(ws_all, 1000, seed); held = np.setdiff1d(np.arange(15625), ws["index"]); held = held[~deg[held]]
    d = fit_table(ws, model="gcn", seed=seed).df
    inside = np.abs(wt[held] - d["pred_acc"].values[held]) <= d["pred_std"].values[held]
    print(seed, round(inside.mean(), 3), round(np.median(d["pred_std"].values[held]), 3))  # seed, coverage, median std
