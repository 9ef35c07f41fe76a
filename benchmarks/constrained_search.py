"""Hardware-constrained search against the NAS-Bench-201 CIFAR-10 truth, and latency-predictor accuracy.

Part ``search`` (regret under constraints).  A grid of upper bounds: ``params_m``, ``flops_m`` and every
full-coverage device latency of the hardware table at its 25/50/75 % quantiles over the space (plus, with
``--local``, this machine's measured latency filled in by the latency predictor).  Under each bound, the
architecture chosen by

* ``gcn``: the top-1 by ``pred_acc`` of a GCN lookup table (:func:`predictor.table.fit_table`, model
  ``gcn``, defaults) fitted on ``--n-ws`` architectures drawn uniformly from the one-shot weight-sharing
  file (their ``ws_acc`` only; no truth), one table per ``--gcn-seeds`` seed;
* ``fused``: the same sample fused with the zero-cost proxies of ``--proxies`` and the parameter count
  (``fit_table(..., proxies=P)``, the default ``nasgcn fit --ws --proxies`` table; no truth);
* ``ws``: the top-1 by the raw weight-sharing accuracy of ALL 15,625 architectures;
* ``random``: :func:`predictor.search.random_search` with the ws accuracy as oracle and ``--budget``
  (= ``--n-ws``) distinct feasible queries, ``--search-seeds`` seeds;
* ``evolution``: :func:`predictor.search.regularized_evolution`, same oracle and budget
  (population ``--population``, sample ``--sample-size``), ``--search-seeds`` seeds;

is scored by its regret: the best true CIFAR-10 test accuracy under the bound minus the chosen one's.

Part ``latency``: accuracy of :class:`predictor.latency.LatencyPredictor` (``--latency-models``) on
held-out measured rows: the two subset devices (edge GPU 1,999 rows, edge TPU 1,740; 80/20 split),
full-coverage devices with a simulated measured subset of ``--lat-train`` architectures (tested on all
the others), and this machine's measured subset (``--local``).  Splits are by isomorphism class.

Outputs (``--out`` prefix, default benchmarks/results/constrained_search): ``.csv`` (one row per
constraint), ``_runs.csv`` (one row per constraint, method and seed), ``_latency_predictor.csv``,
``.md`` (tables and summary), ``_pareto.png`` (the GCN table's front), ``_pareto_true.png`` (fronts at
their TRUE accuracy).

    .venv/bin/python benchmarks/constrained_search.py                       # the committed run
    .venv/bin/python benchmarks/constrained_search.py --quick --out /tmp/cs # a fast smoke run
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from predictor import search as S
from predictor.truth import latency_columns, load_hardware, load_truth, truth_accuracy
from predictor.latency import LATENCY_MODELS, evaluate_latency_predictor, fill_latency
from predictor.report import plot_pareto
from predictor.table import fit_table
from supernet.costs import space_costs
from supernet.paths import data_path
from supernet.space import degenerate_mask
from supernet.tables import read_arch_table

log = logging.getLogger("constrained_search")

REPO = Path(__file__).resolve().parents[1]
QUANTILES = (0.25, 0.50, 0.75)
SUBSET_DEVICES = ("hwnb_c10_edgegpu_latency_ms", "hwnb_c10_edgetpu_latency_ms")
SIMULATED_DEVICES = (
    "hwnb_c10_raspi4_latency_ms", "hwnb_c10_pixel3_latency_ms", "hwnb_c10_eyeriss_latency_ms",
    "hwnb_c10_fpga_latency_ms", "help_1080ti_1_latency_ms", "help_titan_rtx_32_latency_ms",
    "help_gold_6226_latency_ms", "help_silver_4114_latency_ms",
)


# ----------------------------------------------------------------------------- data
def load_inputs(ws_path: Path, hw_path: Path, truth_path: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    truth = load_truth(truth_path)
    ws = read_arch_table(ws_path, required=["ws_acc"], name=f"weight-sharing file {ws_path}")
    hw = load_hardware(hw_path)
    return truth, ws, hw


def cost_table(truth: pd.DataFrame, ws: pd.DataFrame, hw: pd.DataFrame) -> pd.DataFrame:
    """All 15,625 rows: index, arch_str, params_m, flops_m, ws_acc, true_acc and every latency column."""
    df = space_costs().merge(truth[["index", "arch_str"]], on="index")
    df["ws_acc"] = np.nan
    df.loc[ws["index"].to_numpy(), "ws_acc"] = ws["ws_acc"].to_numpy(dtype=np.float64)
    df["true_acc"] = truth_accuracy(truth, "cifar10")
    lat = hw[["index", *latency_columns(hw)]]
    return df.merge(lat, on="index", how="left").reset_index(drop=True)


def constraint_grid(df: pd.DataFrame, local_cols: list[str]) -> list[dict[str, Any]]:
    """Upper bounds at the 25/50/75 % quantiles of params, FLOPs and every full-coverage latency column."""
    cols = ["params_m", "flops_m"] + [c for c in latency_columns(df) if df[c].notna().all()]
    grid = [{"constraint": "none", "column": "", "quantile": np.nan, "bound": np.nan, "filled": False}]
    for col in cols:
        v = df[col].to_numpy(dtype=np.float64)
        for q in QUANTILES:
            b = float(np.quantile(v, q))
            grid.append({"constraint": f"{col}<={b:.6g}", "column": col, "quantile": q, "bound": b,
                         "filled": col in local_cols})
    return grid


def fit_gcn_tables(ws: pd.DataFrame, truth_acc: np.ndarray, n_ws: int, seeds: list[int],
                   n_landmarks: int, proxies: Path | None = None) -> tuple[dict[str, list[np.ndarray]], list[dict]]:
    """pred_acc[15625] per variant and seed: ``gcn`` (ws_acc of n_ws uniform archs only), with
    ``proxies`` ``fused`` (the same sample fused with those proxies and params) and, when
    n_landmarks > 0, ``gcn+lm{K}`` (the same sample plus K random non-degenerate archs' TRUE accuracy)."""

    preds: dict[str, list[np.ndarray]] = {"gcn": []}
    if proxies is not None:
        preds["fused"] = []
    lm_name = f"gcn+lm{n_landmarks}"
    if n_landmarks:
        preds[lm_name] = []
    infos = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        sub = ws.iloc[np.sort(rng.choice(len(ws), n_ws, replace=False))][["index", "arch_str", "ws_acc"]]
        t0 = time.perf_counter()
        table = fit_table(sub, model="gcn", seed=seed)
        secs = time.perf_counter() - t0
        preds["gcn"].append(table.df["pred_acc"].to_numpy(dtype=np.float64))
        info = {"seed": seed, "n_ws": n_ws, "fit_seconds": round(secs, 1), "epochs": table.meta.get("epochs"),
                "params": table.meta.get("params")}
        if proxies is not None:
            t1 = time.perf_counter()
            preds["fused"].append(fit_table(sub, proxies=proxies, seed=seed).df["pred_acc"].to_numpy(dtype=np.float64))
            info["fused_fit_seconds"] = round(time.perf_counter() - t1, 1)
        if n_landmarks:
            pool = np.flatnonzero(~degenerate_mask())
            lm_idx = np.sort(np.random.default_rng(seed + 1000).choice(pool, n_landmarks, replace=False))
            lm = pd.DataFrame({"index": lm_idx, "true_acc": truth_acc[lm_idx]})
            t1 = time.perf_counter()
            lt = fit_table(sub, model="gcn", seed=seed, landmarks=lm)
            preds[lm_name].append(lt.df["pred_acc"].to_numpy(dtype=np.float64))
            info["landmark_fit_seconds"] = round(time.perf_counter() - t1, 1)
            info["landmarks"] = [int(i) for i in lm_idx]
        infos.append(info)
        log.info("GCN table seed %d fitted on %d archs in %.0f s", seed, n_ws, secs)
    return preds, infos


# ----------------------------------------------------------------------------- search part
def run_search(args: argparse.Namespace, df: pd.DataFrame, local_cols: list[str]) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    true = df["true_acc"].to_numpy(dtype=np.float64)
    tables, gcn_info = fit_gcn_tables(df[df["ws_acc"].notna()], true, args.n_ws, args.gcn_seeds, args.landmarks,
                                      None if args.no_fused else args.proxies)
    methods = [*tables, "ws", "random", "evolution"]
    table_frames = {name: [df.assign(pred_acc=p) for p in preds] for name, preds in tables.items()}
    oracle = S.table_oracle(df, "ws_acc")
    grid = constraint_grid(df, local_cols)
    runs: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    t_search: dict[str, list[float]] = {"top1_ms": [], "random_s": [], "evolution_s": []}
    for g in grid:
        cons = [] if g["constraint"] == "none" else [g["constraint"]]
        mask = S.feasible_mask(df, cons)
        best_true = float(true[mask].max())
        base = {"constraint": g["constraint"], "column": g["column"], "quantile": g["quantile"]}
        here: list[dict[str, Any]] = []

        def add(method: str, seed: int, idx: int) -> None:
            here.append({**base, "method": method, "seed": seed, "index": int(idx), "true_acc": float(true[idx]),
                         "regret": best_true - float(true[idx])})

        for name, frames in table_frames.items():
            for seed, frame in zip(args.gcn_seeds, frames):
                t0 = time.perf_counter()
                top = S.top_k(frame, "pred_acc", cons, k=1)
                t_search["top1_ms"].append((time.perf_counter() - t0) * 1e3)
                add(name, seed, int(top["index"].iloc[0]))
        add("ws", 0, int(S.top_k(df, "ws_acc", cons, k=1)["index"].iloc[0]))
        for seed in range(args.search_seeds):
            t0 = time.perf_counter()
            r = S.random_search(oracle, args.budget, cons, rng=seed, table=df)
            t_search["random_s"].append(time.perf_counter() - t0)
            add("random", seed, r.best_index)
            t0 = time.perf_counter()
            e = S.regularized_evolution(oracle, args.budget, args.population, args.sample_size, cons, rng=seed, table=df)
            t_search["evolution_s"].append(time.perf_counter() - t0)
            add("evolution", seed, e.best_index)
        runs.extend(here)
        sub = pd.DataFrame(here)
        row = {**base, "bound": g["bound"], "filled_latency": g["filled"], "n_feasible": int(mask.sum()),
               "true_best": best_true}
        for m in methods:
            reg = sub.loc[sub["method"] == m, "regret"].to_numpy()
            acc = sub.loc[sub["method"] == m, "true_acc"].to_numpy()
            row[f"{m}_true_acc"] = float(acc.mean())
            row[f"{m}_regret"] = float(reg.mean())
            if m != "ws":
                row[f"{m}_regret_std"] = float(reg.std(ddof=0))
        rows.append(row)
        log.info("%-45s feasible %5d  regret %s", g["constraint"], mask.sum(),
                 "  ".join(f"{m} {row[f'{m}_regret']:.2f}" for m in methods))
    info = {"gcn": gcn_info, "methods": methods, "timing": {k: float(np.median(v)) for k, v in t_search.items() if v}}
    return pd.DataFrame(rows), pd.DataFrame(runs), info | {"gcn_preds": tables}


# ----------------------------------------------------------------------------- latency part
def run_latency(args: argparse.Namespace, hw: pd.DataFrame, local: pd.DataFrame | None) -> pd.DataFrame:
    rows = []
    jobs: list[tuple[str, np.ndarray, np.ndarray, Any, str]] = []
    for col in SUBSET_DEVICES:
        m = hw[col].notna().to_numpy()
        jobs.append((col, hw["index"].to_numpy()[m], hw[col].to_numpy()[m], 0.8, "measured subset, 80/20"))
    for col in SIMULATED_DEVICES:
        jobs.append((col, hw["index"].to_numpy(), hw[col].to_numpy(), args.lat_train,
                     f"full coverage, simulated subset of {args.lat_train}"))
    if local is not None:
        col = [c for c in local.columns if c.endswith("_latency_ms")][0]
        jobs.append((col, local["index"].to_numpy(), local[col].to_numpy(), 0.8, "this machine, measured subset, 80/20"))
    for col, idx, y, n_train, setting in jobs:
        for model in args.latency_models:
            t0 = time.perf_counter()
            r = evaluate_latency_predictor(idx, y, model, n_train, seed=0)
            rows.append({"device": col, "setting": setting, "n_measured": int(np.isfinite(y).sum()), **r,
                         "seconds": round(time.perf_counter() - t0, 1)})
            log.info("latency %-40s %-5s within10 %.3f tau %.3f", col, model, r["within_10pct"], r["kendall_tau"])
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- plots
def plot_true_fronts(df: pd.DataFrame, preds: dict[str, np.ndarray], out: Path, cost: str) -> None:
    import matplotlib  # heavy import, needed only when a plot is drawn

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    t = df.assign(**{f"pred_{name}": p for name, p in preds.items()})
    fronts = [(S.pareto_front(t, "true_acc", [cost]), "red", "true front", "o")]
    for (name, _), c, mk in zip(preds.items(), ("tab:blue", "tab:green"), ("s", "D")):
        fronts.append((S.pareto_front(t, f"pred_{name}", [cost]), c, f"{name}-table front", mk))
    fronts.append((S.pareto_front(t, "ws_acc", [cost]), "tab:orange", "raw supernet front", "^"))
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    ok = t["true_acc"] > 80
    ax.scatter(t.loc[ok, cost], t.loc[ok, "true_acc"], s=2, c="0.8", lw=0, rasterized=True,
               label="all architectures (true acc > 80 %)")
    for f, c, lab, mk in fronts:
        f = f.sort_values(cost)
        ax.plot(f[cost], f["true_acc"], c=c, marker=mk, ms=3.5, lw=0.8, label=f"{lab} ({len(f)}), at true acc")
    ax.set_xlabel(cost)
    ax.set_ylabel("true CIFAR-10 test accuracy (%)")
    ax.set_ylim(80, 95)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title("Pareto fronts chosen from each score, shown at their TRUE accuracy", fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


# ----------------------------------------------------------------------------- report
def _md_table(df: pd.DataFrame, cols: list[str], fmt: dict[str, str]) -> str:
    head = "| " + " | ".join(cols) + " |\n|" + "|".join("---" for _ in cols) + "|\n"
    lines = []
    for _, r in df[cols].iterrows():
        lines.append("| " + " | ".join(format(r[c], fmt.get(c, "")) if isinstance(r[c], (float, np.floating)) else str(r[c])
                                       for c in cols) + " |")
    return head + "\n".join(lines) + "\n"


def write_report(args, summary: pd.DataFrame | None, info: dict, lat: pd.DataFrame | None, out: Path) -> None:
    md = ["# Constrained search: regret against the NAS-Bench-201 CIFAR-10 truth\n"]
    md.append(f"Command: `{' '.join(sys.argv)}`  \nMachine: {platform.processor() or platform.machine()}, "
              f"{torch.get_num_threads()} torch threads, torch {torch.__version__}. Timings are on a shared 2-core "
              f"CPU (other jobs were running) and may be inflated.\n")
    if summary is not None:
        s = summary
        methods = info["methods"]
        lm = [m for m in methods if m.startswith("gcn+lm")]
        con = s[s["constraint"] != "none"]
        unc = s[s["constraint"] == "none"].iloc[0]
        wins = int((con["gcn_regret"] < con["ws_regret"]).sum())
        ties = int((con["gcn_regret"] == con["ws_regret"]).sum())
        lf = info.get("local_fill") or {"n_measured": 0, "n_filled": 0}
        local_note = (f"; `local_cpu_latency_ms` is this machine's latency, measured on {lf['n_measured']:,} of the "
                      "15,625 architectures" + (f" and filled on the other {lf['n_filled']:,} by the GBR latency "
                                               "predictor" if lf["n_filled"] else " (all of them; nothing filled)"))
        gcn_fit = info["gcn"]
        md.append("## Summary\n")
        md.append(
            f"* `gcn`: GCN lookup table (predictor.table.fit_table, model gcn, defaults) fitted on the one-shot ws_acc of "
            f"{args.n_ws} uniformly drawn architectures (no truth), table seeds {args.gcn_seeds}; fit "
            f"{', '.join(str(g['fit_seconds']) for g in gcn_fit)} s."
            + (f" `{lm[0]}`: the same table corrected with {args.landmarks} random non-degenerate architectures' TRUE "
               f"accuracy (uses truth; shown for reference)." if lm else "")
            + f" `ws`: raw one-shot ws_acc of all 15,625 architectures. `random` / `evolution`: random search / "
            f"regularized evolution with {args.budget} distinct ws_acc queries per constraint (only feasible archs "
            f"queried), {args.search_seeds} seeds (evolution population {args.population}, sample {args.sample_size})."
            + (f" `fused`: the same sample fused with the proxies of `{args.proxies.name}` and the parameter count "
               f"(the default `nasgcn fit --ws --proxies` table; no truth)." if "fused" in methods else "") + "\n"
            f"* Constraints: {len(con)} upper bounds (params, FLOPs and {len(con) // 3 - 2} full-coverage latency columns at "
            f"their 25/50/75 % quantiles"
            + (local_note if s["filled_latency"].any() else "") + ").\n"
            f"* **GCN-table regret below the raw supernet's on {wins} of {len(con)} constraints** (equal on {ties})"
            + (f"; fused table's below the raw supernet's on {int((con['fused_regret'] < con['ws_regret']).sum())}, "
               f"below the GCN table's on {int((con['fused_regret'] < con['gcn_regret']).sum())}"
               if "fused" in methods else "") + ". "
            "Mean regret over the constraints (accuracy points): "
            + ", ".join(f"{m} {con[f'{m}_regret'].mean():.2f}" for m in methods) + ".\n"
            "* **Unconstrained pick** (true CIFAR-10 accuracy, mean over seeds; goal >= 93.5): "
            + ", ".join(f"{m} {unc[f'{m}_true_acc']:.2f}" for m in methods) + f"; optimum {unc['true_best']:.2f}.\n"
            f"* Search speed (median): exact top-1 over the 15,625-row table {info['timing']['top1_ms']:.2f} ms; random "
            f"search {info['timing']['random_s'] * 1e3:.1f} ms; evolution {info['timing']['evolution_s'] * 1e3:.0f} ms "
            f"({args.budget} table-oracle queries).\n")
        by_col = con.groupby("column", sort=False)[[f"{m}_regret" for m in methods]].mean()
        wins_col = con.assign(w=con["gcn_regret"] < con["ws_regret"]).groupby("column", sort=False)["w"].sum()
        by_col["gcn<ws (of 3)"] = wins_col.astype(int).astype(str)
        md.append("## Mean regret per cost column (over its three quantile bounds)\n")
        md.append(_md_table(by_col.reset_index(), ["column", *[f"{m}_regret" for m in methods], "gcn<ws (of 3)"],
                            {f"{m}_regret": ".2f" for m in methods}))
        md.append("\n## Every constraint\n")
        md.append("Regret in accuracy points (true best under the bound minus the pick's true accuracy); mean ± std "
                  "over seeds (GCN: table seeds; random / evolution: search seeds).\n\n")
        t = s.copy()
        for m in methods:
            t[m] = [f"{a:.2f}" for a in t[f"{m}_regret"]] if m == "ws" else [
                f"{a:.2f} ± {b:.2f}" for a, b in zip(t[f"{m}_regret"], t[f"{m}_regret_std"])]
        md.append(_md_table(t, ["constraint", "n_feasible", "true_best", *methods], {"true_best": ".2f"}))
    if lat is not None:
        md.append("\n## Latency predictor: accuracy on held-out measured architectures\n")
        md.append("Within ±10 % / ±5 %: fraction of held-out architectures whose predicted latency is within that "
                  "relative error of the measured one. Anchor (BRP-NAS, GCN latency predictor): roughly 90 %+ within "
                  "±10 % on desktop devices. Splits by isomorphism class.\n\n")
        md.append(_md_table(lat, ["device", "setting", "model", "n_train", "n_test", "within_10pct", "within_5pct",
                                  "kendall_tau", "mape", "n_test_classes", "within_10pct_per_class", "fit_seconds"],
                            {"within_10pct": ".3f", "within_5pct": ".3f", "kendall_tau": ".3f", "mape": ".1f",
                             "within_10pct_per_class": ".3f", "fit_seconds": ".1f"}))
    out.write_text("\n".join(md))


# ----------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--part", choices=["all", "search", "latency"], default="all")
    p.add_argument("--ws", type=Path, default=None, help="weight-sharing file (default: the shared one-shot file)")
    p.add_argument("--hardware", type=Path, default=None)
    p.add_argument("--truth", type=Path, default=None)
    p.add_argument("--local", type=Path, default=None, help="this machine's measured latency CSV (nasgcn latency measure)")
    p.add_argument("--n-ws", type=int, default=1000)
    p.add_argument("--budget", type=int, default=None, help="queries of random search / evolution (default --n-ws)")
    p.add_argument("--gcn-seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--proxies", type=Path, default=REPO / "benchmarks" / "results" / "proxies_cifar10.csv.gz",
                   help="proxy table of the fused method (default: the committed full-space table)")
    p.add_argument("--no-fused", action="store_true", help="leave out the fused (ws + proxies) table")
    p.add_argument("--search-seeds", type=int, default=10)
    p.add_argument("--landmarks", type=int, default=50,
                   help="also a GCN table corrected with this many random TRUE accuracies (0: off)")
    p.add_argument("--population", type=int, default=50)
    p.add_argument("--sample-size", type=int, default=10)
    p.add_argument("--latency-models", nargs="+", default=list(LATENCY_MODELS), choices=LATENCY_MODELS)
    p.add_argument("--lat-train", type=int, default=1000, help="simulated measured subset on full-coverage devices")
    p.add_argument("--quick", action="store_true", help="smoke run: 1 GCN seed, 2 search seeds, no GCN latency model")
    p.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "constrained_search")
    args = p.parse_args(argv)
    if args.quick:
        args.gcn_seeds, args.search_seeds = args.gcn_seeds[:1], 2
        args.latency_models = [m for m in args.latency_models if m != "gcn"]
    args.budget = args.budget or args.n_ws
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    torch.set_num_threads(max(1, torch.get_num_threads()))
    truth, ws, hw = load_inputs(args.ws or data_path("nb201", "nb201_ws_oneshot.csv.gz"),
                                args.hardware or data_path("nb201", "nb201_hw_latency.csv.gz"),
                                args.truth or data_path("nb201", "nb201_truth.csv.gz"))
    local = load_hardware(args.local, subset=True) if args.local else None
    args.out.parent.mkdir(parents=True, exist_ok=True)
    summary, info, lat = None, {}, None
    if args.part in ("all", "latency"):
        lat = run_latency(args, hw, local)
        lat.to_csv(f"{args.out}_latency_predictor.csv", index=False, float_format="%.6g")
    if args.part in ("all", "search"):
        df = cost_table(truth, ws, hw)
        local_cols: list[str] = []
        if local is not None:
            col = [c for c in local.columns if c.endswith("_latency_ms")][0]
            filled = fill_latency(local[["index", "arch_str", col]], col, "gbr", 0)
            df[col] = filled.df[col].to_numpy()
            local_cols = [col]
            info["local_fill"] = filled.info
        summary, runs, info2 = run_search(args, df, local_cols)
        info.update(info2)
        gcn_preds = info.pop("gcn_preds")
        summary.to_csv(f"{args.out}.csv", index=False, float_format="%.6g")
        runs.to_csv(f"{args.out}_runs.csv", index=False, float_format="%.6g")
        pred0 = gcn_preds["gcn"][0]
        table = df.assign(pred_acc=pred0)
        plot_pareto(table, f"{args.out}_pareto.png", "pred_acc", ["params_m", "hwnb_c10_raspi4_latency_ms"],
                    marks={"true best": int(np.argmax(df["true_acc"].to_numpy()))},
                    title=f"GCN lookup table (seed {args.gcn_seeds[0]}, {args.n_ws} ws evaluations): Pareto front of "
                          f"pred_acc vs params and Raspberry Pi 4 latency")
        plot_true_fronts(df, {name: p[0] for name, p in gcn_preds.items()}, Path(f"{args.out}_pareto_true.png"),
                         "hwnb_c10_raspi4_latency_ms")
    write_report(args, summary, info, lat, Path(f"{args.out}.md"))
    Path(f"{args.out}_meta.json").write_text(json.dumps(
        {"argv": sys.argv, "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
         "info": info}, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
