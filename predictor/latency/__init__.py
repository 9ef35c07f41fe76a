"""Latency on the user's own machine, and a latency predictor for devices measured on a subset.

Measuring (:func:`measure_space_latency`): times the stand-alone network
(:class:`supernet.network.StandaloneNet`, eval mode, no grad, live edges only) of one representative per
isomorphism class (the member with the smallest official index; 6,466 classes) with
:func:`supernet.costs.measure_latency` (warm-up runs, then the MEDIAN of ``repeats`` timed forwards) and
copies the figure to every member of the class (they run the same modules).  Degenerate cells (the cell
output is disconnected from its input) are measured like the others: their network still runs the stem,
the residual reduction blocks and the head, so they are real, fast networks (the benchmark lists them).

Files, for ``--out LAT.csv``:

* ``LAT.partial.csv``: one line per measured class, appended and flushed as soon as it is timed
  (``index`` of the representative, ``iso_id``, ``median_ms``, ``mean_ms``, ``std_ms``, ``min_ms``,
  ``p90_ms``); an interrupted run resumes from it (``resume=True``) if the settings in
  ``LAT.partial.json`` match.  It is kept afterwards: a later call with a larger ``limit`` continues.
* ``LAT.csv``: ``index, arch_str, <name>_latency_ms`` for every member of every measured class (a
  subset table when ``limit`` stops early: read it with ``predictor.truth.load_hardware(p, subset=True)``).
* ``LAT.json``: the machine (CPU model, logical CPUs, threads used, torch / numpy / Python versions,
  platform, load average at the start), the settings and counts.

On a busy machine the median of a few repeats follows the other jobs' load (here, on a shared 2-core
CPU: Kendall tau 0.60 between two measurements of the same 60 networks minutes apart) while the minimum
is repeatable (tau 0.91): ``statistic="min"`` writes the minimum instead (both are in the partial file).

``order="random"`` (default) measures the classes in a seeded random order, so any prefix (``limit``)
is a uniform sample of the space's classes; ``order="index"`` goes by official index.

Predicting (:class:`LatencyPredictor`, :func:`fill_latency`, :func:`evaluate_latency_predictor`): a
regressor of log-latency on per-edge one-hot ops (all edges and live edges only), op counts (all and live)
and a degenerate-cell flag (``ridge``, ``gbr``), or the GCN of :mod:`predictor.models` (``gcn``: directed GCN on
the un-pruned, non-canonical cell graph plus those counts as graph features).  Accuracy figures: the
fraction of held-out architectures predicted within ±10 % (and ±5 %) of the measured latency, Kendall
tau, MAPE.  The hold-out is split by isomorphism class, so copies of one measurement never sit on both
sides.

Modules: ``measure`` (this machine, resumable), ``predict`` (features, predictor, fill).
"""

from __future__ import annotations

from .measure import PARTIAL_COLUMNS, machine_info, partial_path, iso_representatives, measure_space_latency
from .predict import latency_features, LatencyPredictor, LATENCY_MODELS, evaluate_latency_predictor, FillResult, fill_latency, fill_latency_file, within

__all__ = [
    "PARTIAL_COLUMNS",
    "machine_info",
    "partial_path",
    "iso_representatives",
    "measure_space_latency",
    "latency_features",
    "LatencyPredictor",
    "LATENCY_MODELS",
    "evaluate_latency_predictor",
    "FillResult",
    "fill_latency",
    "fill_latency_file",
    "within",
]
