"""NAS-Bench-201 ground truth and hardware tables: load, validate, import from the official files.

* :mod:`.truth`: the ground-truth accuracy table (:func:`load_truth`, :func:`truth_accuracy`, ...).
* :mod:`.hardware`: latency tables (:func:`load_hardware`, :func:`latency_column`, ...).
* :mod:`.importer`: official NATS-Bench / NAS-Bench-201 files -> truth table (:func:`import_benchmark`),
  with :mod:`.readers`, :mod:`.records` and the safe :mod:`.unpickle` beneath it.

Every table is keyed by official index through :mod:`supernet.tables` (generic arch-table IO, which
lives there); its two errors, raised by everything here, are re-exported.
"""

from __future__ import annotations

from supernet.tables import BenchmarkError, MissingDataError

from .hardware import (
    HARDWARE_FILE,
    LATENCY_SUFFIX,
    default_hardware_path,
    latency_column,
    latency_columns,
    load_hardware,
    validate_hardware,
)
from .importer import import_benchmark, read_official
from .readers import detect_format
from .truth import (
    ACC_COLUMNS,
    DATASETS,
    OP_COLUMNS,
    TRUTH_COLUMNS,
    TRUTH_FILE,
    build_truth_table,
    default_truth_path,
    load_truth,
    resolve_dataset,
    scores_vs_truth,
    truth_accuracy,
    truth_column,
    validate_truth,
)

__all__ = [
    "BenchmarkError",
    "MissingDataError",
    "TRUTH_FILE",
    "HARDWARE_FILE",
    "OP_COLUMNS",
    "ACC_COLUMNS",
    "DATASETS",
    "TRUTH_COLUMNS",
    "LATENCY_SUFFIX",
    "default_truth_path",
    "default_hardware_path",
    "load_truth",
    "validate_truth",
    "resolve_dataset",
    "truth_column",
    "truth_accuracy",
    "scores_vs_truth",
    "load_hardware",
    "validate_hardware",
    "latency_columns",
    "latency_column",
    "build_truth_table",
    "detect_format",
    "read_official",
    "import_benchmark",
]
