"""Score arithmetic of the fusion: normal scores, the weighted fusion with its spread penalty, the head
order, and the defaults tuned for them (each with the evidence it was chosen on)."""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd
from scipy.special import ndtri
from scipy.stats import rankdata

from supernet.space import NUM_ARCHS, degenerate_mask

DEFAULT_WEIGHTS: dict[str, float] = {"snip": -0.25, "grad_norm": -0.25, "ws": 0.5}
"""Signal weights when none are given (signals not named here weigh 1; a negative weight enters the
signal reversed, see :func:`fuse`).

snip and grad_norm enter reversed, at 0.25 each.  Alone they rank the truth at tau 0.46, and added
with positive weights they lowered the fused tau (0.73 -> 0.65 on the tuning seeds 0-4,
benchmarks/signal_fusion.py; both measure the loss-gradient scale the others already carry).
Reversed, they act through the spread penalty: among the cells the other signals rate high, a
larger loss gradient at initialisation marks the worse cell (Spearman with the truth -0.22 to -0.36
within the top 40% of the others' mean), among those they rate low the better one (+0.15 to +0.24),
and the penalty on a reversed score's distance from the mean rewards exactly that; with the plain
mean (L = 0) they change little (benchmarks/results/fusion_reversed.md).  Found on the peer's values
first: on NASLib's proxies of the shared subset (``nb201_naslib_zc_subset.csv.gz``, its own
validation accuracy), the same fusion of nwot, synflow, jacov and params goes tau 0.716 -> 0.735 on
CIFAR-10, 0.739 -> 0.749 on CIFAR-100 and 0.720 -> 0.729 on ImageNet16-120; on this project's
whole-space table the proxies-only fusion goes 0.746 -> 0.764 (P@top-5% 0.441 -> 0.451).  snip alone
at 0.5, grad_norm alone at 0.5 and both at 0.25 rank within 0.003 of each other everywhere; both
share the weight so that neither decides alone.  On
the tuning seeds 0-4 with weight-sharing scores (benchmarks/results/fusion_reversed.md; one-shot file /
the project's CPU supernet): the fused tau goes 0.741 -> 0.760 / 0.770 -> 0.784 (higher in 10 / 10
runs; P@top-5% 0.426 -> 0.431 / 0.513 -> 0.519), with 20 random landmarks 0.772 -> 0.784 / 0.787 ->
0.792 (10 / 10), with the 20 the loop proposes 0.757 -> 0.788 / 0.773 -> 0.774 (6 / 10), the 94.36
cell among them in every run either way (with ``spread_`` as below).

The weight-sharing scores weigh 0.5: first chosen with the GCN default of that time (no graph features),
then re-swept with the current GCN and the head order (benchmarks/results/fusion_ws_weight.md, tuning
seeds 0-4): 0.5 is best or within 0.001 of the best on every source (one-shot file 0.732 at 0.25/0.5
against 0.729 at 1; the project's CPU supernets 0.744-0.748 at 0.5, 0.744-0.749 at 1, 0.730 for the
proxies alone)."""

DEFAULT_HEAD_WEIGHTS: dict[str, float] = {"ws": 0.5, "synflow": 1.0, "jacov": 0.5}
"""Signal weights that order the head (the fused top ``head_fraction``) among itself; signals not named
weigh 0 there.  nwot and params separate good cells from bad but not the best from the good (their
top-5% tau is -0.08 and 0.02 against 0.16 for synflow and the weight-sharing GCN on the project's CPU
supernet).  Chosen on the tuning seeds 0-4 over the four weight-sharing files with head fractions
0.15/0.2/0.3 and weights ws 0.5/1, jacov 0.5/1, params 0/0.5, nwot 0/0.25: top-5% tau 0.07 -> 0.18,
P@top-5% 0.45 -> 0.49, Kendall tau unchanged (0.742); benchmarks/results/fusion_head.md."""

