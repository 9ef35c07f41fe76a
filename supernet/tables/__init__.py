"""Architecture-keyed tables: read, align to the space, write, with the errors they raise.

Any table of the toolkit (weight-sharing scores, lookup tables, ground truth, latencies) is a CSV
(optionally gzipped) with a column ``index`` (official index), ``arch_str`` (official string) or both.
:func:`align_to_space` keys such a table by official index and checks that the two agree;
:func:`read_arch_table` is THE reader: it checks the sidecar's recorded hash, aligns the rows and, given
a :class:`TableSchema` (declared beside each table's definition), checks every declared column's type,
range and NaN/inf policy.  :func:`write_table` writes a table and its JSON sidecar (``NAME.json``
beside ``NAME``, holding the table's SHA-256) as one atomic pair.  Nothing is substituted silently: a
bad key or value raises :class:`BenchmarkError` naming the table, the row and what was expected.

Modules: :mod:`.keys` (errors, CSV reading, alignment), :mod:`.checks` (schemas and value checks),
:mod:`.sidecar` (sidecar check and the atomic table+sidecar writer), :mod:`.read` (the reader).
"""

from ..paths import MissingDataError
from ..space import clip_text
from .checks import Column, TableSchema, numeric_column, percent, validate_table
from .keys import BenchmarkError, align_to_space, format_rows, plain_value, read_csv, require_file
from .read import read_arch_table
from .sidecar import SIDECAR_HASH, check_sidecar, sidecar_path, write_table

__all__ = [
    "BenchmarkError",
    "MissingDataError",
    "require_file",
    "read_csv",
    "align_to_space",
    "read_arch_table",
    "numeric_column",
    "Column",
    "TableSchema",
    "validate_table",
    "check_sidecar",
    "percent",
    "SIDECAR_HASH",
    "sidecar_path",
    "clip_text",
    "write_table",
    "plain_value",
    "format_rows",
]

