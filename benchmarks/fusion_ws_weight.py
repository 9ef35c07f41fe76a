"""How much should the weight-sharing scores weigh in the fusion?  A sweep on the TUNING seeds 0-4.

Per weight-sharing source and seed, one ``fit_table(ws, proxies=P)`` (the function behind ``nasgcn fit
--ws --proxies``) gives every signal's normal score (its ``sig_*`` columns, the ws scores completed by
the GCN); the fused ranking is then recomputed for ws weights 0 (proxies only), 0.25, 0.5, 1 and 2 with
the other default weights, exactly as :class:`predictor.fusion.FusionPredictor` combines them (the
default head order included: the fused top 20% re-ordered by :data:`~predictor.fusion.DEFAULT_HEAD_WEIGHTS`),
and scored on all 15,625 against the NAS-Bench-201 CIFAR-10 truth.

Sources: the published one-shot supernet (a fresh 1,000-architecture draw per seed, as in
``signal_fusion.py``) and the project's own CPU supernets' committed 1,000-architecture score files
(one sample each; the seed changes the GCN's initialisation only).

    NASGCN_DATA=../shared/data .venv/bin/python benchmarks/fusion_ws_weight.py --seeds 0-4 --spread-penalty 0
    # with the spread penalty of the default fusion (2026-12-03):
    NASGCN_DATA=../shared/data .venv/bin/python benchmarks/fusion_ws_weight.py --seeds 0-4 \\
        --out benchmarks/results/fusion_ws_weight_spread

The first (``results/fusion_ws_weight.md``) was run before the spread penalty existed, i.e. with 0.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from predictor.fusion import DEFAULT_HEAD_WEIGHTS, DEFAULT_SPREAD_PENALTY, DEFAULT_WEIGHTS, fuse, order_head
from predictor.metrics import evaluate_ranking
from predictor.table import fit_table, sample_ws
from predictor.truth import load_truth, truth_accuracy
from supernet.space import degenerate_mask

from signal_fusion import _seeds, ws_sources  # the same seed-list syntax and sources (benchmarks/ is on sys.path when run as a script)

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0)
METRICS = ("kendall_tau", "top5pct_tau", "p_at_top5pct", "pred_best_true")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0-4")
    ap.add_argument("--proxies", default=str(RESULTS / "proxies_cifar10.csv.gz"))
    ap.add_argument("--spread-penalty", type=float, default=DEFAULT_SPREAD_PENALTY,
                    help="the fusion's spread penalty (default: FusionPredictor's; the committed sweep used 0)")
    ap.add_argument("--out", default=str(RESULTS / "fusion_ws_weight"))
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(1)
    deg = degenerate_mask()
    truth = truth_accuracy(load_truth(), "cifar10")
    sources = {("one-shot (published), n=1000 per seed" if k == "one-shot" else f"own: {k}"): v
               for k, v in ws_sources().items()}
    rows = []
    for name, ws_all in sources.items():
        for seed in _seeds(args.seeds):
            ws = sample_ws(ws_all, 1000, seed)
            t = fit_table(ws, proxies=args.proxies, seed=seed, fusion_weights={"ws": 1.0})
            Z = t.signals
            for w in WEIGHTS:
                wv = np.array([w if c == "ws" else DEFAULT_WEIGHTS.get(c, 1.0) for c in Z.columns])
                hw = {c: x for c, x in DEFAULT_HEAD_WEIGHTS.items() if w > 0 or c != "ws"}  # 0: as proxies-only
                fused, _ = order_head(np.where(deg, np.nan, fuse(Z.to_numpy(), wv, args.spread_penalty)[0]), Z, 0.2, hw)
                fused = np.where(deg, -np.inf, fused)
                fused = np.where(np.isfinite(fused), fused, np.nanmin(fused[np.isfinite(fused)]) - 1.0)
                r = evaluate_ranking(fused, truth, degenerate=deg)
                rows.append({"source": name, "seed": seed, "ws_weight": w, **{m: float(r[m]) for m in METRICS}})
            print(name, seed, {w: round(r["kendall_tau"], 3) for w, r in zip(WEIGHTS, rows[-len(WEIGHTS):])}, flush=True)
    d = pd.DataFrame(rows)
    d.to_csv(args.out + "_runs.csv", index=False)
    s = d.groupby(["source", "ws_weight"], sort=False)[list(METRICS)].agg(["mean", "min"])
    lines = [f"ws weight sweep, tuning seeds {args.seeds}, spread penalty {args.spread_penalty:g}; weight 0 = "
             "proxies-only fusion; mean (worst seed)", "",
             "| source | ws weight | tau | top-5% tau | P@top-5% | true acc of the pick |", "|---|---:|---:|---:|---:|---:|"]
    for (src, w), r in s.iterrows():
        cells = " | ".join(f"{r[(m, 'mean')]:.3f} ({r[(m, 'min')]:.3f})" for m in METRICS)
        lines.append(f"| {src} | {w:g} | {cells} |")
    Path(args.out + ".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
