"""How much can landmarks add to the fused table?  A sweep over the landmark count on the TUNING seeds.

Per weight-sharing source and seed, one ``fit_table(ws, proxies=P)`` (the function behind ``nasgcn fit
--ws --proxies``) gives every signal's normal score (its ``sig_*`` columns).  A
:class:`predictor.fusion.FusionPredictor` is then fitted on those signals with K random non-degenerate
landmarks (their NAS-Bench-201 accuracy; two independent draws per K): the non-negative ridge that
re-weights the signals, as ``nasgcn fit --landmarks`` does.  Scored on all 15,625 against the truth,
beside the same fusion without landmarks.  Sources as in ``fusion_ws_weight.py``.

    NASGCN_DATA=../shared/data .venv/bin/python benchmarks/fusion_landmarks.py --seeds 0-4
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from predictor.fusion import FusionPredictor
from predictor.table import fit_table, sample_ws
from predictor.truth import load_truth, truth_accuracy
from supernet.space import degenerate_mask

from signal_fusion import _score, _seeds, ws_sources  # benchmarks/ is on sys.path when run as a script

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
METRICS = ("kendall_tau", "top5pct_tau", "p_at_top5pct", "pred_best_true")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0-4")
    ap.add_argument("--counts", type=int, nargs="+", default=[20, 50, 200])
    ap.add_argument("--draws", type=int, default=2)
    ap.add_argument("--proxies", default=str(RESULTS / "proxies_cifar10.csv.gz"))
    ap.add_argument("--out", default=str(RESULTS / "fusion_landmarks"))
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(1)
    deg = degenerate_mask()
    pool = np.flatnonzero(~deg)
    truth = np.asarray(truth_accuracy(load_truth(), "cifar10"), dtype=np.float64)
    sources = ws_sources()
    rows = []
    for name, ws_all in sources.items():
        for seed in _seeds(args.seeds):
            t = fit_table(sample_ws(ws_all, 1000, seed), proxies=args.proxies, seed=seed)
            sig = t.signals
            rows.append({"source": name, "seed": seed, "landmarks": 0, "draw": 0,
                         **_score(FusionPredictor().fit(sig).score_space(), truth, deg)})
            for k in args.counts:
                for draw in range(args.draws):
                    lm = np.sort(np.random.default_rng([seed, k, draw, 0x1B]).choice(pool, k, replace=False))
                    f = FusionPredictor().fit(sig, landmarks=(lm, truth[lm]))
                    rows.append({"source": name, "seed": seed, "landmarks": k, "draw": draw,
                                 **_score(f.score_space(), truth, deg)})
            print(name, seed, flush=True)
    d = pd.DataFrame(rows)
    d.to_csv(args.out + "_runs.csv", index=False)
    s = d.groupby(["landmarks"])[list(METRICS)].agg(["mean", "min"])
    per = d.groupby(["source", "landmarks"])["kendall_tau"].mean().unstack("landmarks")
    lines = [f"# Landmarks in the fused table, tuning seeds {args.seeds}", "",
             f"Run: `NASGCN_DATA=../shared/data .venv/bin/python benchmarks/fusion_landmarks.py --seeds {args.seeds}`. "
             f"{args.draws} landmark draws per count, seed and source; mean (worst run) over the four sources.", "",
             "| landmarks | tau | top-5% tau | P@top-5% | pick |", "|---:|---:|---:|---:|---:|"]
    for k, r in s.iterrows():
        lines.append(f"| {k} | " + " | ".join(f"{r[(m, 'mean')]:.3f} ({r[(m, 'min')]:.3f})" for m in METRICS) + " |")
    lines += ["", "Kendall tau per source:", "", "| source | " + " | ".join(f"{k} lm" for k in per.columns) + " |",
              "|---|" + "---:|" * len(per.columns)]
    for src, r in per.iterrows():
        lines.append(f"| {src} | " + " | ".join(f"{v:.3f}" for v in r) + " |")
    Path(args.out + ".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
