"""snip and grad_norm in the fusion: left out, added, or reversed (a negative weight)?

Alone, snip and grad_norm rank the truth at tau 0.46; added with positive weights they lowered the
fused tau, so until 2026-12-04 they weighed 0.  This records why they now enter reversed
(``DEFAULT_WEIGHTS``: -0.25 each), in three parts:

1. **The peer's values** (chosen here first): NASLib's proxies of the shared subset
   (``nb201_naslib_zc_subset.csv.gz``, about 724 architectures per dataset, its own validation
   accuracy), CIFAR-10, CIFAR-100 and ImageNet16-120.  The fusion of ``predictor.fusion.fuse`` over
   nwot, synflow, jacov and params (normal scores of their ranks over the subset), with snip /
   grad_norm left out, added or reversed, with the plain mean (L = 0) and the default spread penalty.
2. **This project's whole-space proxies**: the proxies-only table of ``nasgcn fit --proxies``
   (``fit_table``) for the same weights, scored on all 15,625 against the CIFAR-10 truth.  It has no
   seed, so it is the same table on every seed.
3. **With weight-sharing scores**, on the TUNING seeds (default 0-4; sources of ``ws_sources``, by
   default the published one-shot file and the project's CPU supernet): ``fit_table`` with the weights
   before (snip / grad_norm 0) and after, without landmarks, with 20 random landmarks (a fresh draw
   per seed) and with the 20 that ``nasgcn landmarks propose`` takes on the no-landmark table (one round
   of the loop; "best landmark" is the truest of them).  The GCN fits are shared by both weightings (``fusion_landmarks._Fitted``).

    NASGCN_DATA=../shared/data .venv/bin/python benchmarks/fusion_reversed.py --seeds 0-4
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import ndtri
from scipy.stats import kendalltau, rankdata, spearmanr

from predictor import graphs as G
from predictor.acquisition import propose_landmarks
from predictor.fusion import DEFAULT_SPREAD_PENALTY, DEFAULT_WEIGHTS, fuse, normal_scores, read_signal_table
from predictor.table import fit_table, sample_ws
from supernet.paths import data_path
from supernet.space import NUM_ARCHS

from fusion_landmarks import _Fitted, cached_sweep_setup  # benchmarks/ is on sys.path when run as a script
from signal_fusion import _score, _seeds, ws_sources

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
METRICS = ("kendall_tau", "top5pct_tau", "p_at_top5pct", "pred_best_true")
K = 20
BEFORE = {"snip": 0.0, "grad_norm": 0.0}
"""The loss-gradient proxies' weights before 2026-12-04."""
VARIANTS: dict[str, dict[str, float]] = {
    "left out (before)": BEFORE,
    "added, 0.25 each": {"snip": 0.25, "grad_norm": 0.25},
    "snip reversed, 0.5": {"snip": -0.5, "grad_norm": 0.0},
    "grad_norm reversed, 0.5": {"snip": 0.0, "grad_norm": -0.5},
    "both reversed, 0.25 each (default)": {"snip": DEFAULT_WEIGHTS["snip"], "grad_norm": DEFAULT_WEIGHTS["grad_norm"]},
}
NASLIB = {"nwot": "zc_nwot", "synflow": "zc_synflow", "jacov": "zc_jacov", "params": "params_M",
          "snip": "zc_snip", "grad_norm": "zc_grad_norm"}
"""This project's signal names -> the NASLib subset's columns."""


def naslib_rows() -> list[dict[str, object]]:
    """Part 1: tau against NASLib's validation accuracy of each variant's fusion, per dataset and L."""
    sub = pd.read_csv(data_path("nb201", "nb201_naslib_zc_subset.csv.gz"))
    rows: list[dict[str, object]] = []
    for ds, d in sub.groupby("dataset", sort=False):
        Z = {k: ndtri((rankdata(d[c].to_numpy(dtype=np.float64)) - 0.5) / len(d)) for k, c in NASLIB.items()}
        for label, extra in VARIANTS.items():
            w = {"nwot": 1.0, "synflow": 1.0, "jacov": 1.0, "params": 1.0, **extra}
            w = {k: x for k, x in w.items() if x != 0}
            for lam in (0.0, DEFAULT_SPREAD_PENALTY):
                f, _ = fuse(np.column_stack([Z[k] for k in w]), np.array(list(w.values())), lam)
                rows.append({"part": "naslib", "dataset": ds, "n": len(d), "variant": label, "penalty": lam,
                             "kendall_tau": float(kendalltau(f, d["val_accuracy"])[0])})
    return rows


