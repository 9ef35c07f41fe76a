"""Import the official NATS-Bench / NAS-Bench-201 files into the compact truth table.

:func:`read_official` reads a download (format detected) with this package's own readers, or with
the official package (``nats_bench`` / ``nas_201_api``) when asked or when a record's layout is
unknown; :func:`import_benchmark` also writes the table and its JSON provenance sidecar.
"""

from __future__ import annotations

import datetime as _dt
import importlib.util
import logging
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from supernet.space import NUM_ARCHS
from supernet.tables import BenchmarkError, format_rows, sidecar_path, write_table

from .readers import detect_format, file_digests, read_nats_dir, read_single_pickle
from .records import HP_KEYS, OFFICIAL_TARGETS, LayoutError, check_condensed, check_meta_archs, condensed_from_single
from .truth import build_truth_table, validate_truth

logger = logging.getLogger(__name__)

__all__ = ["read_official", "import_benchmark"]


def _read_with_official_api(
    src: Path, layout: str, hp: str, indices: np.ndarray, allow_missing: bool, progress: bool
) -> tuple[dict[int, dict[str, float]], dict[str, Any]]:
    """Read through the official package (``nats_bench`` / ``nas_201_api``); slower, more memory."""
    if layout.startswith("nats"):
        from nats_bench import create  # type: ignore[import-not-found]  # optional official API

        api = create(str(src), "tss", fast_mode=layout == "nats-dir", verbose=False)
        reader = "nats_bench.create(..., 'tss').get_more_info"
    else:
        from nas_201_api import NASBench201API  # type: ignore[import-not-found]  # optional official API

        api = NASBench201API(str(src), verbose=False)
        reader = "nas_201_api.NASBench201API.get_more_info"
    check_meta_archs(list(api.meta_archs), str(src))
    out: dict[int, dict[str, float]] = {}
    missing = []
    for i in tqdm(indices.tolist(), desc="official API", unit="arch", disable=not progress):
        try:
            acc = {
                col: float(api.get_more_info(i, ds, hp=hp, is_random=False)["test-accuracy"])
                for col, ds, _ in OFFICIAL_TARGETS
            }
        except (ValueError, KeyError, AssertionError, FileNotFoundError) as e:
            missing.append(i)
            logger.debug("official API could not read architecture %d: %s", i, e)
            continue
        finally:
            if layout == "nats-dir":
                getattr(api, "arch2infos_dict", {}).pop(i, None)  # keep fast mode's memory flat
        check_condensed(i, None, None, acc, str(src))
        out[i] = acc
    if missing and not allow_missing:
        raise BenchmarkError(
            f"{src}: the official API has no results for {len(missing)} architectures (indices {format_rows(missing)}); "
            f"pass allow_missing=True (--allow-missing) to import the rest as a subset"
        )
    return out, {"reader": reader, "missing_indices": missing}