DEFAULT_SPREAD_PENALTY = 0.5
"""The fused score's penalty on the signals' disagreement (``spread_penalty``): weighted mean less 0.5
times the weighted spread.  Swept on the tuning seeds 0-4 over the four weight-sharing sources with
0 / 0.25 / 0.5 / 0.75 / 1 (benchmarks/results/fusion_spread.md): without landmarks the mean tau went
0.733 -> 0.741 (one-shot file) and 0.749 -> 0.768 (the project's CPU supernets), higher in 20 / 20
runs, top-5% tau, P@top-5% and the pick unchanged; with 20 random landmarks 0.772 -> 0.781 (16 / 20
runs higher); with 20 proposed ones 0.758 -> 0.768, noisy (13 / 20 higher, worst run 0.723 -> 0.713).
The proxies-only fusion went 0.730 -> 0.746 (more than the one-shot file's fused table, which now
ranks below it).  0.75 ranked like 0.5 without landmarks and worse with proposed ones; 1 was lower
everywhere.  Re-checked after snip and grad_norm were reversed (fusion_spread_reversed.md, same seeds and
sources): 0.75 against 0.5 gives tau 0.782 / 0.776 without landmarks and 0.791 / 0.788 with random
ones, but 0.766 / 0.772 with proposed ones (worst run 0.695 / 0.714, pick >= 94.1 in 14 / 15 of 20), so
0.5 stays."""


def normal_scores(values: np.ndarray) -> np.ndarray:
    """float64[15625]: Gaussian rank transform of ``values`` over the non-degenerate cells where it is
    finite (``ndtri((rank - 0.5) / n)``, ties averaged); NaN elsewhere."""
    v = np.asarray(values, dtype=np.float64)
    if v.shape != (NUM_ARCHS,):
        raise ValueError(f"a signal needs one value per architecture ({NUM_ARCHS}), got shape {v.shape}")
    out = np.full(NUM_ARCHS, np.nan)
    m = np.isfinite(v) & ~degenerate_mask()
    if m.sum():
        out[m] = ndtri((rankdata(v[m]) - 0.5) / m.sum())
    return out


def fuse(
    scores: np.ndarray, weights: np.ndarray, spread_penalty: float = DEFAULT_SPREAD_PENALTY
) -> tuple[np.ndarray, np.ndarray]:
    """(fused float[n], spread float[n]) of normal scores ``scores`` (float[n, d]) with ``weights``
    (float[d]): the weighted mean less ``spread_penalty`` times the spread, the weighted standard
    deviation of the scores about that mean.  A signal of negative weight enters reversed (its score
    negated) with the weight's magnitude; the magnitudes are normalised here.  NaN rows stay NaN."""
    w = np.asarray(weights, dtype=np.float64)
    wv = np.abs(w) / np.sum(np.abs(w))
    signed = scores * np.sign(w)
    mean = signed @ wv
    spread = np.sqrt(np.maximum((signed - mean[:, None]) ** 2 @ wv, 0.0))
    return mean - spread_penalty * spread, spread


def order_head(
    fused: np.ndarray, scores: pd.DataFrame, fraction: float, weights: Mapping[str, float]
) -> tuple[np.ndarray, np.ndarray]:
    """(the re-ordered score float[15625], the head bool[15625]).

    The head is the top ``fraction`` of the finite ``fused`` scores (the non-degenerate cells); it keeps
    its place above the rest, but its fused values are handed out again in the order of the ``weights``
    mean of ``scores`` (normal scores, one column per signal named in ``weights``).  No head (the
    fused score unchanged) for ``fraction`` 0, fewer than 2 head cells, or no weight.
    """
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"head_fraction must be in [0, 1), got {fraction}")
    if any(float(x) < 0 for x in weights.values()):
        raise ValueError(f"head weights must be >= 0; got {dict(weights)}")
    w = {c: float(x) for c, x in weights.items() if float(x) > 0}
    ranked, head = fused.copy(), np.zeros(fused.size, dtype=bool)
    live = np.isfinite(fused)
    n_head = int(round(fraction * live.sum()))
    if n_head < 2 or not w:
        return ranked, head
    cells = np.flatnonzero(live)[np.argsort(-fused[live], kind="stable")[:n_head]]
    head[cells] = True
    wv = np.array(list(w.values()))
    h = scores[list(w)].to_numpy()[cells] @ wv / wv.sum()
    ranked[cells[np.argsort(-h, kind="stable")]] = fused[cells]  # fused[cells] is in descending order
    return ranked, head
