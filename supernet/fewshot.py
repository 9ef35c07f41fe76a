"""Few-shot NAS: reduced weight sharing by splitting the supernet into sub-supernets.

One supernet shares every op's weights among all 15,625 cells; Zhang et al. ("Deeper Insights into
Weight Sharing in Neural Architecture Search", 2020) show that sharing less (sub-supernets that each
serve part of the space) makes the ranking more faithful, and Zhao et al. ("Few-shot Neural
Architecture Search", ICML 2021) make that affordable by splitting on the op of chosen edges and
warm-starting every sub-supernet from the trained one-shot supernet.

Here a split on edges ``E`` makes ``5^|E|`` sub-supernets, one per op combination on ``E``.  Sub-supernet
``s`` is a normal training run (:func:`supernet.training.train_supernet`) whose config is the base run's
with ``[train] init_from`` = the base checkpoint (warm start), its own ``epochs``/``lr`` (fine-tuning),
and ``[sampling] restrict`` = the pattern fixing ``E`` to its ops, so it only ever trains architectures
of its part.  :func:`evaluate_fewshot` routes every architecture to the sub-supernet of its ops on ``E``.

A few-shot directory holds ``fewshot.json`` (base checkpoint and hash, split edges, one entry per
sub-supernet) and one run directory per sub-supernet (``sub_<op>[_<op>...]``).  Both training and
evaluation resume: finished sub-supernets are skipped and each one's run resumes from its checkpoint.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from pathlib import Path
from typing import Any, Sequence

import pandas as pd
import torch

from .config import EvalConfig, config_from_dict
from .data import ImageSet
from .evaluate import WS_COLUMNS, evaluate_supernet
from .fileio import write_json_atomic
from .hashing import file_digest
from .resolve import parse_many
from .space import EDGES, NUM_EDGES, NUM_OPS, OPS, Arch, format_pattern
from .tables import write_table
from .training import CHECKPOINT, CheckpointError, load_checkpoint, train_supernet

__all__ = ["split_patterns", "parse_edges", "train_fewshot", "evaluate_fewshot", "route", "MANIFEST"]

log = logging.getLogger(__name__)

MANIFEST = "fewshot.json"


def parse_edges(edges: Sequence[int | str]) -> tuple[int, ...]:
    """Edge positions 0..5 (official order) from ints or ``"src,dst"`` / ``"(src,dst)"`` strings."""
    out: list[int] = []
    for e in edges:
        if isinstance(e, str) and not e.strip().isdigit():
            try:
                pair = tuple(int(v) for v in e.strip().strip("()").split(","))
                k = EDGES.index(pair)  # type: ignore[arg-type]
            except ValueError:
                raise ValueError(f"unknown edge {e!r}; edges are 0..5 or one of {EDGES}") from None
        else:
            k = int(e)
            if not 0 <= k < NUM_EDGES:
                raise ValueError(f"edge position {k} out of range 0..{NUM_EDGES - 1} (edges {EDGES})")
        out.append(k)
    if not out or len(set(out)) != len(out):
        raise ValueError(f"split edges must be a non-empty list without repeats, got {list(edges)}")
    return tuple(sorted(out))


def split_patterns(edges: Sequence[int | str]) -> dict[str, str]:
    """``{sub-supernet name: pattern}`` for a split on ``edges``: one per op combination (5^len)."""
    ks = parse_edges(edges)
    out: dict[str, str] = {}
    for combo in itertools.product(range(NUM_OPS), repeat=len(ks)):
        codes: list[int | None] = [None] * NUM_EDGES
        for k, c in zip(ks, combo):
            codes[k] = c
        out["sub_" + "_".join(OPS[c] for c in combo)] = format_pattern(codes)
    return out


def route(archs: Sequence[Arch], edges: Sequence[int]) -> list[str]:
    """The sub-supernet name that scores each architecture (its ops on the split edges)."""
    return ["sub_" + "_".join(a.ops[k] for k in edges) for a in archs]


def train_fewshot(
    base_run: str | Path,
    out_dir: str | Path,
    edges: Sequence[int | str] = (0,),
    *,
    epochs: int = 2,
    lr: float | None = None,
    lr_min: float | None = None,
    only: Sequence[str] | None = None,
    progress: bool = True,
    data: dict[str, ImageSet] | None = None,
) -> dict[str, Any]:
    """Warm-start and fine-tune one sub-supernet per op combination on ``edges`` from ``base_run``.

    Args:
        base_run: a finished training run (directory or checkpoint) of :func:`train_supernet`.
        out_dir: the few-shot directory (manifest and one run directory per sub-supernet).
        edges: split edges (positions 0..5 or ``"src,dst"``); 5^len(edges) sub-supernets.
        epochs, lr, lr_min: each sub-supernet's fine-tuning schedule (cosine, fresh optimiser); ``lr``
            defaults to the base run's ``lr_min`` x 10 and ``lr_min`` to the base's ``lr_min``.
        only: train just these sub-supernet names (e.g. to spread them over machines); default all.
    Returns the manifest dict (also written to ``fewshot.json``).
    """
    out = Path(out_dir)
    base = Path(base_run)
    base_ck = base / CHECKPOINT if base.is_dir() else base
    ck = load_checkpoint(base_ck)
    if not ck.get("finished", False):
        raise CheckpointError(f"base run {base_ck} has not finished training; finish it before splitting it")
    base_cfg = config_from_dict(ck["config"], where=str(base_ck))
    if base_cfg.sampling.restrict:
        raise ValueError(f"base run {base_ck} is itself restricted ({base_cfg.sampling.restrict}); split a full supernet")
    ks = parse_edges(edges)
    patterns = split_patterns(ks)
    names = list(patterns) if only is None else list(only)
    unknown = sorted(set(names) - set(patterns))
    if unknown:
        raise ValueError(f"unknown sub-supernet(s) {unknown}; this split has {', '.join(patterns)}")
    t = base_cfg.train
    ft_lr = float(lr) if lr is not None else 10 * t.lr_min
    ft_lr_min = float(lr_min) if lr_min is not None else t.lr_min
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / MANIFEST
    base_hash = file_digest(base_ck)[:16]
    manifest: dict[str, Any] = {
        "format": "nasgcn-fewshot-v1",
        "base_checkpoint": str(base_ck.resolve()),
        "base_checkpoint_sha256_16": base_hash,
        "edges": list(ks),
        "edge_names": [f"{EDGES[k][0]}->{EDGES[k][1]}" for k in ks],
        "epochs": int(epochs),
        "lr": ft_lr,
        "lr_min": ft_lr_min,
        "subs": {},
    }
    if manifest_path.exists():
        old = json.loads(manifest_path.read_text())
        same = {k: old.get(k) for k in ("base_checkpoint_sha256_16", "edges", "epochs", "lr", "lr_min")}
        want = {k: manifest[k] for k in same}
        if same != want:
            raise CheckpointError(
                f"{out} holds a few-shot split made with other settings ({same} vs {want}); use a new directory"
            )
        manifest["subs"] = old.get("subs", {})
    for i, name in enumerate(names):
        sub_dir = out / name
        cfg = base_cfg.replace(
            train={"epochs": int(epochs), "lr": ft_lr, "lr_min": ft_lr_min, "init_from": str(base_ck.resolve())},
            sampling={"restrict": patterns[name]},
        )
        done = manifest["subs"].get(name, {}).get("finished", False) and (sub_dir / CHECKPOINT).exists()
        if not done:
            log.info("few-shot sub-supernet %d/%d %s (%s)", i + 1, len(names), name, patterns[name])
            t0 = time.perf_counter()
            summary = train_supernet(cfg, sub_dir, resume="auto", progress=progress, data=data)
            manifest["subs"][name] = {
                "pattern": patterns[name], "run": name, "finished": bool(summary["finished"]),
                "seconds_last_call": round(time.perf_counter() - t0, 2),
            }
            write_json_atomic(manifest_path, manifest, indent=2)
    write_json_atomic(manifest_path, manifest, indent=2)
    return manifest


def evaluate_fewshot(
    fewshot_dir: str | Path,
    archs: Sequence[Arch | str | int],
    out: str | Path,
    *,
    eval_cfg: EvalConfig | None = None,
    device: str | torch.device | None = None,
    data: dict[str, ImageSet] | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Score ``archs`` with the few-shot supernets: each with the sub-supernet of its ops on the split
    edges.  Writes ``out`` (the columns of :data:`supernet.evaluate.WS_COLUMNS` plus ``sub``) and a
    JSON sidecar; per-sub results are kept in ``<out>.parts/`` so an interrupted call resumes."""
    root = Path(fewshot_dir)
    mpath = root / MANIFEST
    if not mpath.is_file():
        raise FileNotFoundError(f"{mpath} not found: train the split first (nasgcn supernet fewshot --base RUN --out {root})")
    manifest = json.loads(mpath.read_text())
    arch_list = parse_many(archs)
    if not arch_list:
        raise ValueError("no architectures to evaluate")
    subs = route(arch_list, manifest["edges"])
    missing = sorted({s for s in subs if not manifest["subs"].get(s, {}).get("finished")})
    if missing:
        raise CheckpointError(
            f"sub-supernet(s) {missing} of {root} are not trained; rerun the few-shot training to finish them"
        )
    out = Path(out)
    parts_dir = out.with_name(out.name + ".parts")
    parts_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    frames: dict[str, pd.DataFrame] = {}
    for name in sorted(set(subs)):
        mine = [a for a, s in zip(arch_list, subs) if s == name]
        part = parts_dir / f"{name}.csv"
        df = evaluate_supernet(root / name, mine, part, eval_cfg=eval_cfg, device=device, data=data, progress=progress)
        frames[name] = df.assign(sub=name)
    # every architecture is in exactly one sub-supernet's table: index them all, take the input order
    scored = pd.concat(frames.values()).drop_duplicates("index").set_index("index", drop=False)
    table = scored.loc[[a.index for a in arch_list], WS_COLUMNS + ["sub"]].reset_index(drop=True)
    side = {
        "fewshot_dir": str(root.resolve()),
        "edges": manifest["edges"],
        "base_checkpoint_sha256_16": manifest["base_checkpoint_sha256_16"],
        "subs_used": sorted(frames),
        "architectures": len(table),
        "seconds": round(time.perf_counter() - t0, 2),
    }
    write_table(table, out, side)
    return table
