"""The shared loop skeleton with a recording trainee: order of events, checkpoints, max_steps, resume, stop."""

from __future__ import annotations

import math
import os
import signal
from pathlib import Path
from typing import Any, Iterator

import pandas as pd
import pytest
import torch

from supernet.training.control import StopRequested
from supernet.training.loop import LoopState, NonFiniteLossError, resume_state, run_loop

FIELDS = ("epoch", "steps")


class Batches:
    """``n`` integer batches per epoch that continue where the last iteration stopped (as TensorLoader does)."""

    def __init__(self, n: int) -> None:
        self.n, self.pos = n, 0

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[int]:
        while self.pos < self.n:
            self.pos += 1
            yield self.pos - 1
        self.pos = 0


class Recorder:
    """A trainee that records every call with the loop counters it saw."""

    def __init__(self, stop_at: int | None = None) -> None:
        self.events: list[tuple[Any, ...]] = []
        self.steps_in_epoch = 0
        self.stop_at = stop_at

    def start_epoch(self, epoch: int) -> None:
        self.events.append(("start", epoch))

    def step(self, batch: int, state: LoopState) -> None:
        self.events.append(("step", batch, state.global_step))
        self.steps_in_epoch += 1
        if self.stop_at is not None and state.global_step == self.stop_at:
            os.kill(os.getpid(), signal.SIGTERM)  # the handler only sets the flag; the loop stops after this step

    def postfix(self) -> dict[str, str]:
        return {}

    def end_epoch(self, state: LoopState) -> dict[str, Any]:
        self.events.append(("end", state.epoch, state.step_in_epoch))
        row = {"epoch": state.epoch + 1, "steps": self.steps_in_epoch}
        self.steps_in_epoch = 0
        return row

    def epoch_done(self, row: dict[str, Any], state: LoopState) -> None:
        self.events.append(("done", row["epoch"], state.epoch))

    def save(self, state: LoopState) -> None:
        self.events.append(("save", state.epoch, state.step_in_epoch, state.global_step))


def _run(trainee: Recorder, loader: Batches, state: LoopState, log: Path, **kw: Any) -> None:
    run_loop(trainee, loader, state, epochs=2, log_path=log, log_fields=FIELDS, checkpoint_path=log.parent / "ck",
             progress=False, **kw)


def test_events_of_a_full_run_with_step_checkpoints(tmp_path: Path) -> None:
    t, state = Recorder(), LoopState()
    _run(t, Batches(3), state, tmp_path / "log.csv", checkpoint_every_steps=2)
    assert t.events == [
        ("start", 0), ("step", 0, 0), ("step", 1, 1), ("save", 0, 2, 2), ("step", 2, 2),
        ("end", 0, 3), ("save", 1, 0, 3), ("done", 1, 1),
        ("start", 1), ("step", 0, 3), ("save", 1, 1, 4), ("step", 1, 4), ("step", 2, 5), ("save", 1, 3, 6),
        ("end", 1, 3), ("save", 2, 0, 6), ("done", 2, 2),
    ]
    assert (state.epoch, state.step_in_epoch, state.global_step, state.epoch_seconds) == (2, 0, 6, 0.0)
    assert pd.read_csv(tmp_path / "log.csv").to_dict("list") == {"epoch": [1, 2], "steps": [3, 3]}


def test_max_steps_mid_epoch_then_resume_continues_the_same_steps(tmp_path: Path) -> None:
    log, loader = tmp_path / "log.csv", Batches(3)
    t, state = Recorder(), LoopState()
    _run(t, loader, state, log, max_steps=4)
    assert t.events[-3:] == [("start", 1), ("step", 0, 3), ("save", 1, 1, 4)]  # checkpoint, no epoch end
    assert (state.epoch, state.step_in_epoch, state.global_step) == (1, 1, 4)
    # a row of an epoch the checkpoint does not hold (a kill between log and checkpoint) is dropped on resume
    pd.DataFrame({"epoch": [1, 2], "steps": [3, 9]}).to_csv(log, index=False)
    ck = {"epoch": 1, "step_in_epoch": 1, "global_step": 4}
    resumed = resume_state(ck, 0.5, log, FIELDS)
    assert resumed == LoopState(1, 1, 4, 0.5) and pd.read_csv(log)["epoch"].tolist() == [1]
    t2 = Recorder()
    t2.steps_in_epoch = 1
    _run(t2, loader, resumed, log)
    assert t2.events == [("start", 1), ("step", 1, 4), ("step", 2, 5), ("end", 1, 3), ("save", 2, 0, 6), ("done", 2, 2)]
    assert pd.read_csv(log).to_dict("list") == {"epoch": [1, 2], "steps": [3, 3]}


