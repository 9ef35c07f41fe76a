"""The layout of the official per-architecture records, and the one accuracy the truth table keeps of each.

An "ArchResults-state" is ``{'arch_index', 'arch_str', 'all_results': {(dataset, seed):
ResultsCount-state}, 'dataset_seed': {dataset: [seeds]}, ...}`` and a ResultsCount-state holds
``'epochs'`` and ``'eval_acc1es': {'<set>@<epoch>': accuracy}``.  The accuracy kept is the official
API's ``get_more_info(i, dataset, hp='200', is_random=False)['test-accuracy']``: the mean over the
training seeds of the final epoch on ``cifar10``/``ori-test`` (trained on train+valid),
``cifar100``/``x-test`` and ``ImageNet16-120``/``x-test``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from supernet.resolve import arch_strs, lookup_strs
from supernet.space import NUM_ARCHS
from supernet.tables import BenchmarkError, format_rows

from .unpickle import REDUCED, is_record

__all__ = [
    "OFFICIAL_TARGETS",
    "HP_KEYS",
    "LayoutError",
    "condense_record",
    "check_meta_archs",
    "check_condensed",
    "condensed_from_single",
]

# (truth column, official dataset name, official evaluation set)
OFFICIAL_TARGETS: tuple[tuple[str, str, str], ...] = (
    ("cifar10_test_acc", "cifar10", "ori-test"),
    ("cifar100_xtest_acc", "cifar100", "x-test"),
    ("imagenet16_120_xtest_acc", "ImageNet16-120", "x-test"),
)
HP_KEYS = {"200": ("200", "full"), "12": ("12", "less")}  # NATS-Bench key, NAS-Bench-201 key


class LayoutError(BenchmarkError):
    """A record whose inner layout this reader does not know (the official API may still read it)."""


def condense_record(record: Mapping[str, Any], hp: str, where: str) -> tuple[Any, Any, dict[str, float]]:
    """(arch_index, arch_str, {truth column: mean final-epoch accuracy}) of one raw record."""
    key = next((k for k in HP_KEYS[hp] if k in record), None)
    if key is None:
        raise LayoutError(f"{where}: no results for hp={hp!r} (the record has keys {list(record)})")
    state = record[key]
    if not isinstance(state, Mapping) or "all_results" not in state or "dataset_seed" not in state:
        raise LayoutError(f"{where}: the hp={hp!r} entry is not an ArchResults state (keys {list(state)})")
    if isinstance(state.get("arch_index"), (int, np.integer)):
        where = f"{where} (arch_index {state['arch_index']})"
    all_results, dataset_seed = state["all_results"], state["dataset_seed"]
    acc: dict[str, float] = {}
    for col, dataset, setname in OFFICIAL_TARGETS:
        seeds = dataset_seed.get(dataset)
        if not seeds:
            raise BenchmarkError(
                f"{where}: no {dataset!r} results at hp={hp!r} (datasets present: {list(dataset_seed)})"
            )
        vals = []
        for seed in seeds:
            r = all_results.get((dataset, seed))
            if not isinstance(r, Mapping) or "eval_acc1es" not in r or "epochs" not in r:
                raise LayoutError(f"{where}: no ResultsCount state for ({dataset!r}, seed {seed!r})")
            ekey = f"{setname}@{int(r['epochs']) - 1}"
            if ekey not in r["eval_acc1es"]:
                raise BenchmarkError(
                    f"{where}: {dataset!r} seed {seed!r} has no {setname!r} accuracy at the final epoch "
                    f"(looked for {ekey!r})"
                )
            try:
                vals.append(float(r["eval_acc1es"][ekey]))
            except (TypeError, ValueError):
                raise BenchmarkError(
                    f"{where}: {dataset!r} seed {seed!r} {ekey!r} is {type(r['eval_acc1es'][ekey]).__name__}, "
                    f"not a number"
                ) from None
        acc[col] = float(np.mean(vals))  # as the official API: np.mean over the seeds
    return state.get("arch_index"), state.get("arch_str"), acc


def check_meta_archs(meta_archs: Any, where: str) -> None:
    """Refuse an archive whose architecture list is not the official index order."""
    if not isinstance(meta_archs, (list, tuple)):
        raise BenchmarkError(f"{where}: 'meta_archs' is a {type(meta_archs).__name__}, expected a list of arch strings")
    if len(meta_archs) != NUM_ARCHS:
        raise BenchmarkError(
            f"{where} lists {len(meta_archs)} architectures, expected {NUM_ARCHS} (the topology space); "
            f"is this the size search space (sss) file?"
        )
    official = arch_strs().tolist()
    for i, s in enumerate(meta_archs):
        if s != official[i]:
            hit = int(lookup_strs([s])[0]) if isinstance(s, str) else -1
            other = hit if hit >= 0 else None
            raise BenchmarkError(
                f"{where}: the archive's architecture list disagrees with our official index at position {i}: "
                f"the archive has {s!r}"
                + (f" (official index {other})" if other is not None else " (not a NAS-Bench-201 cell)")
                + f", the official index {i} is {official[i]!r}. Refusing to import with a different order"
            )


def check_condensed(i: int, arch_index: Any, arch_str: Any, acc: Mapping[str, float], where: str) -> None:
    """Refuse a condensed record stored under index ``i`` that names another architecture or holds NaN."""
    if isinstance(arch_index, (int, np.integer)) and int(arch_index) not in (i, -1):
        raise BenchmarkError(f"{where}: the record stored under index {i} says arch_index={arch_index}")
    if isinstance(arch_str, str) and arch_str != arch_strs()[i]:
        raise BenchmarkError(
            f"{where}: the record of index {i} is for {arch_str!r}, but official index {i} is {arch_strs()[i]!r}"
        )
    for col, v in acc.items():
        if not np.isfinite(v):
            raise BenchmarkError(f"{where}: architecture {i} has a non-finite {col} ({v}); refusing to import NaNs")


def condensed_from_single(
    arch2infos: Mapping[int, Any], hp: str, indices: np.ndarray, allow_missing: bool, where: str
) -> tuple[dict[int, dict[str, float]], list[int]]:
    """``({index: accuracies}, missing indices)`` of ``indices`` from a single file's ``arch2infos``."""
    out: dict[int, dict[str, float]] = {}
    missing = []
    for i in indices.tolist():
        rec = arch2infos.get(i)
        if rec is None:
            missing.append(i)
            continue
        if isinstance(rec, Mapping) and REDUCED in rec:
            arch_index, arch_str, acc = rec[REDUCED]
        elif isinstance(rec, Mapping) and is_record(dict(rec)):
            arch_index, arch_str, acc = condense_record(rec, hp, f"{where} (index {i})")
        else:
            raise LayoutError(
                f"{where}: the record of index {i} is not an hp -> ArchResults mapping "
                f"(keys {list(rec)[:10] if isinstance(rec, Mapping) else type(rec).__name__})"
            )
        check_condensed(i, arch_index, arch_str, acc, where)
        out[i] = acc
    if missing and not allow_missing:
        raise BenchmarkError(
            f"{where}: {len(missing)} of {len(indices)} architectures are missing from 'arch2infos' "
            f"(indices {format_rows(missing)}); pass allow_missing=True (--allow-missing) to import the rest as a subset"
        )
    return out, missing
