"""A real CPU-budget supernet on CIFAR-10, scored against the NAS-Bench-201 truth.

Trains the supernet of a config (default ``configs/cpu.toml``: NB201 train half, C=16, N=1) into RUN
(resuming if RUN holds a checkpoint), scores a seeded uniform sample of non-degenerate architectures on
the valid half, and compares the weight-sharing accuracies with the CIFAR-10 test accuracy of the truth
table, next to the published one-shot supernet (``nb201_ws_oneshot.csv.gz``) on the SAME architectures.

Usage (one command; about 2 hours on 2 CPU cores, resumable):

    NASGCN_DATA=../shared/data python benchmarks/supernet_cpu.py --run ~/nasgcn-runs/cpu --sample 1000

Writes benchmarks/results/supernet_cpu.{json,md} and benchmarks/results/supernet_cpu_ws.csv.gz.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from predictor.metrics import evaluate_ranking  # noqa: E402
from predictor.truth import load_truth, truth_accuracy  # noqa: E402
from supernet.config import load_config  # noqa: E402
from supernet.evaluate import evaluate_supernet, sample_archs  # noqa: E402
from supernet.paths import data_path  # noqa: E402
from supernet.training import train_supernet  # noqa: E402

KEYS = ["n", "kendall_tau", "spearman_rho", "top5pct_tau", "top10pct_tau", "p_at_top5pct", "p_at_top10pct",
        "br_at_10", "pred_best_true"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default=str(REPO / "configs" / "cpu.toml"))
    ap.add_argument("--run", required=True, help="run directory (outside the checkout)")
    ap.add_argument("--sample", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "supernet_cpu"))
    args = ap.parse_args()
    cfg = load_config(args.config)
    run = Path(args.run).expanduser()
    summary = train_supernet(cfg, run, resume="auto")
    log = pd.read_csv(run / "train_log.csv")
    archs = sample_archs(args.sample, seed=args.seed, include_degenerate=False)
    ws = evaluate_supernet(run, archs, run / f"ws_sample{args.sample}_seed{args.seed}.csv")
    side = json.loads(Path(str(run / f"ws_sample{args.sample}_seed{args.seed}.csv") + ".json").read_text())

    truth = load_truth()
    true = truth_accuracy(truth, "cifar10")[ws["index"].to_numpy()]
    ours = evaluate_ranking(ws["ws_acc"].to_numpy(), true)
    one = pd.read_csv(data_path("nb201", "nb201_ws_oneshot.csv.gz")).set_index("index")
    oneshot = evaluate_ranking(one.loc[ws["index"], "ws_acc"].to_numpy(), true)

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    ws.to_csv(str(out) + "_ws.csv.gz", index=False)
    res = {
        "config": cfg.to_dict(),
        "epochs": int(log["epoch"].max()),
        "train_seconds_total": float(log["seconds"].sum()),
        "train_images_per_s_mean": float(log["images_per_s"].mean()),
        "final_train_acc": float(log["train_acc"].iloc[-1]),
        "eval_seconds": side.get("seconds"),
        "architectures": len(ws),
        "classes_scored": side.get("classes_scored"),
        "ours_vs_truth": {k: ours[k] for k in KEYS},
        "published_oneshot_same_archs_vs_truth": {k: oneshot[k] for k in KEYS},
        "kendall_tau_ours_vs_oneshot": float(
            pd.Series(ws["ws_acc"].to_numpy()).corr(pd.Series(one.loc[ws["index"], "ws_acc"].to_numpy()),
                                                    method="kendall")
        ),
        "train_summary": summary,
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }
    Path(str(out) + ".json").write_text(json.dumps(res, indent=2, default=float) + "\n")
    m = cfg.model
    t = cfg.train
    rows = [
        "| | n | Kendall tau | Spearman | top-5% tau | top-10% tau | P@top-5% | BR@10 | true acc of predicted best |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in (("this supernet", ours), ("published one-shot supernet, same archs", oneshot)):
        rows.append(
            f"| {name} | {r['n']} | {r['kendall_tau']:.3f} | {r['spearman_rho']:.3f} | {r['top5pct_tau']:.3f} | "
            f"{r['top10pct_tau']:.3f} | {r['p_at_top5pct']:.3f} | {r['br_at_10']} | {r['pred_best_true']:.2f} |"
        )
    md = [
        f"# CPU-budget supernet on CIFAR-10 ({res['date']})",
        "",
        f"Config `{Path(args.config).name}`: C={m.C}, N={m.N}, {t.epochs} epochs, batch {t.batch_size}, "
        f"lr {t.lr}->{t.lr_min} cosine, wd {t.weight_decay}, sampling `{cfg.sampling.strategy}` on the NB201 "
        f"train half (25k images); scored on {cfg.eval.valid_size} images of the valid half with BN "
        f"recalibration ({cfg.eval.bn_batches}x{cfg.eval.bn_batch_size} images).",
        "",
        f"Training: {res['train_seconds_total'] / 60:.1f} min in all ({res['train_images_per_s_mean']:.0f} images/s "
        f"on average, 2 CPU threads, machine shared with other jobs), final train accuracy "
        f"{res['final_train_acc']:.1f}%. Evaluation of {len(ws)} sampled non-degenerate architectures "
        f"({res['classes_scored']} isomorphism classes run): {res['eval_seconds']} s (the last call; a resumed evaluation counts only its own part).",
        "",
        *rows,
        "",
        f"Kendall tau between this supernet and the published one on the same architectures: "
        f"{res['kendall_tau_ours_vs_oneshot']:.3f}.",
        "",
        f"Reproduce: `NASGCN_DATA=../shared/data python benchmarks/supernet_cpu.py --run RUN --sample {args.sample}`",
        "",
    ]
    Path(str(out) + ".md").write_text("\n".join(md))
    print("\n".join(md))


if __name__ == "__main__":
    main()
