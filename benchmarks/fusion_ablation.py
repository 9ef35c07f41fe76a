"""Ablation of the fusion design on the TUNING seeds 0-4 (never on a reported seed).

Equal-weight means of normal scores over subsets of {nwot, synflow, jacov, snip, grad_norm, params,
flops}, with and without the GCN completion of the weight-sharing scores (weight 1 or 2), and a GCN
fitted to a fused target on the sampled architectures.  n = 1000 one-shot scores per seed; scored on
all 15,625.  What it decided: snip and grad_norm weigh 0 in the default (until 2026-12-04: they now enter reversed at
-0.25 each, benchmarks/fusion_reversed.py), jacov and params stay in.

    NASGCN_DATA=../shared/data .venv/bin/python benchmarks/fusion_ablation.py benchmarks/results/proxies_cifar10.csv.gz 0,1,2,3,4
"""
import sys, numpy as np, pandas as pd, torch
from scipy.stats import rankdata, norm
from predictor.truth import load_truth, truth_accuracy
from predictor.metrics import evaluate_ranking
from predictor.models import make_model
from predictor.table import read_ws, sample_ws
from predictor import graphs as G
from supernet.paths import data_path
from supernet.space import NUM_ARCHS, degenerate_mask
torch.set_num_threads(1)
deg = degenerate_mask(); nd = ~deg
truth = truth_accuracy(load_truth(), "cifar10")
P = pd.read_csv(sys.argv[1]).set_index("index").sort_index()
ws_all = read_ws(data_path("nb201", "nb201_ws_oneshot.csv.gz"))
feat = {k: P[k].to_numpy() for k in ("nwot","synflow","jacov","snip","grad_norm")}
feat["params"] = G.graph_features(np.arange(NUM_ARCHS), ["params"])[:,0]
feat["flops"] = G.graph_features(np.arange(NUM_ARCHS), ["flops"])[:,0]
def z(v, mask=nd):
    out = np.full(NUM_ARCHS, np.nan); r = rankdata(v[mask]); out[mask] = norm.ppf((r-0.5)/len(r)); return out
Z = {k: z(v) for k, v in feat.items()}
def score(s):
    s = np.where(deg, -1e9, s)
    r = evaluate_ranking(s, truth, degenerate=deg)
    return {k: round(r[k],3) for k in ("kendall_tau","top5pct_tau","p_at_top5pct","pred_best_true")}
rows=[]
for k in Z: rows.append(("single:"+k, -1, score(Z[k])))
seeds = [int(s) for s in sys.argv[2].split(",")]
for seed in seeds:
    ws = sample_ws(ws_all, 1000, seed)
    idx = ws["index"].to_numpy(); y = ws["ws_acc"].to_numpy()
    raw = np.full(NUM_ARCHS, np.nan); raw[idx] = y
    rows.append(("raw_ws(sample)", seed, {k: round(v,3) for k,v in evaluate_ranking(y, truth[idx]).items() if k in ("kendall_tau","top5pct_tau","p_at_top5pct","pred_best_true")}))
    gcn = make_model("gcn", {"weight_decay": 0.1}, random_state=seed).fit(idx, y)
    g = gcn.predict_space(); Zg = z(g)
    rows.append(("gcn_ws", seed, score(Zg)))
    gbr = make_model("gbr", random_state=seed).fit(idx, y).predict_space()
    rows.append(("gbr_ws", seed, score(z(gbr))))
    def mean_of(names, extra=None, w=None):
        arr = [Z[n] for n in names] + ([extra] if extra is not None else [])
        w = np.ones(len(arr)) if w is None else np.asarray(w)
        return sum(wi*a for wi,a in zip(w,arr))/w.sum()
    for combo in [("nwot","synflow"),("nwot","synflow","params"),("nwot","synflow","jacov","snip","grad_norm"),("nwot","synflow","jacov","params"), ("nwot","synflow","jacov","snip","grad_norm","params","flops")]:
        rows.append(("prox:"+"+".join(combo), seed, score(mean_of(combo))))
        rows.append(("ws+prox:"+"+".join(combo), seed, score(mean_of(combo, Zg))))
        rows.append(("ws2+prox:"+"+".join(combo), seed, score(mean_of(combo, Zg, w=[1]*len(combo)+[2]))))
    # GCN on fused target at the sampled archs
    zs = np.full(NUM_ARCHS, np.nan); r = rankdata(y[nd[idx]]); zs_idx = idx[nd[idx]]; zs[zs_idx] = norm.ppf((r-0.5)/len(r))
    for combo in [("nwot","synflow","jacov"),("nwot","synflow","jacov","params")]:
        tgt = (zs[zs_idx] + sum(Z[n][zs_idx] for n in combo))/(1+len(combo))
        gf = make_model("gcn", {"weight_decay": 0.1}, random_state=seed).fit(zs_idx, tgt).predict_space()
        rows.append(("gcn(fused tgt):"+"+".join(combo), seed, score(gf)))
        rows.append(("gcn(fused tgt)+prox:"+"+".join(combo), seed, score((z(gf)*1 + mean_of(combo))/2)))
    # GCN on ws with proxies as graph features? skip
df = pd.DataFrame([{"variant":v,"seed":s,**m} for v,s,m in rows])
df.to_csv("benchmarks/results/fusion_ablation_runs.csv", index=False)
print(df.groupby("variant", sort=False)[["kendall_tau","top5pct_tau","p_at_top5pct","pred_best_true"]].agg(["mean"]).round(3).to_string())
