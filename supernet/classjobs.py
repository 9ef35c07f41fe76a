"""Score one architecture per isomorphism class, resumably and sharded: the machinery shared by the
weight-sharing evaluator and the zero-cost proxies.

Every scored class is appended to ``<out>.partial-<key>`` (one CSV row ``iso_id, value...``) as soon as
it is done, so a killed run loses at most the class being scored; a rerun with the same key skips what
is there.  Under ``torchrun`` rank r scores every r-th class into its own partial file and rank 0
collects them all after a barrier.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch.distributed as dist
from tqdm.auto import tqdm

from .space import Arch, degenerate_mask, iso_ids, parse_arch

__all__ = ["representatives", "read_partials", "score_classes", "remove_partials", "world_rank"]


def representatives(archs: Sequence[Arch], *, canonical: bool) -> dict[int, Arch]:
    """iso_id -> the architecture that scores its class, for every non-degenerate class in ``archs``.

    ``canonical=True``: the member with the smallest official index in the whole space, so a class's
    score never depends on which other architectures share the run; ``False``: its first member in
    ``archs`` (the weight-sharing evaluator's historical choice).
    """
    ids, deg = iso_ids(), degenerate_mask()
    classes = sorted({int(ids[a.index]) for a in archs if not deg[a.index]}) if canonical else None
    if canonical:
        first = np.full(int(ids.max()) + 1, len(ids), dtype=np.int64)
        np.minimum.at(first, ids, np.arange(len(ids)))
        return {c: parse_arch(int(first[c])) for c in classes}
    reps: dict[int, Arch] = {}
    for a in archs:
        if not deg[a.index] and int(ids[a.index]) not in reps:
            reps[int(ids[a.index])] = a
    return reps


def read_partials(out: Path, key: str, width: int) -> dict[int, tuple[float, ...]]:
    """iso_id -> ``width`` values already scored under ``key`` (other keys' partial files are ignored)."""
    done: dict[int, tuple[float, ...]] = {}
    for p in sorted(out.parent.glob(f"{out.name}.partial-{key}*")):
        with open(p, newline="") as f:
            for row in csv.reader(f):
                if len(row) != width + 1:
                    continue  # a line cut by a kill
                try:
                    done[int(row[0])] = tuple(float(v) for v in row[1:])
                except ValueError:
                    continue
    return done


def remove_partials(out: Path, key: str) -> None:
    """Delete the partial files of ``key`` once the final table is written."""
    for p in out.parent.glob(f"{out.name}.partial-{key}*"):
        p.unlink()


def world_rank(device_type: str = "cpu") -> tuple[int, int]:
    """(world size, rank) from torchrun's environment; initialises the process group when world > 1."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 1, 0
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device_type == "cuda" else "gloo")
    return world, dist.get_rank()


def score_classes(
    reps: dict[int, Arch],
    score: Callable[[Arch], Sequence[float]],
    out: Path,
    key: str,
    width: int,
    *,
    prepare: Callable[[], None] | None = None,
    desc: str = "scoring",
    progress: bool = True,
    device_type: str = "cpu",
) -> dict[int, tuple[float, ...]] | None:
    """Score every class of ``reps`` not yet in ``out``'s partial files; iso_id -> values.

    ``score(arch)`` returns ``width`` floats; ``prepare()`` (e.g. loading images) runs only when this
    rank has something left to score.  Under torchrun, ranks other than 0 return None after the barrier.
    """
    world, rank = world_rank(device_type)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = read_partials(out, key, width)
    mine = [(c, a) for c, a in reps.items() if c not in done][rank::world]
    if mine:
        if prepare is not None:
            prepare()
        part = out.with_name(f"{out.name}.partial-{key}" + (f".rank{rank}" if world > 1 else ""))
        with open(part, "a", newline="") as f:
            w = csv.writer(f)
            for c, a in tqdm(mine, desc=desc, unit="arch", disable=not (progress and rank == 0)):
                values = tuple(float(v) for v in score(a))
                if len(values) != width:
                    raise ValueError(f"score returned {len(values)} values, expected {width}")
                w.writerow([c, *(repr(v) for v in values)])
                f.flush()
                done[c] = values
    if world > 1:
        dist.barrier()
        if rank != 0:
            return None
        done = read_partials(out, key, width)
    return done
