"""Writing files safely, and making values JSON-ready: one way each for the whole toolkit.

Every file a stage may be interrupted while writing (tables, sidecars, manifests, checkpoints,
caches) goes through :func:`atomic_write`: the content is written to a temporary file in the same
folder, then renamed over the target, so a reader sees the old file or the new one, never half of
one.  :func:`atomic_write_pair` writes a table and its sidecar as one unit.  A temporary left by a
writer that was killed (SIGKILL cannot be caught) is removed by the next write of the same file.
:func:`jsonable` turns numpy scalars and arrays (and paths) into plain JSON values; :func:`to_json` is
the one JSON encoder of the command line (NaN and infinities become ``null``, so the text is valid JSON).
"""

from __future__ import annotations

import functools
import glob
import json
import math
import os
import tempfile
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

if TYPE_CHECKING:  # only for the annotation: the CLI imports this module and starts faster without pandas
    import pandas as pd

__all__ = [
    "atomic_write", "atomic_write_pair", "remove_stale_temps", "write_text_atomic", "write_json_atomic",
    "write_csv_atomic", "jsonable", "to_json",
]


@functools.lru_cache(maxsize=1)
def _file_mode() -> int:
    """The mode ``open()`` gives a new file under this process's umask (mkstemp's is owner-only)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _remove_stale_temporaries(p: Path) -> None:
    """Delete temporaries of ``p`` (``.NAME.PID-*.tmp``) whose writing process no longer exists."""
    for t in p.parent.glob(f".{glob.escape(p.name)}.*.tmp"):
        pid = t.name[len(p.name) + 2 :].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            t.unlink(missing_ok=True)
        except OSError:  # exists but is not ours (EPERM): leave it
            pass


def _temporary(p: Path) -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(p)
    fd, name = tempfile.mkstemp(prefix=f".{p.name}.{os.getpid()}-", suffix=".tmp", dir=p.parent)
    os.close(fd)
    return Path(name)


def _finish(tmp: Path, fsync: bool) -> None:
    if fsync:
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
    os.chmod(tmp, _file_mode())


def atomic_write(path: str | os.PathLike[str], write: Callable[[Path], Any], *, fsync: bool = False) -> Path:
    """Write ``path`` by ``write(tmp)`` into a temporary file beside it, then ``os.replace`` it over ``path``.

    The folder is created if needed; the temporary file is removed when ``write`` fails (or the
    process is interrupted); one left by a killed process is removed by the next write of ``path``.
    ``fsync=True`` flushes the data to disk before the rename (checkpoints).
    The file gets the permissions a plain ``open()`` would give it.  Returns ``path``.
    """
    p = Path(path)
    tmp = _temporary(p)
    try:
        write(tmp)
        _finish(tmp, fsync)
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


def atomic_write_pair(
    path: str | os.PathLike[str],
    write: Callable[[Path], Any],
    sidecar: str | os.PathLike[str],
    sidecar_text: Callable[[Path], str],
) -> Path:
    """Write a file and its sidecar as one unit: ``write(tmp)``, then ``sidecar_text(tmp)`` (which may
    read the finished temporary, e.g. to hash it) into the sidecar's temporary; only when both are
    complete are they renamed, sidecar first.  A failure or interruption before the renames leaves
    both old files as they were and no temporary; a kill between the two renames leaves a sidecar
    that does not match its table, which a reader that checks the recorded hash reports.
    """
    p, s = Path(path), Path(sidecar)
    tmp = _temporary(p)
    stmp: Path | None = None
    try:
        write(tmp)
        _finish(tmp, False)
        text = sidecar_text(tmp)
        stmp = _temporary(s)
        stmp.write_text(text, encoding="utf-8")
        _finish(stmp, False)
        os.replace(stmp, s)
        os.replace(tmp, p)
    except BaseException:
        tmp.unlink(missing_ok=True)
        if stmp is not None:
            stmp.unlink(missing_ok=True)
        raise
    return p


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


def _finite_or_none(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, list):
        return [_finite_or_none(x) for x in obj]
    if isinstance(obj, dict):
        return {k: _finite_or_none(v) for k, v in obj.items()}
    return obj


def to_json(obj: Any, **dumps_kwargs: Any) -> str:
    """``obj`` as valid JSON text: :func:`jsonable` values, NaN and infinities as ``null``
    (``json.dumps`` would write the non-standard ``NaN``/``Infinity``); ``dumps_kwargs`` such as
    ``indent=2`` are passed on."""
    return json.dumps(_finite_or_none(jsonable(obj)), allow_nan=False, default=str, **dumps_kwargs)
