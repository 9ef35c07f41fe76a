"""Which supernet method ranks NAS-Bench-201 best on the same CPU budget?

Every method starts from the CPU run's config (default ``configs/cpu.toml``: NB201 train half of
CIFAR-10, C=16, N=1, 30 epochs, batch 128) and is scored the same way: the same seeded sample of
non-degenerate architectures on the same 2,000 valid images with BN recalibration, compared with the
CIFAR-10 test accuracy of the truth table, raw and after fitting the GCN predictor to the scores
(predicting all 15,625).

Methods (``--methods``, in this order):

* ``uniform``: single-path uniform sampling (SPOS/RSPS), the baseline (``--uniform-run`` reuses a run).
* ``size``: NAO-V2 balanced sampling, P(arch) proportional to its parameter count.
* ``landmarks``: uniform + landmark regularisation (Yu et al. 2021) with ``--landmarks`` architectures of
  known true accuracy, drawn from the non-degenerate cells OUTSIDE the scored sample.
* ``fewshot``: the uniform run split on ``--fewshot-edges`` into 5^|E| sub-supernets, each warm-started
  from it and fine-tuned ``--fewshot-epochs`` epochs on its part (Zhao et al. 2021; Zhang et al. 2020).
* ``uniform_ft``: the control for ``fewshot``: the uniform run fine-tuned on the whole space with the same
  schedule for as many epochs as all sub-supernets together, so the two spend the same extra compute.
* ``drnas``: DrNAS (Chen et al. 2021) from ``--drnas-config``; reports the found architecture's true
  accuracy (its mixed-op supernet is not a ranking method and is not scored).

Usage (resumable: each run and evaluation continues where it stopped):
    NASGCN_DATA=../shared/data python benchmarks/supernet_methods.py --runs ~/nasgcn-runs/methods \\
        --uniform-run ~/nasgcn-runs/cpu

Refit only the GCN columns from the committed scores, with the current predictor default (no training):
    NASGCN_DATA=../shared/data python benchmarks/supernet_methods.py --rescore

Writes benchmarks/results/supernet_methods.{json,md,csv,png}.
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

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from predictor.metrics import evaluate_ranking  # noqa: E402
from predictor.models import LandmarkCorrection, make_model  # noqa: E402
from predictor.truth import load_truth, truth_accuracy  # noqa: E402
from supernet.config import SupernetConfig, load_config  # noqa: E402
from supernet.evaluate import evaluate_supernet, sample_archs  # noqa: E402
from supernet.fewshot import evaluate_fewshot, split_patterns, train_fewshot  # noqa: E402
from supernet.space import degenerate_mask  # noqa: E402
from supernet.training import load_drnas_config, load_images, train_drnas, train_supernet  # noqa: E402

log = logging.getLogger("supernet_methods")
METHODS = ("uniform", "size", "landmarks", "fewshot", "uniform_ft", "drnas")
KEYS = ("kendall_tau", "spearman_rho", "top5pct_tau", "top10pct_tau", "p_at_top5pct", "br_at_10", "pred_best_true")


def _train_seconds(run: Path) -> float:
    log_csv = run / "train_log.csv"
    return float(pd.read_csv(log_csv)["seconds"].sum()) if log_csv.exists() else float("nan")


def _scores(ws: pd.DataFrame, true: np.ndarray, threads: int, landmarks: np.ndarray) -> dict[str, Any]:
    """Raw metrics on the scored sample, GCN metrics over the space (and on the sample), and the GCN
    built for correction (``landmark_base``) with the post-hoc landmark correction from the same
    ``landmarks`` (official indices) the ``landmarks`` method trains with."""
    idx = ws["index"].to_numpy()
    y = ws["ws_acc"].to_numpy()
    raw = evaluate_ranking(y, true[idx])
    est = make_model("gcn", random_state=0)
    est.set_params(num_threads=threads)
    order = np.argsort(idx)
    est.fit(idx[order], y[order])
    pred = est.predict_space()
    gcn_space = evaluate_ranking(pred, true, degenerate=degenerate_mask())
    gcn_sample = evaluate_ranking(pred[idx], true[idx])
    base = make_model("gcn", {"num_threads": threads}, random_state=0, landmark_base=True)  # what fit --landmarks corrects
    corrected = LandmarkCorrection(base.fit(idx[order], y[order])).fit(landmarks, true[landmarks])
    gcn_lm = evaluate_ranking(corrected.predict_space(), true, degenerate=degenerate_mask())
    return {
        "raw": {k: raw[k] for k in KEYS},
        "gcn_space": {k: gcn_space[k] for k in KEYS},
        "gcn_sample": {k: gcn_sample[k] for k in KEYS},
        "gcn_landmarks_space": {k: gcn_lm[k] for k in KEYS},
    }


def _landmarks(k: int, exclude: np.ndarray, seed: int) -> np.ndarray:
    """``k`` landmark architectures (sorted official indices) from the non-degenerate cells not in ``exclude``."""
    pool = np.setdiff1d(np.flatnonzero(~degenerate_mask()), exclude)
    return np.sort(np.random.default_rng([seed, 0x1A4D]).choice(pool, size=k, replace=False))


def _rescore(methods: list[str], sample_idx: np.ndarray, true: np.ndarray, args: argparse.Namespace,
             lm_idx: np.ndarray) -> dict[str, dict[str, Any]]:
    """Each method's GCN columns refitted from its committed scores; its training record is kept."""
    old = json.loads(Path(f"{args.out}.json").read_text())["methods"]
    results: dict[str, dict[str, Any]] = {}
    for method in methods:
        path = Path(f"{args.out}_{method}_ws.csv.gz")
        if method == "drnas" or method not in old or not path.exists():
            continue
        ws = pd.read_csv(path)
        if not np.array_equal(np.sort(ws["index"].to_numpy()), np.sort(sample_idx)):
            raise SystemExit(f"{path} does not hold the {args.sample}-architecture sample of seed {args.seed}; "
                             "pass the --sample/--seed it was scored with")
        results[method] = {**old[method], **_scores(ws, true, args.threads, lm_idx), "rescored": time.strftime("%Y-%m-%d")}
        log.info("%s rescored: gcn tau %.3f, gcn+lm tau %.3f", method, results[method]["gcn_space"]["kendall_tau"],
                 results[method]["gcn_landmarks_space"]["kendall_tau"])
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default=str(REPO / "configs" / "cpu.toml"), help="base config of every method")
    ap.add_argument("--runs", default=None, help="directory for the runs (outside the checkout); needed unless --rescore")
    ap.add_argument("--rescore", action="store_true",
                    help="no training or scoring: refit the GCN columns from the committed <out>_<method>_ws.csv.gz "
                         "with the current predictor default, keeping each method's training record")
    ap.add_argument("--uniform-run", default=None, help="an existing finished run of --config to use as 'uniform'")
    ap.add_argument("--methods", default=",".join(METHODS), help=f"comma list of {', '.join(METHODS)}")
    ap.add_argument("--sample", type=int, default=1000, help="architectures scored per method")
    ap.add_argument("--seed", type=int, default=0, help="seed of the scored sample")
    ap.add_argument("--landmarks", type=int, default=50)
    ap.add_argument("--landmark-every", type=int, default=5)
    ap.add_argument("--landmark-weight", type=float, default=1.0)
    ap.add_argument("--fewshot-edges", default="0", help="comma list of split edge positions (0..5)")
    ap.add_argument("--fewshot-epochs", type=int, default=2, help="fine-tuning epochs per sub-supernet")
    ap.add_argument("--drnas-config", default=str(REPO / "configs" / "drnas-cpu.toml"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "supernet_methods"))
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    t_all = time.perf_counter()
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    bad = sorted(set(methods) - set(METHODS))
    if bad:
        raise SystemExit(f"unknown method(s) {bad}; choose from {', '.join(METHODS)}")
    if args.runs is None and not args.rescore:
        raise SystemExit("--runs DIR is needed to train and score (or pass --rescore to refit from the committed scores)")
    base: SupernetConfig = load_config(args.config)
    args.describe = (f"{base.data.source} {base.data.split} split, C={base.model.C}, N={base.model.N}, "
                     f"{base.train.epochs} epochs, batch {base.train.batch_size}")
    args.valid_size = base.eval.valid_size
    truth = load_truth(datasets=["cifar10"])
    true = truth_accuracy(truth, "cifar10")
    archs = sample_archs(args.sample, seed=args.seed, include_degenerate=False)
    sample_idx = np.array([a.index for a in archs])
    ws_name = f"ws_sample{args.sample}_seed{args.seed}.csv"
    lm_idx = _landmarks(args.landmarks, sample_idx, args.seed)
    if args.rescore:
        _write(_rescore(methods, sample_idx, true, args, lm_idx), args, t_all)
        return
    runs = Path(args.runs).expanduser()
    runs.mkdir(parents=True, exist_ok=True)
    lm_file = runs / f"landmarks{args.landmarks}_seed{args.seed}.csv"
    pd.DataFrame({"index": lm_idx, "true_acc": true[lm_idx]}).to_csv(lm_file, index=False)
    images = load_images(base)
    uniform_run = Path(args.uniform_run).expanduser() if args.uniform_run else runs / "uniform"
    ft_epochs = args.fewshot_epochs * len(split_patterns([int(e) for e in args.fewshot_edges.split(",")]))

    results: dict[str, dict[str, Any]] = {}
    for method in methods:
        t0 = time.perf_counter()
        info: dict[str, Any] = {"method": method}
        if method == "drnas":

            scfg, dcfg = load_drnas_config(args.drnas_config)
            run = runs / "drnas"
            train_drnas(scfg, dcfg, run, resume="auto")
            res = json.loads((run / "drnas_result.json").read_text())
            drlog = pd.read_csv(run / "drnas_log.csv")
            info.update(run=str(run), arch=res["arch_str"], index=res["index"], true_acc=float(true[res["index"]]),
                        train_seconds=float(drlog["seconds"].sum()), epochs=int(drlog["epoch"].max()),
                        concentration=res["concentration_by_edge"], max_prob=res["max_prob"],
                        history=[{**h, "true_acc": float(true[h["index"]])} for h in res["history"]])
            results[method] = info
            log.info("drnas: %s true acc %.2f", res["arch_str"], info["true_acc"])
            _write(results, args, t_all)
            continue
        if method == "uniform":
            run = uniform_run
            train_supernet(base, run, resume="auto", data=images)
            ws = evaluate_supernet(run, archs, run / ws_name, data=images)
            info["train_epochs"] = base.train.epochs
        elif method == "size":
            run = runs / "size"
            train_supernet(base.replace(sampling={"strategy": "size"}), run, resume="auto", data=images)
            ws = evaluate_supernet(run, archs, run / ws_name, data=images)
            info["train_epochs"] = base.train.epochs
        elif method == "landmarks":
            run = runs / "landmarks"
            cfg = base.replace(landmarks={"file": str(lm_file), "every": args.landmark_every,
                                          "weight": args.landmark_weight})
            train_supernet(cfg, run, resume="auto", data=images)
            ws = evaluate_supernet(run, archs, run / ws_name, data=images)
            info.update(train_epochs=base.train.epochs, landmarks=args.landmarks, landmark_every=args.landmark_every)
        elif method == "fewshot":
            train_supernet(base, uniform_run, resume="auto", data=images)
            run = runs / "fewshot"
            edges = [int(e) for e in args.fewshot_edges.split(",")]
            man = train_fewshot(uniform_run, run, edges, epochs=args.fewshot_epochs, lr=10 * base.train.lr_min,
                                data=images)
            ws = evaluate_fewshot(run, archs, run / ws_name, data=images)
            info.update(train_epochs=base.train.epochs + ft_epochs, edges=edges,
                        subs=len(man["subs"]), finetune_lr=man["lr"])
            info["train_seconds"] = _train_seconds(uniform_run) + sum(_train_seconds(run / s) for s in man["subs"])
        elif method == "uniform_ft":
            train_supernet(base, uniform_run, resume="auto", data=images)
            run = runs / "uniform_ft"
            ft_lr = 10 * base.train.lr_min  # the few-shot fine-tuning's lr
            cfg = base.replace(train={"epochs": ft_epochs, "lr": ft_lr, "lr_min": base.train.lr_min,
                                      "init_from": str((uniform_run / "checkpoint.pt").resolve())})
            train_supernet(cfg, run, resume="auto", data=images)
            ws = evaluate_supernet(run, archs, run / ws_name, data=images)
            info.update(train_epochs=base.train.epochs + ft_epochs, finetune_lr=ft_lr)
            info["train_seconds"] = _train_seconds(uniform_run) + _train_seconds(run)
        info.setdefault("train_seconds", _train_seconds(run))
        info["run"] = str(run)
        info.update(_scores(ws, true, args.threads, lm_idx))
        info["seconds_this_call"] = round(time.perf_counter() - t0, 1)
        results[method] = info
        ws.to_csv(Path(f"{args.out}_{method}_ws.csv.gz"), index=False)
        log.info("%s: raw tau %.3f top10 %.3f | gcn tau %.3f top10 %.3f", method, info["raw"]["kendall_tau"],
                 info["raw"]["top10pct_tau"], info["gcn_space"]["kendall_tau"], info["gcn_space"]["top10pct_tau"])
        _write(results, args, t_all)
    _write(results, args, t_all)


