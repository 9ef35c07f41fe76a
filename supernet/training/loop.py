"""The one training-loop skeleton every trainer plugs into: epochs of steps, graceful stop, ``max_steps``,
checkpoints (every N steps, at the end of every epoch, on a stop), resume, a per-epoch log row and a stop
with :class:`NonFiniteLossError` when a step's loss is NaN or infinite.

A trainer (single-path :mod:`~supernet.training.single_path`, DrNAS :mod:`~supernet.training.drnas`)
supplies a :class:`Trainee`: what one step does, what an epoch's log row holds and what its checkpoint
holds.  The skeleton owns the counters (:class:`LoopState`) and the order of events, which is what makes
a killed-and-resumed run reproduce the uninterrupted one bit for bit.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Literal, Protocol, Sequence, Union

import torch
from tqdm.auto import tqdm

from ..fileio import remove_stale_temps
from .checkpoint import CheckpointError, config_diff, load_checkpoint
from .control import StopRequested, append_log, graceful_stop, truncate_log

__all__ = [
    "LoopState", "Batches", "Trainee", "NonFiniteLossError", "Resume", "open_checkpoint", "resume_state", "run_loop",
]

log = logging.getLogger(__name__)


@dataclass
class LoopState:
    """Where a run stands: completed ``epoch``s, steps into the current one, steps in all, and the seconds
    spent in the current epoch so far.  Checkpoints record it; the loop advances it."""

    epoch: int = 0
    step_in_epoch: int = 0
    global_step: int = 0
    epoch_seconds: float = 0.0

    def summary(self, out: Path, epochs: int, seconds: float) -> dict[str, Any]:
        """The keys every trainer's summary starts with."""
        return {
            "out": str(out),
            "epochs_done": self.epoch,
            "epochs": epochs,
            "finished": self.epoch >= epochs,
            "global_step": self.global_step,
            "seconds_this_call": round(seconds, 2),
        }


class Batches(Protocol):
    """What the loop iterates: batches of one epoch, resuming where the last iteration stopped."""

    def __iter__(self) -> Iterator[Any]: ...

    def __len__(self) -> int: ...


class Trainee(Protocol):
    """What a trainer plugs into :func:`run_loop`."""

    def start_epoch(self, epoch: int) -> None:
        """Prepare epoch ``epoch`` (0-based): learning rate, train mode, per-epoch switches."""

    def step(self, batch: Any, state: LoopState) -> float | torch.Tensor | None:
        """One update on ``batch``; ``state`` still counts the steps before this one.  Returns the step's loss
        (a float, or a tensor left on its device, read back only every ``postfix_every`` steps and before a
        checkpoint) so that a NaN/inf stops the run, or None (not checked)."""

    def postfix(self) -> dict[str, str]:
        """Running figures for the progress bar."""

    def end_epoch(self, state: LoopState) -> dict[str, Any]:
        """The log row of the epoch just finished (``state`` not yet advanced); reset the epoch's sums."""

    def epoch_done(self, row: dict[str, Any], state: LoopState) -> None:
        """After the epoch's row is logged and its checkpoint written (``state`` advanced): report, snapshot."""

    def save(self, state: LoopState) -> None:
        """Write the checkpoint of the run as it stands."""


class NonFiniteLossError(ValueError):
    """A training step's loss was NaN or infinite; the run stopped without writing its diverged state, so the
    checkpoint on disk (if any) is the last one from before that step."""


class _LossWatch:
    """The first step whose loss was not finite.  Tensor losses are checked on their device and read back only
    in :meth:`first_bad`, so watching costs no host sync per step."""

    def __init__(self) -> None:
        self.bad: tuple[int, float] | None = None  # (global step, loss) of the first non-finite loss
        self._step: torch.Tensor | None = None  # on the loss's device: that step, or -1 while all are finite
        self._value: torch.Tensor | None = None

    def see(self, loss: float | torch.Tensor | None, global_step: int) -> None:
        if loss is None or self.bad is not None:
            return
        if isinstance(loss, torch.Tensor):
            loss = loss.detach().float()
            if self._step is None or self._value is None:
                self._step = torch.full((), -1, dtype=torch.int64, device=loss.device)
                self._value = torch.zeros((), device=loss.device)
            new = (self._step < 0) & ~torch.isfinite(loss).all()
            self._step = torch.where(new, global_step, self._step)
            self._value = torch.where(new, loss.sum(), self._value)
        elif not math.isfinite(loss):
            self.bad = (global_step, float(loss))

    def first_bad(self) -> tuple[int, float] | None:
        if self.bad is None and self._step is not None and self._value is not None and int(self._step) >= 0:
            self.bad = (int(self._step), float(self._value))
        return self.bad


