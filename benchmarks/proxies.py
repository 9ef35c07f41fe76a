"""Zero-cost proxies of the whole space: cost on this CPU, agreement with NASLib, ranking vs the truth.

With ``--compute`` it runs ``nasgcn proxies`` on all 15,625 architectures (6,466 classes) as two
single-threaded torchrun processes (the 2-core machine's best split) and times it; otherwise it reads
an existing table and its sidecar.  Then, on the 724 CIFAR-10 rows of NASLib's zero-cost subset
(``nb201_naslib_zc_subset.csv.gz``), it reports per proxy: Spearman between our values and NASLib's,
and Kendall tau vs the NAS-Bench-201 CIFAR-10 truth of ours and of theirs on the same rows; and on all
15,625 architectures, each proxy's Kendall tau and top-5% tau vs the truth.

    NASGCN_DATA=../shared/data .venv/bin/python benchmarks/proxies.py --compute   # ~20-22 min on 2 idle cores
    NASGCN_DATA=../shared/data .venv/bin/python benchmarks/proxies.py             # reuse the table
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import kendalltau, spearmanr

from predictor.truth import load_truth, truth_accuracy
from predictor.metrics import evaluate_ranking
from supernet.paths import data_path
from supernet.proxies import PROXIES
from supernet.space import degenerate_mask

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--table", default=str(REPO / "benchmarks/results/proxies_cifar10.csv.gz"))
    ap.add_argument("--compute", action="store_true", help="(re)compute the table first, timed")
    ap.add_argument("--out", default=str(REPO / "benchmarks/results/proxies"))
    args = ap.parse_args()
    table = Path(args.table)
    if args.compute:
        env = dict(os.environ, OMP_NUM_THREADS="1")
        t0 = time.perf_counter()
        subprocess.run([str(Path(sys.executable).with_name("torchrun")), "--standalone", "--nproc_per_node=2", "-m",
                        "predictor.cli", "proxies", "--out", str(table), "--no-progress"], check=True, env=env)
        wall = time.perf_counter() - t0
    else:
        wall = None
    side = json.loads(Path(str(table) + ".json").read_text())
    ours = pd.read_csv(table).set_index("index").sort_index()
    true = np.asarray(truth_accuracy(load_truth(), "cifar10"), dtype=np.float64)
    zc = pd.read_csv(data_path("nb201", "nb201_naslib_zc_subset.csv.gz"))
    zc = zc[zc["dataset"] == "cifar10"].set_index("index")
    zc = zc[~degenerate_mask()[zc.index.to_numpy()]]  # NASLib's -inf nwot rows are degenerate cells
    rows = []
    for p in PROXIES:
        a, b, t = ours.loc[zc.index, p].to_numpy(), zc["zc_" + p].to_numpy(), true[zc.index.to_numpy()]
        ok = np.isfinite(a) & np.isfinite(b)
        full = ours[p].to_numpy()
        deg = degenerate_mask()
        score = np.where(deg, np.nanmin(full) - 1.0, full)
        r = evaluate_ranking(score, true, degenerate=deg)
        rows.append({
            "proxy": p, "rows": int(ok.sum()),
            "spearman_ours_vs_naslib": spearmanr(a[ok], b[ok])[0],
            "tau_vs_truth_ours": kendalltau(a[ok], t[ok])[0], "tau_vs_truth_naslib": kendalltau(b[ok], t[ok])[0],
            "tau_all_15625": r["kendall_tau"], "top5pct_tau_all": r["top5pct_tau"], "p_at_top5pct_all": r["p_at_top5pct"],
        })
    df = pd.DataFrame(rows)
    df["tau_difference"] = df["tau_vs_truth_ours"] - df["tau_vs_truth_naslib"]
    df["agrees"] = (df["spearman_ours_vs_naslib"] >= 0.9) & (df["tau_difference"].abs() <= 0.03)
    out = Path(args.out)
    df.to_csv(out.with_suffix(".csv"), index=False)
    secs = side.get("seconds")
    lines = [
        "# Zero-cost proxies: cost, agreement with NASLib, ranking", "",
        f"Table `{table.name}`: {side['architectures']} architectures, {side['classes_scored']} classes scored, "
        f"{side['degenerate']} degenerate (NaN); C={side['config']['C']} N={side['config']['N']}, "
        f"{side['config']['batch_size']} {side['images']} training images, seed {side['config']['seed']}, "
        f"torch {side['torch']}, {side['device']}.",
        f"Wall time: {secs:.0f} s ({secs / 60:.1f} min) for all classes with all {len(PROXIES)} proxies, as two "
        "single-threaded torchrun processes on this 2-core CPU" + (f" (this run, timed by the script: {wall:.0f} s)" if wall else
        " (rank 0's time from the table's sidecar)") + ".",
        "", "Command: `NASGCN_DATA=../shared/data OMP_NUM_THREADS=1 torchrun --standalone --nproc_per_node=2 -m predictor.cli "
        "proxies --out benchmarks/results/proxies_cifar10.csv.gz`", "",
        "| proxy | Spearman ours vs NASLib (724 rows) | tau vs truth, ours | tau vs truth, NASLib | difference | agrees (>= 0.9, within 0.03) | tau, all 15,625 | top-5% tau, all | P@top-5%, all |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for _, r in df.iterrows():
        lines.append(f"| {r['proxy']} | {r['spearman_ours_vs_naslib']:.3f} | {r['tau_vs_truth_ours']:.3f} | "
                     f"{r['tau_vs_truth_naslib']:.3f} | {r['tau_difference']:+.3f} | {'yes' if r['agrees'] else 'no'} | "
                     f"{r['tau_all_15625']:.3f} | {r['top5pct_tau_all']:+.3f} | {r['p_at_top5pct_all']:.3f} |")
    lines += ["", "NASLib's rows are its `zc_nasbench201.json` CIFAR-10 entries; its degenerate cells (nwot = -inf) "
              "are left out of the comparison, as our table leaves them NaN."]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
