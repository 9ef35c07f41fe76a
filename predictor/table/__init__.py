"""The lookup table of the whole space: :mod:`.lookup` (the format, queries and :func:`build_table`, which
takes whole-space predictions), :mod:`.inputs` (weight-sharing, hardware and landmark inputs with their
provenance) and :mod:`.fit` (:func:`fit_table`: fit a predictor or a fusion, then build the table)."""

from ..calibration import calibrated_spread
from .fit import fit_fusion, fit_predictor, fit_table
from .inputs import read_ws, sample_ws
from .lookup import LOOKUP_SCHEMA, SIGNAL_PREFIX, TABLE_COLUMNS, LookupTable, build_table, lookup_schema, read_lookup_table

__all__ = [
    "TABLE_COLUMNS",
    "SIGNAL_PREFIX",
    "LookupTable",
    "LOOKUP_SCHEMA",
    "lookup_schema",
    "read_lookup_table",
    "build_table",
    "fit_table",
    "fit_predictor",
    "fit_fusion",
    "calibrated_spread",
    "read_ws",
    "sample_ws",
]
