"""The one validated reader: declared schemas (types, ranges, percent, NaN/inf policy), sidecars tied to
their table by its SHA-256, and tables written with their sidecar as one atomic pair."""

from __future__ import annotations

import json
import re
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from supernet import tables as tb
from supernet.evaluate import WS_SCHEMA
from supernet.hashing import file_digest
from supernet.landmarks import LANDMARK_SCHEMA, LandmarkSet
from supernet.space import NUM_ARCHS

REPO = Path(__file__).resolve().parents[2]


def _ws(tmp_path: Path, acc, name: str = "ws.csv") -> Path:
    p = tmp_path / name
    pd.DataFrame({"index": np.arange(len(acc)), "ws_acc": acc}).to_csv(p, index=False)
    return p


def test_accuracy_in_percent_is_enforced_with_the_fractions_hint(tmp_path):
    with pytest.raises(tb.BenchmarkError, match=r"'ws_acc' holds only values in 0..1 \(largest 0.9, row 0\); an accuracy in percent in 0..100 .*"
                                                r"values look like fractions; multiply by 100"):
        tb.read_arch_table(_ws(tmp_path, [0.9, 0.85, 0.7]), schema=WS_SCHEMA)
    for bad, shown in ((-3.0, "-3"), (101.0, "101"), (1e30, "1e+30")):
        with pytest.raises(tb.BenchmarkError, match=rf"row 1 \(index 1\) is {re.escape(shown)}; an accuracy in percent"):
            tb.read_arch_table(_ws(tmp_path, [90.0, bad, 70.0]), schema=WS_SCHEMA)
    assert tb.read_arch_table(_ws(tmp_path, [90.0, 0.0, 100.0]), schema=WS_SCHEMA)["ws_acc"].tolist() == [90, 0, 100]
    lm = tmp_path / "lm.csv"
    pd.DataFrame({"index": [1, 2, 3], "true_acc": [0.91, 0.85, 0.72]}).to_csv(lm, index=False)
    with pytest.raises(tb.BenchmarkError, match="landmark table .*multiply by 100"):
        LandmarkSet.from_csv(lm)
    with pytest.raises(tb.BenchmarkError, match="multiply by 100"):
        tb.read_arch_table(lm, schema=LANDMARK_SCHEMA)


def test_nan_and_inf_are_errors_unless_dropped_and_counted(tmp_path, caplog):
    p = _ws(tmp_path, [90.0, np.inf, np.nan, 80.0, 70.0])
    with pytest.raises(tb.BenchmarkError, match=r"'ws_acc' has 2 NaN and inf value\(s\), first at row 1 \(index 1: inf\)"
                                                r".*--drop-nonfinite"):
        tb.read_arch_table(p, schema=WS_SCHEMA)
    df = tb.read_arch_table(p, schema=WS_SCHEMA, drop_nonfinite=True)
    assert df["index"].tolist() == [0, 3, 4] and df.attrs["dropped_nonfinite"] == 2
    assert "dropped 2 row(s) with NaN/inf in ['ws_acc']" in caplog.text
    # NaN is a legitimate "not measured" where declared (ws_loss of degenerate cells); inf never is
    q = tmp_path / "loss.csv"
    pd.DataFrame({"index": [0, 1], "ws_acc": [10.0, 50.0], "ws_loss": [np.nan, 1.5]}).to_csv(q, index=False)
    assert tb.read_arch_table(q, schema=WS_SCHEMA)["ws_loss"].isna().tolist() == [True, False]
    pd.DataFrame({"index": [0, 1], "ws_acc": [10.0, 50.0], "ws_loss": [-np.inf, 1.5]}).to_csv(q, index=False)
    with pytest.raises(tb.BenchmarkError, match="'ws_loss' has 1 inf value"):
        tb.read_arch_table(q, schema=WS_SCHEMA)


def test_declared_types_and_completeness(tmp_path):
    schema = tb.TableSchema("t", (tb.Column("n", "int", lo=0), tb.Column("flag", "bool"), tb.Column("*_ms", lo=0,
                                                                                                     lo_open=True)),
                            complete=True, make="remake it")
    base = pd.DataFrame({"index": np.arange(NUM_ARCHS), "n": 1, "flag": "True", "a_ms": 2.0})
    out = tb.validate_table(tb.align_to_space(base), schema)
    assert out["n"].dtype == np.int64 and out["flag"].dtype == bool and out["flag"].all()
    for col, val, msg in (("n", 1.5, "is 1.5, not an integer; remake it"), ("flag", 2, "not true/false"),
                          ("a_ms", 0.0, "a value > 0 is expected"), ("n", "x", "holds 'x', not a number")):
        bad = base.astype({col: object})
        bad.loc[7, col] = val
        with pytest.raises(tb.BenchmarkError, match=rf"row 7 \(index 7\).*{msg}"):
            tb.validate_table(tb.align_to_space(bad), schema)
    with pytest.raises(tb.BenchmarkError, match=r"covers 15624 of the 15625 .*missing indices 9\b.*remake it"):
        tb.validate_table(tb.align_to_space(base.drop(index=9)), schema)
    with pytest.raises(tb.BenchmarkError, match="lacks a column matching '\\*_ms'"):
        tb.validate_table(tb.align_to_space(base.drop(columns="a_ms")), schema)


