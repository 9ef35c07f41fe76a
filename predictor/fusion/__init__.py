"""Fusion of several signals of architecture quality into one lookup-table score.

A signal is one value per architecture, known for all of the space (zero-cost proxies, params, FLOPs)
or for some of it (weight-sharing scores of a sample, proxies of a sample).  Each signal becomes a
normal score over the non-degenerate cells (Gaussian transform of its ranks: scale-free, so accuracy
points, log-synflow and parameter counts can be averaged); a signal known for only part of the space is
first completed by a GCN fitted to it over the cell graphs (its own column in the table shows the
completed signal).  The fused score is the weighted mean of the normal scores (less a multiple of their
weighted spread with ``spread_penalty``).  With landmarks
(architectures of known true accuracy) every completed signal also gets a landmark-corrected twin
(``ws_lm`` for the weight-sharing scores), and a monotone map fitted to the landmarks (isotonic, with
linear tails) takes the fused score to the true accuracy.

Modules: :mod:`.signals` reads signal tables; :mod:`.scores` holds the score arithmetic (normal scores,
the weighted fusion, the head order) and its tuned defaults; :mod:`.estimator` the
:class:`FusionPredictor` that completes, corrects and maps them.
"""

from .estimator import CORRECTED_SUFFIX, CORRECTION_ALPHAS, LANDMARK_MAPS, FusionPredictor
from .scores import DEFAULT_HEAD_WEIGHTS, DEFAULT_SPREAD_PENALTY, DEFAULT_WEIGHTS, fuse, normal_scores, order_head
from .signals import NON_SIGNAL_COLUMNS, read_signal_table

__all__ = ["normal_scores", "FusionPredictor", "DEFAULT_WEIGHTS", "DEFAULT_HEAD_WEIGHTS", "DEFAULT_SPREAD_PENALTY",
           "CORRECTED_SUFFIX", "CORRECTION_ALPHAS", "fuse", "order_head", "read_signal_table", "NON_SIGNAL_COLUMNS",
           "LANDMARK_MAPS"]
