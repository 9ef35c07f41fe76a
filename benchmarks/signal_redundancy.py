"""How much of a supernet's completed scores the free signals already say (``signal_redundancy``).

``nasgcn fit`` prints, for the completed weight-sharing signal, the Pearson correlation over the space of
its completion with the fusion of the signals known everywhere (``FusionPredictor.redundancy_``): a
figure that needs no truth.  This measures it on the TUNING seeds for every committed weight-sharing
file (the published one-shot file, 1,000 scores drawn afresh per seed; the project's own supernets, their
one committed 1,000-architecture sample each), beside the fused table's Kendall tau and the proxies-only
fusion's, so the reference ranges ``nasgcn fit`` prints come from a committed run.

    NASGCN_DATA=../shared/data .venv/bin/python benchmarks/signal_redundancy.py --seeds 0-2
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from predictor.table import fit_table, sample_ws

from fusion_landmarks import cached_sweep_setup  # benchmarks/ is on sys.path when run as a script
from signal_fusion import _score, _seeds, ws_sources

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
OWN = ("supernet_cpu", "supernet_methods_uniform_ft", "supernet_methods_fewshot", "supernet_methods_uniform",
       "supernet_methods_size", "supernet_methods_landmarks")
"""Every committed score file of the project's own supernets."""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0-2")
    ap.add_argument("--proxies", default=str(RESULTS / "proxies_cifar10.csv.gz"))
    ap.add_argument("--out", default=str(RESULTS / "signal_redundancy"))
    args = ap.parse_args()
    deg, _, truth = cached_sweep_setup()
    proxies_only = _score(fit_table(None, proxies=args.proxies).df["pred_acc"].to_numpy(), truth, deg)["kendall_tau"]
    rows = []
    for name, ws_all in ws_sources(own=OWN).items():
        for seed in _seeds(args.seeds):
            t = fit_table(sample_ws(ws_all, 1000, seed), proxies=args.proxies, seed=seed)
            rows.append({"source": name, "seed": seed, "redundancy": t.meta["signal_redundancy"]["ws"],
                         "kendall_tau": _score(t.df["pred_acc"].to_numpy(), truth, deg)["kendall_tau"]})
            print(rows[-1], flush=True)
    d = pd.DataFrame(rows)
    out = Path(args.out)
    d.to_csv(out.with_name(out.name + "_runs.csv"), index=False)
    g = d.groupby("source", sort=False).agg(r_min=("redundancy", "min"), r_max=("redundancy", "max"),
                                             tau=("kendall_tau", "mean"))
    lines = [f"# Signal redundancy of the weight-sharing completion, tuning seeds {args.seeds}", "",
             f"Run: `NASGCN_DATA=../shared/data .venv/bin/python benchmarks/signal_redundancy.py --seeds {args.seeds}`. "
             "r: Pearson correlation of the completed ws normal score with the fusion of the whole-space signals "
             f"(the sidecar's `signal_redundancy`); tau: the default fused table's, against the proxies-only "
             f"fusion's {proxies_only:.3f}.", "",
             "| weight-sharing file | r (min .. max over seeds) | fused tau (mean) | vs proxies-only |",
             "|---|---:|---:|---:|"]
    for name, r in g.iterrows():
        lines.append(f"| {name} | {r['r_min']:.2f} .. {r['r_max']:.2f} | {r['tau']:.3f} | {r['tau'] - proxies_only:+.3f} |")
    out.with_name(out.name + ".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