def _write(results: dict[str, dict[str, Any]], args: argparse.Namespace, t_all: float) -> None:
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    old = json.loads(Path(f"{out}.json").read_text())["methods"] if Path(f"{out}.json").exists() else {}
    merged = {**old, **results}  # methods run in an earlier call keep their rows
    meta = {"command": " ".join(sys.argv), "machine": platform.machine(), "date": time.strftime("%Y-%m-%d %H:%M"),
            "minutes_this_call": round((time.perf_counter() - t_all) / 60, 1)}
    Path(f"{out}.json").write_text(json.dumps({"meta": meta, "methods": merged}, indent=2, default=float) + "\n")
    rows = []
    for m in METHODS:
        r = merged.get(m)
        if r is None or m == "drnas":
            continue
        rows.append({"method": m, "train_epochs": r.get("train_epochs"), "train_min": r["train_seconds"] / 60,
                     **{f"raw_{k}": r["raw"][k] for k in KEYS}, **{f"gcn_{k}": r["gcn_space"][k] for k in KEYS},
                     **{f"gcnlm_{k}": r["gcn_landmarks_space"][k] for k in KEYS if "gcn_landmarks_space" in r}})
    table = pd.DataFrame(rows)
    table.to_csv(f"{out}.csv", index=False)
    md = [f"# Supernet methods on the same CPU budget ({meta['date']})", "",
          f"Each method from `{Path(args.config).name}` ({args.describe}, {args.threads} CPU "
          f"threads); scored on the same {args.sample} non-degenerate architectures (seed {args.seed}) with {args.valid_size} valid "
          f"images and BN recalibration. Raw = the supernet's scores on those architectures vs their CIFAR-10 test "
          "accuracy; GCN = the GCN fitted on those scores, predicting all 15,625 (degenerate cells included). Train "
          "minutes are wall time on a CPU that was partly shared with other work, so compare them loosely.", "",
          "| method | epochs | train min | raw tau | raw top-10% tau | raw P@top-5% | raw best | GCN tau | GCN top-10% tau | GCN P@top-5% | GCN best | GCN+lm tau | GCN+lm top-10% tau | GCN+lm best |",
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        md.append(f"| {r['method']} | {r['train_epochs']} | {r['train_min']:.1f} | {r['raw_kendall_tau']:.3f} | "
                  f"{r['raw_top10pct_tau']:.3f} | {r['raw_p_at_top5pct']:.3f} | {r['raw_pred_best_true']:.2f} | "
                  f"{r['gcn_kendall_tau']:.3f} | {r['gcn_top10pct_tau']:.3f} | {r['gcn_p_at_top5pct']:.3f} | "
                  f"{r['gcn_pred_best_true']:.2f} | {r.get('gcnlm_kendall_tau', np.nan):.3f} | "
                  f"{r.get('gcnlm_top10pct_tau', np.nan):.3f} | {r.get('gcnlm_pred_best_true', np.nan):.2f} |")
    if "drnas" in merged:
        d = merged["drnas"]
        md += ["", f"DrNAS (`{Path(args.drnas_config).name}`): found `{d['arch']}` (index {d['index']}), true CIFAR-10 "
               f"test accuracy **{d['true_acc']:.2f}** (anchor at full GPU scale: 94.36; optimum of the space 94.37), "
               f"{d['train_seconds'] / 60:.1f} min of search ({d['epochs']} epochs), mean max expected weight per edge "
               f"{d['max_prob']:.3f}. Derived architecture after each epoch (true accuracy): "
               + ", ".join(f"{h['epoch']}: #{h['index']} ({h['true_acc']:.2f})" for h in d["history"]) + "."]
    dates = ", ".join(sorted({r["rescored"] for r in merged.values() if "rescored" in r}))
    rescored = [f"The GCN columns were refitted on {dates} with the predictor default of that day from the committed "
                "`supernet_methods_<method>_ws.csv.gz` scores (`--rescore`); raw columns and training records are "
                "those of the original runs.", ""] if dates else []
    md += ["", f"Notes: `landmarks` uses the true accuracy of {args.landmarks} landmark architectures during training "
           "(none of them in the scored sample). `GCN+lm` columns give every method's GCN the same landmarks after "
           "the fact (the predictor's landmark correction, `LandmarkCorrection`), so the two uses of the same known "
           "accuracies can be compared. `fewshot` and `uniform_ft` continue the `uniform` run, and their epoch "
           "count and train minutes include it.", "",
           *rescored,
           f"Reproduce: `NASGCN_DATA=../shared/data python benchmarks/supernet_methods.py --runs RUNS` "
           f"(this call: `{meta['command']}`)", ""]
    Path(f"{out}.md").write_text("\n".join(md))
    if rows:
        _plot(table, f"{out}.png")


def _plot(table: pd.DataFrame, path: str) -> None:
    import matplotlib  # heavy import, needed only when a plot is drawn

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    x = np.arange(len(table))
    for ax, key, title in ((axes[0], "kendall_tau", "Kendall tau"), (axes[1], "top10pct_tau", "top-10% tau")):
        ax.bar(x - 0.2, table[f"raw_{key}"], 0.4, label="supernet (sample)")
        ax.bar(x + 0.2, table[f"gcn_{key}"], 0.4, label="GCN (all 15,625)")
        ax.set_xticks(x, table["method"], rotation=20)
        ax.axhline(0, color="k", lw=0.6)
        ax.set_title(title)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
