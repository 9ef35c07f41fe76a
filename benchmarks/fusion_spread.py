"""Should the fused score penalise the signals' disagreement?  A sweep on the TUNING seeds 0-4.

``FusionPredictor(spread_penalty=L)`` ranks by the weighted mean of the signals' normal scores less L
times their weighted standard deviation about it (``spread_``), so that a cell only some signals rate
high ranks below one they all rate as high on average.  Per weight-sharing source and seed (1,000
scores, the sources of ``fusion_head.py``) and per L, the table of ``nasgcn fit --ws --proxies`` is
fitted without landmarks, with 20 random landmarks (non-degenerate, a fresh draw per seed) and with 20
landmarks proposed by ``nasgcn landmarks propose`` from that L's own no-landmark table (one round of the
loop).  A landmark's row holds its true accuracy (as ``fit_table`` writes it), so "pick" is what a search
of the table would choose.  Scored on all 15,625 against the NAS-Bench-201 CIFAR-10 truth.  The GCN fits
depend on the seed and data only, so each is made once per seed and source and shared by every L
(``fusion_landmarks._Fitted``).  The proxies-only fusion (``nasgcn fit --proxies``, no weight-sharing
input) is swept beside them as its own row, without landmarks and with the random ones, and kept out of
the means over sources.

    NASGCN_DATA=../shared/data .venv/bin/python benchmarks/fusion_spread.py --seeds 0-4
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from predictor.acquisition import propose_landmarks
from predictor.table import LookupTable, fit_table, sample_ws

from fusion_landmarks import _Fitted, cached_sweep_setup  # benchmarks/ is on sys.path when run as a script
from signal_fusion import _score, _seeds, ws_sources

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
METRICS = ("kendall_tau", "top5pct_tau", "p_at_top5pct", "pred_best_true")
PENALTIES = (0.0, 0.25, 0.5, 0.75, 1.0)
K = 20
PROXIES_ONLY = "proxies only"
"""The pseudo-source of the proxies-only fusion (no weight-sharing scores)."""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0-4")
    ap.add_argument("--penalties", type=float, nargs="+", default=list(PENALTIES))
    ap.add_argument("--sources", default=None, help="comma-separated subset of the sources (default all four)")
    ap.add_argument("--proxies", default=str(RESULTS / "proxies_cifar10.csv.gz"))
    ap.add_argument("--out", default=str(RESULTS / "fusion_spread"))
    args = ap.parse_args()
    deg, pool, truth = cached_sweep_setup()
    sources: dict[str, pd.DataFrame | None] = {**ws_sources(args.sources), PROXIES_ONLY: None}
    out = Path(args.out)
    part = out.with_name(out.name + "_runs.partial.csv")
    done = pd.read_csv(part) if part.is_file() else pd.DataFrame()
    for name, ws_all in sources.items():
        for seed in _seeds(args.seeds):
            if len(done) and ((done["source"] == name) & (done["seed"] == seed)).any():
                continue
            _Fitted.cache.clear()
            ws = None if ws_all is None else sample_ws(ws_all, 1000, seed)
            rnd = np.sort(np.random.default_rng([seed, K, 0x1C]).choice(pool, K, replace=False))
            rows = []
            for lam in args.penalties:
                def fit(lm: pd.DataFrame | None) -> LookupTable:
                    return fit_table(ws, proxies=args.proxies, seed=seed, spread_penalty=lam, landmarks=lm)
                table = fit(None).df
                rows.append({"source": name, "seed": seed, "landmarks": "none", "penalty": lam,
                             **_score(table["pred_acc"].to_numpy(), truth, deg)})
                sets = [(f"{K} random", rnd)]
                if ws is not None:  # a proxies-only table has no pred_std to propose by
                    sets.append((f"{K} proposed", propose_landmarks(table, K, seed=seed)["index"].to_numpy()))
                for label, lm in sets:
                    pred = fit(pd.DataFrame({"index": lm, "true_acc": truth[lm]})).df["pred_acc"].to_numpy()
                    rows.append({"source": name, "seed": seed, "landmarks": label, "penalty": lam,
                                 **_score(pred, truth, deg), "best_landmark": float(truth[lm].max())})
            done = pd.concat([done, pd.DataFrame(rows)], ignore_index=True)
            done.to_csv(part, index=False)
            print(name, seed, " ".join(f"{r['penalty']:g}/{r['landmarks']}: {r['kendall_tau']:.3f}" for r in rows),
                  flush=True)
    d = done[done["seed"].isin(_seeds(args.seeds)) & done["source"].isin(list(sources))]
    d.to_csv(out.with_name(out.name + "_runs.csv"), index=False)
    keys = ["landmarks", "penalty"]
    ws_rows = d[d["source"] != PROXIES_ONLY]
    s = ws_rows.groupby(keys, sort=False)[list(METRICS)].agg(["mean", "min"])
    hits = ws_rows.assign(hit=ws_rows["pred_best_true"] >= 94.1).groupby(keys, sort=False)["hit"].agg(["sum", "size"])
    per = d.groupby(["source", *keys], sort=False)["kendall_tau"].mean().unstack("source")
    top = d.groupby(["source", *keys], sort=False)["top5pct_tau"].mean().unstack("source")
    cmd = f"NASGCN_DATA=../shared/data .venv/bin/python benchmarks/fusion_spread.py --seeds {args.seeds}"
    cmd += f" --sources {args.sources}" if args.sources else ""
    cmd += "" if tuple(args.penalties) == PENALTIES else " --penalties " + " ".join(f"{x:g}" for x in args.penalties)
    cmd += "" if Path(args.out) == RESULTS / "fusion_spread" else f" --out {args.out}"
    lines = [f"# Spread penalty of the fused score, tuning seeds {args.seeds}", "",
             f"Run: `{cmd}`. Mean (worst run) over the weight-sharing sources "
             f"({', '.join(k for k in sources if k != PROXIES_ONLY)}) and seeds; penalty = "
             "`spread_penalty` (`nasgcn fit --spread-penalty`); pick = true accuracy of the table's best cell "
             "(landmarks at their true accuracy), runs >= 94.1 of all.", "",
             "| landmarks | penalty | tau | top-5% tau | P@top-5% | pick | pick >= 94.1 |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for key, r in s.iterrows():
        lines.append(f"| {key[0]} | {key[1]:g} | "
                     + " | ".join(f"{r[(m, 'mean')]:.3f} ({r[(m, 'min')]:.3f})" for m in METRICS)
                     + f" | {hits.loc[key, 'sum']} / {hits.loc[key, 'size']} |")
    for title, tab in (("Kendall tau", per), ("Top-5% tau", top)):
        lines += ["", f"{title} per source (mean over seeds):", "",
                  "| landmarks | penalty | " + " | ".join(tab.columns) + " |", "|---|---:|" + "---:|" * len(tab.columns)]
        for key, r in tab.iterrows():
            lines.append(f"| {key[0]} | {key[1]:g} | " + " | ".join("-" if np.isnan(v) else f"{v:.3f}" for v in r) + " |")
    out.with_name(out.name + ".md").write_text("\n".join(lines) + "\n")
    part.unlink()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
