"""Per-class cost of the zero-cost proxies: the toolkit's path against the plain reference computation.

Both compute the same five proxies of the same isomorphism-class representatives on the same CIFAR-10
minibatch, one thread, interleaved (each class scored by both, the order alternating) so that a machine
shared with other work slows both alike.  ``score_proxies`` is the path ``nasgcn proxies`` runs (the
network re-initialised in a supernet kept between classes rather than built, channels-last input on
CPU, each node's ReLU and nwot kernel computed once, loss gradients of the weights only, synflow by one
float32 path-count pass on the live edges); ``reference_scores`` is the plain way (a fresh network, a
kernel per ReLU, contiguous memory, ``backward()`` into every parameter, float64 autograd synflow
through every edge).  Both share the kernel function (:func:`supernet.proxies.same_pattern_counts`).

    NASGCN_DATA=../shared/data .venv/bin/python benchmarks/proxies_speed.py --classes 60

Writes benchmarks/results/proxies_speed.{md,json}.  The whole-space wall time is ``benchmarks/proxies.py
--compute``'s (results/proxies.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import kendalltau

from supernet.classjobs import representatives
from supernet.proxies import PROXIES, ProxyConfig, load_proxy_images, proxy_batch, reference_scores, score_proxies
from supernet.space import all_archs

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--classes", type=int, default=60, help="class representatives drawn at random")
    ap.add_argument("--seed", type=int, default=0, help="seed of the draw")
    ap.add_argument("--out", default=str(REPO / "benchmarks/results/proxies_speed"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    train, source = load_proxy_images("auto", progress=False)
    cfg = ProxyConfig()
    x, y, _ = proxy_batch(train, cfg, torch.device("cpu"))
    reps = representatives(list(all_archs()), canonical=True)
    keys = sorted(reps)
    pick = np.random.default_rng([args.seed, 0x5EED]).choice(len(keys), size=args.classes, replace=False)
    archs = [reps[keys[i]] for i in pick]
    fns = {"toolkit": score_proxies, "reference": reference_scores}
    secs = {k: [] for k in fns}
    vals = {k: [] for k in fns}
    score_proxies(archs[0], x, y, cfg)  # warm-up: first-call allocations and kernel selection
    for i, a in enumerate(archs):
        for name in (list(fns) if i % 2 == 0 else list(fns)[::-1]):
            t0 = time.perf_counter()
            vals[name].append(fns[name](a, x, y, cfg))
            secs[name].append(time.perf_counter() - t0)
    tk, ref = np.asarray(vals["toolkit"]), np.asarray(vals["reference"])
    per = {k: float(np.mean(v)) for k, v in secs.items()}
    ratio = per["reference"] / per["toolkit"]
    paired = np.asarray(secs["reference"]) / np.asarray(secs["toolkit"])
    agree = {p: {"max_rel_diff": float(np.max(np.abs(tk[:, j] - ref[:, j]) / np.abs(ref[:, j]))),
                 "kendall_tau": float(kendalltau(tk[:, j], ref[:, j])[0])} for j, p in enumerate(PROXIES)}
    res = {"classes": args.classes, "seed": args.seed, "images": source, "config": dataclasses.asdict(cfg),
           "seconds_per_class": per, "speedup": ratio, "speedup_paired_median": float(np.median(paired)),
           "speedup_paired_min_max": [float(paired.min()), float(paired.max())], "agreement": agree,
           "torch": torch.__version__, "machine": platform.machine(), "date": time.strftime("%Y-%m-%d %H:%M")}
    out = Path(args.out)
    out.with_suffix(".json").write_text(json.dumps(res, indent=2) + "\n")
    lines = [
        "# Zero-cost proxies: per-class cost, toolkit path vs plain reference", "",
        f"{args.classes} class representatives (seed {args.seed}), C={cfg.C} N={cfg.N}, {cfg.batch_size} {source} "
        f"training images, one thread, interleaved; torch {torch.__version__}, {res['date']}.", "",
        "| | s per class | ratio |", "|---|---:|---:|",
        f"| reference (plain) | {per['reference']:.3f} | 1.00x |",
        f"| toolkit (`score_proxies`) | {per['toolkit']:.3f} | **{ratio:.2f}x** |", "",
        f"Per class, reference / toolkit: median {res['speedup_paired_median']:.2f}x, range "
        f"{paired.min():.2f}-{paired.max():.2f}x.", "",
        "| proxy | max relative difference | Kendall tau between the two |", "|---|---:|---:|",
        *[f"| {p} | {a['max_rel_diff']:.1e} | {a['kendall_tau']:.4f} |" for p, a in agree.items()], "",
        "Command: `NASGCN_DATA=../shared/data .venv/bin/python benchmarks/proxies_speed.py "
        f"--classes {args.classes} --seed {args.seed}`",
    ]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
