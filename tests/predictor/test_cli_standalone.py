"""`nasgcn data synthetic` -> `nasgcn train-arch` (text and --json), and its bad-input errors (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from predictor.cli import main

ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
TINY = ["--C", "4", "--N", "1", "--epochs", "1", "--batch-size", "32", "--threads", "1", "--device", "cpu",
        "--no-progress"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli") / "imgs"
    assert main(["data", "synthetic", "--out", str(root), "--train", "96", "--valid", "32", "--classes", "3"]) == 0
    return root


def test_train_arch_writes_the_row_and_appends_to_a_landmark_table(folder: Path, tmp_path: Path, capsys) -> None:
    lm = tmp_path / "LM.csv"
    rc = main(["train-arch", ARCH, "--out", str(tmp_path / "a"), "--data", str(folder), "--landmarks-out", str(lm),
               "--json", *TINY])
    assert rc == 0
    s = json.loads(capsys.readouterr().out)
    assert s["finished"] and s["index"] == 1 and s["split"] == "folder-valid" and s["landmarks_rows"] == 1
    rc = main(["train-arch", "42", "--out", str(tmp_path / "b"), "--data", str(folder), "--landmarks-out", str(lm),
               *TINY])
    assert rc == 0
    assert "% on folder-valid after 1 epochs" in capsys.readouterr().out
    t = pd.read_csv(lm)
    assert t["index"].tolist() == [1, 42] and t["true_acc"].between(0, 100).all()
    # the same directory again without --resume is refused (exit 2), with it the result is returned
    assert main(["train-arch", ARCH, "--out", str(tmp_path / "a"), "--data", str(folder), *TINY]) == 2
    assert "--resume" in capsys.readouterr().err
    assert main(["train-arch", ARCH, "--out", str(tmp_path / "a"), "--data", str(folder), "--resume", *TINY]) == 0
    assert "finished earlier" in capsys.readouterr().out


@pytest.mark.parametrize("arch, extra, message", [
    ("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|nor_conv_3x3~2|", [], "degenerate"),
    ("|nor_conv_3x3~0|+|none~0|", [], "node groups"),
    (ARCH, ["--epochs", "0"], "zero epochs"),
    (ARCH, ["--data", "no/such/folder"], "image folder"),
])
def test_bad_input_exits_2_with_one_line(arch: str, extra: list[str], message: str, tmp_path: Path, capsys) -> None:
    assert main(["train-arch", arch, "--out", str(tmp_path / "r"), "--no-progress", *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_one_class_folder_exits_2(tmp_path: Path, capsys) -> None:
    root = tmp_path / "one"
    assert main(["data", "synthetic", "--out", str(root), "--train", "20", "--valid", "0", "--classes", "2"]) == 0
    for f in (root / "train" / "class1").iterdir():
        f.unlink()
    (root / "train" / "class1").rmdir()
    capsys.readouterr()
    assert main(["train-arch", ARCH, "--out", str(tmp_path / "r"), "--data", str(root), *TINY]) == 2
    assert "at least 2 class" in capsys.readouterr().err


def test_the_parser_offers_exactly_the_presets() -> None:
    from predictor.cli.parser import PRESET_NAMES
    from supernet.training import PRESETS

    assert set(PRESET_NAMES) == set(PRESETS)
