"""Stand-alone training at a short CPU fidelity on CIFAR-10, checked against NAS-Bench-201's 200-epoch truth,
then used as landmarks for the lookup table fitted on the committed CPU supernet's scores.

1. Picks ``--n-archs`` architectures of spread quality from the truth table: one representative (lowest
   index) per non-degenerate isomorphism class, classes ranked by true CIFAR-10 accuracy and cut into
   equal quantile strata, one seeded draw per stratum.
2. Trains each stand-alone (``nasgcn train-arch``'s trainer: NB201 network C=16 N=5, SGD Nesterov 0.9,
   lr 0.1 cosine to 0, wd 5e-4, crop+flip) for ``--epochs`` on a stratified ``--train-limit`` subset of the
   NB201 train half, scored on a stratified ``--valid-limit`` subset of the valid half; every network
   resumes in ``RUNS/<index>/``.  Rows go to ``OUT.csv`` (``index, arch_str, true_acc, epochs, seconds``;
   ``true_acc`` = the short-run accuracy, percent) after each network.
3. Reports Kendall tau and Spearman of the short-run accuracies against the truth, and the cost per network.
4. Fits the table on ``--ws`` (default the committed CPU supernet's 1,000 scores) with ``--model``: without
   landmarks, with the short-run rows as landmarks, with the SAME architectures' truth-table accuracies as
   landmarks, and with ``--random-draws`` random draws of as many truth-table landmarks; ranking metrics of
   each table over all 15,625 against the truth.

Usage (defaults: about 3.5 min per network on one idle core, so about 35 min for 10 networks; resumable):

    NASGCN_DATA=../shared/data python benchmarks/standalone_cifar10.py --runs ~/nasgcn-runs/standalone

Writes OUT.csv, OUT.md and OUT.json (default ``benchmarks/results/standalone_cifar10``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from predictor.metrics import evaluate_ranking, kendall_tau, spearman_rho  # noqa: E402
from predictor.table import fit_table  # noqa: E402
from predictor.truth import load_truth, truth_accuracy  # noqa: E402
from supernet.fileio import write_csv_atomic, write_json_atomic  # noqa: E402
from supernet.space import degenerate_mask, iso_ids  # noqa: E402
from supernet.training import standalone_config, train_standalone  # noqa: E402

KEYS = ["kendall_tau", "spearman_rho", "top5pct_tau", "p_at_top5pct", "br_at_10", "pred_best_true"]
COLUMNS = ["index", "arch_str", "true_acc", "epochs", "seconds"]


def pick_archs(true: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` official indices of spread true accuracy: one per quantile stratum of the non-degenerate
    isomorphism classes (representative: the lowest index), drawn with ``seed``; worst stratum first."""
    iso = iso_ids()
    live = np.flatnonzero(~degenerate_mask())
    _, first = np.unique(iso[live], return_index=True)
    reps = live[first]
    reps = reps[np.argsort(true[reps], kind="stable")]
    rng = np.random.default_rng(seed)
    return np.array([int(rng.choice(part)) for part in np.array_split(reps, n)], dtype=np.int64)


def train_all(args: argparse.Namespace, archs: np.ndarray, out_csv: Path) -> pd.DataFrame:
    """Train (or resume) every architecture; rows written to ``out_csv`` after each network."""
    rows = []
    for i, idx in enumerate(archs):
        cfg = standalone_config(
            int(idx), "nb201-12", data={"source": "cifar10", "train_limit": args.train_limit, "seed": args.seed},
            epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, C=args.C, N=args.N,
            valid_limit=args.valid_limit, seed=args.seed, threads=args.threads, device=args.device,
        )
        t0 = time.perf_counter()
        s = train_standalone(cfg, Path(args.runs).expanduser() / str(int(idx)), resume="auto",
                             progress=not args.no_progress)
        print(f"[{i + 1}/{len(archs)}] #{idx} {s['true_acc']:.2f}% on {s['split']} "
              f"({s['seconds']:.0f} s training+scoring, {time.perf_counter() - t0:.0f} s this call)", flush=True)
        rows.append({"index": int(idx), "arch_str": s["arch_str"], "true_acc": round(float(s["true_acc"]), 4),
                     "epochs": args.epochs, "seconds": float(s["seconds"])})
        write_csv_atomic(pd.DataFrame(rows, columns=COLUMNS), out_csv, index=False)
    return pd.DataFrame(rows, columns=COLUMNS)


