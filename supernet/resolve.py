"""Many architectures in any form -> official indices: the toolkit's one converter, vectorised.

:func:`to_indices` reads official indices, arch strings, op tuples (names or codes) and
:class:`~supernet.space.Arch` objects, alone or mixed; integer arrays, op-code matrices and arrays of
canonical strings take vectorised paths (a million arch strings in well under a second), anything
else is parsed one entry at a time.  An entry outside the space raises
:class:`~supernet.space.ArchError` naming its position.
"""

from __future__ import annotations

import functools
from typing import Any, Iterable

import numpy as np
import pandas as pd

from .space import NUM_ARCHS, NUM_EDGES, OPS, Arch, ArchError, all_archs, clip_text, codes_to_indices, parse_arch

__all__ = ["arch_strs", "lookup_strs", "to_indices", "parse_many"]

_OP_INDEX = pd.Index(OPS)


@functools.lru_cache(maxsize=1)
def _str_index() -> pd.Index:
    return pd.Index(arch_strs())


@functools.lru_cache(maxsize=1)
def arch_strs() -> np.ndarray:
    """object[15625]: the official arch string of every architecture, official index order (read-only)."""
    out = np.array([a.to_str() for a in all_archs()], dtype=object)
    out.setflags(write=False)
    return out


def lookup_strs(values: Any) -> np.ndarray:
    """int64[n]: the official index of each value that is exactly a canonical arch string, -1 elsewhere."""
    return _str_index().get_indexer(np.asarray(values, dtype=object)).astype(np.int64)


def _one_by_one(values: Iterable[Any]) -> np.ndarray:
    """:func:`~supernet.space.parse_arch` per entry; the error names the first bad entry's position."""
    vals = list(values)
    out = np.empty(len(vals), dtype=np.int64)
    for pos, v in enumerate(vals):
        try:
            out[pos] = parse_arch(v).index
        except ArchError as e:
            raise ArchError(f"entry {pos}: {e}") from None
    return out


def to_indices(archs: Any) -> np.ndarray:
    """Official indices (int64[n]) of many architectures, vectorised.

    Accepts an integer array/list (indices), an (n, 6) array of op codes or op names, a sequence of
    arch strings (surrounding whitespace allowed; digit strings are indices), op tuples or
    :class:`Arch`, or a mix.  Raises :class:`ArchError` naming the first entry that is not in the space.
    """
    if isinstance(archs, (str, Arch)) or np.isscalar(archs):
        raise ArchError(
            "give a sequence of architectures, not a single one (wrap it in a list; "
            "supernet.space.parse_arch reads one)"
        )
    if isinstance(archs, (pd.Series, pd.Index)):
        archs = archs.to_numpy()
    try:
        if isinstance(archs, np.ndarray):
            arr = archs
        elif len(archs) and isinstance(archs[0], (int, np.integer)) and not isinstance(archs[0], bool):
            arr = np.asarray(archs)  # indices: an integer array (anything else falls through below)
        else:
            arr = np.array(archs, dtype=object)  # strings / tuples: no slow fixed-width unicode copy
    except ValueError:  # ragged: mixed kinds of entries
        return _one_by_one(archs)
    if arr.ndim == 0:
        return _one_by_one(archs)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.dtype == object and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in arr.ravel()):
        arr = arr.astype(np.int64)  # op-code tuples given as Python ints
    if arr.dtype.kind in "iu":
        if arr.ndim == 2:
            return codes_to_indices(arr)
        if arr.ndim != 1:
            raise ArchError(f"an integer array of architectures must be 1-D (indices) or (n, 6) (codes), got {arr.shape}")
        a = arr.astype(np.int64)
        bad = (a < 0) | (a >= NUM_ARCHS)
        if bad.any():
            p = int(np.argmax(bad))
            raise ArchError(f"entry {p}: official index must be in 0..{NUM_ARCHS - 1}, got {a[p]}")
        return a
    is_str = arr.dtype.kind == "U" or (arr.dtype == object and all(isinstance(v, str) for v in arr.ravel()))
    if is_str and arr.ndim == 2 and arr.shape[1] == NUM_EDGES:  # op names per edge
        flat = arr.ravel().astype(object)
        codes = _OP_INDEX.get_indexer(flat)
        if (codes < 0).any():
            p = int(np.argmax(codes < 0))
            raise ArchError(f"entry {p // NUM_EDGES}: unknown operation {clip_text(flat[p])}; known: {', '.join(OPS)}")
        return codes_to_indices(codes.reshape(-1, NUM_EDGES))
    if is_str and arr.ndim == 1:
        flat = arr.astype(object)
        pos = lookup_strs(flat)
        for p in np.flatnonzero(pos < 0):  # whitespace, digit strings (indices) or errors: misses only
            try:
                pos[p] = parse_arch(flat[p]).index
            except ArchError as e:
                raise ArchError(f"entry {p} is not a NAS-Bench-201 architecture: {e}") from None
        return pos
    if arr.ndim == 2:
        return _one_by_one(tuple(r) for r in arr)
    return _one_by_one(arr)


def parse_many(values: Iterable[Any]) -> list[Arch]:
    """The :class:`Arch` of each of many architectures (any form :func:`to_indices` reads), in order."""
    if not isinstance(values, (str, Arch, np.ndarray, pd.Series, pd.Index, list, tuple)):
        values = list(values)  # generators and other one-pass iterables
    archs = all_archs()
    return [archs[i] for i in to_indices(values).tolist()]
