"""Stand-alone training of one architecture: it learns, resumes exactly after a real kill, writes a landmark
row, and refuses bad input with a clear error."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from supernet.data import CorruptDataError, synthetic_images, write_image_folder
from supernet.space import ArchError
from supernet.tables import read_arch_table
from supernet.training import (
    CheckpointError,
    append_result,
    load_checkpoint,
    standalone_config,
    train_standalone,
)
from supernet.training.inputs import load_folder
from supernet.config import SupernetConfig, DataConfig

REPO = Path(__file__).resolve().parents[3]
ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"  # index 1


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4-class synthetic image folder: train/ (240 images) and valid/ (80)."""
    root = tmp_path_factory.mktemp("imgs") / "folder"
    write_image_folder({"train": synthetic_images(240, num_classes=4, seed=0, noise=60.0),
                        "valid": synthetic_images(80, num_classes=4, seed=1, noise=60.0)}, root)
    return root


def _cfg(folder: Path, **kw):
    base = dict(C=4, N=1, epochs=3, batch_size=32, threads=1, device="cpu")
    base.update(kw)
    return standalone_config(ARCH, "nb201-12", data={"source": "folder", "root": str(folder)}, **base)


def test_learns_on_a_tiny_image_folder_and_writes_a_landmark_row(folder: Path, tmp_path: Path) -> None:
    s = train_standalone(_cfg(folder, eval_split="train"), tmp_path / "run", progress=False)
    assert s["finished"] and s["index"] == 1 and s["split"] == "folder-train"
    assert s["true_acc"] > 50.0, f"4 classes (chance 25%): accuracy on its own training images {s['true_acc']:.1f}%"
    log = pd.read_csv(tmp_path / "run" / "train_log.csv")
    assert log["epoch"].tolist() == [1, 2, 3]
    assert log["lr"].iloc[0] == pytest.approx(0.1) and log["lr"].iloc[-1] < log["lr"].iloc[0]
    assert log["eval_acc"].isna().tolist() == [True, True, False]
    row = pd.read_csv(tmp_path / "run" / "result.csv")
    assert list(row.columns) == ["index", "arch_str", "true_acc", "split", "epochs", "seconds"]
    assert row["true_acc"].iloc[0] == pytest.approx(s["true_acc"]) and row["epochs"].iloc[0] == 3
    lm = read_arch_table(tmp_path / "run" / "result.csv", ["true_acc"])  # the landmark reader accepts it
    assert lm["index"].tolist() == [1]
    # a finished run is not trained again
    again = train_standalone(_cfg(folder, eval_split="train"), tmp_path / "run", resume=True, progress=False)
    assert again["already_finished"] and again["true_acc"] == pytest.approx(s["true_acc"])


def test_the_valid_half_is_held_out_and_halved_without_a_valid_folder(tmp_path: Path) -> None:
    root = tmp_path / "only_train"
    write_image_folder({"train": synthetic_images(100, num_classes=4, seed=3)}, root)
    sets = load_folder(SupernetConfig(data=DataConfig(source="folder", root=str(root), num_classes=4)), progress=False)
    assert len(sets["train"]) == 50 and len(sets["valid"]) == 50
    assert not set(sets["train"].files) & set(sets["valid"].files)
    assert (sets["valid"].class_counts() > 0).all()
    with pytest.raises(ValueError, match="num_classes = 4"):
        load_folder(SupernetConfig(data=DataConfig(source="folder", root=str(root), num_classes=10)), progress=False)


_WORKER = """
import sys
from supernet.training import standalone_config, train_standalone
cfg = standalone_config(sys.argv[1], "nb201-12", data={"source": "folder", "root": sys.argv[2]}, C=4, N=1,
                        epochs=6, batch_size=16, threads=1, device="cpu", checkpoint_every_steps=1)
train_standalone(cfg, sys.argv[3], resume="auto", progress=False)
"""


@pytest.mark.slow
def test_sigkill_then_resume_equals_the_uninterrupted_run(folder: Path, tmp_path: Path) -> None:
    ref = train_standalone(_cfg(folder, epochs=6, batch_size=16), tmp_path / "ref", progress=False)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-c", _WORKER, ARCH, str(folder), str(out)], env=env, cwd=REPO)
    try:
        t0 = time.time()
        while time.time() - t0 < 120:
            assert proc.poll() is None, "worker ended before it could be killed"
            try:
                ck = load_checkpoint(out / "checkpoint.pt")
                if ck["epoch"] >= 1 and ck["step_in_epoch"] >= 3:  # mid-epoch, after a finished epoch
                    break
            except CheckpointError:
                pass  # not there yet, or being replaced
            time.sleep(0.02)
        else:
            raise AssertionError("worker made no progress")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    ck = load_checkpoint(out / "checkpoint.pt")
    assert not ck["finished"], "the worker finished before the kill; the test did not test resuming"
    s = train_standalone(_cfg(folder, epochs=6, batch_size=16), out, resume=True, progress=False)
    assert s["finished"] and s["weights_sha256"] == ref["weights_sha256"]
    a, b = load_checkpoint(tmp_path / "ref")["model"], load_checkpoint(out)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert s["true_acc"] == pytest.approx(ref["true_acc"])
    assert pd.read_csv(out / "train_log.csv")["epoch"].tolist() == [1, 2, 3, 4, 5, 6]