def table_metrics(ws: pd.DataFrame, true: np.ndarray, model: str, seed: int, lm: pd.DataFrame | None) -> dict:
    t = fit_table(ws, model=model, seed=seed, landmarks=lm)
    m = evaluate_ranking(t.df["pred_acc"].to_numpy(), true, degenerate=degenerate_mask())
    return {k: m[k] for k in KEYS} | {"n_landmarks": 0 if lm is None else len(lm)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", required=True, help="folder of the per-network run directories (outside the checkout)")
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "standalone_cifar10"),
                    help="output stem: OUT.csv, OUT.md, OUT.json")
    ap.add_argument("--n-archs", type=int, default=10, help="architectures to train (default 10; >= 8 asked)")
    ap.add_argument("--epochs", type=int, default=4, help="epochs per network (default 4, cosine over them)")
    ap.add_argument("--train-limit", type=int, default=6000, help="images of the NB201 train half (default 6000)")
    ap.add_argument("--valid-limit", type=int, default=2000, help="images of the valid half scored (default 2000)")
    ap.add_argument("--batch-size", type=int, default=128, help="batch (default 128: NB201's 256 gives too few steps)")
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--C", type=int, default=16)
    ap.add_argument("--N", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--seed", type=int, default=0, help="architecture draw, data subsets, initialisation")
    ap.add_argument("--ws", default=str(REPO / "benchmarks" / "results" / "supernet_cpu_ws.csv.gz"))
    ap.add_argument("--model", default="gcn", choices=["gcn", "ridge", "gbr", "mlp"])
    ap.add_argument("--random-draws", type=int, default=5, help="random truth-landmark draws to compare (default 5)")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args()
    if args.n_archs < 2:
        ap.error("--n-archs must be at least 2 (a landmark fit needs 2)")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)

    true = np.asarray(truth_accuracy(load_truth(), "cifar10"), dtype=np.float64)
    archs = pick_archs(true, args.n_archs, args.seed)
    t0 = time.perf_counter()
    rows = train_all(args, archs, out.with_suffix(".csv"))
    wall = time.perf_counter() - t0
    bench = true[rows["index"].to_numpy()]
    short = rows["true_acc"].to_numpy()
    fidelity = {"kendall_tau": kendall_tau(short, bench), "spearman_rho": spearman_rho(short, bench),
                "n": len(rows), "seconds_per_network_mean": float(rows["seconds"].mean()),
                "seconds_per_network_max": float(rows["seconds"].max()), "seconds_total": float(rows["seconds"].sum()),
                "wall_seconds_this_call": round(wall, 1)}

    ws = pd.read_csv(args.ws)
    tables = {"no landmarks": table_metrics(ws, true, args.model, args.seed, None),
              "short-run landmarks (these archs)": table_metrics(
                  ws, true, args.model, args.seed, rows[["index", "true_acc"]]),
              "truth landmarks (same archs)": table_metrics(
                  ws, true, args.model, args.seed, rows[["index"]].assign(true_acc=bench))}
    rng = np.random.default_rng(args.seed + 1)
    live = np.flatnonzero(~degenerate_mask())
    draws = []
    for _ in range(args.random_draws):
        idx = rng.choice(live, len(rows), replace=False)
        draws.append(table_metrics(ws, true, args.model, args.seed,
                                   pd.DataFrame({"index": idx, "true_acc": true[idx]})))
    if draws:
        tables[f"truth landmarks (random, mean of {len(draws)})"] = {
            k: float(np.mean([d[k] for d in draws])) for k in KEYS} | {"n_landmarks": len(rows)}

    setup = {k: getattr(args, k) for k in ("n_archs", "epochs", "train_limit", "valid_limit", "batch_size", "lr",
                                           "C", "N", "threads", "device", "seed", "ws", "model", "random_draws")}
    per_arch = rows.assign(nb201_true_acc=bench).to_dict(orient="records")
    write_json_atomic(out.with_suffix(".json"), {"setup": setup, "fidelity": fidelity, "tables": tables,
                                                 "archs": per_arch}, indent=2)
    md = [
        "# Stand-alone training at a short CPU fidelity vs NAS-Bench-201 (CIFAR-10)", "",
        f"`python benchmarks/standalone_cifar10.py --runs RUNS` with {json.dumps(setup)}", "",
        f"{len(rows)} architectures of spread quality (one per quantile stratum of the true ranking, distinct "
        f"isomorphism classes, seed {args.seed}); each trained {args.epochs} epochs on {args.train_limit} images "
        f"of the NB201 train half (C={args.C}, N={args.N}, batch {args.batch_size}, lr {args.lr} cosine to 0, "
        f"Nesterov, wd 5e-4) and scored on {args.valid_limit} images of the valid half.", "",
        f"**Short-run accuracy vs the 200-epoch truth:** Kendall tau {fidelity['kendall_tau']:.3f}, Spearman "
        f"{fidelity['spearman_rho']:.3f} (n={len(rows)}). **Cost:** {fidelity['seconds_per_network_mean']:.0f} s per "
        f"network on average (max {fidelity['seconds_per_network_max']:.0f} s), "
        f"{fidelity['seconds_total'] / 60:.1f} min in all.", "",
        "| index | arch_str | short-run acc | NB201 truth | seconds |", "|---:|---|---:|---:|---:|",
    ]
    md += [f"| {r['index']} | `{r['arch_str'].replace('|', chr(92) + '|')}` | {r['true_acc']:.2f} | {r['nb201_true_acc']:.2f} | {r['seconds']:.0f} |"
           for r in per_arch]
    md += ["", f"**Lookup table** ({args.model} on `{Path(args.ws).name}`, {len(ws)} scores), all 15,625 vs truth:", "",
           "| landmarks | n | " + " | ".join(KEYS) + " |", "|---|---:|" + "---:|" * len(KEYS)]
    md += [f"| {name} | {m['n_landmarks']} | " + " | ".join(f"{m[k]:.3f}" for k in KEYS) + " |"
           for name, m in tables.items()]
    out.with_suffix(".md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