def read_official(
    src: str | os.PathLike[str],
    *,
    fmt: str | None = None,
    hp: str = "200",
    indices: Sequence[int] | None = None,
    allow_missing: bool = False,
    stream: bool = True,
    method: str = "auto",
    progress: bool = True,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read official NATS-Bench / NAS-Bench-201 file(s) into the truth table.

    Args:
        src: ``NATS-tss-v1_0-3ffb9-simple`` directory, ``NATS-tss-*.pickle.pbz2`` or NAS-Bench-201 ``.pth``.
        fmt: ``'nats'`` or ``'nb201'`` to insist on one (default: detected).
        hp: training schedule, ``'200'`` (the ground truth) or ``'12'``.
        indices: import only these official indices (default: all 15,625).
        allow_missing: import the architectures present when some are missing (a subset table).
        stream: single-file formats: condense records while unpickling (memory ~ one record).
        method: ``'direct'`` (this module's readers), ``'api'`` (the official package), or ``'auto'``
            (direct; the official package only if a record's layout is unknown and it is installed).
        progress: show tqdm progress bars.

    Returns:
        (table, provenance): the validated truth table and a JSON-able dict for the sidecar.
    """
    p = Path(src)
    detected, layout = detect_format(p)
    if fmt is not None:
        want = {"nats": "nats", "nats-bench": "nats", "nb201": "nb201", "nas-bench-201": "nb201"}.get(str(fmt).lower())
        if want is None:
            raise BenchmarkError(f"unknown format {fmt!r}; choose 'nats' or 'nb201'")
        if want != detected:
            names = {"nats": "a NATS-Bench topology file/directory", "nb201": "a NAS-Bench-201 .pth file"}
            raise BenchmarkError(f"{p} looks like {names[detected]}, not {names[want]} (format {fmt!r})")
    hp = str(hp)
    if hp not in HP_KEYS:
        raise BenchmarkError(f"unknown hp {hp!r}; the topology benchmarks have '200' (ground truth) and '12'")
    if method not in ("auto", "direct", "api"):
        raise BenchmarkError(f"unknown method {method!r}; choose 'auto', 'direct' or 'api'")
    idx = np.arange(NUM_ARCHS, dtype=np.int64) if indices is None else np.unique(np.asarray(indices, dtype=np.int64))
    if idx.size == 0 or idx.min() < 0 or idx.max() >= NUM_ARCHS:
        raise BenchmarkError(f"indices must be official indices in 0..{NUM_ARCHS - 1}")

    def direct() -> tuple[dict[int, dict[str, float]], dict[str, Any]]:
        if layout == "nats-dir":
            return read_nats_dir(p, hp, idx, allow_missing, progress)
        meta_archs, arch2infos, info = read_single_pickle(p, layout, hp, stream, progress)
        check_meta_archs(meta_archs, str(p))
        accs, missing = condensed_from_single(arch2infos, hp, idx, allow_missing, str(p))
        info["missing_indices"] = missing
        info["source_digest"] = {**file_digests(p), "over": "the file"}
        return accs, info

    def api() -> tuple[dict[int, dict[str, float]], dict[str, Any]]:
        accs, info = _read_with_official_api(p, layout, hp, idx, allow_missing, progress)
        info["source_format"] = layout
        info["source_digest"] = {**file_digests(p), "over": "the file"} if p.is_file() else None
        return accs, info

    if method == "api":
        accs, info = api()
    else:
        try:
            accs, info = direct()
        except LayoutError as e:
            if method == "direct" or not _official_package_available(detected):
                raise
            logger.warning("%s; falling back to the official %s package", e, "nats_bench" if detected == "nats" else "nas_201_api")
            accs, info = api()
    if not accs:
        raise BenchmarkError(f"{p}: no architecture could be imported")
    table = build_truth_table(accs)
    table = validate_truth(table, name=f"table imported from {p}", subset=len(accs) < NUM_ARCHS)
    provenance = {
        "kind": "nasgcn truth table",
        "source": str(p.resolve()),
        "format": detected,
        **info,
        "hp": hp,
        "is_random": False,
        "epoch": "final (epochs - 1), mean over training seeds",
        "columns": {
            "cifar10_test_acc": "dataset 'cifar10' (trained on train+valid), set 'ori-test'",
            "cifar100_xtest_acc": "dataset 'cifar100', set 'x-test'",
            "imagenet16_120_xtest_acc": "dataset 'ImageNet16-120', set 'x-test'",
        },
        "n_archs": int(len(table)),
        "complete": bool(len(table) == NUM_ARCHS),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    return table, provenance


def _official_package_available(fmt: str) -> bool:
    return importlib.util.find_spec("nats_bench" if fmt == "nats" else "nas_201_api") is not None


def import_benchmark(
    src: str | os.PathLike[str],
    out: str | os.PathLike[str],
    **kwargs: Any,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """:func:`read_official` then :func:`write_table` (CSV(.gz) + JSON sidecar).  Returns both."""
    table, provenance = read_official(src, **kwargs)
    provenance["output"] = str(Path(out).resolve())
    write_table(table, out, provenance)
    logger.info("wrote %d architectures to %s (sidecar %s)", len(table), out, sidecar_path(out))
    return table, provenance
