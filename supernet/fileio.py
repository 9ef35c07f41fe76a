"""Writing files safely, and making values JSON-ready: one way each for the whole toolkit.

Every file a stage may be interrupted while writing (tables, sidecars, manifests, checkpoints,
caches) goes through :func:`atomic_write`: the content is written to a temporary file in the same
folder, then renamed over the target, so a reader sees the old file or the new one, never half of
one.  :func:`jsonable` turns numpy scalars and arrays (and paths) into plain JSON values.
"""

from __future__ import annotations

import functools
import glob
import json
import os
import tempfile
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

if TYPE_CHECKING:  # only for the annotation: the CLI imports this module and starts faster without pandas
    import pandas as pd

__all__ = [
    "atomic_write", "remove_stale_temps", "write_text_atomic", "write_json_atomic", "write_csv_atomic", "jsonable",
]


@functools.lru_cache(maxsize=1)
def _file_mode() -> int:
    """The mode ``open()`` gives a new file under this process's umask (mkstemp's is owner-only)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path: str | os.PathLike[str], write: Callable[[Path], Any], *, fsync: bool = False) -> Path:
    """Write ``path`` by ``write(tmp)`` into a temporary file beside it, then ``os.replace`` it over ``path``.

    The folder is created if needed; the temporary file is removed when ``write`` fails (or the
    process is interrupted).  ``fsync=True`` flushes the data to disk before the rename (checkpoints).
    The file gets the permissions a plain ``open()`` would give it.  Returns ``path``.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        if fsync:
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        os.chmod(tmp, _file_mode())
        os.replace(tmp, p)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return p


def remove_stale_temps(path: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporary files :func:`atomic_write` left beside ``path`` when a kill (SIGKILL, power loss)
    stopped it mid-write; call it only where no other process writes ``path``.  Returns what was removed."""
    p = Path(path)
    stale = sorted(p.parent.glob(f".{glob.escape(p.name)}.*.tmp")) if p.parent.is_dir() else []
    for t in stale:
        t.unlink(missing_ok=True)
    return stale


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """:func:`atomic_write` of a text file (UTF-8)."""
    return atomic_write(path, lambda t: t.write_text(text, encoding="utf-8"))


def write_json_atomic(path: str | os.PathLike[str], obj: Any, **dumps_kwargs: Any) -> Path:
    """:func:`atomic_write` of ``json.dumps(obj, **dumps_kwargs)`` (e.g. ``indent=2``), no trailing newline."""
    return write_text_atomic(path, json.dumps(obj, **dumps_kwargs))


def write_csv_atomic(df: pd.DataFrame, path: str | os.PathLike[str], **to_csv_kwargs: Any) -> Path:
    """:func:`atomic_write` of ``df.to_csv(tmp, **to_csv_kwargs)`` (pass ``index=False`` as usual)."""
    return atomic_write(path, lambda t: df.to_csv(t, **to_csv_kwargs))


def jsonable(obj: Any) -> Any:
    """``obj`` with numpy scalars as Python numbers, arrays and tuples as lists, paths as strings,
    recursively through dicts and lists; anything else is returned as it is."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return [jsonable(x) for x in obj.tolist()]
    if isinstance(obj, (list, tuple)):
        return [jsonable(x) for x in obj]
    if isinstance(obj, dict):
        return {(k.item() if isinstance(k, np.generic) else k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, PurePath):
        return str(obj)
    return obj
