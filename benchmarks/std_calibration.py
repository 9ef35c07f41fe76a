"""Does ``pred_std`` mean what it says?  Fraction of held-out values within +-1 std, every table kind.

Per seed: 1,000 one-shot weight-sharing scores and 20 random non-degenerate landmarks drawn as in
``signal_fusion.py``; each table made by :func:`predictor.table.fit_table` (the function behind ``nasgcn
fit``).  The reference a table's std is checked against is what it claims to predict:

* tables without landmarks predict the weight-sharing score: every other non-degenerate architecture's
  one-shot score (the file scores all of them);
* tables with landmarks predict the true accuracy: the NAS-Bench-201 CIFAR-10 accuracy of every
  non-landmark non-degenerate architecture, and separately of the table's predicted top 5%.

A calibrated std covers 68.3 %.  The landmark tables' std is a weighted split-conformal factor on the
landmarks' leave-one-out residuals (log-error scale, each landmark weighted by the share of the
predicted ranking it stands for; :mod:`predictor.calibration`); the loop's landmarks (half proposed in
the table's top 5 %) are not a random draw, which the weights are there to absorb.  The calibration was
designed on seeds 0-4; the committed figures are seeds 100-109, run once after the fusion's spread
penalty landed (2026-12-03); 90-99 were the report before it (after the isotonic landmark map), 70-79
and 50-59 the ones before that, and 40-49 were run with the unweighted factor, under which the loop
covered 0.41; all count as seen, and the next report takes seeds 110 and up.

    NASGCN_DATA=../shared/data .venv/bin/python benchmarks/std_calibration.py --seeds 100-109
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from predictor.acquisition import propose_landmarks
from predictor.table import fit_table, read_ws, sample_ws
from predictor.truth import load_truth, truth_accuracy
from supernet.paths import data_path
from supernet.space import NUM_ARCHS, degenerate_mask

from signal_fusion import _seeds  # benchmarks/ is on sys.path when run as a script

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
K = 20


def _coverage(d: pd.DataFrame, idx: np.ndarray, ref: np.ndarray) -> tuple[float, float]:
    """(fraction of ``ref`` within +-1 ``pred_std`` of ``pred_acc`` on ``idx``, median std there)."""
    p, s = d["pred_acc"].to_numpy()[idx], d["pred_std"].to_numpy()[idx]
    return float(np.mean(np.abs(ref - p) <= s)), float(np.median(s))


def run_seed(seed: int, ws_all: pd.DataFrame, proxies: str, true: np.ndarray) -> list[dict]:
    deg = degenerate_mask()
    live = np.flatnonzero(~deg)
    ws = sample_ws(ws_all, 1000, seed)
    wst = np.full(NUM_ARCHS, np.nan)
    wst[ws_all["index"].to_numpy()] = ws_all["ws_acc"].to_numpy()
    held = np.setdiff1d(live, ws["index"].to_numpy())
    lm = np.sort(np.random.default_rng([seed, K, 0x1A]).choice(live, K, replace=False))
    rows = []

    def add(name: str, d: pd.DataFrame, lm_idx: np.ndarray | None) -> None:
        if lm_idx is None:
            cov, med = _coverage(d, held, wst[held])
            top = (float("nan"), float("nan"))
        else:
            other = np.setdiff1d(live, lm_idx)
            cov, med = _coverage(d, other, true[other])
            p = d["pred_acc"].to_numpy()[other]
            head = other[np.argsort(-p)[: int(round(0.05 * other.size))]]
            top = _coverage(d, head, true[head])
        rows.append({"seed": seed, "table": name, "reference": "ws held out" if lm_idx is None else "truth",
                     "coverage": cov, "median_std": med, "coverage_top5pct": top[0], "median_std_top5pct": top[1]})
        logging.info("seed %d %-28s coverage %.3f (top 5%% %.3f)", seed, name, cov, top[0])

    add("GCN (ws only)", fit_table(ws, seed=seed).df, None)
    fused = fit_table(ws, proxies=proxies, seed=seed)
    add("fused", fused.df, None)
    lmdf = pd.DataFrame({"index": lm, "true_acc": true[lm]})
    add(f"GCN + lm{K}", fit_table(ws, seed=seed, landmarks=lmdf).df, lm)
    add(f"ridge + lm{K}", fit_table(ws, model="ridge", seed=seed, landmarks=lmdf).df, lm)
    add(f"proxies-only + lm{K}", fit_table(None, proxies=proxies, seed=seed, landmarks=lmdf).df, lm)
    add(f"fused + lm{K}", fit_table(ws, proxies=proxies, seed=seed, landmarks=lmdf).df, lm)
    prop = propose_landmarks(fused.df, K, seed=seed)["index"].to_numpy()
    loop = fit_table(ws, proxies=proxies, seed=seed, landmarks=pd.DataFrame({"index": prop, "true_acc": true[prop]}))
    add(f"the loop: fused + lm{K} proposed", loop.df, prop)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="100-109")
    ap.add_argument("--proxies", default=str(RESULTS / "proxies_cifar10.csv.gz"))
    ap.add_argument("--out", default=str(RESULTS / "std_calibration"))
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for name in ("predictor", "supernet"):
        logging.getLogger(name).setLevel(logging.WARNING)
    torch.set_num_threads(1)
    true = np.asarray(truth_accuracy(load_truth(), "cifar10"), dtype=np.float64)
    ws_all = read_ws(data_path("nb201", "nb201_ws_oneshot.csv.gz"))
    seeds = _seeds(args.seeds)
    partial = Path(args.out + "_runs.partial.csv")
    done = pd.read_csv(partial) if partial.exists() else pd.DataFrame(columns=["seed"])
    done = done[done["seed"].isin(seeds)]
    for seed in seeds:
        if seed in set(done["seed"]):
            continue
        done = pd.concat([done, pd.DataFrame(run_seed(seed, ws_all, args.proxies, true))], ignore_index=True)
        done.to_csv(partial, index=False)  # resume point
    d = done.sort_values(["seed"], kind="stable")
    d.to_csv(args.out + "_runs.csv", index=False)
    partial.unlink(missing_ok=True)
    g = d.groupby("table", sort=False)
    lines = [f"pred_std calibration, seeds {args.seeds} (one-shot file, n=1000, {K} landmarks per seed); "
             "a calibrated std covers 68.3%", "",
             "| table | reference | coverage mean ± std (worst seed) | median std | coverage in the predicted top 5% | median std there |",
             "|---|---|---:|---:|---:|---:|"]
    for name, r in g:
        c = r["coverage"]
        top = (f"{r['coverage_top5pct'].mean():.3f} (min {r['coverage_top5pct'].min():.3f}) | {r['median_std_top5pct'].mean():.2f}"
               if r["coverage_top5pct"].notna().any() else "- | -")
        lines.append(f"| {name} | {r['reference'].iloc[0]} | {c.mean():.3f} ± {c.std():.3f} "
                     f"(min {c.min():.3f}, max {c.max():.3f}) | {r['median_std'].mean():.2f} | {top} |")
    Path(args.out + ".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
