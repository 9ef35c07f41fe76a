"""``nasgcn`` handlers of the lookup table, search, latency, costs, pipeline and report commands."""

from __future__ import annotations

import argparse
import json
import logging
import math
from pathlib import Path
from typing import Any

import pandas as pd

from predictor.latency import fill_latency_file, measure_space_latency
from predictor.pipeline import load_run_config, run_pipeline
from predictor.report import plot_pareto, write_report
from predictor.search import (
    coverage_notes,
    pareto_front,
    parse_constraints,
    read_table,
    resolve_column,
    result_columns,
    to_records,
    top_k,
)
from predictor.table import LookupTable, fit_table, read_ws, sample_ws
from supernet.costs import space_costs
from supernet.fileio import to_json

from .output import UserError, emit as _emit, note, out_file, write_csv as _write_csv

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------- predictor and table
def _named_values(items: list[str] | None, flag: str) -> dict[str, float]:
    """``NAME=VALUE`` items of a repeatable flag as a dict (a clear error naming ``flag`` otherwise)."""
    out: dict[str, float] = {}
    for item in items or []:
        name, sep, val = item.partition("=")
        try:
            out[name.strip()] = float(val)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            raise UserError(f"{flag} takes NAME=VALUE (e.g. ws=2 or jacov=0), got {item!r}")
    return out


def _cmd_fit(args: argparse.Namespace) -> int:
    if args.ws is None and not args.proxies:
        raise UserError("give --ws (weight-sharing scores) and/or --proxies (signal tables) to fit on")
    if args.sample is not None and args.sample < 1:
        raise UserError(f"--sample must be a positive number of rows, got {args.sample}")
    out = out_file(args.out)
    if args.ws is None:
        ws = None
    elif args.sample is not None:
        ws_all = read_ws(args.ws, drop_nonfinite=args.drop_nonfinite)
        if args.sample > len(ws_all):
            raise UserError(f"--sample {args.sample} is more than the {len(ws_all)} rows of {args.ws}")
        ws = sample_ws(ws_all, args.sample, args.sample_seed)
    else:
        ws = args.ws
    weights = _named_values(args.weight, "--weight")
    head = _named_values(args.head_weight, "--head-weight")
    if args.landmark_map is not None and not (args.landmarks and args.proxies):
        raise UserError("--landmark-map maps a fused table onto its landmarks' accuracy: give --proxies and "
                        "--landmarks with it, or leave it out")
    if args.head_fraction is not None and not 0 <= args.head_fraction < 1:
        raise UserError(f"--head-fraction must be in [0, 1), got {args.head_fraction}")
    if args.spread_penalty is not None and not (math.isfinite(args.spread_penalty) and args.spread_penalty >= 0):
        raise UserError(f"--spread-penalty must be a finite number >= 0, got {args.spread_penalty}")
    table = fit_table(ws, model=args.model, seed=args.seed, hardware=args.hardware, landmarks=args.landmarks,
                      proxies=args.proxies or None, fusion_weights=weights or None, costs=not args.no_params,
                      drop_nonfinite=args.drop_nonfinite, head_fraction=args.head_fraction,
                      head_weights=head or None, landmark_map=args.landmark_map,
                      spread_penalty=args.spread_penalty)
    path = table.save(out)
    m = table.meta
    best = table.top(1).iloc[0]
    payload = {"out": str(path), "model": m.get("model"), "n_ws": m.get("n_ws"), "n_landmarks": m.get("n_landmarks"),
               "fit_seconds": m.get("fit_seconds"), "columns": list(table.df.columns),
               "best": {"index": int(best["index"]), "arch_str": best["arch_str"], "pred_acc": float(best["pred_acc"])}}
    redundancy = m.get("signal_redundancy") or {}
    if redundancy:
        payload["signal_redundancy"] = redundancy
    _emit(
        args,
        payload,
        (f"fused {', '.join(m['signals'])} (completed by {m.get('completion_model')}: "
         f"{', '.join(m['completed_signals']) or 'none'}) with {m.get('n_ws')} weight-sharing scores"
         if m.get("model") == "fusion" else f"fitted {m.get('model')} on {m.get('n_ws')} architectures")
        + (f" + {m.get('n_landmarks')} landmarks" if m.get("n_landmarks") else "")
        + f" in {m.get('fit_seconds')} s; wrote all 15,625 to {path}\n"
        f"  predicted best: #{int(best['index'])} {best['arch_str']} ({best['pred_acc']:.2f})"
        + "".join(f"\n  {c}: its completion correlates at r = {r:.2f} with the fusion of the whole-space signals"
                  for c, r in redundancy.items())
        + ("\n  (for reference, tuning seeds, benchmarks/results/signal_redundancy.md: 0.82-0.85 for the published "
           "one-shot file, whose fused table ranks below the proxies alone; 0.58-0.76 for the project's own "
           "supernets, whose tables rank above them)"
           if "ws" in redundancy else ""),
    )
    return 0


