"""Run control shared by the trainers: graceful stop on SIGINT/SIGTERM, the cosine schedule, the epoch log.

A stop request only sets a flag that the loop checks between steps, so the checkpoint written on the way
out is consistent; a second Ctrl-C interrupts at once.  The epoch log is a CSV with one row per epoch,
truncated on resume to the epochs the checkpoint holds.
"""

from __future__ import annotations

import csv
import logging
import math
import signal
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

__all__ = ["StopRequested", "StopFlag", "graceful_stop", "cosine_lr", "append_log", "truncate_log"]

log = logging.getLogger(__name__)


class StopRequested(KeyboardInterrupt):
    """Raised after a graceful stop (SIGINT/SIGTERM) once the checkpoint is written."""


class StopFlag:
    """Set by the signal handlers of :func:`graceful_stop`; read between steps."""

    requested: bool = False


@contextmanager
def graceful_stop() -> Iterator[StopFlag]:
    """SIGINT/SIGTERM set a flag checked between steps (so the checkpoint is consistent); a second
    SIGINT interrupts at once."""
    flag = StopFlag()

    def handler(signum: int, frame: Any) -> None:
        if flag.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        flag.requested = True
        log.warning("stop requested: finishing this step, then writing a checkpoint")

    try:
        old = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread: no handlers
        yield flag
        return
    try:
        yield flag
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)


def cosine_lr(lr: float, lr_min: float, epoch: int, epochs: int) -> float:
    """Learning rate of ``epoch`` (0-based) on a per-epoch cosine from ``lr`` down towards ``lr_min``."""
    return lr_min + 0.5 * (lr - lr_min) * (1 + math.cos(math.pi * epoch / epochs))


def append_log(path: Path, row: dict[str, Any], fields: Sequence[str]) -> None:
    """Append one epoch's row to a CSV log with columns ``fields`` (header written with the first row)."""
    new = not path.exists()
    with open(path, "a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(fields))
        if new:
            w.writeheader()
        w.writerow(row)


def truncate_log(path: Path, epochs_done: int, fields: Sequence[str]) -> None:
    """Drop log rows of epochs the checkpoint does not include (a kill between log and checkpoint)."""
    if not path.exists():
        return
    with open(path, newline="") as f:
        rows = [r for r in csv.DictReader(f) if int(r["epoch"]) <= epochs_done]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(fields))
        w.writeheader()
        w.writerows(rows)
