"""How should landmarks enter the fused table?  A sweep of the landmark path on the TUNING seeds.

Per weight-sharing source and seed (1,000 scores, as in ``fusion_ws_weight.py``) and per landmark set, a
:class:`predictor.fusion.FusionPredictor` (what ``nasgcn fit --ws --proxies --landmarks`` fits) over the
signals ``fit_table`` uses (ws, the proxy table's columns, params), in four variants:

- ``twin`` weight 0 or 3: the landmark-corrected weight-sharing signal ``ws_lm`` left out or in;
- ``map``: ``signals`` (a non-negative ridge on the fused score and every signal's normal score, the
  design before 2026-12-02), ``linear`` (the same ridge on the fused score alone, the default of
  2026-12-02) or ``isotonic`` (the isotonic regression on the fused score with the linear map's slope
  beyond the landmarks, the default that came out of this sweep).

Landmark sets: ``random`` (K random non-degenerate cells, for each ``--counts`` K) and ``proposed`` (20
cells proposed by ``nasgcn landmarks propose`` from the default no-landmark table, as one round of the
loop ``nasgcn run`` drives: half from the predicted top).  Each landmark gets its NAS-Bench-201 accuracy.
The table's landmark rows hold their true accuracy (as ``fit_table`` writes them), so "pick" is what a
search of the refitted table would choose.
Scored on all 15,625 against the truth, beside the fusion without landmarks.  The GCN fits (the ws
completion and the landmark-base GCN) depend on the seed only, so they are fitted once per seed and
source and reused across variants (the same fits ``FusionPredictor`` would make each time).

    NASGCN_DATA=../shared/data .venv/bin/python benchmarks/fusion_landmarks.py --seeds 0-4
"""

from __future__ import annotations

import argparse
import hashlib
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

import predictor.fusion.estimator as fusion  # where FusionPredictor looks up make_model
from predictor import graphs as G
from predictor.acquisition import propose_landmarks
from predictor.fusion import FusionPredictor, read_signal_table
from predictor.table import fit_table, sample_ws
from predictor.truth import load_truth, truth_accuracy
from supernet.space import NUM_ARCHS, degenerate_mask

from signal_fusion import _score, _seeds, ws_sources  # benchmarks/ is on sys.path when run as a script

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
METRICS = ("kendall_tau", "top5pct_tau", "p_at_top5pct", "pred_best_true")
VARIANTS = (("0", "signals"), ("0", "isotonic"), ("3", "linear"), ("3", "isotonic"))
"""(twin weight, landmark map) pairs; ("0", "signals") is the design before 2026-12-02."""
PROPOSED = 20
"""Landmarks in the proposed set (one round of the loop)."""


class _Fitted:
    """Stands in for an estimator ``make_model`` built: ``fit`` returns a cached fit for the same model,
    parameters, seed and data, so one GCN serves every variant of a seed."""

    cache: dict[tuple[Any, ...], Any] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args, self.kwargs, self.est = args, kwargs, None

    def fit(self, idx: np.ndarray, y: np.ndarray) -> Any:
        key = (_key(self.args), _key(self.kwargs), idx.tobytes(), y.tobytes())
        if key not in self.cache:
            self.cache[key] = _make_model(*self.args, **self.kwargs).fit(idx, y)
        self.est = self.cache[key]
        return self.est

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["est"], name)


_make_model = fusion.make_model


def _key(obj: Any) -> str:
    """A cache key part: ``repr``, with arrays (e.g. a GCN's side features) by their bytes' digest (numpy's
    ``repr`` elides the middle of a large array)."""
    if isinstance(obj, np.ndarray):
        return f"array{obj.shape}:{hashlib.sha1(np.ascontiguousarray(obj).tobytes()).hexdigest()}"
    if isinstance(obj, dict):
        return "{" + ", ".join(f"{k!r}: {_key(v)}" for k, v in sorted(obj.items())) + "}"
    if isinstance(obj, (list, tuple)):
        return "(" + ", ".join(_key(v) for v in obj) + ")"
    return repr(obj)