def test_a_sidecar_is_tied_to_its_table_by_its_hash(tmp_path):
    t = tmp_path / "t.csv.gz"
    df = pd.DataFrame({"index": [1, 2, 3], "ws_acc": [90.0, 80.0, 70.0]})
    tb.write_table(df, t, {"model": "x"})
    side = tb.sidecar_path(t)
    assert json.loads(side.read_text())["table_sha256"] == file_digest(t)
    assert tb.read_arch_table(t).attrs["sidecar"]["model"] == "x"
    tb.write_table(df, tmp_path / "t.csv", {"model": "y"})  # a sibling no longer shares (or overwrites) it
    assert json.loads(side.read_text())["model"] == "x"
    # the same table gives the same bytes (gzip without a time stamp): rewriting it keeps its hash
    tb.write_table(df, tmp_path / "again.csv.gz", {})
    assert file_digest(tmp_path / "again.csv.gz") == file_digest(t)
    df.iloc[:2].to_csv(t, index=False, compression="gzip")  # the table replaced behind its sidecar's back
    with pytest.raises(tb.BenchmarkError, match=rf"does not match its sidecar {side}.*regenerate {t}"):
        tb.read_arch_table(t)
    side.write_text("{not json")
    with pytest.raises(tb.BenchmarkError, match=f"sidecar {side} is not readable JSON"):
        tb.read_arch_table(t)
    side.unlink()
    assert len(tb.read_arch_table(t)) == 2  # without a sidecar the table is read as it is


def test_a_failed_pair_write_keeps_both_old_files(tmp_path):
    t = tmp_path / "t.csv"
    old = pd.DataFrame({"index": [1], "x": [1.0]})
    tb.write_table(old, t, {"v": 1})
    before = (t.read_bytes(), tb.sidecar_path(t).read_bytes())

    class Boom:
        def __str__(self) -> str:
            raise KeyboardInterrupt  # interrupted while the sidecar is being made

    with pytest.raises(KeyboardInterrupt):
        tb.write_table(pd.DataFrame({"index": [2], "x": [2.0]}), t, {"v": Boom()})
    assert (t.read_bytes(), tb.sidecar_path(t).read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "t.csv.json"]


def test_a_temporary_left_by_a_killed_writer_is_removed_by_the_next_write(tmp_path):
    t = tmp_path / "t.csv"
    code = (
        "import sys, time; from pathlib import Path; from supernet.fileio import atomic_write\n"
        "def slow(tmp):\n    tmp.write_text('half'); print('writing', flush=True); time.sleep(60)\n"
        f"atomic_write(Path({str(t)!r}), slow)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, env=env, text=True)
    try:
        assert proc.stdout.readline().strip() == "writing"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
    stale = [p.name for p in tmp_path.iterdir()]
    assert len(stale) == 1 and stale[0].startswith(".t.csv.") and stale[0].endswith(".tmp")  # SIGKILL: no cleanup
    tb.write_table(pd.DataFrame({"index": [1], "x": [1.0]}), t, {"v": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "t.csv.json"]


def test_unreadable_files_are_one_line_errors(tmp_path):
    good = tmp_path / "g.csv.gz"
    pd.DataFrame({"index": np.arange(2000), "x": 1.0}).to_csv(good, index=False, compression="gzip")
    (tmp_path / "cut.csv.gz").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    (tmp_path / "plain.csv.gz").write_text("index,x\n1,2\n")
    for name, why in (("cut.csv.gz", "it is cut short"), ("plain.csv.gz", "it is not gzip data")):
        with pytest.raises(tb.BenchmarkError, match=f"cannot read table .*{name} as CSV .*{why}; regenerate it"):
            tb.read_arch_table(tmp_path / name)


def test_long_inputs_are_echoed_only_in_part(tmp_path):
    long = "x" * 10_000
    with pytest.raises(tb.BenchmarkError) as e:
        tb.align_to_space(pd.DataFrame({"arch_str": [long]}))
    assert len(str(e.value)) < 600 and str(e.value).count("xxxxxxxxxx") <= 16 and "\u2026" in str(e.value)
    p = tmp_path / "w.csv"
    pd.DataFrame({"index": [0, 1], "ws_acc": [long, "50"]}).to_csv(p, index=False)
    with pytest.raises(tb.BenchmarkError) as e:
        tb.read_arch_table(p, schema=WS_SCHEMA)
    assert len(str(e.value)) < 400 and "not a number" in str(e.value)