def test_max_steps_at_an_epoch_end_finishes_that_epoch_only(tmp_path: Path) -> None:
    t, state = Recorder(), LoopState()
    _run(t, Batches(3), state, tmp_path / "log.csv", max_steps=3)
    assert t.events[-3:] == [("end", 0, 3), ("save", 1, 0, 3), ("done", 1, 1)]
    assert [e[0] for e in t.events].count("save") == 1


def test_a_stop_signal_checkpoints_after_the_current_step(tmp_path: Path) -> None:
    t, state = Recorder(stop_at=4), LoopState()
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(StopRequested):
        _run(t, Batches(3), state, tmp_path / "log.csv")
    assert t.events[-2:] == [("step", 1, 4), ("save", 1, 2, 5)]
    assert signal.getsignal(signal.SIGTERM) is before  # the loop's handlers are removed again
    assert len(pd.read_csv(tmp_path / "log.csv")) == 1


class Diverging(Recorder):
    """A trainee whose step reports a loss, non-finite from global step ``bad_at`` on (as a diverged run's)."""

    def __init__(self, bad_at: int, as_tensor: bool, value: float = math.nan) -> None:
        super().__init__()
        self.bad_at, self.as_tensor, self.value = bad_at, as_tensor, value

    def step(self, batch: int, state: LoopState) -> float | torch.Tensor:
        super().step(batch, state)
        loss = self.value if state.global_step >= self.bad_at else 2.3
        return torch.tensor(loss) if self.as_tensor else loss


@pytest.mark.parametrize("as_tensor", [False, True])
def test_a_non_finite_loss_stops_without_overwriting_the_last_good_checkpoint(tmp_path: Path, as_tensor: bool) -> None:
    log = tmp_path / "log.csv"
    t, state = Diverging(bad_at=4, as_tensor=as_tensor), LoopState()
    with pytest.raises(NonFiniteLossError, match=r"loss became nan at epoch 2 step 2 \(global step 5\); the last good "
                       rf"checkpoint is {tmp_path / 'ck'} \(epoch 2 step 1\)"):
        _run(t, Batches(3), state, log, checkpoint_every_steps=2)
    saves = [e for e in t.events if e[0] == "save"]
    assert saves == [("save", 0, 2, 2), ("save", 1, 0, 3), ("save", 1, 1, 4)]  # none after the bad step
    assert [e[0] for e in t.events].count("end") == 1  # the diverged epoch logs no row
    assert pd.read_csv(log)["epoch"].tolist() == [1]


def test_a_non_finite_loss_before_any_checkpoint_says_so(tmp_path: Path) -> None:
    t = Diverging(bad_at=1, as_tensor=True, value=math.inf)
    with pytest.raises(NonFiniteLossError, match=r"loss became inf at epoch 1 step 2 .*no checkpoint was written"):
        _run(t, Batches(3), LoopState(), tmp_path / "log.csv")
    assert not [e for e in t.events if e[0] in ("save", "end")]
    assert not (tmp_path / "log.csv").exists()


def test_a_stop_signal_after_a_non_finite_loss_does_not_checkpoint(tmp_path: Path) -> None:
    t = Diverging(bad_at=1, as_tensor=True)
    t.stop_at = 2
    with pytest.raises(NonFiniteLossError):
        _run(t, Batches(5), LoopState(), tmp_path / "log.csv")
    assert not [e for e in t.events if e[0] == "save"]
