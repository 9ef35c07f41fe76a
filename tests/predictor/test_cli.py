"""The nasgcn command line: every command parses, runs and reports errors without tracebacks."""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from predictor.cli import build_parser, main


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def _all_subcommands() -> list[list[str]]:
    found: list[list[str]] = []

    def walk(p: argparse.ArgumentParser, prefix: list[str]) -> None:
        subs = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            found.append(prefix)
        for a in subs:
            for name, sp in a.choices.items():
                walk(sp, prefix + [name])

    walk(build_parser(), [])
    return found


@pytest.mark.parametrize("cmd", _all_subcommands(), ids=lambda c: " ".join(c))
def test_help_on_every_command(cmd: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as e:
        main(cmd + ["--help"])
    assert e.value.code == 0
    assert "usage: nasgcn" in capsys.readouterr().out


def test_parsing_imports_no_handler_module():
    # the handler modules import torch and the library; --help and argument errors must not wait for them
    code = ("import sys; from predictor.cli import build_parser; build_parser().parse_args(['fit', '--out', 'x']); "
            "print(sorted(m for m in ('torch', 'pandas', 'predictor.cli.table_commands') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2]).stdout
    assert out.strip() == "[]"


def test_every_handler_resolves():
    def handlers(p: argparse.ArgumentParser):
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                for sp in a.choices.values():
                    yield from handlers(sp)
        if "handler" in p._defaults:
            yield p._defaults["handler"]

    names = [h.__name__ for h in handlers(build_parser())]
    assert len(names) == 23
    mods = [importlib.import_module(f"predictor.cli.{m}")
            for m in ("supernet_commands", "table_commands", "standalone_commands")]
    assert all(any(callable(getattr(m, n, None)) for m in mods) for n in names)


def test_space_export(tmp_path: Path, capsys) -> None:
    out = tmp_path / "space.csv"
    rc, text, _ = _run(capsys, "space", "export", str(out), "--json")
    assert rc == 0
    summary = json.loads(text)
    assert summary["rows"] == 15625 and summary["iso_classes"] == 6466 and summary["degenerate"] == 341
    df = pd.read_csv(out)
    assert list(df.columns) == ["index", "arch_str", "iso_id", "degenerate", "params_m", "flops_m"]
    n3 = df["arch_str"].str.count("nor_conv_3x3")
    n1 = df["arch_str"].str.count("nor_conv_1x1")
    assert ((df["params_m"] * 1e6).round().astype(int) == 73306 + 243040 * n3 + 28000 * n1).all()


def test_evaluate_one_shot_file(data_file, capsys) -> None:
    ws = data_file("nb201/nb201_ws_oneshot.csv.gz")
    rc, text, _ = _run(capsys, "evaluate", "--table", str(ws), "--column", "ws_acc", "--json")
    assert rc == 0
    m = json.loads(text)
    assert m["n"] == 15625
    assert m["kendall_tau"] == pytest.approx(0.484, abs=5e-4)
    assert m["top10pct_tau"] == pytest.approx(-0.23, abs=5e-3)
    assert m["pred_best_true"] == pytest.approx(91.01, abs=5e-3)
    rc, text, _ = _run(capsys, "evaluate", "--table", str(ws), "--column", "ws_acc")
    assert rc == 0 and "kendall_tau" in text and "0.4841" in text


def test_evaluate_errors_are_one_line(tmp_path: Path, data_file, capsys) -> None:
    data_file("nb201/nb201_truth.csv.gz")
    bad = tmp_path / "t.csv"
    pd.DataFrame({"arch": ["x"], "score": [1.0]}).to_csv(bad, index=False)
    rc, _, err = _run(capsys, "evaluate", "--table", str(bad), "--column", "score")
    assert rc == 2 and "neither 'index' nor 'arch_str'" in err and "Traceback" not in err
    rc, _, err = _run(capsys, "evaluate", "--table", str(tmp_path / "missing.csv"), "--column", "score")
    assert rc == 2 and "missing.csv" in err
    good = tmp_path / "g.csv"
    pd.DataFrame({"index": [0, 1, 2], "score": [1.0, 2.0, 3.0]}).to_csv(good, index=False)
    rc, _, err = _run(capsys, "evaluate", "--table", str(good), "--column", "nope")
    assert rc == 2 and "nope" in err


def test_bench_check(data_file, capsys) -> None:
    data_file("nb201/nb201_hw_latency.csv.gz")
    rc, text, _ = _run(capsys, "bench", "check", "--json")
    assert rc == 0
    d = json.loads(text)
    assert d["truth_rows"] == 15625
    assert d["latency_columns"]["hwnb_c10_raspi4_latency_ms"] == 15625
    assert d["latency_columns"]["hwnb_c10_edgegpu_latency_ms"] == 1999


def test_supernet_train_and_eval_tiny(tmp_path: Path, capsys) -> None:
    cfg = Path(__file__).resolve().parents[2] / "configs" / "tiny.toml"
    run = tmp_path / "run"
    rc, text, err = _run(capsys, "supernet", "train", "--config", str(cfg), "--out", str(run), "--epochs", "1",
                         "--no-progress", "--json")
    assert rc == 0, err
    assert json.loads(text)["finished"]
    rc, _, err = _run(capsys, "supernet", "train", "--config", str(cfg), "--out", str(run), "--no-progress")
    assert rc == 2 and "--resume" in err
    ws = tmp_path / "ws.csv"
    rc, text, err = _run(capsys, "supernet", "eval", "--run", str(run), "--sample", "8", "--out", str(ws),
                         "--no-progress", "--json")
    assert rc == 0, err
    assert json.loads(text)["architectures"] == 8
    assert len(pd.read_csv(ws)) == 8
    (run / "checkpoint.pt").write_bytes(b"not a checkpoint")
    rc, _, err = _run(capsys, "supernet", "eval", "--run", str(run), "--sample", "8", "--out", str(ws))
    assert rc == 2 and "is damaged" in err


def test_fit_query_search_pareto(tmp_path: Path, data_file, capsys) -> None:
    ws = data_file("nb201/nb201_ws_oneshot.csv.gz")
    table = tmp_path / "table.csv.gz"
    rc, text, err = _run(capsys, "fit", "--ws", str(ws), "--out", str(table), "--model", "ridge", "--sample", "200",
                         "--json")
    assert rc == 0, err
    fit = json.loads(text)
    assert fit["n_ws"] == 200 and fit["model"] == "ridge"
    rc, text, _ = _run(capsys, "query", str(table), "0", "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|", "--json")
    rows = json.loads(text)
    assert rc == 0 and [r["index"] for r in rows][0] == 0 and len(rows) == 2
    rc, _, err = _run(capsys, "query", str(table), "|bogus~0|")
    assert rc == 2 and "bogus" in err
    rc, text, _ = _run(capsys, "search", "--table", str(table), "--max", "params_m=0.5", "--min", "flops_m=20",
                       "--top", "4", "--json")
    res = json.loads(text)
    assert rc == 0 and len(res["top"]) == 4
    assert all(r["params_m"] <= 0.5 and r["flops_m"] >= 20 for r in res["top"])
    preds = [r["pred_acc"] for r in res["top"]]
    assert preds == sorted(preds, reverse=True)
    rc, _, err = _run(capsys, "search", "--table", str(table), "--max", "params_m=0.01")
    assert rc == 2 and "smallest" in err
    rc, _, err = _run(capsys, "search", "--table", str(table), "--max", "nonsense=1")
    assert rc == 2 and "params_m" in err
    png = tmp_path / "front.png"
    rc, text, _ = _run(capsys, "pareto", "--table", str(table), "--cost", "params_m", "--plot", str(png), "--json")
    front = json.loads(text)["front"]
    assert rc == 0 and png.stat().st_size > 1000
    p = [r["params_m"] for r in front]
    a = [r["pred_acc"] for r in front]
    assert p == sorted(p) and a == sorted(a)  # along the front, more params must buy more accuracy
