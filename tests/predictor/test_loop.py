"""The landmark loop of `nasgcn run`: propose -> train stand-alone -> refit -> search; a killed loop resumes
without retraining finished landmarks."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import predictor.loop as loop_mod
from predictor.pipeline import load_run_config, run_pipeline
from supernet.space import iso_ids
from supernet.training import load_checkpoint
from tests.predictor.test_pipeline import TINY

LOOP = """
[loop]
k = 3
rounds = {rounds}
preset = "nb201-12"
epochs = 1
batch_size = 32
C = 4
N = 1
threads = 1
"""


def _cfg(tmp: Path, rounds: int = 1) -> Path:
    p = tmp / f"loop{rounds}.toml"
    p.write_text(TINY.format(epochs=1, sample=24, truth="none", model="ridge") + LOOP.format(rounds=rounds))
    return p


def test_killed_loop_resumes_without_retraining_finished_landmarks(tmp_path: Path, monkeypatch) -> None:
    real = loop_mod.train_standalone
    calls: list[tuple[int, bool]] = []

    def dies_on_the_second(cfg, out, **kw):
        if len(calls) == 1:  # the second network: a few steps, then the process "dies"
            real(cfg, out, **{**kw, "max_steps": 2})
            calls.append((cfg.index, False))
            raise KeyboardInterrupt
        s = real(cfg, out, **kw)
        calls.append((cfg.index, s.get("already_finished", False)))
        return s

    monkeypatch.setattr(loop_mod, "train_standalone", dies_on_the_second)
    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        run_pipeline(load_run_config(_cfg(tmp_path)), run, progress=False)
    first, second = calls[0][0], calls[1][0]
    first_ck = run / "loop" / str(first) / "checkpoint.pt"
    mtime = first_ck.stat().st_mtime_ns
    assert not load_checkpoint(run / "loop" / str(second))["finished"]
    assert "loop" not in json.loads((run / "stages.json").read_text())

    calls.clear()

    def counting(cfg, out, **kw):
        s = real(cfg, out, **kw)
        calls.append((cfg.index, s.get("already_finished", False)))
        return s

    monkeypatch.setattr(loop_mod, "train_standalone", counting)
    s = run_pipeline(load_run_config(_cfg(tmp_path)), run, progress=False)
    assert [s[k] for k in ("supernet", "ws", "table", "search")] == ["skipped"] * 4 and s["loop"] == "ran"
    assert calls[0] == (first, True), "the finished landmark was trained again"
    assert calls[1] == (second, False) and len(calls) == 3
    assert first_ck.stat().st_mtime_ns == mtime
    assert load_checkpoint(run / "loop" / str(second))["finished"]

    summary = json.loads((run / "loop.json").read_text())
    lms = pd.read_csv(run / "loop" / "landmarks.csv")
    assert sorted(lms["index"]) == sorted(r["index"] for r in summary["landmarks"]) and len(lms) == 3
    assert len(set(iso_ids()[lms["index"]])) == 3
    side = json.loads((run / "table_loop.csv.gz.json").read_text())
    assert side["n_landmarks"] == 3 and sorted(side["landmark_indices"]) == sorted(lms["index"])
    assert json.loads((run / "search_loop.json").read_text())["unconstrained"]["top"]
    report = (run / "report.md").read_text()
    assert "Landmarks trained by the loop" in report and f"| 0 | {first} |" in report

    calls.clear()
    s = run_pipeline(load_run_config(_cfg(tmp_path)), run, progress=False)
    assert s["loop"] == "skipped" and calls == []


@pytest.mark.slow
def test_second_round_excludes_the_first_rounds_landmarks(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run_pipeline(load_run_config(_cfg(tmp_path, rounds=2)), run, progress=False)
    summary = json.loads((run / "loop.json").read_text())
    by_round = [[r["index"] for r in summary["landmarks"] if r["round"] == k] for k in (0, 1)]
    assert len(by_round[0]) == len(by_round[1]) == 3
    iso = iso_ids()
    assert not set(iso[by_round[0]]) & set(iso[by_round[1]])
    assert json.loads((run / "table_loop.csv.gz.json").read_text())["n_landmarks"] == 6


def test_loop_config_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[loop]\nk = 2\nepochs = 0\n")
    with pytest.raises(ValueError, match="zero epochs"):
        load_run_config(bad)
    bad.write_text("[loop]\nk = 2\npreset = 'nb201-7'\n")
    with pytest.raises(ValueError, match=r"\[loop\] preset must be one of"):
        load_run_config(bad)
    bad.write_text("[loop]\nkk = 2\n")
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['kk'\] in \[loop\]"):
        load_run_config(bad)
