"""The run report: markdown sections and numbers from the files of a small, hand-made run directory; PNG plots."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from predictor.report import plot_training_curve, plot_vs_truth, write_report
from supernet.space import NUM_ARCHS, all_archs

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

RUN_CONFIG = {
    "data": {"source": "cifar10"},
    "model": {"C": 8, "N": 1},
    "train": {"epochs": 3, "batch_size": 32},
    "sampling": {"strategy": "uniform"},
    "predictor": {"model": "gcn"},
    "run": {"sample": 50},
}
STAGES = {
    "supernet": {"key": "k1", "outputs": ["checkpoint.pt"], "seconds": 12.34, "finished": "2026-01-02 03:04:05"},
    "ws": {"key": "k2", "outputs": ["ws.csv"], "seconds": 5.6, "finished": "2026-01-02 03:04:11"},
}
A7 = "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|none~1|avg_pool_3x3~2|"
SEARCH = {
    "unconstrained": {"constraints": [], "top": [
        {"rank": 1, "index": 7, "pred_acc": 93.1234, "params_m": 1.5},
        {"rank": 2, "index": 11, "pred_acc": 92.5, "params_m": 0.25},
    ]},
    "tiny": {"constraints": ["params_m<=0.01"], "error": "no feasible architecture: smallest params_m is 0.07"},
}


def _metrics(n: int, tau: float, top5: float) -> dict:
    return {"n": n, "kendall_tau": tau, "spearman_rho": 0.677, "top5pct_tau": top5, "top10pct_tau": 0.1,
            "p_at_top5pct": 0.01, "br_at_10": 3, "pred_best_true": 91.01, "regret": 3.36}


def _run_dir(tmp_path: Path, *, with_truth: bool) -> Path:
    run = tmp_path / "myrun"
    (run / "supernet").mkdir(parents=True)
    (run / "run_config.json").write_text(json.dumps(RUN_CONFIG))
    (run / "stages.json").write_text(json.dumps(STAGES))
    (run / "search.json").write_text(json.dumps(SEARCH))
    pd.DataFrame({"epoch": [1, 2, 3], "train_loss": [2.2, 1.9, 1.7], "train_acc": [15.0, 28.5, 35.25]}).to_csv(
        run / "supernet" / "train_log.csv", index=False)
    rng = np.random.default_rng(0)
    true = 80 + 14 * rng.random(NUM_ARCHS)
    pd.DataFrame({"index": np.arange(NUM_ARCHS), "pred_acc": true + rng.normal(0, 1, NUM_ARCHS),
                  "params_m": 0.07 + 1.5 * rng.random(NUM_ARCHS)}).to_csv(run / "table.csv.gz", index=False)
    if with_truth:
        truth = tmp_path / "truth.csv"
        pd.DataFrame({"index": np.arange(NUM_ARCHS), "arch_str": [a.to_str() for a in all_archs()],
                      "cifar10_test_acc": true, "cifar100_xtest_acc": true - 20,
                      "imagenet16_120_xtest_acc": true - 40}).to_csv(truth, index=False)
        idx = rng.choice(NUM_ARCHS, 50, replace=False)
        pd.DataFrame({"index": idx, "ws_acc": true[idx] - 30 + rng.normal(0, 3, 50)}).to_csv(run / "ws.csv", index=False)
        ev = {
            "dataset": "cifar10", "truth": str(truth),
            "supernet_sampled": _metrics(50, 0.485, -0.23),
            "table_on_sampled": _metrics(50, 0.7125, float("nan")),
            "table_all": _metrics(15625, 0.6, 0.25),
            "search": {"unconstrained": {"pick_index": 7, "pick_arch": A7, "pick_true_acc": 93.5,
                                         "best_true_acc_under_constraints": 94.37, "regret": 0.87,
                                         "feasible": 15625},
                       "tiny": {"error": "no feasible architecture"}},
        }
        (run / "evaluation.json").write_text(json.dumps(ev))  # NaN written as NaN, as json.dumps does
    return run


def _png_size(p: Path) -> tuple[int, int]:
    assert p.read_bytes()[:8] == PNG_MAGIC, p
    with Image.open(p) as im:
        return im.size


def test_report_without_truth(tmp_path: Path) -> None:
    run = _run_dir(tmp_path, with_truth=False)
    out = write_report(run)
    assert out == run / "report.md"
    md = out.read_text()
    lines = md.splitlines()
    assert lines[0] == "# nasgcn run report: myrun"
    assert "**Data:** CIFAR-10 (NAS-Bench-201 train half trains, valid half scores)" in md
    assert "**Supernet:** C=8, N=1, 3 epochs, batch 32, sampling `uniform`." in md
    assert "**Predictor:** `gcn` fitted on 50 sampled architectures." in md
    assert "**Ground truth:** none available: no ranking evaluation." in md
    assert "## Ranking against the truth" not in md
    # stages: one row per stage with its seconds and time
    i = lines.index("## Stages")
    assert lines[i + 2:i + 6] == ["| stage | seconds | finished |", "|---|---:|---|",
                                  "| supernet | 12.34 | 2026-01-02 03:04:05 |", "| ws | 5.6 | 2026-01-02 03:04:11 |"]
    # search: the feasible set's table (floats to 4 places), the infeasible set's message
    i = lines.index("## Best architectures found")
    assert lines[i + 2] == "**unconstrained** (constraints: none)"
    assert "| rank | index | pred_acc | params_m |" in lines
    assert "| 1 | 7 | 93.1234 | 1.5000 |" in lines and "| 2 | 11 | 92.5000 | 0.2500 |" in lines
    assert "**tiny** (constraints: params_m<=0.01)" in lines
    assert "infeasible: no feasible architecture: smallest params_m is 0.07" in lines
    # plots: training curve and Pareto front only (no truth -> no scatter against it)
    assert "![training curve](training_curve.png)" in lines
    assert "![Pareto front (predicted accuracy vs params)](pareto_params.png)" in lines
    assert "pred_vs_true" not in md
    for name in ("training_curve.png", "pareto_params.png"):
        w, h = _png_size(run / name)
        assert w > 100 and h > 100
    assert not (run / "pred_vs_true.png").exists()


def test_report_with_truth(tmp_path: Path) -> None:
    run = _run_dir(tmp_path, with_truth=True)
    md = write_report(run).read_text()
    lines = md.splitlines()
    assert "**Ground truth:** NAS-Bench-201 cifar10 (" + str(tmp_path / "truth.csv") + ")." in md
    i = lines.index("## Ranking against the truth")
    assert lines[i + 2] == ("| scores | n | kendall_tau | spearman_rho | top5pct_tau | top10pct_tau | p_at_top5pct "
                            "| br_at_10 | pred_best_true | regret |")
    # every figure from evaluation.json, 3 decimals; NaN shown as nan
    assert lines[i + 4:i + 7] == [
        "| raw supernet (sampled archs) | 50 | 0.485 | 0.677 | -0.230 | 0.100 | 0.010 | 3 | 91.010 | 3.360 |",
        "| lookup table (same archs) | 50 | 0.713 | 0.677 | nan | 0.100 | 0.010 | 3 | 91.010 | 3.360 |",
        "| lookup table (all 15,625) | 15625 | 0.600 | 0.677 | 0.250 | 0.100 | 0.010 | 3 | 91.010 | 3.360 |",
    ]
    assert ("true accuracy of the pick 93.50% vs best feasible 94.37% (regret 0.87, 15625 feasible)") in lines
    for name in ("training_curve.png", "pareto_params.png", "pred_vs_true.png", "ws_vs_true.png"):
        assert f"({name})" in md
        _png_size(run / name)


def test_report_of_an_empty_run_directory(tmp_path: Path) -> None:
    md = write_report(tmp_path).read_text()
    assert md.startswith(f"# nasgcn run report: {tmp_path.name}")
    assert "CIFAR-10 (NAS-Bench-201" not in md  # no config: the data source is unknown, never claimed to be CIFAR-10
    assert "**Ground truth:** none available" in md
    for section in ("## Stages", "## Ranking", "## Best architectures", "## Plots"):
        assert section not in md


def test_plot_helpers_write_png(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    pd.DataFrame({"epoch": [1, 2], "train_loss": [2.0, 1.5], "train_acc": [20.0, 40.0]}).to_csv(log, index=False)
    p = plot_training_curve(log, tmp_path / "curve.png")
    assert p == tmp_path / "curve.png" and min(_png_size(p)) > 100
    rng = np.random.default_rng(1)
    true = 85 + 9 * rng.random(200)
    score = true + rng.normal(0, 1, 200)
    score[:5] = np.nan  # not drawn, not an error
    p = plot_vs_truth(score, true, tmp_path / "scatter.png", xlabel="score", title="t")
    assert min(_png_size(p)) > 100


def test_search_table_rows_keep_their_columns_with_arch_strings(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "search.json").write_text(json.dumps({"unconstrained": {"constraints": [], "top": [
        {"rank": 1, "index": 7, "arch_str": A7, "pred_acc": 93.1234}]}}))
    lines = write_report(run).read_text().splitlines()
    header = lines.index("| rank | index | arch_str | pred_acc |")
    row = lines[header + 2]
    # a GFM table cell ends at every pipe that is not escaped
    cells = [c for c in row.replace("\\|", "").split("|")][1:-1]
    assert len(cells) == 4, row
    assert math.isfinite(float(cells[3]))


def _markdown_tables(md: str) -> list[list[list[str]]]:
    """Every GFM table of ``md`` as rows of cells (a cell ends at each pipe that is not escaped)."""
    tables, cur = [], []
    for line in md.splitlines() + [""]:
        if line.startswith("|"):
            cur.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
        elif cur:
            tables.append(cur)
            cur = []
    return tables


def test_every_report_table_row_has_the_header_s_column_count(tmp_path: Path) -> None:
    run = _run_dir(tmp_path, with_truth=True)  # stages, search (arch strings in cells), ranking
    (run / "search.json").write_text(json.dumps({
        **SEARCH,
        "odd": {"constraints": ["params_m<=9"], "top": [{"rank": 1, "index": 7, "arch_str": A7 + "\nx|y",
                                                          "pred_acc": 93.1}]},
    }))
    tables = _markdown_tables(write_report(run).read_text())
    assert len(tables) >= 3
    for t in tables:
        assert all(len(row) == len(t[0]) for row in t), t
    arch_cells = [row[2] for t in tables for row in t[2:] if len(row) > 2 and row[2].startswith("\\|")]
    assert arch_cells and all(c.replace("\\|", "|").startswith("|") for c in arch_cells)
    assert arch_cells == [A7.replace("|", "\\|") + " x\\|y"]  # escaped, and the line break folded


def test_a_constraint_without_a_hardware_table_is_reported_as_skipped(tmp_path: Path) -> None:
    from predictor.pipeline import SearchSection, search_table

    df = pd.DataFrame({"index": np.arange(20), "arch_str": [f"a{i}" for i in range(20)],
                       "pred_acc": np.linspace(80, 90, 20), "params_m": np.linspace(0.1, 1.5, 20)})
    sets = SearchSection(top=2, sets={"all": (), "fast_pi4": ("hwnb_c10_raspi4_latency_ms<=12",)})
    res = search_table(df, sets, hardware=False)
    assert res["fast_pi4"]["skipped"] == "no hardware table" and "error" not in res["fast_pi4"]
    assert [r["index"] for r in res["all"]["top"]] == [19, 18]
    assert "error" in search_table(df, sets, hardware=True)["fast_pi4"]  # with a hardware table: a real error
    run = tmp_path / "run"
    run.mkdir()
    (run / "search.json").write_text(json.dumps(res))
    lines = write_report(run).read_text().splitlines()
    assert "skipped: no hardware table" in lines
    assert not any(line.startswith("infeasible") for line in lines)