def interaction_lines(proxies: str, truth: np.ndarray, deg: np.ndarray) -> list[str]:
    """Part 2b: Spearman of snip / grad_norm with the truth within bins of the other signals' plain mean
    (this project's whole-space proxies): why a reversed signal helps through the spread penalty."""
    sig = read_signal_table(proxies)
    sig["params"] = G.graph_features(np.arange(NUM_ARCHS), ["params"])[:, 0]
    live = ~deg
    Z = {c: normal_scores(sig[c].to_numpy())[live] for c in sig.columns}
    m, _ = fuse(np.column_stack([Z[c] for c in ("nwot", "synflow", "jacov", "params")]), np.ones(4), 0.0)
    t = truth[live]
    q = np.quantile(m, [0, 0.2, 0.4, 0.6, 0.8, 0.95, 1])
    lines = ["", "Within bins of the plain mean of nwot, synflow, jacov and params (its 0/20/40/60/80/95/100% "
             f"quantiles over the {int(live.sum()):,} non-degenerate cells), Spearman with the truth:", "",
             "| bin of the others' mean | cells | snip | grad_norm | the others' mean |", "|---|---:|---:|---:|---:|"]
    for i, (a, b) in enumerate(zip(q[:-1], q[1:])):
        s = (m >= a) & (m <= b) if i == 0 else (m > a) & (m <= b)
        r = [spearmanr(Z[c][s], t[s])[0] for c in ("snip", "grad_norm")] + [spearmanr(m[s], t[s])[0]]
        lines.append(f"| {a:+.2f} .. {b:+.2f} | {int(s.sum())} | " + " | ".join(f"{x:+.3f}" for x in r) + " |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0-4")
    ap.add_argument("--sources", default="one-shot,supernet_cpu", help="comma-separated weight-sharing sources")
    ap.add_argument("--proxies", default=str(RESULTS / "proxies_cifar10.csv.gz"))
    ap.add_argument("--out", default=str(RESULTS / "fusion_reversed"))
    args = ap.parse_args()
    deg, pool, truth = cached_sweep_setup()
    out = Path(args.out)
    rows = naslib_rows()
    for label, extra in VARIANTS.items():
        pred = fit_table(None, proxies=args.proxies, fusion_weights=extra).df["pred_acc"].to_numpy()
        rows.append({"part": "proxies-only", "variant": label, **_score(pred, truth, deg)})
    part = out.with_name(out.name + "_runs.partial.csv")
    done = pd.read_csv(part) if part.is_file() else pd.DataFrame()
    for name, ws_all in ws_sources(args.sources).items():
        for seed in _seeds(args.seeds):
            if len(done) and ((done["source"] == name) & (done["seed"] == seed)).any():
                continue
            _Fitted.cache.clear()
            ws = sample_ws(ws_all, 1000, seed)
            rnd = np.sort(np.random.default_rng([seed, K, 0x1C]).choice(pool, K, replace=False))
            new = []
            for label in (next(iter(VARIANTS)), list(VARIANTS)[-1]):
                table = fit_table(ws, proxies=args.proxies, seed=seed, fusion_weights=VARIANTS[label]).df
                prop = propose_landmarks(table, K, seed=seed)["index"].to_numpy()
                new.append({"part": "with ws", "source": name, "seed": seed, "variant": label, "landmarks": "none",
                            **_score(table["pred_acc"].to_numpy(), truth, deg)})
                for lab_lm, idx in ((f"{K} random", rnd), (f"{K} proposed", prop)):
                    landmarks = pd.DataFrame({"index": idx, "true_acc": truth[idx]})
                    pred = fit_table(ws, proxies=args.proxies, seed=seed, fusion_weights=VARIANTS[label],
                                     landmarks=landmarks).df["pred_acc"].to_numpy()
                    new.append({"part": "with ws", "source": name, "seed": seed, "variant": label, "landmarks": lab_lm,
                                **_score(pred, truth, deg), "best_landmark": float(truth[idx].max())})
            done = pd.concat([done, pd.DataFrame(new)], ignore_index=True)
            done.to_csv(part, index=False)
            print(name, seed, " ".join(f"{r['variant'][:10]}/{r['landmarks']}: {r['kendall_tau']:.3f}" for r in new),
                  flush=True)
    d = pd.concat([pd.DataFrame(rows), done], ignore_index=True)
    d.to_csv(out.with_name(out.name + "_runs.csv"), index=False)
    cmd = f"NASGCN_DATA=../shared/data .venv/bin/python benchmarks/fusion_reversed.py --seeds {args.seeds} --sources {args.sources}"
    lines = ["# snip and grad_norm in the fusion: left out, added or reversed", "", f"Run: `{cmd}`.", "",
             "## 1. NASLib's proxies of the shared subset (Kendall tau against its validation accuracy)", "",
             "nwot + synflow + jacov + params, weight 1 each, plus snip / grad_norm as the row says.", ""]
    nl = d[d["part"] == "naslib"]
    piv = nl.pivot_table(index="variant", columns=["dataset", "penalty"], values="kendall_tau", sort=False)
    lines += ["| variant | " + " | ".join(f"{ds} (n={int(nl[nl['dataset'] == ds]['n'].iloc[0])}), L = {lam:g}"
                                          for ds, lam in piv.columns) + " |",
              "|---|" + "---:|" * len(piv.columns)]
    lines += [f"| {v} | " + " | ".join(f"{x:.3f}" for x in r) + " |" for v, r in piv.iterrows()]
    lines += ["", "## 2. This project's whole-space proxies: the proxies-only table (`nasgcn fit --proxies`)", "",
              "| variant | tau | top-5% tau | P@top-5% | pick |", "|---|---:|---:|---:|---:|"]
    for _, r in d[d["part"] == "proxies-only"].iterrows():
        lines.append(f"| {r['variant']} | " + " | ".join(f"{r[m]:.3f}" if m != "pred_best_true" else f"{r[m]:.2f}"
                                                       for m in METRICS) + " |")
    lines += interaction_lines(args.proxies, truth, deg)
    ws_part = d[d["part"] == "with ws"]
    if len(ws_part):
        lines += ["", f"## 3. With weight-sharing scores, tuning seeds {args.seeds} (mean (worst seed))", "",
                  "| source | landmarks | variant | tau | top-5% tau | P@top-5% | pick | best landmark |",
                  "|---|---|---|---:|---:|---:|---:|---:|"]
        g = ws_part.groupby(["source", "landmarks", "variant"], sort=False)[[*METRICS, "best_landmark"]].agg(["mean", "min"])
        for key, r in g.iterrows():
            best = "-" if np.isnan(r[("best_landmark", "mean")]) else \
                f"{r[('best_landmark', 'mean')]:.2f} ({r[('best_landmark', 'min')]:.2f})"
            lines.append(f"| {key[0]} | {key[1]} | {key[2]} | "
                         + " | ".join(f"{r[(m, 'mean')]:.3f} ({r[(m, 'min')]:.3f})" for m in METRICS) + f" | {best} |")
        wide = ws_part.pivot_table(index=["source", "landmarks", "seed"], columns="variant", values="kendall_tau")
        better = (wide[list(VARIANTS)[-1]] > wide[next(iter(VARIANTS))]).groupby(level=[0, 1]).agg(["sum", "size"])
        lines += ["", "Runs in which the reversed weights rank higher (tau) than the weights before:", ""]
        lines += [f"- {s}, landmarks {l}: {int(r['sum'])} / {int(r['size'])}" for (s, l), r in better.iterrows()]
    out.with_name(out.name + ".md").write_text("\n".join(lines) + "\n")
    if part.is_file():
        part.unlink()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