def test_resume_refuses_another_config_and_a_fresh_run_refuses_a_used_dir(folder: Path, tmp_path: Path) -> None:
    train_standalone(_cfg(folder, epochs=1), tmp_path / "r", progress=False, max_steps=2)
    with pytest.raises(CheckpointError, match="--resume"):
        train_standalone(_cfg(folder, epochs=1), tmp_path / "r", progress=False)
    with pytest.raises(CheckpointError, match="epochs"):
        train_standalone(_cfg(folder, epochs=2), tmp_path / "r", resume=True, progress=False)
    s = train_standalone(_cfg(folder, epochs=1, checkpoint_every_steps=4), tmp_path / "r", resume=True, progress=False)
    assert s["finished"] and s["global_step"] == 240 // 32 + 1  # checkpointing options may change on resume


def test_append_result_replaces_the_same_architecture(folder: Path, tmp_path: Path) -> None:
    rows = pd.DataFrame({"index": [5, 1], "arch_str": ["x", "y"], "true_acc": [50.0, 60.0], "split": "s",
                         "epochs": 1, "seconds": 1.0})
    t = append_result(rows, tmp_path / "lm.csv")
    assert t["index"].tolist() == [1, 5]
    t = append_result(rows.iloc[[1]].assign(true_acc=70.0), tmp_path / "lm.csv")
    assert t["index"].tolist() == [1, 5] and t["true_acc"].tolist() == [70.0, 50.0]


# ---------------------------------------------------------------------- bad input
def test_bad_cells_and_fidelities_are_refused() -> None:
    with pytest.raises(ValueError, match="degenerate"):
        standalone_config("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|nor_conv_3x3~2|")
    with pytest.raises(ArchError):
        standalone_config("|nor_conv_3x3~0|+|conv~0|none~1|")
    with pytest.raises(ValueError, match="zero epochs"):
        standalone_config(ARCH, epochs=0)
    with pytest.raises(ValueError, match="unknown preset"):
        standalone_config(ARCH, "nb201-90")
    with pytest.raises(ValueError, match="unknown stand-alone option"):
        standalone_config(ARCH, epoch=3)


def test_one_class_folder_and_unreadable_image_are_refused(tmp_path: Path) -> None:
    one = tmp_path / "one"
    imgs = synthetic_images(20, num_classes=2, seed=0)
    keep = imgs.subset(np.flatnonzero(imgs.labels == 0))
    write_image_folder({"train": keep}, one)
    with pytest.raises(CorruptDataError, match="at least 2 class"):
        train_standalone(standalone_config(ARCH, data={"source": "folder", "root": str(one)}, C=4, N=1, epochs=1),
                         tmp_path / "r1", progress=False)
    bad = tmp_path / "bad"
    write_image_folder({"train": synthetic_images(20, num_classes=2, seed=0)}, bad)
    (bad / "train" / "class0" / "broken.png").write_bytes(b"not an image at all")
    with pytest.raises(CorruptDataError, match="broken.png"):
        train_standalone(standalone_config(ARCH, data={"source": "folder", "root": str(bad)}, C=4, N=1, epochs=1),
                         tmp_path / "r2", progress=False)


_DDP_WORKER = """
import sys
from pathlib import Path
import torch.distributed as dist
from supernet.training import standalone_config, train_standalone
cfg = standalone_config(sys.argv[1], "nb201-12", data={"source": "folder", "root": sys.argv[2]}, C=4, N=1,
                        epochs=2, batch_size=32, threads=1, device="cpu")
s = train_standalone(cfg, sys.argv[3], progress=False)
assert s["world_size"] == 2, s
Path(sys.argv[3], f"rank{dist.get_rank()}.txt").write_text(f"{s['weights_sha256']} {s['true_acc']}")
dist.barrier()
dist.destroy_process_group()
"""


@pytest.mark.slow
def test_data_parallel_two_cpu_processes(folder: Path, tmp_path: Path) -> None:
    """torchrun with 2 gloo processes: both ranks end with the same weights and the same accuracy."""
    script = tmp_path / "worker.py"
    script.write_text(_DDP_WORKER)
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", str(script), ARCH,
           str(folder), str(tmp_path / "run")]
    r = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    ranks = [(tmp_path / "run" / f"rank{i}.txt").read_text() for i in (0, 1)]
    assert ranks[0] == ranks[1]
    ck = load_checkpoint(tmp_path / "run")
    assert ck["finished"] and ck["world_size"] == 2 and ck["global_step"] == 2 * (240 // 32 + 1)
    assert pd.read_csv(tmp_path / "run" / "result.csv")["true_acc"].iloc[0] == pytest.approx(float(ranks[0].split()[1]))