def _cmd_query(args: argparse.Namespace) -> int:
    table = LookupTable.load(args.table)
    rows = table.query(args.archs, columns=args.columns.split(",") if args.columns else None)
    if args.json:
        print(to_json(to_records(rows), indent=2))
    else:
        with _wide_pandas():
            print(rows.to_string(index=False))
    return 0


class _wide_pandas:
    def __enter__(self) -> None:
        self._ctx = pd.option_context("display.width", 250, "display.max_columns", 30, "display.max_colwidth", 100)
        self._ctx.__enter__()

    def __exit__(self, *exc: Any) -> None:
        self._ctx.__exit__(*exc)


# ---------------------------------------------------------------------- search
def _cmd_search(args: argparse.Namespace) -> int:
    df = read_table(args.table, args.extra or (), drop_nonfinite=args.drop_nonfinite)
    cons = parse_constraints(args.where or (), max=args.max or (), min=args.min or ())
    notes = coverage_notes(df, args.score, cons)
    for n in notes:
        note(n)
    top = top_k(df, args.score, cons, k=args.top, distinct_iso=not args.all_members)
    top = top[result_columns(top, args.score, cons)]
    if args.json:
        print(to_json({"constraints": [str(c) for c in cons], "notes": notes,
                       "dropped_nonfinite": df.attrs.get("dropped_nonfinite", 0), "top": to_records(top)}, indent=2))
    else:
        print(f"top {len(top)} by {args.score} under " + (", ".join(str(c) for c in cons) or "no constraints"))
        with _wide_pandas():
            print(top.to_string(index=False))
    return 0


def _cmd_pareto(args: argparse.Namespace) -> int:
    df = read_table(args.table, args.extra or (), drop_nonfinite=args.drop_nonfinite)
    cons = parse_constraints(args.where or (), max=args.max or (), min=args.min or ())
    notes = coverage_notes(df, args.score, cons, args.cost)
    for n in notes:
        note(n)
    front = pareto_front(df, args.score, args.cost, cons)
    if args.plot:
        plot_pareto(df, args.plot, args.score, args.cost, cons, front=front)
    cols = list(dict.fromkeys(["index", "arch_str", *(resolve_column(df, c) for c in (args.score, *args.cost))]))
    if args.json:
        print(to_json({"front": to_records(front, cols), "plot": args.plot, "notes": notes,
                       "dropped_nonfinite": df.attrs.get("dropped_nonfinite", 0)}, indent=2))
    else:
        print(f"Pareto front of {args.score} against {', '.join(args.cost)}: {len(front)} architectures")
        with _wide_pandas():
            print(front[cols].to_string(index=False))
        if args.plot:
            print(f"plot written to {args.plot}")
    return 0


