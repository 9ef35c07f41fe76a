"""Which signals should order the top of the fused ranking?  A sweep on the TUNING seeds 0-4.

Per weight-sharing source and seed, one ``fit_table(ws, proxies=P, head_fraction=0)`` (the function
behind ``nasgcn fit --ws --proxies``) gives every signal's normal score (its ``sig_*`` columns, the ws
scores completed by the GCN) and the fused mean with the default weights.  The head (the fused top
``head_fraction``) is then re-ordered by :func:`predictor.fusion.order_head`, the function the
FusionPredictor uses, for a small grid of head fractions and head weights, and scored on all 15,625
against the NAS-Bench-201 CIFAR-10 truth.  Sources as in ``fusion_ws_weight.py``: the published
one-shot file (a fresh 1,000 draw per seed) and the project's own CPU supernets' committed files.

    NASGCN_DATA=../shared/data .venv/bin/python benchmarks/fusion_head.py --seeds 0-4 --spread-penalty 0
    NASGCN_DATA=../shared/data .venv/bin/python benchmarks/fusion_head.py --seeds 0-4 --grid ws-low \\
        --out benchmarks/results/fusion_head_ws_low

(the first committed sweep was run before the spread penalty existed, i.e. with 0; the second with the
default penalty).
"""

from __future__ import annotations

import argparse
import itertools
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from predictor.fusion import DEFAULT_HEAD_WEIGHTS, DEFAULT_SPREAD_PENALTY, DEFAULT_WEIGHTS, fuse, order_head
from predictor.table import fit_table, sample_ws
from predictor.truth import load_truth, truth_accuracy
from supernet.space import degenerate_mask

from signal_fusion import _score, _seeds, ws_sources  # benchmarks/ is on sys.path when run as a script

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
METRICS = ("kendall_tau", "top5pct_tau", "p_at_top5pct", "pred_best_true")
DEFAULT_FRACTION = 0.2  # FusionPredictor's default, marked in the report


GRIDS = ("first", "ws-low")
"""``first``: the sweep the defaults came from; ``ws-low``: the weight-sharing scores' head weight below the
default (0 / 0.1 / 0.25 / 0.5) against jacov's (0.5 / 1 / 1.5), head 0.2 (2026-12-04)."""


def grid(name: str = "first") -> dict[str, tuple[float, dict[str, float]]]:
    """Variant name -> (head fraction, head weights) of grid ``name`` (:data:`GRIDS`); the first is no
    head (the plain fused mean)."""
    out = {"no head (fused mean)": (0.0, {})}
    combos = (itertools.product((0.15, 0.2, 0.3), (0.5, 1.0), (0.5, 1.0), (0.0, 0.5), (0.0, 0.25)) if name == "first"
              else itertools.product((0.2,), (0.0, 0.1, 0.25, 0.5), (0.5, 1.0, 1.5), (0.0,), (0.0,)))
    for q, ws, jc, pa, nw in combos:
        w = {k: v for k, v in {"ws": ws, "synflow": 1.0, "jacov": jc, "params": pa, "nwot": nw}.items() if v}
        out[f"head {q:g}: " + " ".join(f"{k} {v:g}" for k, v in w.items())] = (q, w)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0-4")
    ap.add_argument("--proxies", default=str(RESULTS / "proxies_cifar10.csv.gz"))
    ap.add_argument("--spread-penalty", type=float, default=DEFAULT_SPREAD_PENALTY,
                    help="the fusion's spread penalty (default: FusionPredictor's; the committed sweep used 0)")
    ap.add_argument("--grid", choices=GRIDS, default="first", help="which grid of head weights (see GRIDS)")
    ap.add_argument("--out", default=str(RESULTS / "fusion_head"))
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(1)
    deg = degenerate_mask()
    truth = np.asarray(truth_accuracy(load_truth(), "cifar10"), dtype=np.float64)
    sources = ws_sources()
    variants = grid(args.grid)
    rows = []
    for name, ws_all in sources.items():
        for seed in _seeds(args.seeds):
            t = fit_table(sample_ws(ws_all, 1000, seed), proxies=args.proxies, seed=seed, head_fraction=0.0)
            Z = t.signals
            wv = np.array([DEFAULT_WEIGHTS.get(c, 1.0) for c in Z.columns])
            fused = fuse(Z.to_numpy(), wv, args.spread_penalty)[0]
            for v, (q, w) in variants.items():
                ranked, _ = order_head(fused, Z, q, w)
                rows.append({"source": name, "seed": seed, "variant": v, **_score(ranked, truth, deg)})
            print(name, seed, flush=True)
    d = pd.DataFrame(rows)
    d.to_csv(args.out + "_runs.csv", index=False)
    per = d.groupby(["variant", "source"], sort=False)[list(METRICS)].mean()
    s = d.groupby("variant", sort=False)[list(METRICS)].mean()
    s["top5_worst_source"] = per["top5pct_tau"].groupby("variant", sort=False).min()
    s["tau_worst_source"] = per["kendall_tau"].groupby("variant", sort=False).min()
    s = s.sort_values("top5pct_tau", ascending=False)
    chosen = f"head {DEFAULT_FRACTION:g}: " + " ".join(f"{k} {v:g}" for k, v in DEFAULT_HEAD_WEIGHTS.items())
    lines = [f"# Head order sweep, tuning seeds {args.seeds}", "",
             f"Run: `NASGCN_DATA=../shared/data .venv/bin/python benchmarks/fusion_head.py --seeds {args.seeds} "
             f"--spread-penalty {args.spread_penalty:g}" + ("" if args.grid == "first" else f" --grid {args.grid}")
             + "`. "
             f"Mean over the four weight-sharing sources ({', '.join(sources)}) and seeds; the default is **{chosen}**.",
             "", "| variant | tau | top-5% tau | P@top-5% | pick | top-5% tau, worst source | tau, worst source |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for v, r in s.iterrows():
        mark = "**" if v == chosen else ""
        lines.append(f"| {mark}{v}{mark} | {r['kendall_tau']:.3f} | {r['top5pct_tau']:.3f} | {r['p_at_top5pct']:.3f} | "
                     f"{r['pred_best_true']:.2f} | {r['top5_worst_source']:.3f} | {r['tau_worst_source']:.3f} |")
    lines += ["", "Per source, " + ("the default against no head:" if args.grid == "first" else "every variant:"), "",
              "| source | variant | tau | top-5% tau | P@top-5% | pick |", "|---|---|---:|---:|---:|---:|"]
    for src in sources:
        for v in (("no head (fused mean)", chosen) if args.grid == "first" else list(variants)):
            r = per.loc[(v, src)]
            lines.append(f"| {src} | {v} | {r['kendall_tau']:.3f} | {r['top5pct_tau']:.3f} | "
                         f"{r['p_at_top5pct']:.3f} | {r['pred_best_true']:.2f} |")
    Path(args.out + ".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[:12]))


if __name__ == "__main__":
    main()
