"""`nasgcn run`: every stage once, skipping what is up to date, resuming after a real kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from predictor.pipeline import load_run_config, run_pipeline

REPO = Path(__file__).resolve().parents[2]

TINY = """
[data]
source = "synthetic"
synthetic_train = 256
synthetic_valid = 96

[model]
C = 4
N = 1

[train]
epochs = {epochs}
batch_size = 32
threads = 1
device = "cpu"

[eval]
valid_size = 96
batch_size = 96
bn_batches = 1
bn_batch_size = 32

[run]
sample = {sample}
truth = "{truth}"

[predictor]
model = "{model}"

[proxies]
archs = "sample"
C = 4
N = 1
batch_size = 8

[hardware]
table = "none"

[search]
top = 2
sets = {{ unconstrained = [], small = ["params_m<=0.5"], impossible = ["params_m<=0.01"] }}
"""


def _cfg(tmp: Path, *, epochs: int = 1, sample: int = 24, truth: str = "none", model: str = "ridge") -> Path:
    p = tmp / f"cfg_{epochs}_{sample}_{model}_{Path(truth).name}.toml"
    p.write_text(TINY.format(epochs=epochs, sample=sample, truth=truth, model=model))
    return p


def test_stages_run_once_then_skip_and_rerun_only_what_changed(tmp_path: Path) -> None:
    run = tmp_path / "run"
    s1 = run_pipeline(load_run_config(_cfg(tmp_path)), run, progress=False)
    assert [s1[k] for k in ("supernet", "ws", "proxies", "table", "search")] == ["ran"] * 5
    assert s1["evaluate"] == "no truth table" and s1["data_source"] == "synthetic"
    side = json.loads((run / "table.csv.gz.json").read_text())
    assert side["model"] == "fusion" and side["completion_model"] == "ridge"
    assert side["signals"] == ["ws", "nwot", "synflow", "jacov", "snip", "grad_norm", "params"]
    assert side["weights"]["snip"] == side["weights"]["grad_norm"] == -0.25  # reversed by default
    assert len(pd.read_csv(run / "proxies.csv.gz")) == 24
    for f in ("ws.csv", "proxies.csv.gz", "table.csv.gz", "search.json", "report.md", "training_curve.png", "stages.json"):
        assert (run / f).exists(), f
    search = json.loads((run / "search.json").read_text())
    assert len(search["unconstrained"]["top"]) == 2
    assert all(r["params_m"] <= 0.5 for r in search["small"]["top"])
    assert "smallest" in search["impossible"]["error"]
    report = (run / "report.md").read_text()
    assert "SYNTHETIC" in report and "no ranking evaluation" in report

    s2 = run_pipeline(load_run_config(_cfg(tmp_path)), run, progress=False)
    assert [s2[k] for k in ("supernet", "ws", "proxies", "table", "search")] == ["skipped"] * 5

    s3 = run_pipeline(load_run_config(_cfg(tmp_path, model="gbr")), run, progress=False)
    assert [s3[k] for k in ("supernet", "ws", "proxies", "table", "search")] == ["skipped", "skipped", "skipped", "ran", "ran"]
    assert json.loads((run / "stages.json").read_text())["table"]["model"] == "gbr"

    s4 = run_pipeline(load_run_config(_cfg(tmp_path, model="gbr", sample=30)), run, progress=False)
    assert [s4[k] for k in ("supernet", "ws", "proxies", "table")] == ["skipped", "ran", "ran", "ran"]
    assert len(pd.read_csv(run / "ws.csv")) == 30


def test_config_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[predictor]\nmodle = 'gcn'\n")
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['modle'\] in \[predictor\]"):
        load_run_config(bad)
    bad.write_text("[serach]\ntop = 3\n")
    with pytest.raises(ValueError, match="unknown section"):
        load_run_config(bad)
    # scalars of the pipeline's own sections are checked like the supernet's, naming file and key
    for text, message in [
        ("[run]\nsample = 'many'", r"\[run\] sample must be an integer, got 'many'"),
        ("[run]\nsample = 0", r"\[run\] sample must be >= 1, got 0"),
        ("[search]\ntop = 2.5", r"\[search\] top must be an integer, got 2.5"),
        ("[search]\nsets = { a = 'params_m<=1' }", r"\[search\] sets must be a table of lists of strings"),
        ("[proxies]\narchs = 'some'", r"\[proxies\] archs must be 'sample', 'all', 'none' or a number >= 1"),
        ("[proxies]\nbatch_size = 0", r"\[proxies\] batch_size must be >= 2, got 0"),
        ("[predictor]\nseed = -1", r"\[predictor\] seed must be >= 0, got -1"),
        ("[train]\nepochs = 2.5", r"\[train\] epochs must be an integer, got 2.5"),
    ]:
        bad.write_text(text + "\n")
        with pytest.raises(ValueError, match=r"bad\.toml: " + message):
            load_run_config(bad)


@pytest.mark.slow
def test_killed_run_resumes_without_redoing_finished_stages(tmp_path: Path) -> None:
    """SIGKILL `nasgcn run` during the weight-sharing stage; the rerun skips the finished supernet stage
    and keeps the architectures already scored."""
    cfg = _cfg(tmp_path, epochs=2, sample=400)
    run = tmp_path / "run"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, "-m", "predictor.cli", "run", "--config", str(cfg), "--out", str(run), "--no-progress"],
        env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        t0 = time.time()
        while time.time() - t0 < 240:
            parts = list(run.glob("ws.csv.partial-*"))
            if parts and len(parts[0].read_text().splitlines()) >= 5:
                break
            assert proc.poll() is None, "run ended before it could be killed"
            time.sleep(0.05)
        else:
            raise AssertionError("the ws stage never started")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    stages = json.loads((run / "stages.json").read_text())
    assert "supernet" in stages and "ws" not in stages
    ckpt_mtime = (run / "supernet" / "checkpoint.pt").stat().st_mtime_ns
    scored_before = len(next(run.glob("ws.csv.partial-*")).read_text().splitlines())
    s = run_pipeline(load_run_config(cfg), run, progress=False)
    assert s["supernet"] == "skipped" and s["ws"] == "ran"
    assert (run / "supernet" / "checkpoint.pt").stat().st_mtime_ns == ckpt_mtime
    side = json.loads((run / "ws.csv.json").read_text())
    assert side["classes_scored"] > scored_before  # the whole sample's classes, of which some were reused
    assert len(pd.read_csv(run / "ws.csv")) == 400


def test_with_truth_reports_ranking(tmp_path: Path, truth_csv: Path) -> None:
    run = tmp_path / "run"
    s = run_pipeline(load_run_config(_cfg(tmp_path, truth=str(truth_csv))), run, progress=False)
    assert s["evaluate"] == "ran"
    ev = json.loads((run / "evaluation.json").read_text())
    assert ev["table_all"]["n"] == 15625 and ev["supernet_sampled"]["n"] == 24
    pick = ev["search"]["unconstrained"]
    assert pick["best_true_acc_under_constraints"] == pytest.approx(94.3733, abs=1e-3)
    assert pick["regret"] == pytest.approx(pick["best_true_acc_under_constraints"] - pick["pick_true_acc"])
    report = (run / "report.md").read_text()
    assert "Ranking against the truth" in report and (run / "pred_vs_true.png").exists()