# ---------------------------------------------------------------------- latency and costs
def _cmd_latency_measure(args: argparse.Namespace) -> int:
    df = measure_space_latency(
        args.out, C=args.C, N=args.N, batch_size=args.batch_size, threads=args.threads, warmup=args.warmup,
        repeats=args.repeats, limit=args.limit, name=args.name, progress=not args.no_progress,
        statistic=args.statistic, iso_only=not args.all_archs, resume=not args.no_resume, seed=args.seed,
    )
    col = f"{args.name}_latency_ms"
    payload = {"out": str(args.out), "rows": len(df), "column": col,
               "median_ms": float(df[col].median()) if len(df) else None}
    _emit(args, payload, f"wrote {len(df)} architectures to {args.out} ({col}, median {payload['median_ms']:.3f} ms)")
    return 0


def _cmd_latency_fill(args: argparse.Namespace) -> int:
    res = fill_latency_file(args.table, args.out, column=args.column, model=args.model, random_state=args.seed)
    hold = res.holdout or {}
    payload = {"out": str(args.out), "column": res.column, "measured": int(res.measured.sum()),
               "filled": int((~res.measured).sum()), "holdout": hold}
    _emit(args, payload, f"filled {payload['filled']} of 15,625 rows of {res.column} from {payload['measured']} "
                         f"measured ({args.model}); held-out: " + ", ".join(
                             f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in hold.items()))
    return 0


def _cmd_costs(args: argparse.Namespace) -> int:
    out = out_file(args.out)
    df = space_costs(args.C, args.N, args.classes, args.resolution, convention=args.convention,
                     dead_edges=not args.live_only)
    _write_csv(df, out)
    _emit(args, {"out": str(out), "rows": len(df)}, f"wrote params_m and flops_m of {len(df)} architectures to {out}")
    return 0


# ---------------------------------------------------------------------- run, report
def _cmd_run(args: argparse.Namespace) -> int:
    cfg = load_run_config(args.config)

    def note(stage: str, status: str) -> None:
        if not args.json:
            print(f"[{stage}] {'up to date, skipped' if status == 'skipped' else 'running'}", flush=True)

    status = run_pipeline(cfg, args.out, progress=not args.no_progress, on_stage=note)
    _emit(args, status, _run_summary(Path(args.out), status))
    return 0


def _run_summary(run: Path, status: dict[str, Any]) -> str:
    lines = [f"run {run}: data {status.get('data_source')}; report {status.get('report_path')}"]
    ev_path = run / "evaluation.json"
    if ev_path.exists():
        ev = json.loads(ev_path.read_text())
        for k, label in (("supernet_sampled", "raw supernet (sampled)"), ("table_all", "lookup table (all)")):
            r = ev[k]
            lines.append(f"  {label:<24} tau {r['kendall_tau']:.3f}  top-10% tau {r['top10pct_tau']:.3f}  "
                         f"P@top-5% {r['p_at_top5pct']:.3f}  best pick true {r['pred_best_true']:.2f}")
        for name, p in ev.get("search", {}).items():
            if "pick_true_acc" in p:
                lines.append(f"  search '{name}': pick #{p['pick_index']} true {p['pick_true_acc']:.2f} "
                             f"(best feasible {p['best_true_acc_under_constraints']:.2f}, regret {p['regret']:.2f})")
    else:
        lines.append("  no ground-truth table: ranking evaluation skipped")
    if (run / "loop.json").exists():
        lines.append(_loop_summary(json.loads((run / "loop.json").read_text()),
                                   json.loads((run / "search_loop.json").read_text())))
    return "\n".join(lines)


def _loop_summary(loop: dict[str, Any], search: dict[str, Any]) -> str:
    """One line per landmark loop: landmarks trained, and the refitted table's unconstrained pick."""
    lms = loop.get("landmarks", [])
    line = (f"  landmark loop: {len(lms)} trained stand-alone ({loop.get('trained_now')} this call), "
            f"table refitted -> {loop.get('table')}")
    top = next((s["top"][0] for s in search.values() if s.get("top")), None)
    if top is not None:
        line += f"\n  after the loop, best pick #{top['index']} {top['arch_str']} (predicted {top['pred_acc']:.2f})"
    return line


def _cmd_report(args: argparse.Namespace) -> int:
    path = write_report(args.run)
    _emit(args, {"report": str(path)}, f"wrote {path}")
    return 0