Resume = Union[bool, Literal["auto"]]
"""How a trainer treats its run directory: False = a new run, True = continue its checkpoint (an error when
there is none), ``"auto"`` = continue it when there is one, else start (the CLI's ``--resume-or-start``)."""


def open_checkpoint(
    path: Path, resume: Resume, *, kind: str, config: dict[str, Any], defaults: dict[str, dict[str, Any]],
    resumable: set[tuple[str, str]], skip: tuple[str, ...] = (), fmt: str | None = None,
    log_path: Path | None = None,
) -> dict[str, Any] | None:
    """The checkpoint at ``path`` to resume from, or None for a fresh run.

    Removes temporary files a kill mid-save left beside ``path``.  Refuses (:class:`CheckpointError`) a
    directory that already holds a checkpoint unless ``resume``, a missing checkpoint when ``resume is True``,
    a fresh start beside an old ``log_path`` (its rows would be mixed with the new ones) unless
    ``resume == "auto"`` (the old log is then replaced, with a warning), a checkpoint of another ``fmt`` and
    one made with a config that differs from ``config`` in a way that matters
    (:func:`~supernet.training.checkpoint.config_diff`).  ``kind`` names the run in messages.
    """
    if resume not in (False, True, "auto"):
        raise ValueError(f"resume must be False, True or 'auto', got {resume!r}")
    for t in remove_stale_temps(path):
        log.info("removed %s, left by a run killed while writing its checkpoint", t)
    if not path.exists():
        if resume is True:
            raise CheckpointError(
                f"no checkpoint in {path.parent} to resume; drop --resume to start a new run, "
                f"or pass --resume-or-start"
            )
        if log_path is not None and log_path.exists():
            if resume != "auto":
                raise CheckpointError(
                    f"{path.parent} holds {log_path.name} of an earlier run but no checkpoint; choose a new --out, "
                    f"or pass --resume-or-start to start over (replacing {log_path.name})"
                )
            log.warning("%s has no %s checkpoint: starting over, replacing %s", path.parent, kind, log_path.name)
            log_path.unlink(missing_ok=True)
        return None
    if not resume:
        raise CheckpointError(
            f"{path.parent} already holds a {kind} checkpoint; pass --resume to continue it or choose a new --out"
        )
    ck = load_checkpoint(path)
    if fmt is not None and ck.get("format") != fmt:
        raise CheckpointError(f"{path} is not a {kind} checkpoint (format {ck.get('format')!r})")
    diff = config_diff(ck["config"], config, defaults, resumable, skip=skip)
    if diff:
        raise CheckpointError(
            f"{path} was made with another config ({diff}); resume with the same config or use a new --out"
        )
    return ck


def resume_state(
    ck: dict[str, Any], epoch_seconds: float, log_path: Path, log_fields: Sequence[str], *, is_main: bool = True
) -> LoopState:
    """The :class:`LoopState` a checkpoint records; drops log rows of epochs it does not include."""
    state = LoopState(ck["epoch"], ck["step_in_epoch"], ck["global_step"], epoch_seconds)
    if is_main:
        truncate_log(log_path, state.epoch, log_fields)
    log.info("resumed %s at epoch %d step %d", log_path.parent, state.epoch, state.step_in_epoch)
    return state


