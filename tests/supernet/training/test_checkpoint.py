"""Checkpoint files: written atomically, verified on load (a damaged archive is an error naming the file)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import torch

from supernet.training.checkpoint import CheckpointError, load_checkpoint, save_atomic


def _checkpoint(path: Path) -> dict:
    obj = {"format": "nasgcn-supernet-v1", "config": {}, "epoch": 1,
           "model": {"w": torch.arange(4096, dtype=torch.float32), "b": torch.ones(16)}}
    save_atomic(obj, path)
    return obj


def flip_tensor_bytes(path: Path, n: int = 8) -> None:
    """Invert ``n`` bytes in the middle of the largest tensor storage record of the ``torch.save`` archive
    ``path`` (the archive's directory and headers stay intact, so only the member's CRC-32 can tell)."""
    with zipfile.ZipFile(path) as z:
        info = max((i for i in z.infolist() if "/data/" in i.filename), key=lambda i: i.file_size)
    assert info.compress_type == zipfile.ZIP_STORED and info.file_size > 2 * n
    with open(path, "r+b") as f:
        f.seek(info.header_offset + 26)
        name_len, extra_len = int.from_bytes(f.read(2), "little"), int.from_bytes(f.read(2), "little")
        mid = info.header_offset + 30 + name_len + extra_len + info.file_size // 2
        f.seek(mid)
        old = f.read(n)
        f.seek(mid)
        f.write(bytes(b ^ 0xFF for b in old))


def test_a_good_checkpoint_loads_and_leaves_no_temp_file(tmp_path: Path) -> None:
    p = tmp_path / "checkpoint.pt"
    obj = _checkpoint(p)
    ck = load_checkpoint(tmp_path)  # a run directory names its checkpoint.pt
    assert torch.equal(ck["model"]["w"], obj["model"]["w"]) and ck["epoch"] == 1
    assert sorted(x.name for x in tmp_path.iterdir()) == ["checkpoint.pt"]
    plain = tmp_path / "plain"
    plain.write_bytes(b"")
    assert p.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777  # the permissions of any other output


def test_flipped_bytes_inside_a_tensor_are_an_error_naming_the_file(tmp_path: Path) -> None:
    p = tmp_path / "checkpoint.pt"
    _checkpoint(p)
    flip_tensor_bytes(p)
    # torch alone reads the damaged weights without a word
    assert not torch.equal(torch.load(p, weights_only=False)["model"]["w"], torch.arange(4096, dtype=torch.float32))
    with pytest.raises(CheckpointError,
                       match=rf"checkpoint {p} is damaged \(checksum mismatch.*\); delete it to start over or restore a copy"):
        load_checkpoint(p)


@pytest.mark.parametrize("damage", ["truncated", "not a zip", "empty"])
def test_truncated_or_foreign_files_are_errors_naming_the_file(tmp_path: Path, damage: str) -> None:
    p = tmp_path / "checkpoint.pt"
    _checkpoint(p)
    data = p.read_bytes()
    p.write_bytes({"truncated": data[: len(data) // 2], "not a zip": b"not a checkpoint" * 100, "empty": b""}[damage])
    with pytest.raises(CheckpointError, match=rf"checkpoint {p} is damaged \(.*\); delete it to start over"):
        load_checkpoint(p)


def test_a_failed_save_keeps_the_old_checkpoint_and_no_temp_file(tmp_path: Path) -> None:
    p = tmp_path / "checkpoint.pt"
    _checkpoint(p)
    before = p.read_bytes()
    with pytest.raises(Exception):
        save_atomic({"model": lambda: None}, p)  # a lambda does not pickle: torch.save fails mid-write
    assert p.read_bytes() == before
    assert sorted(x.name for x in tmp_path.iterdir()) == ["checkpoint.pt"]


def test_missing_checkpoint_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        load_checkpoint(tmp_path)


def test_a_temp_file_left_by_a_kill_mid_save_is_removed_when_the_run_is_next_opened(tmp_path: Path) -> None:
    from tests.supernet.tiny import tiny_cfg
    from supernet.training import train_supernet

    run = tmp_path / "run"
    cfg = tiny_cfg(train={"epochs": 1})
    train_supernet(cfg, run, progress=False, max_steps=1)
    stale = run / ".checkpoint.pt.k1ll3d.tmp"  # what SIGKILL during save_atomic leaves behind
    stale.write_bytes(b"half a checkpoint")
    other = run / "notes.tmp"  # not a temp file of the checkpoint: kept
    other.write_text("mine")
    train_supernet(cfg, run, resume=True, progress=False)
    assert not stale.exists() and other.exists()
