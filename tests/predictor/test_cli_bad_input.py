"""Bad input at the command line: each case the issue lists ends with exit 2 and one clean line (or the
right answer), never a traceback or a silently different result."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from predictor.cli import main
from predictor.table import fit_table
from supernet.space import NUM_ARCHS

REPO = Path(__file__).resolve().parents[2]
_rng = np.random.default_rng(3)
_IDX = np.sort(_rng.choice(NUM_ARCHS, 80, replace=False))
WS = pd.DataFrame({"index": _IDX, "ws_acc": 60 + 30 * _rng.random(80)})


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return rc, out, err


@pytest.fixture(scope="module")
def table(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("t")
    hw = pd.DataFrame({"index": _IDX[:40], "dev_latency_ms": 1 + _rng.random(40)})
    return fit_table(WS, model="ridge", hardware=hw).save(d / "t.csv.gz")


def _lines(t: Path) -> list[str]:
    return pd.read_csv(t).to_csv(index=False).splitlines()


@pytest.mark.parametrize("how", ["rows_removed", "hundred_rows", "cut_mid_line", "inf", "nan"])
def test_search_and_pareto_refuse_a_damaged_lookup_table(table, tmp_path, capsys, how) -> None:
    lines = _lines(table)
    if how == "rows_removed":
        lines = lines[:5000] + lines[10000:]
    elif how == "hundred_rows":
        lines = lines[:101]
    elif how == "cut_mid_line":
        lines = lines[:-1] + [lines[-1][: len(lines[-1]) // 2]]
    else:
        head = lines[0].split(",")
        row = lines[77].split(",")
        row[head.index("pred_acc")] = how
        lines[77] = ",".join(row)
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    for cmd in (["search", "--table", str(bad)], ["pareto", "--table", str(bad), "--cost", "params_m"]):
        rc, out, err = _run(capsys, *cmd)
        assert rc == 2 and out == "" and len(err.strip().splitlines()) == 1, err
        assert str(bad) in err and ("lookup table" in err or how == "cut_mid_line")  # a cut arch string: its row
    if how == "inf":  # asked to drop it: the best is the best finite row, and the drop is counted
        rc, out, err = _run(capsys, "search", "--table", str(bad), "--drop-nonfinite", "--top", "1", "--json")
        res = json.loads(out)
        df = pd.read_csv(table)
        assert rc == 0 and res["dropped_nonfinite"] == 1
        assert res["top"][0]["index"] == int(df.drop(index=76)["pred_acc"].idxmax())


def test_a_table_changed_behind_its_sidecar_is_refused(table, tmp_path, capsys) -> None:
    t = tmp_path / "t.csv"
    df = pd.read_csv(table)
    fit_table(WS, model="ridge").save(t)
    pd.read_csv(t).assign(pred_acc=lambda d: d["pred_acc"] + 1).to_csv(t, index=False)
    rc, _, err = _run(capsys, "query", str(t), "1")
    assert rc == 2 and f"does not match its sidecar {t}.json" in err and f"regenerate {t}" in err
    assert len(df) == NUM_ARCHS


def test_query_of_a_broken_gz_and_of_a_non_index(table, tmp_path, capsys) -> None:
    (tmp_path / "cut.csv.gz").write_bytes(table.read_bytes()[:5000])
    (tmp_path / "plain.csv.gz").write_text("index,pred_acc\n1,2\n")
    for name, why in (("cut.csv.gz", "cut short"), ("plain.csv.gz", "not gzip data")):
        rc, _, err = _run(capsys, "query", str(tmp_path / name), "1")
        assert rc == 2 and why in err and name in err and len(err.splitlines()) == 1
    rc, _, err = _run(capsys, "query", str(table), "1e3")
    assert rc == 2 and "'1e3' is neither an official index" in err and "node groups" not in err
    rc, _, err = _run(capsys, "query", str(table), "|" + "x" * 10_000)
    assert rc == 2 and len(err) < 500 and err.count("x" * 50) <= 1


def test_json_is_valid_with_nan_and_outputs_are_world_readable(table, tmp_path, capsys) -> None:
    def strict(text: str):
        return json.loads(text, parse_constant=lambda c: pytest.fail(f"bare {c} in JSON"))

    rc, out, _ = _run(capsys, "query", str(table), "0", "--json")  # pred_std and ws_acc are NaN there
    assert rc == 0 and strict(out)[0]["pred_std"] is None
    rc, out, _ = _run(capsys, "search", "--table", str(table), "--top", "2", "--json")
    assert rc == 0 and strict(out)["top"][0]["pred_std"] is None
    out_t = tmp_path / "o.csv.gz"
    rc, out, err = _run(capsys, "fit", "--ws", str(_ws(tmp_path)), "--model", "ridge", "--out", str(out_t), "--json")
    assert rc == 0, err
    umask = os.umask(0)
    os.umask(umask)
    for p in (out_t, Path(str(out_t) + ".json")):
        assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~umask


def _ws(tmp_path: Path, acc=None) -> Path:
    p = tmp_path / "ws.csv"
    WS.assign(ws_acc=WS["ws_acc"] if acc is None else acc).to_csv(p, index=False)
    return p


def test_fit_and_eval_argument_errors(tmp_path, capsys, caplog) -> None:
    ws = _ws(tmp_path)
    rc, _, err = _run(capsys, "fit", "--ws", str(ws), "--out", str(tmp_path), "--model", "ridge")
    assert rc == 2 and "is a directory" in err
    rc, _, err = _run(capsys, "fit", "--ws", str(ws), "--out", str(tmp_path / "t.csv"), "--sample", "0")
    assert rc == 2 and "--sample must be a positive number" in err
    rc, _, err = _run(capsys, "supernet", "eval", "--run", str(tmp_path), "--sample", "0", "--out", str(tmp_path / "w.csv"))
    assert rc == 2 and "--sample must be >= 1, got 0" in err
    acc = WS["ws_acc"].to_numpy().copy()
    acc[5] = np.inf
    rc, _, err = _run(capsys, "fit", "--ws", str(_ws(tmp_path, acc)), "--out", str(tmp_path / "t.csv"))
    assert rc == 2 and "1 inf value(s)" in err and "NaN" not in err and "--drop-nonfinite" in err
    three = tmp_path / "three.csv"
    WS.iloc[:3].to_csv(three, index=False)
    with caplog.at_level("WARNING"):
        rc, _, err = _run(capsys, "fit", "--ws", str(three), "--out", str(tmp_path / "g.csv"), "--json")
    assert rc == 0 and "fitting a GCN on only 3 architectures" in caplog.text


def test_search_says_when_a_column_covers_only_some_rows(table, capsys) -> None:
    rc, out, err = _run(capsys, "search", "--table", str(table), "--max", "dev=5", "--json")
    assert rc == 0 and "dev_latency_ms has values for 40 of the 15,625 rows" in err
    assert json.loads(out)["notes"] and all(r["index"] in set(_IDX[:40]) for r in json.loads(out)["top"])


def test_evaluate_counts_the_rows_it_drops(tmp_path, capsys) -> None:
    truth = tmp_path / "truth.csv"
    acc = 70 + 25 * np.random.default_rng(1).random(NUM_ARCHS)
    pd.DataFrame({"index": np.arange(NUM_ARCHS), "cifar10_test_acc": acc, "cifar100_xtest_acc": acc - 20,
                  "imagenet16_120_xtest_acc": acc - 40}).to_csv(truth, index=False)
    t = tmp_path / "s.csv"
    pd.DataFrame({"index": _IDX, "score": np.r_[np.nan, np.inf, np.arange(78.0)]}).to_csv(t, index=False)
    rc, _, err = _run(capsys, "evaluate", "--table", str(t), "--column", "score", "--truth", str(truth))
    assert rc == 2 and "2 NaN and inf value(s)" in err and "--drop-nonfinite" in err
    rc, out, err = _run(capsys, "evaluate", "--table", str(t), "--column", "score", "--truth", str(truth),
                        "--drop-nonfinite", "--json")
    m = json.loads(out)
    assert rc == 0 and m["n"] == 78 and m["dropped_nonfinite"] == 2 and "dropped 2 row(s)" in err


@pytest.mark.parametrize("cmd", ["search", "query", "space"])
def test_a_closed_pipe_ends_quietly(table, cmd) -> None:
    argv = {"search": ["search", "--top", "5000", "--table", str(table)],
            "query": ["query", str(table), *map(str, range(3000))],  # more than a pipe's buffer
            "space": ["space", "export", "/dev/stdout"]}[cmd]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    p = subprocess.Popen([sys.executable, "-m", "predictor.cli", *argv], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env)
    assert p.stdout.readline()  # read one line, then hang up as `| head -1` does
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait(timeout=120) == 141 and err == "", err