def cached_sweep_setup() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(degenerate mask bool[15625], the non-degenerate indices, CIFAR-10 truth float[15625] %) for a
    tuning sweep, after setting it up: warnings-only logging, one thread, and the fusion's GCN fits
    shared across variants (:class:`_Fitted`)."""
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(1)
    fusion.make_model = _Fitted  # type: ignore[assignment]
    deg = degenerate_mask()
    return deg, np.flatnonzero(~deg), np.asarray(truth_accuracy(load_truth(), "cifar10"), dtype=np.float64)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0-4")
    ap.add_argument("--counts", type=int, nargs="+", default=[20, 50], help="random landmark counts")
    ap.add_argument("--sources", default=None, help="comma-separated subset of the sources (default all four)")
    ap.add_argument("--proxies", default=str(RESULTS / "proxies_cifar10.csv.gz"))
    ap.add_argument("--out", default=str(RESULTS / "fusion_landmarks"))
    args = ap.parse_args()
    deg, pool, truth = cached_sweep_setup()
    prox = read_signal_table(args.proxies)
    params = pd.DataFrame({"params": G.graph_features(np.arange(NUM_ARCHS), ["params"])[:, 0]})
    sources = ws_sources(args.sources)
    rows = []
    for name, ws_all in sources.items():
        for seed in _seeds(args.seeds):
            _Fitted.cache.clear()
            ws = sample_ws(ws_all, 1000, seed)
            w = np.full(NUM_ARCHS, np.nan)
            w[ws["index"].to_numpy()] = ws["ws_acc"].to_numpy()
            sig = pd.concat([pd.DataFrame({"ws": w}), prox, params], axis=1)
            rows.append({"source": name, "seed": seed, "landmarks": "none", "twin": "-", "map": "-",
                         **_score(FusionPredictor(random_state=seed).fit(sig).score_space(), truth, deg)})
            sets = {f"{k} random": np.sort(np.random.default_rng([seed, k, 0x1B]).choice(pool, k, replace=False))
                    for k in args.counts}
            table = fit_table(ws, proxies=args.proxies, seed=seed).df
            sets[f"{PROPOSED} proposed"] = propose_landmarks(table, PROPOSED, seed=seed)["index"].to_numpy()
            for label, lm in sets.items():
                for twin, kind in VARIANTS:
                    f = FusionPredictor(corrected_weight=float(twin), landmark_map=kind, random_state=seed)
                    score = f.fit(sig, landmarks=(lm, truth[lm])).score_space()
                    score[lm] = truth[lm]
                    rows.append({"source": name, "seed": seed, "landmarks": label, "twin": twin, "map": kind,
                                 **_score(score, truth, deg), "best_landmark": float(truth[lm].max())})
            print(name, seed, rows[-1]["kendall_tau"], flush=True)
    d = pd.DataFrame(rows)
    d.to_csv(args.out + "_runs.csv", index=False)
    keys = ["landmarks", "twin", "map"]
    s = d.groupby(keys, sort=False)[list(METRICS)].agg(["mean", "min"])
    hits = d.assign(hit=d["pred_best_true"] >= 94.1).groupby(keys, sort=False)["hit"].agg(["sum", "size"])
    per = d.groupby(["source", *keys], sort=False)["kendall_tau"].mean().unstack("source")
    cmd = f"NASGCN_DATA=../shared/data .venv/bin/python benchmarks/fusion_landmarks.py --seeds {args.seeds}"
    cmd += f" --sources {args.sources}" if args.sources else ""
    cmd += " --counts " + " ".join(map(str, args.counts)) if args.counts != [20, 50] else ""
    lines = [f"# Landmarks in the fused table, tuning seeds {args.seeds}", "",
             f"Run: `{cmd}`. "
             "One landmark draw per set, seed and source; twin = weight of `ws_lm` (the landmark-corrected "
             "weight-sharing GCN), map = the landmark map. Mean (worst run) over the sources and seeds; "
             "pick = true accuracy of the table's best cell (landmarks at their true accuracy), runs >= 94.1 of all.", "",
             "| landmarks | twin | map | tau | top-5% tau | P@top-5% | pick | pick >= 94.1 |",
             "|---|---:|---|---:|---:|---:|---:|---:|"]
    for key, r in s.iterrows():
        lines.append("| " + " | ".join(map(str, key)) + " | "
                     + " | ".join(f"{r[(m, 'mean')]:.3f} ({r[(m, 'min')]:.3f})" for m in METRICS)
                     + f" | {hits.loc[key, 'sum']} / {hits.loc[key, 'size']} |")
    lines += ["", "Kendall tau per source:", "", "| landmarks | twin | map | " + " | ".join(per.columns) + " |",
              "|---|---:|---|" + "---:|" * len(per.columns)]
    for key, r in per.iterrows():
        lines.append("| " + " | ".join(map(str, key)) + " | " + " | ".join(f"{v:.3f}" for v in r) + " |")
    Path(args.out + ".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
