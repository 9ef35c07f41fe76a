"""Where the toolkit looks for data files.

The data root is ``$NASGCN_DATA`` when that variable is set (for example ``../shared/data``), else
the repository's own ``data/`` folder.  ``data/README.md`` says how to get each file.  The errors for
data that is absent or unusable live here, at the bottom, so every layer raises the same ones.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["REPO_ROOT", "DATA_ENV", "DATA_README", "DataError", "MissingDataError", "data_root", "data_path"]

REPO_ROOT: Path = Path(__file__).resolve().parents[1]
"""The checkout this package was imported from."""
DATA_ENV = "NASGCN_DATA"
"""Environment variable naming the data root."""
DATA_README: Path = REPO_ROOT / "data" / "README.md"
"""How to get each data file (cited by missing-file errors)."""


class DataError(Exception):
    """Data that cannot be used; the message names the file and says how to fix it."""


class MissingDataError(DataError, FileNotFoundError):
    """A data file, folder, class or split that is not where it was looked for; the message says how to get it."""


def data_root() -> Path:
    """``$NASGCN_DATA`` if set (``~`` expanded), else ``<repository>/data``; not checked to exist."""
    env = os.environ.get(DATA_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    return REPO_ROOT / "data"


def data_path(*parts: str) -> Path:
    """A path under :func:`data_root`, e.g. ``data_path('nb201', 'nb201_truth.csv.gz')``."""
    return data_root().joinpath(*parts)
