"""Plots for reports (matplotlib, Agg backend: no display needed).

* :func:`plot_pareto`: score against one or two cost columns, every feasible architecture in grey and
  the Pareto front of :func:`predictor.search.pareto_front` highlighted.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from supernet.fileio import write_text_atomic

from .search import feasible_mask, pareto_front, resolve_column
from .truth import load_truth, truth_accuracy

__all__ = ["plot_pareto", "plot_training_curve", "plot_vs_truth", "write_report"]

log = logging.getLogger(__name__)


def plot_pareto(
    df: pd.DataFrame,
    out: str | os.PathLike[str],
    score: str = "pred_acc",
    costs: Sequence[str] | str = ("params_m",),
    constraints: Iterable = (),
    *,
    front: pd.DataFrame | None = None,
    marks: dict[str, int] | None = None,
    title: str | None = None,
    logx: bool = False,
    dpi: int = 120,
) -> Path:
    """Write a PNG of ``score`` (y) against each cost (x; one panel per cost) and return its path.

    ``df``: the table; feasible rows (``constraints``) are drawn grey, the front (``front``, else computed
    with :func:`predictor.search.pareto_front`) as a red staircase/points.  With two costs each panel is
    coloured by the other cost.  ``marks``: label -> official index of architectures to annotate (e.g.
    the true best).  The score's NaN rows are not drawn.
    """
    import matplotlib  # heavy import, needed only when a plot is drawn

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt


    cost_cols = [costs] if isinstance(costs, str) else list(costs)
    score = resolve_column(df, score)
    cost_cols = [resolve_column(df, c) for c in cost_cols]
    if front is None:
        front = pareto_front(df, score, cost_cols, constraints)
    feas = df[feasible_mask(df, constraints)]
    s = feas[score].to_numpy(dtype=np.float64)
    fig, axes = plt.subplots(1, len(cost_cols), figsize=(5.2 * len(cost_cols), 4.2), squeeze=False)
    for j, col in enumerate(cost_cols):
        ax = axes[0, j]
        x = feas[col].to_numpy(dtype=np.float64)
        ax.scatter(x, s, s=3, c="0.75", alpha=0.5, lw=0, label=f"feasible ({len(feas):,})", rasterized=True)
        fx = front[col].to_numpy(dtype=np.float64)
        fs = front[score].to_numpy(dtype=np.float64)
        if len(cost_cols) == 2:
            other = cost_cols[1 - j]
            sc = ax.scatter(fx, fs, s=14, c=front[other].to_numpy(dtype=np.float64), cmap="viridis_r",
                            edgecolor="red", lw=0.6, zorder=3, label=f"Pareto front ({len(front)})")
            fig.colorbar(sc, ax=ax, label=other)
        else:
            order = np.argsort(fx, kind="stable")
            ax.step(fx[order], np.maximum.accumulate(fs[order]), where="post", c="red", lw=1, zorder=2)
            ax.scatter(fx, fs, s=14, c="red", zorder=3, label=f"Pareto front ({len(front)})")
        for label, idx in (marks or {}).items():
            row = df[df["index"] == idx]
            if len(row):
                ax.scatter(row[col], row[score], marker="*", s=120, c="gold", edgecolor="k", zorder=4)
                ax.annotate(label, (float(row[col].iloc[0]), float(row[score].iloc[0])), fontsize=7,
                            xytext=(4, 4), textcoords="offset points")
        if logx:
            ax.set_xscale("log")
        ax.set_xlabel(col)
        ax.set_ylabel(score)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    p = Path(out)
    p.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(p, dpi=dpi)
    plt.close(fig)
    log.info("wrote %s", p)
    return p


# ---------------------------------------------------------------------- the run report
def _plt():
    import matplotlib  # heavy import, needed only when a plot is drawn

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def plot_training_curve(log_csv: str | os.PathLike[str], out: str | os.PathLike[str]) -> Path:
    """Train loss and accuracy per epoch from a supernet ``train_log.csv``."""
    plt = _plt()
    log_df = pd.read_csv(log_csv)
    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    ax.plot(log_df["epoch"], log_df["train_loss"], "o-", ms=3, color="tab:blue", label="train loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss", color="tab:blue")
    ax2 = ax.twinx()
    ax2.plot(log_df["epoch"], log_df["train_acc"], "s-", ms=3, color="tab:orange", label="train accuracy (%)")
    ax2.set_ylabel("accuracy of sampled sub-networks (%)", color="tab:orange")
    ax.set_title("supernet training")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return Path(out)


def plot_vs_truth(
    score: np.ndarray, true: np.ndarray, out: str | os.PathLike[str], *, xlabel: str, title: str
) -> Path:
    """Scatter of a score (x) against true accuracy (y), the true top 5% in red."""
    plt = _plt()
    s, t = np.asarray(score, float), np.asarray(true, float)
    ok = np.isfinite(s) & np.isfinite(t)
    s, t = s[ok], t[ok]
    top = t >= np.quantile(t, 0.95)
    fig, ax = plt.subplots(figsize=(4.8, 4.2))
    ax.scatter(s[~top], t[~top], s=3, c="0.6", alpha=0.5, lw=0, label="other", rasterized=True)
    ax.scatter(s[top], t[top], s=5, c="tab:red", alpha=0.8, lw=0, label="true top 5%")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("true accuracy (%)")
    ax.set_ylim(max(t.min(), 80) - 1 if (t > 80).mean() > 0.5 else t.min() - 1, t.max() + 0.5)
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return Path(out)


def _fmt(v: object, nd: int = 3) -> str:
    """A markdown table cell: floats to ``nd`` places, ``|`` escaped (arch strings are full of them),
    no line breaks."""
    if isinstance(v, (float, np.floating)):
        return f"{v:.{nd}f}"
    return " ".join(str(v).split()).replace("|", "\\|")


def write_report(run: str | os.PathLike[str]) -> Path:
    """Write ``RUN/report.md`` and its PNG plots from the files of a ``nasgcn run`` directory.

    Uses whatever stages have finished: the training log, ``ws.csv``, ``table.csv.gz``, ``search.json``,
    ``evaluation.json`` (only with a truth table), ``loop.json`` / ``search_loop.json`` (the landmark loop)
    and ``stages.json`` timings.
    """

    run = Path(run)
    cfg = json.loads((run / "run_config.json").read_text()) if (run / "run_config.json").exists() else {}
    stages = json.loads((run / "stages.json").read_text()) if (run / "stages.json").exists() else {}
    ev = json.loads((run / "evaluation.json").read_text()) if (run / "evaluation.json").exists() else None
    search = json.loads((run / "search.json").read_text()) if (run / "search.json").exists() else {}
    lines = [f"# nasgcn run report: {run.name}", ""]
    data = cfg.get("data", {})
    model = cfg.get("model", {})
    train = cfg.get("train", {})
    src = data.get("source", "?")
    lines += [
        f"**Data:** {'CIFAR-10 (NAS-Bench-201 train half trains, valid half scores)' if src == 'cifar10' else 'SYNTHETIC images (no CIFAR-10 found under the data root): the figures below say nothing about real architectures'}. "
        f"**Supernet:** C={model.get('C')}, N={model.get('N')}, {train.get('epochs')} epochs, batch {train.get('batch_size')}, "
        f"sampling `{cfg.get('sampling', {}).get('strategy')}`. **Predictor:** `{cfg.get('predictor', {}).get('model')}` "
        f"fitted on {cfg.get('run', {}).get('sample')} sampled architectures.",
        "",
        f"**Ground truth:** {'NAS-Bench-201 ' + ev['dataset'] + ' (' + ev['truth'] + ')' if ev else 'none available: no ranking evaluation'}.",
        "",
    ]
    if stages:
        lines += ["## Stages", "", "| stage | seconds | finished |", "|---|---:|---|"]
        lines += [f"| {_fmt(k)} | {v.get('seconds')} | {v.get('finished')} |" for k, v in stages.items()]
        lines.append("")
    if ev:
        keys = ["n", "kendall_tau", "spearman_rho", "top5pct_tau", "top10pct_tau", "p_at_top5pct", "br_at_10",
                "pred_best_true", "regret"]
        lines += ["## Ranking against the truth", "",
                  "| scores | " + " | ".join(keys) + " |", "|---|" + "---:|" * len(keys)]
        for name, label in (("supernet_sampled", "raw supernet (sampled archs)"),
                            ("table_on_sampled", "lookup table (same archs)"),
                            ("table_all", "lookup table (all 15,625)")):
            r = ev[name]
            lines.append(f"| {label} | " + " | ".join(_fmt(r.get(k)) for k in keys) + " |")
        lines.append("")
    if search:
        lines += ["## Best architectures found", ""]
        for name, s in search.items():
            cons = ", ".join(s.get("constraints", [])) or "none"
            lines.append(f"**{name}** (constraints: {cons})")
            lines.append("")
            if "skipped" in s:
                lines += [f"skipped: {s['skipped']}", ""]
                continue
            if "error" in s:
                lines += [f"infeasible: {s['error']}", ""]
                continue
            pick = (ev or {}).get("search", {}).get(name, {})
            if pick:
                lines.append(
                    f"true accuracy of the pick {pick['pick_true_acc']:.2f}% vs best feasible "
                    f"{pick['best_true_acc_under_constraints']:.2f}% (regret {pick['regret']:.2f}, "
                    f"{pick['feasible']} feasible)"
                )
                lines.append("")
            cols = list(s["top"][0].keys())
            lines += ["| " + " | ".join(_fmt(c) for c in cols) + " |", "|" + "---|" * len(cols)]
            lines += ["| " + " | ".join(_fmt(r[c], 4) for c in cols) + " |" for r in s["top"]]
            lines.append("")
    if (run / "loop.json").exists():
        lines += _loop_lines(json.loads((run / "loop.json").read_text()), ev,
                             json.loads((run / "search_loop.json").read_text()) if (run / "search_loop.json").exists()
                             else {})
    plots = []
    if (run / "supernet" / "train_log.csv").exists():
        plots.append(("training curve", plot_training_curve(run / "supernet" / "train_log.csv", run / "training_curve.png")))
    table_path = run / "table.csv.gz"
    if table_path.exists():
        table = pd.read_csv(table_path)  # for plots only: the pipeline checked it when it loaded it
        try:
            plots.append(("Pareto front (predicted accuracy vs params)",
                          plot_pareto(table, run / "pareto_params.png", "pred_acc", ["params_m"])))
        except Exception as e:  # noqa: BLE001 - a plot must not lose the report
            log.warning("Pareto plot skipped: %s", e)
        if ev:
            true = np.asarray(truth_accuracy(load_truth(ev["truth"]), ev["dataset"]), float)
            plots.append(("predicted vs true", plot_vs_truth(table["pred_acc"], true, run / "pred_vs_true.png",
                                                              xlabel="predicted accuracy (lookup table)",
                                                              title="lookup table vs truth (all 15,625)")))
            ws = pd.read_csv(run / "ws.csv")
            plots.append(("weight-sharing vs true", plot_vs_truth(ws["ws_acc"], true[ws["index"].to_numpy()],
                                                                   run / "ws_vs_true.png",
                                                                   xlabel="weight-sharing accuracy (%)",
                                                                   title="raw supernet vs truth (sampled)")))
    if plots:
        lines += ["## Plots", ""] + [f"![{t}]({p.name})" for t, p in plots] + [""]
    return write_text_atomic(run / "report.md", "\n".join(lines))


def _loop_lines(loop: dict, ev: dict | None, search_loop: dict) -> list[str]:
    """Markdown of the landmark loop: every trained landmark (its accuracy, the table's prediction when it
    was proposed, the benchmark's where known), then the refitted table's ranking and picks."""
    rows = loop.get("landmarks", [])
    bench = any("benchmark_acc" in r for r in rows)
    lines = ["## Landmarks trained by the loop", "",
             f"{len(rows)} architectures trained stand-alone ({loop.get('preset')}, {loop.get('rounds')} round(s) of "
             f"{loop.get('k')}); the table was refitted with them as landmarks "
             f"(`{Path(loop.get('landmark_table', '')).name}`).", "",
             "| round | index | role | trained acc | split | epochs | table's prediction |"
             + (" NB201 benchmark |" if bench else "") + " seconds |",
             "|---:|---:|---|---:|---|---:|---:|" + ("---:|" if bench else "") + "---:|"]
    for r in rows:
        lines.append(f"| {r['round']} | {r['index']} | {r['role']} | {r['true_acc']:.2f} | {r['split']} | "
                     f"{r['epochs']} | {r['pred_acc']:.2f} |" + (f" {r['benchmark_acc']:.2f} |" if bench else "")
                     + f" {r['seconds']:.1f} |")
    lines.append("")
    facts = []
    if "tau_trained_vs_pred" in loop:
        facts.append(f"Kendall tau of trained accuracy vs the table's prediction: {loop['tau_trained_vs_pred']:.3f}")
    if "tau_trained_vs_benchmark" in loop:
        facts.append(f"vs the NB201 benchmark: {loop['tau_trained_vs_benchmark']:.3f}")
    if facts:
        lines += ["; ".join(facts) + ".", ""]
    after = (loop.get("evaluation") or {}).get("table_all")
    if after and ev:
        before = ev["table_all"]
        lines += [f"Lookup table (all 15,625) before / after the loop: tau {before['kendall_tau']:.3f} / "
                  f"{after['kendall_tau']:.3f}, top-5% tau {before['top5pct_tau']:.3f} / {after['top5pct_tau']:.3f}, "
                  f"true accuracy of the predicted best {before['pred_best_true']:.2f} / {after['pred_best_true']:.2f}.",
                  ""]
    for name, s in search_loop.items():
        if s.get("top"):
            t = s["top"][0]
            pick = ((loop.get("evaluation") or {}).get("search") or {}).get(name, {})
            lines.append(f"After the loop, **{name}**: #{t['index']} `{t['arch_str']}` (predicted "
                         f"{t.get('pred_acc', float('nan')):.2f}"
                         + (f", true {pick['pick_true_acc']:.2f}" if "pick_true_acc" in pick else "") + ")")
    lines.append("")
    return lines
