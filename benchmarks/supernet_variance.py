"""Run-to-run and epoch-to-epoch variance of weight-sharing rankings (Zhang et al. 2020, "Deeper
Insights into Weight Sharing in Neural Architecture Search").

The same config (default ``configs/cpu.toml``) is trained with several seeds (``train.seed``: weight
initialisation, batch order, sampled architectures; the data split stays fixed).  Reported:

* per seed: Kendall tau / top-10% tau of its scores vs the CIFAR-10 truth on the same sample of
  ``--sample`` non-degenerate architectures;
* between seeds: Kendall tau of the scores of two runs on that sample, and the overlap of their top 10;
* between consecutive epochs: for seeds trained here (with ``[train] snapshot_every = 1``), the
  snapshots of the last ``--last-epochs`` epochs score the first ``--epoch-sample`` architectures of the
  sample; Kendall tau between epoch e and e+1, and of each epoch vs the truth.

Usage (resumable; existing finished runs of the same config can stand in for a seed with --reuse):
    NASGCN_DATA=../shared/data python benchmarks/supernet_variance.py --runs ~/nasgcn-runs/variance \\
        --seeds 1,2 --reuse 0=~/nasgcn-runs/cpu

Writes benchmarks/results/supernet_variance.{json,md,png}.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import rankdata

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from predictor.metrics import evaluate_ranking, kendall_tau  # noqa: E402
from predictor.truth import load_truth, truth_accuracy  # noqa: E402
from supernet.config import load_config  # noqa: E402
from supernet.evaluate import evaluate_supernet, sample_archs  # noqa: E402
from supernet.training import load_images, snapshot_paths, train_supernet  # noqa: E402

log = logging.getLogger("supernet_variance")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default=str(REPO / "configs" / "cpu.toml"))
    ap.add_argument("--runs", required=True, help="directory for the runs (outside the checkout)")
    ap.add_argument("--seeds", default="1,2", help="seeds trained here, with per-epoch snapshots")
    ap.add_argument("--reuse", action="append", default=[], metavar="SEED=RUN",
                    help="a finished run of the same config with another train.seed (no snapshots needed)")
    ap.add_argument("--sample", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0, help="seed of the scored sample")
    ap.add_argument("--epoch-sample", type=int, default=200, help="architectures scored at every late epoch")
    ap.add_argument("--last-epochs", type=int, default=4, help="how many final epochs the epoch study scores")
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "supernet_variance"))
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    t_all = time.perf_counter()
    base = load_config(args.config)
    runs_dir = Path(args.runs).expanduser()
    runs: dict[int, Path] = {}
    for spec in args.reuse:
        s, _, path = spec.partition("=")
        runs[int(s)] = Path(path).expanduser()
    trained_here = [int(s) for s in args.seeds.split(",") if s.strip()]
    for s in trained_here:
        runs[s] = runs_dir / f"seed{s}"
    truth = load_truth(datasets=["cifar10"])
    true = truth_accuracy(truth, "cifar10")
    archs = sample_archs(args.sample, seed=args.seed, include_degenerate=False)
    sub = [archs[i] for i in np.sort(np.random.default_rng([args.seed, 0xE9]).permutation(len(archs))[: args.epoch_sample])]
    sub_idx = np.array([a.index for a in sub])
    idx = np.array([a.index for a in archs])
    images = load_images(base)

    final: dict[int, np.ndarray] = {}
    per_seed: dict[int, dict[str, Any]] = {}
    epochs: dict[int, dict[int, np.ndarray]] = {}
    for s in sorted(runs):
        run = runs[s]
        cfg = base.replace(train={"seed": s, "snapshot_every": 1 if s in trained_here else base.train.snapshot_every})
        train_supernet(cfg, run, resume="auto", data=images)
        ws = evaluate_supernet(run, archs, run / f"ws_sample{args.sample}_seed{args.seed}.csv", data=images)
        final[s] = ws["ws_acc"].to_numpy()
        r = evaluate_ranking(final[s], true[idx])
        per_seed[s] = {"run": str(run), "kendall_tau": r["kendall_tau"], "top10pct_tau": r["top10pct_tau"],
                       "p_at_top5pct": r["p_at_top5pct"], "pred_best_true": r["pred_best_true"],
                       "train_seconds": float(pd.read_csv(run / "train_log.csv")["seconds"].sum())}
        log.info("seed %d: tau %.3f top10 %.3f", s, r["kendall_tau"], r["top10pct_tau"])
        snaps = snapshot_paths(run)
        if s in trained_here and snaps:
            last = max(snaps)
            want = [e for e in snaps if e > last - args.last_epochs]
            epochs[s] = {}
            by_index = pd.Series(final[s], index=idx)
            for e in want:
                if e == last:  # the final snapshot holds the checkpoint's weights: reuse its scores
                    epochs[s][e] = by_index.loc[sub_idx].to_numpy()
                    continue
                df = evaluate_supernet(snaps[e], sub, run / f"ws_epoch{e:03d}_sample{args.epoch_sample}.csv",
                                       data=images)
                epochs[s][e] = df["ws_acc"].to_numpy()

    between = []
    for a, b in itertools.combinations(sorted(final), 2):
        top_a = set(idx[np.argsort(-final[a], kind="stable")[:10]])
        top_b = set(idx[np.argsort(-final[b], kind="stable")[:10]])
        between.append({"seed_a": a, "seed_b": b, "kendall_tau": kendall_tau(final[a], final[b]),
                        "top10_overlap": len(top_a & top_b)})
    consecutive = []
    for s, es in epochs.items():
        ks = sorted(es)
        for e in ks:
            consecutive.append({"seed": s, "epoch": e, "tau_vs_truth": kendall_tau(es[e], true[sub_idx]),
                                "tau_vs_previous_epoch": kendall_tau(es[e], es[e - 1]) if e - 1 in es else None})
    mean_scores = np.mean([final[s] for s in sorted(final)], axis=0)
    rm = evaluate_ranking(mean_scores, true[idx])
    seed_mean = {"seeds": sorted(final), "kendall_tau": rm["kendall_tau"], "top10pct_tau": rm["top10pct_tau"],
                 "p_at_top5pct": rm["p_at_top5pct"], "pred_best_true": rm["pred_best_true"]}
    taus = np.array([v["kendall_tau"] for v in per_seed.values()])
    top10 = np.array([v["top10pct_tau"] for v in per_seed.values()])
    res = {
        "command": " ".join(sys.argv), "date": time.strftime("%Y-%m-%d %H:%M"),
        "minutes_this_call": round((time.perf_counter() - t_all) / 60, 1),
        "config": Path(args.config).name, "sample": args.sample, "epoch_sample": args.epoch_sample,
        "per_seed": per_seed, "mean_of_seeds": seed_mean, "between_seeds": between, "consecutive_epochs": consecutive,
        "tau_vs_truth_mean": float(taus.mean()), "tau_vs_truth_std": float(taus.std(ddof=1)) if len(taus) > 1 else None,
        "top10_tau_mean": float(top10.mean()), "top10_tau_std": float(top10.std(ddof=1)) if len(top10) > 1 else None,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    Path(f"{out}.json").write_text(json.dumps(res, indent=2, default=float) + "\n")
    md = [f"# Run-to-run and epoch-to-epoch variance of supernet rankings ({res['date']})", "",
          f"Config `{res['config']}` trained with seeds {sorted(runs)} (train.seed: initialisation, batch order, sampled "
          f"architectures; same data). Scores on the same {args.sample} non-degenerate architectures.", "",
          "| seed | tau vs truth | top-10% tau | P@top-5% | true acc of predicted best | train min |", "|---:|---:|---:|---:|---:|---:|"]
    for s, v in sorted(per_seed.items()):
        md.append(f"| {s} | {v['kendall_tau']:.3f} | {v['top10pct_tau']:.3f} | {v['p_at_top5pct']:.3f} | "
                  f"{v['pred_best_true']:.2f} | {v['train_seconds'] / 60:.1f} |")
    if len(final) > 1:
        md.append(f"| mean of the {len(final)} runs' scores | {rm['kendall_tau']:.3f} | {rm['top10pct_tau']:.3f} | "
                  f"{rm['p_at_top5pct']:.3f} | {rm['pred_best_true']:.2f} | "
                  f"{sum(v['train_seconds'] for v in per_seed.values()) / 60:.1f} |")
    if len(taus) > 1:
        md += ["", f"Across seeds: tau {taus.mean():.3f} ± {taus.std(ddof=1):.3f}, top-10% tau {top10.mean():.3f} ± "
               f"{top10.std(ddof=1):.3f} (mean ± std)."]
    md += ["", "Between runs (Kendall tau of two seeds' scores on the same architectures; overlap of their top 10):", "",
           "| seeds | tau between runs | top-10 overlap |", "|---|---:|---:|"]
    md += [f"| {b['seed_a']} vs {b['seed_b']} | {b['kendall_tau']:.3f} | {b['top10_overlap']}/10 |" for b in between]
    if consecutive:
        md += ["", f"Between consecutive epochs ({args.epoch_sample} of the architectures, snapshots of the last "
               f"{args.last_epochs} epochs; learning rate near its minimum):", "",
               "| seed | epoch | tau vs previous epoch | tau vs truth |", "|---:|---:|---:|---:|"]
        for c in consecutive:
            prev = "" if c["tau_vs_previous_epoch"] is None else f"{c['tau_vs_previous_epoch']:.3f}"
            md.append(f"| {c['seed']} | {c['epoch']} | {prev} | {c['tau_vs_truth']:.3f} |")
    md += ["", f"Reproduce: `{res['command']}`", ""]
    Path(f"{out}.md").write_text("\n".join(md))
    _plot(final, idx, true, f"{out}.png")
    print("\n".join(md))


def _plot(final: dict[int, np.ndarray], idx: np.ndarray, true: np.ndarray, path: str) -> None:
    import matplotlib  # heavy import, needed only when a plot is drawn

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seeds = sorted(final)
    pairs = list(itertools.combinations(seeds, 2))[:3]
    if not pairs:
        return
    fig, axes = plt.subplots(1, len(pairs), figsize=(4 * len(pairs), 3.8), squeeze=False)
    n = len(idx)
    top = rankdata(-true[idx], method="min") <= max(1, n // 10)
    for ax, (a, b) in zip(axes[0], pairs):
        ra, rb = rankdata(final[a]) / n, rankdata(final[b]) / n
        ax.scatter(ra[~top], rb[~top], s=4, alpha=0.4, label="other")
        ax.scatter(ra[top], rb[top], s=6, color="C3", label="true top 10%")
        ax.set_xlabel(f"rank quantile, seed {a}")
        ax.set_ylabel(f"rank quantile, seed {b}")
        ax.set_title(f"tau {kendall_tau(final[a], final[b]):.3f}")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
