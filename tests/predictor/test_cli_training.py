"""The training commands on bad state and bad settings: exit 2 with one line naming the file, key or flag."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from predictor.cli import main
from tests.supernet.training.test_checkpoint import flip_tensor_bytes

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "configs" / "tiny.toml"
DRNAS_TINY = REPO / "configs" / "drnas-tiny.toml"


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def _config(tmp_path: Path, base: Path, **train: object) -> Path:
    """``base`` with keys of its [train] section replaced (TOML literals given as strings)."""
    lines = base.read_text().splitlines()
    out, section = [], ""
    for line in lines:
        if line.startswith("["):
            section = line.strip("[] ")
        key = line.split("=")[0].strip()
        if section == "train" and key in train:
            line = f"{key} = {train.pop(key)}"
        out.append(line)
    assert not train, f"keys not in [train]: {train}"
    p = tmp_path / "c.toml"
    p.write_text("\n".join(out) + "\n")
    return p


def test_resume_without_a_checkpoint_is_an_error_unless_resume_or_start(tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    common = ("--config", str(TINY), "--out", str(run), "--no-progress", "--max-steps", "2")
    rc, _, err = _run(capsys, "supernet", "train", *common, "--resume")
    assert rc == 2 and f"no checkpoint in {run} to resume" in err and "--resume-or-start" in err
    assert len(err.strip().splitlines()) == 1 and not run.exists()
    rc, out, err = _run(capsys, "supernet", "train", *common, "--resume-or-start", "--json")
    assert rc == 0, err
    assert json.loads(out)["global_step"] == 2
    rc, out, err = _run(capsys, "supernet", "train", *common, "--resume-or-start", "--json")
    assert rc == 0 and json.loads(out)["global_step"] == 4  # continued, not restarted
    with pytest.raises(SystemExit) as e:
        main(["supernet", "train", *common, "--resume", "--resume-or-start"])
    assert e.value.code == 2 and "not allowed with" in capsys.readouterr().err


def test_drnas_resume_without_a_checkpoint_is_an_error_unless_resume_or_start(tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    common = ("drnas", "--config", str(DRNAS_TINY), "--out", str(run), "--no-progress", "--max-steps", "1")
    rc, _, err = _run(capsys, *common, "--resume")
    assert rc == 2 and f"no checkpoint in {run} to resume" in err
    rc, out, err = _run(capsys, *common, "--resume-or-start", "--json")
    assert rc == 0 and json.loads(out)["global_step"] == 1, err


def test_a_damaged_checkpoint_stops_resume_and_eval(tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    rc, _, err = _run(capsys, "supernet", "train", "--config", str(TINY), "--out", str(run), "--no-progress",
                      "--epochs", "1")
    assert rc == 0, err
    ck = run / "checkpoint.pt"
    flip_tensor_bytes(ck)
    rc, _, err = _run(capsys, "supernet", "train", "--config", str(TINY), "--out", str(run), "--no-progress",
                      "--epochs", "2", "--resume")
    assert rc == 2 and f"checkpoint {ck} is damaged" in err and "delete it to start over or restore a copy" in err
    rc, _, err = _run(capsys, "supernet", "eval", "--run", str(run), "--sample", "4", "--out", str(tmp_path / "ws.csv"),
                      "--no-progress")
    assert rc == 2 and f"checkpoint {ck} is damaged" in err
    assert not (tmp_path / "ws.csv").exists()


def test_a_diverging_run_exits_2_naming_the_step(tmp_path: Path, capsys) -> None:
    cfg = _config(tmp_path, TINY, lr="1e6", lr_min="0.0", threads="1")
    rc, _, err = _run(capsys, "supernet", "train", "--config", str(cfg), "--out", str(tmp_path / "run"),
                      "--no-progress")
    assert rc == 2 and "loss became nan at epoch 1 step" in err and "lower the learning rate" in err


@pytest.mark.parametrize(
    "train,message",
    [
        ({"batch_size": "0"}, "[train] batch_size must be >= 1, got 0"),
        ({"epochs": '"two"'}, "[train] epochs must be an integer, got 'two'"),
        ({"epochs": "2.5"}, "[train] epochs must be an integer, got 2.5"),
        ({"lr": "nan"}, "[train] lr must be a finite number, got nan"),
        ({"threads": "0"}, "[train] threads must be >= 1, got 0"),
    ],
)
def test_bad_settings_exit_2_naming_file_and_key(tmp_path: Path, capsys, train: dict, message: str) -> None:
    cfg = _config(tmp_path, TINY, **train)
    rc, _, err = _run(capsys, "supernet", "train", "--config", str(cfg), "--out", str(tmp_path / "run"),
                      "--no-progress")
    assert rc == 2 and f"{cfg}: {message}" in err, err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("flag,value", [("--epochs", "0"), ("--epochs", "-3"), ("--max-steps", "0")])
def test_bad_count_flags_exit_2_naming_the_flag(tmp_path: Path, capsys, flag: str, value: str) -> None:
    for cmd in (("supernet", "train", "--config", str(TINY)), ("drnas", "--config", str(DRNAS_TINY))):
        rc, _, err = _run(capsys, *cmd, "--out", str(tmp_path / "run"), "--no-progress", flag, value)
        assert rc == 2 and f"{flag} must be >= 1, got {value}" in err, err


def test_eval_sample_zero_is_an_error_naming_the_flag(tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    rc, _, err = _run(capsys, "supernet", "train", "--config", str(TINY), "--out", str(run), "--no-progress",
                      "--max-steps", "1")
    assert rc == 0, err
    for n in ("0", "-2"):
        rc, _, err = _run(capsys, "supernet", "eval", "--run", str(run), "--sample", n, "--out",
                          str(tmp_path / "ws.csv"), "--no-progress")
        assert rc == 2 and f"--sample must be >= 1, got {n}" in err, err
