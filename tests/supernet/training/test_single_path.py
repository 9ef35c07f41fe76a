"""Supernet training: end to end on synthetic images, exact resume after a real kill, data parallel."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
import torch

from supernet.config import config_from_dict
from supernet.evaluate import load_trained
from supernet.training import CheckpointError, NonFiniteLossError, load_checkpoint, train_supernet
from tests.supernet.tiny import TINY, tiny_cfg
from tests.supernet.training.test_checkpoint import flip_tensor_bytes

REPO = Path(__file__).resolve().parents[3]

_cfg = tiny_cfg


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(path)["model"]


def _assert_same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    diff = [k for k in a if not torch.equal(a[k], b[k])]
    assert not diff, f"{len(diff)} tensors differ, e.g. {diff[:3]}"


def test_train_writes_log_and_checkpoint(tmp_path: Path) -> None:
    cfg = _cfg()
    s = train_supernet(cfg, tmp_path / "run", progress=False)
    assert s["finished"] and s["epochs_done"] == 3 and s["global_step"] == 3 * (256 // 32)
    log = pd.read_csv(tmp_path / "run" / "train_log.csv")
    assert log["epoch"].tolist() == [1, 2, 3]
    assert (log["images"] == 256).all()
    assert log["lr"].is_monotonic_decreasing and log["lr"].iloc[0] == pytest.approx(0.05)
    assert log["train_loss"].iloc[-1] < log["train_loss"].iloc[0], "training did not reduce the loss"
    ck = load_checkpoint(tmp_path / "run")
    assert ck["finished"] and ck["epoch"] == 3
    # a finished run resumed does nothing more
    again = train_supernet(cfg, tmp_path / "run", resume=True, progress=False)
    assert again["global_step"] == s["global_step"]


def test_fresh_run_refuses_existing_checkpoint_and_other_config(tmp_path: Path) -> None:
    cfg = _cfg()
    train_supernet(cfg, tmp_path / "run", progress=False, max_steps=2)
    with pytest.raises(CheckpointError, match="--resume"):
        train_supernet(cfg, tmp_path / "run", progress=False)
    with pytest.raises(CheckpointError, match=r"\[train\] lr: 0.05 -> 0.1"):
        train_supernet(_cfg(train={"lr": 0.1}), tmp_path / "run", resume=True, progress=False)


def test_resume_needs_a_checkpoint_and_a_fresh_start_never_overwrites_a_log(tmp_path: Path) -> None:
    run, cfg = tmp_path / "run", _cfg(train={"epochs": 1})
    with pytest.raises(CheckpointError, match=rf"no checkpoint in {run} to resume; drop --resume to start a new run, "
                       r"or pass --resume-or-start"):
        train_supernet(cfg, run, resume=True, progress=False)
    assert not run.exists()
    assert train_supernet(cfg, run, resume="auto", progress=False)["finished"]  # start when there is none
    assert train_supernet(cfg, run, resume="auto", progress=False)["finished"]  # continue when there is one
    # the checkpoint deleted (as a damage message says to): a plain fresh start refuses to touch the old log
    (run / "checkpoint.pt").unlink()
    log = (run / "train_log.csv").read_bytes()
    with pytest.raises(CheckpointError, match=rf"{run} holds train_log.csv of an earlier run but no checkpoint; "
                       r"choose a new --out, or pass --resume-or-start to start over"):
        train_supernet(cfg, run, progress=False)
    assert (run / "train_log.csv").read_bytes() == log
    with pytest.raises(CheckpointError, match="no checkpoint in"):
        train_supernet(cfg, run, resume=True, progress=False)
    # resume="auto" starts over, with a fresh log (not the old rows followed by new ones)
    assert train_supernet(cfg, run, resume="auto", progress=False)["finished"]
    assert pd.read_csv(run / "train_log.csv")["epoch"].tolist() == [1]
    with pytest.raises(ValueError, match="resume must be"):
        train_supernet(cfg, run, resume="yes", progress=False)  # type: ignore[arg-type]


def test_corrupt_checkpoint_is_named(tmp_path: Path) -> None:
    run = tmp_path / "run"
    train_supernet(_cfg(), run, progress=False, max_steps=1)
    ck = run / "checkpoint.pt"
    good = ck.read_bytes()
    ck.write_bytes(good[: len(good) // 2])
    with pytest.raises(CheckpointError, match=rf"checkpoint {ck} is damaged .*delete it to start over"):
        train_supernet(_cfg(), run, resume=True, progress=False)
    # eight flipped bytes inside a weight tensor: neither a resume nor an evaluation runs on them
    ck.write_bytes(good)
    flip_tensor_bytes(ck)
    with pytest.raises(CheckpointError, match=rf"checkpoint {ck} is damaged \(checksum mismatch"):
        train_supernet(_cfg(), run, resume=True, progress=False)
    with pytest.raises(CheckpointError, match=rf"checkpoint {ck} is damaged \(checksum mismatch"):
        load_trained(run)


def test_resume_in_process_equals_uninterrupted(tmp_path: Path) -> None:
    cfg = _cfg()
    train_supernet(cfg, tmp_path / "a", progress=False)
    # stop mid-epoch twice (max_steps), resume each time
    train_supernet(cfg, tmp_path / "b", progress=False, max_steps=5)
    train_supernet(cfg, tmp_path / "b", resume=True, progress=False, max_steps=7)
    s = train_supernet(cfg, tmp_path / "b", resume=True, progress=False)
    assert s["finished"]
    _assert_same_weights(_weights(tmp_path / "a"), _weights(tmp_path / "b"))
    la = pd.read_csv(tmp_path / "a" / "train_log.csv")
    lb = pd.read_csv(tmp_path / "b" / "train_log.csv")
    assert la["train_loss"].tolist() == pytest.approx(lb["train_loss"].tolist(), rel=1e-12)


_WORKER = textwrap.dedent(
    """
    import json, sys
    from supernet.config import config_from_dict
    from supernet.training import train_supernet
    cfg = config_from_dict(json.loads(sys.argv[1]))
    train_supernet(cfg, sys.argv[2], resume="auto", progress=False)
    """
)


def _start_worker(cfg_dict: dict, out: Path) -> subprocess.Popen:
    import json

    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, "-c", _WORKER, json.dumps(cfg_dict), str(out)], env=env, cwd=REPO)


def _wait_for_step(run: Path, step: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    t0 = time.time()
    while time.time() - t0 < timeout:
        assert proc.poll() is None, "worker ended before it could be killed"
        ck = run / "checkpoint.pt"
        if ck.exists():
            try:
                if load_checkpoint(ck)["global_step"] >= step:
                    return
            except CheckpointError:
                pass  # being replaced right now
        time.sleep(0.05)
    raise AssertionError("worker made no progress")


@pytest.mark.slow
def test_killed_run_resumes_to_identical_weights(tmp_path: Path) -> None:
    """SIGKILL a real training process mid-epoch, resume, and match the uninterrupted run bit for bit."""
    d = {k: dict(v) for k, v in TINY.items()}
    d["train"].update(epochs=4, checkpoint_every_steps=3)
    cfg = config_from_dict(d)
    train_supernet(cfg, tmp_path / "ref", progress=False)
    proc = _start_worker(d, tmp_path / "killed")
    try:
        _wait_for_step(tmp_path / "killed", 10, proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    ck = load_checkpoint(tmp_path / "killed")
    assert not ck["finished"], "the worker finished before the kill; the test did not test resuming"
    s = train_supernet(cfg, tmp_path / "killed", resume=True, progress=False)
    assert s["finished"]
    _assert_same_weights(_weights(tmp_path / "ref"), _weights(tmp_path / "killed"))
    log = pd.read_csv(tmp_path / "killed" / "train_log.csv")
    assert log["epoch"].tolist() == [1, 2, 3, 4]


@pytest.mark.slow
def test_sigterm_writes_checkpoint_then_resumes(tmp_path: Path) -> None:
    d = {k: dict(v) for k, v in TINY.items()}
    d["train"].update(epochs=30)
    proc = _start_worker(d, tmp_path / "run")
    try:
        _wait_for_step(tmp_path / "run", 8, proc)  # first epoch checkpoint exists
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert rc != 0
    ck = load_checkpoint(tmp_path / "run")
    assert ck["global_step"] > 8 or ck["step_in_epoch"] == 0
    assert not ck["finished"]


@pytest.mark.slow
def test_data_parallel_two_cpu_processes(tmp_path: Path) -> None:
    """torchrun with 2 gloo processes: both ranks end with identical weights; the run checkpoints and logs."""
    d = {k: dict(v) for k, v in TINY.items()}
    d["train"].update(epochs=2)
    import json

    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
        str(REPO / "tests" / "supernet" / "training" / "ddp_worker.py"), json.dumps(d), str(tmp_path / "run"),
    ]
    r = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    hashes = sorted((tmp_path / "run").glob("weights_rank*.txt"))
    assert len(hashes) == 2
    assert hashes[0].read_text() == hashes[1].read_text()
    ck = load_checkpoint(tmp_path / "run")
    assert ck["finished"] and ck["world_size"] == 2
    assert ck["global_step"] == 2 * (256 // 32)
    assert pd.read_csv(tmp_path / "run" / "train_log.csv")["images"].tolist() == [256, 256]


def test_a_diverging_run_stops_with_a_clear_error_and_keeps_the_last_good_checkpoint(tmp_path: Path) -> None:
    run = tmp_path / "run"
    cfg = _cfg(train={"lr": 1e6, "lr_min": 0.0, "checkpoint_every_steps": 1})
    with pytest.raises(NonFiniteLossError, match=rf"loss became nan at epoch 1 step (\d+) .*the last good checkpoint "
                       rf"is {run / 'checkpoint.pt'} \(epoch 1 step (\d+)\).*lower the learning rate") as e:
        train_supernet(cfg, run, progress=False)
    bad_step, good_step = (int(v) for v in re.search(r"epoch 1 step (\d+) .*step (\d+)\)", str(e.value)).groups())
    ck = load_checkpoint(run)
    assert ck["global_step"] == good_step == bad_step - 1  # the state before the diverged step, not after it
    assert all(torch.isfinite(v).all() for v in ck["model"].values() if v.is_floating_point())
    assert not (run / "train_log.csv").exists()  # no row of the diverged epoch
