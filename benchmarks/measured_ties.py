"""Does a measured landmark win a tie with a prediction?  The rule of ``fit_table`` on the TUNING seeds.

A table with landmarks holds each landmark's measured accuracy and lowers every other non-degenerate
prediction by :data:`~predictor.table.fit.MEASURED_TIE` (1e-4 points), so that a search picks a measured
cell over an unmeasured one predicted level with it.  Per weight-sharing source and seed (1,000 scores,
the sources of ``fusion_spread.py``, its default spread penalty) the fused table of ``nasgcn fit --ws
--proxies`` is fitted with 20 random landmarks (a fresh draw per seed) and with 20 landmarks proposed by
``nasgcn landmarks propose`` from the seed's no-landmark table (one round of the loop); the proxies-only
fusion takes the random ones.  Each table is scored as written (the rule) and with the unmeasured rows
raised back by the margin (no rule: the table before the rule), on all 15,625 against the NAS-Bench-201
CIFAR-10 truth.  "margin" is how far the best unmeasured prediction lies above the best landmark without
the rule (points; negative: below it).

    NASGCN_DATA=../shared/data .venv/bin/python benchmarks/measured_ties.py --seeds 0-9
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from predictor.acquisition import propose_landmarks
from predictor.table import fit_table, sample_ws
from predictor.table.fit import MEASURED_TIE

from fusion_landmarks import _Fitted, cached_sweep_setup  # benchmarks/ is on sys.path when run as a script
from fusion_spread import PROXIES_ONLY
from signal_fusion import _score, _seeds, ws_sources

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
K = 20


def _pick(pred: np.ndarray, truth: np.ndarray) -> float:
    """True accuracy (%) of the table's best cell (the first of equal predictions, as the search takes it)."""
    return float(truth[int(np.argsort(-pred, kind="stable")[0])])


def run(name: str, ws: pd.DataFrame | None, seed: int, proxies: str, pool: np.ndarray, truth: np.ndarray,
        deg: np.ndarray) -> list[dict]:
    """The rows of one source and seed: per landmark set, tau, top-5% tau and pick with and without the rule."""
    rnd = np.sort(np.random.default_rng([seed, K, 0x1C]).choice(pool, K, replace=False))
    sets = [(f"{K} random", rnd)]
    if ws is not None:  # a proxies-only table has no pred_std to propose by
        table = fit_table(ws, proxies=proxies, seed=seed).df
        sets.append((f"{K} proposed", propose_landmarks(table, K, seed=seed)["index"].to_numpy()))
    rows = []
    for label, lm in sets:
        ruled = fit_table(ws, proxies=proxies, seed=seed,
                          landmarks=pd.DataFrame({"index": lm, "true_acc": truth[lm]})).df["pred_acc"].to_numpy()
        plain = ruled.copy()
        free = ~deg
        free[lm] = False
        plain[free] += MEASURED_TIE
        row = {"source": name, "seed": seed, "landmarks": label, "best_landmark": float(truth[lm].max()),
               "margin": float(plain[free].max() - truth[lm].max())}
        for tag, pred in (("rule", ruled), ("no rule", plain)):
            s = _score(pred, truth, deg)
            row.update({f"tau {tag}": s["kendall_tau"], f"top5 {tag}": s["top5pct_tau"],
                        f"pick {tag}": _pick(np.where(deg, -np.inf, pred), truth)})
        rows.append(row)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0-9")
    ap.add_argument("--sources", default=None, help="comma-separated subset of the sources (default all four)")
    ap.add_argument("--proxies", default=str(RESULTS / "proxies_cifar10.csv.gz"))
    ap.add_argument("--out", default=str(RESULTS / "measured_ties"))
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
            rows = run(name, ws, seed, args.proxies, pool, truth, deg)
            done = pd.concat([done, pd.DataFrame(rows)], ignore_index=True)
            done.to_csv(part, index=False)
            print(name, seed, " ".join(f"{r['landmarks']}: pick {r['pick no rule']:.2f} -> {r['pick rule']:.2f}, "
                                       f"margin {r['margin']:+.2e}" for r in rows), flush=True)
    d = done[done["seed"].isin(_seeds(args.seeds)) & done["source"].isin(list(sources))]
    d.to_csv(out.with_name(out.name + "_runs.csv"), index=False)
    cmd = f"NASGCN_DATA=../shared/data .venv/bin/python benchmarks/measured_ties.py --seeds {args.seeds}"
    cmd += f" --sources {args.sources}" if args.sources else ""
    cmd += "" if out == RESULTS / "measured_ties" else f" --out {args.out}"
    lines = [f"# Measured landmarks win ties (margin {MEASURED_TIE:g} points), tuning seeds {args.seeds}", "",
             f"Run: `{cmd}`. Per landmark set, over the sources' runs: mean tau and top-5% tau, mean pick "
             "(true accuracy of the table's best cell), runs whose pick is >= 94.1, and runs whose pick the "
             "rule changed.", "",
             "| landmarks | sources | runs | tau no rule / rule | top-5% tau no rule / rule | pick no rule / rule "
             "| pick >= 94.1 no rule / rule | picks changed |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    for (label, proxies_only), g in d.groupby(["landmarks", d["source"] == PROXIES_ONLY], sort=False):
        changed = g[g["pick rule"] != g["pick no rule"]]
        lines.append(
            f"| {label} | {'proxies only' if proxies_only else 'weight-sharing'} | {len(g)} | "
            f"{g['tau no rule'].mean():.4f} / {g['tau rule'].mean():.4f} | "
            f"{g['top5 no rule'].mean():.4f} / {g['top5 rule'].mean():.4f} | "
            f"{g['pick no rule'].mean():.2f} / {g['pick rule'].mean():.2f} | "
            f"{int((g['pick no rule'] >= 94.1).sum())} / {int((g['pick rule'] >= 94.1).sum())} | "
            + (", ".join(f"{r['source']} {r['seed']}: {r['pick no rule']:.2f} -> {r['pick rule']:.2f}"
                         for _, r in changed.iterrows()) or "none") + " |")
    tied = d[(d["margin"] > 0) & (d["margin"] <= MEASURED_TIE)]
    lines += ["", f"Runs with the best unmeasured prediction above the best landmark by at most {MEASURED_TIE:g} "
              f"points (a tie): {len(tied)} of {len(d)}; above it by more (an extrapolation past every landmark): "
              f"{int((d['margin'] > MEASURED_TIE).sum())}."]
    out.with_name(out.name + ".md").write_text("\n".join(lines) + "\n")
    part.unlink()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
