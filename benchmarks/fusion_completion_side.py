"""Should the GCN that completes the weight-sharing scores see the proxies?  A comparison on TUNING seeds.

Per weight-sharing source and seed, the default fusion (:class:`predictor.fusion.FusionPredictor`, the
function behind ``nasgcn fit --ws --proxies``) is fitted twice on the same 1,000 weight-sharing scores:
with ``completion_side=False`` (the GCN completes the scores from the cell graph and its live op counts)
and ``True`` (it also sees the normal scores of every fused signal known for the whole space: nwot,
synflow, jacov, params, as graph-level side features).  Both are scored on all 15,625 against the
NAS-Bench-201 CIFAR-10 truth, beside the proxies-only fusion.  For the published one-shot file, which
scores every architecture, the completion is also checked against the file's own scores of the cells it
did not see (Pearson of normal scores): a measure of the completion itself that needs no truth.

Sources: the one-shot file (a fresh 1,000-architecture draw per seed) and every committed score file of
the project's own CPU supernets (``results/*_ws.csv.gz``, one sample each: the seed changes the GCN's
initialisation only).

    NASGCN_DATA=../shared/data .venv/bin/python benchmarks/fusion_completion_side.py --seeds 0-4 --own-seeds 0-2

(``--sources`` and ``--out`` split it into parallel runs; the committed record is one run's output.)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from predictor import graphs as G
from predictor.fusion import FusionPredictor, normal_scores, read_signal_table
from predictor.table import sample_ws
from supernet.space import NUM_ARCHS

from fusion_landmarks import cached_sweep_setup
from signal_fusion import _score, _seeds, ws_sources

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
OWN = ("supernet_cpu", "supernet_methods_fewshot", "supernet_methods_uniform_ft", "supernet_methods_landmarks",
       "supernet_methods_size")
"""The distinct own score files (``supernet_methods_uniform_ws`` is the same run as ``supernet_cpu_ws``)."""
METRICS = ("kendall_tau", "top5pct_tau", "p_at_top5pct", "pred_best_true")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0-4", help="seeds of the one-shot file's draws")
    ap.add_argument("--own-seeds", default="0-2", help="GCN seeds for the own files")
    ap.add_argument("--sources", default=None, help="comma-separated subset of the sources (default all)")
    ap.add_argument("--proxies", default=str(RESULTS / "proxies_cifar10.csv.gz"))
    ap.add_argument("--out", default=str(RESULTS / "fusion_completion_side"))
    args = ap.parse_args()
    deg, _, truth = cached_sweep_setup()
    prox = read_signal_table(args.proxies)
    params = pd.DataFrame({"params": G.graph_features(np.arange(NUM_ARCHS), ["params"])[:, 0]})
    sources = ws_sources(args.sources, own=OWN)
    oneshot = sources["one-shot"] if "one-shot" in sources else ws_sources("one-shot")["one-shot"]
    full = np.full(NUM_ARCHS, np.nan)
    full[oneshot["index"].to_numpy()] = oneshot["ws_acc"].to_numpy()
    full = normal_scores(full)
    base = pd.concat([prox, params], axis=1)
    rows = [{"source": "(proxies only)", "seed": -1, "side": "-",
             **_score(FusionPredictor().fit(base).score_space(), truth, deg)}]
    jobs = [(n, ws_all, s) for n, ws_all in sources.items()
            for s in _seeds(args.seeds if n == "one-shot" else args.own_seeds)]
    for name, ws_all, seed in jobs:
        ws = sample_ws(ws_all, 1000, seed)
        w = np.full(NUM_ARCHS, np.nan)
        w[ws["index"].to_numpy()] = ws["ws_acc"].to_numpy()
        sig = pd.concat([pd.DataFrame({"ws": w}), base], axis=1)
        unseen = ~deg & np.isnan(w)
        for side in (False, True):
            f = FusionPredictor(completion_side=side, random_state=seed).fit(sig)
            z = f.signal_scores_["ws"].to_numpy()
            fid = float(np.corrcoef(z[unseen], full[unseen])[0, 1]) if name == "one-shot" else float("nan")
            rows.append({"source": name, "seed": seed, "side": "yes" if side else "no", "completion_vs_file": fid,
                         **_score(f.score_space(), truth, deg)})
            print(rows[-1], flush=True)
    d = pd.DataFrame(rows)
    d.to_csv(args.out + "_runs.csv", index=False)
    cols = ["completion_vs_file", *METRICS]
    s = d.groupby(["source", "side"], sort=False)[cols].agg(["mean", "min"])
    lines = [f"GCN completion with / without the whole-space signals as side features; tuning seeds: one-shot "
             f"{args.seeds}, own files {args.own_seeds}; mean (worst seed); every other setting the default fusion", "",
             "| source | side features | completion vs the file's unseen scores | tau | top-5% tau | P@top-5% | true acc of the pick |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for (src, side), r in s.iterrows():
        fid = "-" if np.isnan(r[("completion_vs_file", "mean")]) else f"{r[('completion_vs_file', 'mean')]:.3f}"
        cells = " | ".join(f"{r[(m, 'mean')]:.3f} ({r[(m, 'min')]:.3f})" for m in METRICS)
        lines.append(f"| {src} | {side} | {fid} | {cells} |")
    for src in d["source"].unique()[1:]:
        a = d[(d.source == src) & (d.side == "no")]["kendall_tau"].to_numpy()
        b = d[(d.source == src) & (d.side == "yes")]["kendall_tau"].to_numpy()
        lines.append(f"\n{src}: side features higher tau in {int((b > a).sum())}/{a.size} seeds, mean difference {np.mean(b - a):+.4f}")
    Path(args.out + ".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