def run_loop(
    trainee: Trainee,
    loader: Batches,
    state: LoopState,
    *,
    epochs: int,
    log_path: Path,
    log_fields: Sequence[str],
    checkpoint_path: Path,
    desc: str = "epoch",
    max_steps: int | None = None,
    checkpoint_every_steps: int = 0,
    progress: bool = True,
    is_main: bool = True,
    postfix_every: int = 20,
    until: Callable[[], bool] | None = None,
) -> None:
    """Train ``trainee`` on ``loader`` from ``state`` until ``epochs`` are done or ``max_steps`` steps ran.

    Each epoch: ``start_epoch``, then one ``step`` per batch (a checkpoint every ``checkpoint_every_steps``
    global steps when > 0); at its end the row of ``end_epoch`` is appended to ``log_path`` (main process),
    the checkpoint is written and ``epoch_done`` called.  ``max_steps`` stops with a checkpoint (mid-epoch
    too); SIGINT/SIGTERM write a checkpoint after the current step and raise :class:`StopRequested`.
    ``loader`` continues where it stopped (resumed loaders start mid-epoch).  ``until`` (checked before
    every epoch) ends the run early once it returns True, e.g. when a search has converged.

    The losses ``step`` returns are checked before every checkpoint, every ``postfix_every`` steps and at
    the end of every epoch: a NaN or infinite one raises :class:`NonFiniteLossError` naming the step and the
    last good checkpoint, and neither that checkpoint nor the log is written with the diverged state.
    Under torchrun a trainee returns a loss all ranks share, so that they all stop at the same check.
    """
    steps_this_call = 0
    stopped_early = False
    n_batches = len(loader)
    watch = _LossWatch()
    last_saved = replace(state) if checkpoint_path.exists() else None  # a resumed run starts from its checkpoint

    def check() -> None:
        """Raise :class:`NonFiniteLossError` when a step of this epoch had a non-finite loss."""
        bad = watch.first_bad()
        if bad is None:
            return
        g, value = bad
        first = state.global_step - state.step_in_epoch  # global index of this epoch's first step
        if last_saved is not None:
            at = (f"end of epoch {last_saved.epoch}" if last_saved.step_in_epoch == 0
                  else f"epoch {last_saved.epoch + 1} step {last_saved.step_in_epoch}")
            kept = f"the last good checkpoint is {checkpoint_path} ({at})"
        else:
            kept = "no checkpoint was written"
        raise NonFiniteLossError(
            f"loss became {value} at epoch {state.epoch + 1} step {g - first + 1} (global step {g + 1}); {kept}; "
            f"training stopped: lower the learning rate (or clip gradients) and start again"
        )

    def save() -> None:
        nonlocal last_saved
        check()
        trainee.save(state)
        last_saved = replace(state)

    try:
        with graceful_stop() as stop:
            while state.epoch < epochs and not (until is not None and until()):
                trainee.start_epoch(state.epoch)
                show_bar = progress and is_main
                bar = tqdm(
                    total=n_batches, initial=state.step_in_epoch, desc=f"{desc} {state.epoch + 1}/{epochs}",
                    disable=not show_bar, leave=False, unit="step",
                )
                t0 = time.perf_counter()
                for batch in loader:
                    watch.see(trainee.step(batch, state), state.global_step)
                    state.step_in_epoch += 1
                    state.global_step += 1
                    steps_this_call += 1
                    bar.update(1)
                    if watch.bad is not None:  # a float loss is known at once
                        check()
                    if state.step_in_epoch % postfix_every == 0 or state.step_in_epoch == n_batches:
                        check()
                        if show_bar:
                            bar.set_postfix(trainee.postfix())
                    if checkpoint_every_steps and state.global_step % checkpoint_every_steps == 0:
                        state.epoch_seconds += time.perf_counter() - t0
                        t0 = time.perf_counter()
                        save()
                    if stop.requested:
                        raise StopRequested
                    if max_steps is not None and steps_this_call >= max_steps:
                        stopped_early = True
                        break
                bar.close()
                state.epoch_seconds += time.perf_counter() - t0
                if stopped_early and state.step_in_epoch < n_batches:
                    save()
                    break
                check()
                row = trainee.end_epoch(state)
                state.epoch += 1
                state.step_in_epoch = 0
                state.epoch_seconds = 0.0
                if is_main:
                    append_log(log_path, row, log_fields)
                save()
                trainee.epoch_done(row, state)
                if stopped_early:
                    break
    except StopRequested:
        save()
        log.warning("interrupted: checkpoint written to %s (resume with --resume)", checkpoint_path)
        raise
