"""The ``nasgcn`` command line: parse arguments, call the library, print.

Every subcommand prints a readable summary and, with ``--json``, one JSON document instead.
Errors in user input (bad architecture, missing file, wrong columns) exit with status 2 and a
one-line message, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from supernet.fileio import jsonable

log = logging.getLogger(__name__)

Handler = Callable[[argparse.Namespace], int]


class UserError(Exception):
    """An error the user can fix; printed without a traceback."""


# ---------------------------------------------------------------------- output helpers
def _emit(args: argparse.Namespace, payload: Any, text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(jsonable(payload), indent=2))
    else:
        print(text)


def _fmt_metrics(metrics: dict[str, Any]) -> str:
    width = max(len(k) for k in metrics)
    lines = []
    for k, v in metrics.items():
        if isinstance(v, float):
            v = f"{v:.4f}"
        lines.append(f"  {k:<{width}}  {v}")
    return "\n".join(lines)


# ---------------------------------------------------------------------- space
def _cmd_space_export(args: argparse.Namespace) -> int:
    from supernet.costs import space_costs
    from supernet.space import all_archs, degenerate_mask, iso_ids

    import pandas as pd

    costs = space_costs(C=args.C, N=args.N, num_classes=args.classes, resolution=args.resolution)
    df = pd.DataFrame(
        {
            "index": range(len(all_archs())),
            "arch_str": [a.to_str() for a in all_archs()],
            "iso_id": iso_ids(),
            "degenerate": degenerate_mask(),
        }
    ).merge(costs[["index", "params_m", "flops_m"]], on="index", how="left", validate="one_to_one")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(out, index=False)
    summary = {
        "out": str(out),
        "rows": len(df),
        "iso_classes": int(df["iso_id"].nunique()),
        "degenerate": int(df["degenerate"].sum()),
        "params_m": [float(df["params_m"].min()), float(df["params_m"].max())],
        "flops_m": [float(df["flops_m"].min()), float(df["flops_m"].max())],
        "network": {"C": args.C, "N": args.N, "classes": args.classes, "resolution": args.resolution},
    }
    _emit(
        args,
        summary,
        f"wrote {len(df)} architectures to {out}\n"
        f"  isomorphism classes {summary['iso_classes']}, degenerate cells {summary['degenerate']}\n"
        f"  params {summary['params_m'][0]:.4f}..{summary['params_m'][1]:.4f} M, "
        f"FLOPs {summary['flops_m'][0]:.2f}..{summary['flops_m'][1]:.2f} M "
        f"(C={args.C}, N={args.N}, {args.classes} classes, {args.resolution}x{args.resolution})",
    )
    return 0


# ---------------------------------------------------------------------- evaluate
def _cmd_evaluate(args: argparse.Namespace) -> int:
    from predictor.truth import load_truth, scores_vs_truth
    from supernet.tables import read_arch_table
    from predictor.metrics import evaluate_ranking

    table = read_arch_table(args.table, [args.column], name=f"table {args.table}")
    truth = load_truth(args.truth)
    s = scores_vs_truth(table, args.column, truth, args.dataset)
    metrics = evaluate_ranking(s["pred"].to_numpy(), s["true"].to_numpy(), degenerate=s["degenerate"].to_numpy())
    metrics = {"table": str(args.table), "column": args.column, "dataset": args.dataset, **metrics}
    n_nan = int(s["pred"].isna().sum())
    if n_nan:
        metrics["rows_without_score"] = n_nan
    _emit(
        args,
        metrics,
        f"{args.column} of {args.table} vs {args.dataset} truth "
        f"({metrics['n']} architectures with both values)\n"
        + _fmt_metrics({k: v for k, v in metrics.items() if k not in ("table", "column", "dataset")}),
    )
    return 0


# ---------------------------------------------------------------------- bench
def _cmd_bench_import(args: argparse.Namespace) -> int:
    from predictor.truth import import_benchmark
    from supernet.tables import sidecar_path

    table, meta = import_benchmark(
        args.src, args.out, fmt=args.format, hp=args.hp, allow_missing=args.allow_missing,
        stream=not args.no_stream, method=args.method, progress=not args.no_progress,
    )
    payload = {"out": str(args.out), "sidecar": str(sidecar_path(args.out)), "rows": len(table), **meta}
    _emit(
        args,
        payload,
        f"imported {len(table)} architectures from {args.src} ({meta.get('format')}, reader {meta.get('reader')})\n"
        f"  wrote {args.out} and {sidecar_path(args.out)}",
    )
    return 0


def _cmd_bench_check(args: argparse.Namespace) -> int:
    from predictor.truth import latency_columns, load_hardware, load_truth

    truth = load_truth(args.truth)
    hw = load_hardware(args.hardware)
    cols = latency_columns(hw)
    payload = {
        "truth_rows": len(truth),
        "hardware_rows": len(hw),
        "latency_columns": {c: int(hw[c].notna().sum()) for c in cols},
    }
    lines = [f"truth table: {len(truth)} architectures, valid", f"hardware table: {len(hw)} rows, {len(cols)} devices"]
    lines += [f"  {c:<45} {n:>6} measured" for c, n in payload["latency_columns"].items()]
    _emit(args, payload, "\n".join(lines))
    return 0


# ---------------------------------------------------------------------- supernet
def _cmd_supernet_train(args: argparse.Namespace) -> int:
    from supernet.config import load_config
    from supernet.training import StopRequested, train_supernet

    cfg = load_config(args.config)
    overrides: dict[str, dict[str, Any]] = {}
    if args.epochs is not None:
        overrides.setdefault("train", {})["epochs"] = args.epochs
    if args.device is not None:
        overrides.setdefault("train", {})["device"] = args.device
    if overrides:
        cfg = cfg.replace(**overrides)
    try:
        summary = train_supernet(cfg, args.out, resume=args.resume, progress=not args.no_progress,
                                 max_steps=args.max_steps)
    except StopRequested:
        raise UserError(f"stopped; the checkpoint in {args.out} keeps every finished step: rerun with --resume")
    _emit(
        args,
        summary,
        f"supernet {'trained' if summary['finished'] else 'checkpointed'} in {summary['out']}: "
        f"{summary['epochs_done']}/{summary['epochs']} epochs, {summary['global_step']} steps, "
        f"{summary['seconds_this_call']:.1f} s this call on {summary['device']}",
    )
    return 0


def _cmd_supernet_eval(args: argparse.Namespace) -> int:
    import dataclasses

    from supernet.evaluate import evaluate_supernet, load_trained, sample_archs
    from supernet.resolve import parse_many

    if args.all:
        archs = None
    elif args.sample:
        archs = sample_archs(args.sample, seed=args.seed, include_degenerate=not args.no_degenerate)
    else:
        from supernet.tables import read_arch_table

        archs = parse_many(read_arch_table(args.archs)["index"].tolist())
    from supernet.fewshot import MANIFEST, evaluate_fewshot

    fewshot = (Path(args.run) / MANIFEST).is_file()
    if fewshot:  # a few-shot split: each architecture goes to its sub-supernet
        if archs is None:
            from supernet.space import all_archs

            archs = list(all_archs())
        subs = json.loads((Path(args.run) / MANIFEST).read_text())["subs"]
        if not subs:
            raise UserError(f"{args.run} holds no trained sub-supernet yet; run `nasgcn supernet fewshot` first")
        _, cfg, _ = load_trained(Path(args.run) / next(iter(subs)))
    else:
        _, cfg, _ = load_trained(args.run)
    ecfg = cfg.eval
    if args.valid_size is not None:
        ecfg = dataclasses.replace(ecfg, valid_size=args.valid_size)
    if fewshot:
        df = evaluate_fewshot(args.run, archs, args.out, eval_cfg=ecfg, device=args.device,
                              progress=not args.no_progress)
    else:
        df = evaluate_supernet(args.run, archs, args.out, eval_cfg=ecfg, device=args.device,
                               progress=not args.no_progress)
    if df.empty:  # a non-zero rank under torchrun
        return 0
    measured = df[df["measured"]]
    summary = {
        "out": str(args.out),
        "architectures": len(df),
        "measured": len(measured),
        "degenerate": int(df["degenerate"].sum()),
        "ws_acc_mean": float(df.loc[~df["degenerate"], "ws_acc"].mean()),
        "ws_acc_max": float(df["ws_acc"].max()),
    }
    _emit(
        args,
        summary,
        f"wrote {summary['architectures']} architectures to {args.out} ({summary['measured']} run, the rest "
        f"copied from their isomorphism class or degenerate)\n  ws_acc mean {summary['ws_acc_mean']:.2f}%, "
        f"max {summary['ws_acc_max']:.2f}%",
    )
    return 0


def _cmd_proxies(args: argparse.Namespace) -> int:
    from supernet.evaluate import sample_archs
    from supernet.proxies import PROXIES, ProxyConfig, compute_proxies, load_proxy_images
    from supernet.training import resolve_device

    if args.sample is not None and args.sample < 1:
        raise UserError(f"--sample must be a positive number of architectures, got {args.sample}")
    if args.archs is not None:
        from supernet.tables import read_arch_table

        archs = read_arch_table(args.archs)["index"].tolist()
    else:
        archs = None if args.sample is None else sample_archs(args.sample, seed=args.seed)
    cfg = ProxyConfig(C=args.C, N=args.N, batch_size=args.batch_size, seed=args.proxy_seed)
    train, source = load_proxy_images(args.data, args.data_root, progress=not args.no_progress)
    df = compute_proxies(archs, train, args.out, cfg, device=resolve_device(args.device or "auto"),
                         progress=not args.no_progress, source=source)
    if df is None:  # a non-zero rank under torchrun
        return 0
    live = df[~df["degenerate"]]
    summary = {"out": str(args.out), "architectures": len(df), "classes": int(live["iso_id"].nunique()),
               "degenerate": int(df["degenerate"].sum()), "images": source,
               "config": {"C": cfg.C, "N": cfg.N, "batch_size": cfg.batch_size, "seed": cfg.seed}}
    lines = [f"wrote {len(df)} architectures to {args.out} ({summary['classes']} isomorphism classes scored on "
             f"{cfg.batch_size} {source} training images; {summary['degenerate']} degenerate cells left NaN)"]
    for name in PROXIES:
        v = live[name]
        summary[name] = [float(v.min()), float(v.max())] if len(v) else None
        if len(v):
            lines.append(f"  {name:<10} {v.min():.4g} .. {v.max():.4g}")
    _emit(args, summary, "\n".join(lines))
    return 0


def _cmd_supernet_fewshot(args: argparse.Namespace) -> int:
    from supernet.fewshot import train_fewshot
    from supernet.training import StopRequested

    edges = args.edges.split(";") if ";" in args.edges else args.edges.split()
    try:
        man = train_fewshot(args.base, args.out, edges, epochs=args.epochs, lr=args.lr, lr_min=args.lr_min,
                            only=args.only.split(",") if args.only else None, progress=not args.no_progress)
    except StopRequested:
        raise UserError("stopped; finished sub-supernets are kept and the current one resumes: rerun the same command")
    subs = man["subs"]
    lines = [f"few-shot split of {man['base_checkpoint']} on edge(s) {', '.join(man['edge_names'])} -> {args.out}"]
    lines += [f"  {name:<24} {v['pattern']}  {'finished' if v['finished'] else 'unfinished'}" for name, v in subs.items()]
    lines.append(f"score with: nasgcn supernet eval --run {args.out} --sample N --out ws.csv")
    _emit(args, man, "\n".join(lines))
    return 0


# ---------------------------------------------------------------------- data
def _cmd_data_prepare(args: argparse.Namespace) -> int:
    import time

    from supernet.paths import data_root
    from supernet.data import load_cifar10

    src = Path(args.source) if args.source else data_root()
    t0 = time.perf_counter()
    sets = {s: load_cifar10(src, s, cache_dir=args.cache_dir, workers=args.workers, progress=not args.no_progress)
            for s in ("train", "test")}
    secs = time.perf_counter() - t0
    payload = {
        "source": str(src), "seconds": round(secs, 2),
        **{f"{s}_images": len(d) for s, d in sets.items()},
        "train_channel_mean": [round(float(v), 4) for v in sets["train"].channel_mean()],
    }
    _emit(args, payload, f"CIFAR-10 from {src}: {payload['train_images']} train / {payload['test_images']} test "
                         f"images, ready in {secs:.1f} s (decoded once, then read from the cache)")
    return 0


def _cmd_data_download(args: argparse.Namespace) -> int:
    from supernet.data import CIFAR10_MD5, CIFAR10_URL, download_cifar10

    path = download_cifar10(args.root, url=args.url or CIFAR10_URL, md5=args.md5 or CIFAR10_MD5,
                            progress=not args.no_progress)
    _emit(args, {"path": str(path)}, f"CIFAR-10 ready at {path} (checksum verified)")
    return 0


# ---------------------------------------------------------------------- predictor and table
def _cmd_fit(args: argparse.Namespace) -> int:
    from predictor.table import fit_table, read_ws, sample_ws

    if args.ws is None and not args.proxies:
        raise UserError("give --ws (weight-sharing scores) and/or --proxies (signal tables) to fit on")
    if args.sample is not None and args.sample < 1:
        raise UserError(f"--sample must be a positive number of rows, got {args.sample}")
    if args.ws is None:
        ws = None
    else:
        ws = sample_ws(read_ws(args.ws), args.sample, args.sample_seed) if args.sample else args.ws
    weights = {}
    for item in args.weight or []:
        name, sep, val = item.partition("=")
        try:
            weights[name.strip()] = float(val)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            raise UserError(f"--weight takes NAME=VALUE (e.g. ws=2 or jacov=0), got {item!r}")
    table = fit_table(ws, model=args.model, seed=args.seed, hardware=args.hardware, landmarks=args.landmarks,
                      proxies=args.proxies or None, fusion_weights=weights or None, costs=not args.no_params)
    path = table.save(args.out)
    m = table.meta
    best = table.top(1).iloc[0]
    payload = {"out": str(path), "model": m.get("model"), "n_ws": m.get("n_ws"), "n_landmarks": m.get("n_landmarks"),
               "fit_seconds": m.get("fit_seconds"), "columns": list(table.df.columns),
               "best": {"index": int(best["index"]), "arch_str": best["arch_str"], "pred_acc": float(best["pred_acc"])}}
    _emit(
        args,
        payload,
        (f"fused {', '.join(m['signals'])} (completed by {m.get('completion_model')}: "
         f"{', '.join(m['completed_signals']) or 'none'}) with {m.get('n_ws')} weight-sharing scores"
         if m.get("model") == "fusion" else f"fitted {m.get('model')} on {m.get('n_ws')} architectures")
        + (f" + {m.get('n_landmarks')} landmarks" if m.get("n_landmarks") else "")
        + f" in {m.get('fit_seconds')} s; wrote all 15,625 to {path}\n"
        f"  predicted best: #{int(best['index'])} {best['arch_str']} ({best['pred_acc']:.2f})",
    )
    return 0


def _cmd_query(args: argparse.Namespace) -> int:
    from predictor.table import LookupTable

    table = LookupTable.load(args.table)
    rows = table.query(args.archs, columns=args.columns.split(",") if args.columns else None)
    if args.json:
        print(rows.to_json(orient="records", indent=2))
    else:
        with _wide_pandas():
            print(rows.to_string(index=False))
    return 0


class _wide_pandas:
    def __enter__(self) -> None:
        import pandas as pd

        self._ctx = pd.option_context("display.width", 250, "display.max_columns", 30, "display.max_colwidth", 100)
        self._ctx.__enter__()

    def __exit__(self, *exc: Any) -> None:
        self._ctx.__exit__(*exc)


# ---------------------------------------------------------------------- search
def _cmd_search(args: argparse.Namespace) -> int:
    from predictor.search import parse_constraints, read_table, result_columns, to_records, top_k

    df = read_table(args.table, args.extra or ())
    cons = parse_constraints(args.where or (), max=args.max or (), min=args.min or ())
    top = top_k(df, args.score, cons, k=args.top, distinct_iso=not args.all_members)
    top = top[result_columns(top, args.score, cons)]
    if args.json:
        print(json.dumps({"constraints": [str(c) for c in cons], "top": to_records(top)}, indent=2))
    else:
        print(f"top {len(top)} by {args.score} under " + (", ".join(str(c) for c in cons) or "no constraints"))
        with _wide_pandas():
            print(top.to_string(index=False))
    return 0


def _cmd_pareto(args: argparse.Namespace) -> int:
    from predictor.search import pareto_front, parse_constraints, read_table, resolve_column, to_records

    df = read_table(args.table, args.extra or ())
    cons = parse_constraints(args.where or (), max=args.max or (), min=args.min or ())
    front = pareto_front(df, args.score, args.cost, cons)
    if args.plot:
        from predictor.report import plot_pareto

        plot_pareto(df, args.plot, args.score, args.cost, cons, front=front)
    cols = list(dict.fromkeys(["index", "arch_str", *(resolve_column(df, c) for c in (args.score, *args.cost))]))
    if args.json:
        print(json.dumps({"front": to_records(front, cols), "plot": args.plot}, indent=2))
    else:
        print(f"Pareto front of {args.score} against {', '.join(args.cost)}: {len(front)} architectures")
        with _wide_pandas():
            print(front[cols].to_string(index=False))
        if args.plot:
            print(f"plot written to {args.plot}")
    return 0


# ---------------------------------------------------------------------- latency and costs
def _cmd_latency_measure(args: argparse.Namespace) -> int:
    from predictor.latency import measure_space_latency

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
    from predictor.latency import fill_latency_file

    res = fill_latency_file(args.table, args.out, column=args.column, model=args.model, random_state=args.seed)
    hold = res.holdout or {}
    payload = {"out": str(args.out), "column": res.column, "measured": int(res.measured.sum()),
               "filled": int((~res.measured).sum()), "holdout": hold}
    _emit(args, payload, f"filled {payload['filled']} of 15,625 rows of {res.column} from {payload['measured']} "
                         f"measured ({args.model}); held-out: " + ", ".join(
                             f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in hold.items()))
    return 0


def _cmd_costs(args: argparse.Namespace) -> int:
    from supernet.costs import space_costs

    df = space_costs(args.C, args.N, args.classes, args.resolution, convention=args.convention,
                     dead_edges=not args.live_only)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(out, index=False)
    _emit(args, {"out": str(out), "rows": len(df)}, f"wrote params_m and flops_m of {len(df)} architectures to {out}")
    return 0


# ---------------------------------------------------------------------- run, report
def _cmd_run(args: argparse.Namespace) -> int:
    from predictor.pipeline import load_run_config, run_pipeline

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
    return "\n".join(lines)


def _cmd_report(args: argparse.Namespace) -> int:
    from predictor.report import write_report

    path = write_report(args.run)
    _emit(args, {"report": str(path)}, f"wrote {path}")
    return 0


# ---------------------------------------------------------------------- drnas
def _cmd_drnas(args: argparse.Namespace) -> int:
    from supernet.training import StopRequested, load_drnas_config, train_drnas

    scfg, dcfg = load_drnas_config(args.config)
    if args.epochs is not None:
        dcfg = dcfg.replace(epochs=args.epochs)
    if args.device is not None:
        dcfg = dcfg.replace(device=args.device)
    try:
        s = train_drnas(scfg, dcfg, args.out, resume=args.resume, progress=not args.no_progress,
                        max_steps=args.max_steps)
    except StopRequested:
        raise UserError(f"stopped; the checkpoint in {args.out} keeps every finished step: rerun with --resume")
    true_acc = None
    try:
        from predictor.truth import load_truth, truth_accuracy

        truth = load_truth()
        hit = (truth["index"] == s["index"]).to_numpy()
        if hit.any():
            true_acc = float(truth_accuracy(truth, "cifar10")[hit][0])
    except FileNotFoundError:  # no truth table under the data root: skip quietly
        log.info("no ground-truth table: true accuracy of the found architecture not looked up")
    payload = {k: s[k] for k in ("out", "finished", "epochs_done", "epochs", "global_step", "seconds_this_call",
                                 "device", "arch_str", "index", "edges", "op_names", "concentration",
                                 "expected_weights", "history")}
    payload["cifar10_test_acc"] = true_acc
    rows = [f"    {e:<5} " + "  ".join(f"{v:7.3f}" for v in row) + f"   -> {op}"
            for e, row, op in zip(s["edges"], s["concentration"], s["ops"])]
    text = (
        f"DrNAS {'finished' if s['finished'] else 'checkpointed'} in {s['out']}: {s['epochs_done']}/{s['epochs']} "
        f"epochs, {s['global_step']} steps, {s['seconds_this_call']:.1f} s this call on {s['device']}\n"
        f"  architecture #{s['index']} {s['arch_str']}\n"
        + (f"  true CIFAR-10 test accuracy {true_acc:.2f}%\n" if true_acc is not None else "")
        + "  concentration (edge x " + ", ".join(s["op_names"]) + "):\n" + "\n".join(rows)
    )
    _emit(args, payload, text)
    return 0


# ---------------------------------------------------------------------- parser
def _add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON document instead of text")


def build_parser() -> argparse.ArgumentParser:
    """The full ``nasgcn`` argument parser (every subcommand has ``--help``)."""
    parser = argparse.ArgumentParser(
        prog="nasgcn",
        description="Weight-sharing NAS over NAS-Bench-201: supernet, GCN lookup table, constrained search.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress at INFO level")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    # space
    p_space = sub.add_parser("space", help="the NAS-Bench-201 search space")
    space_sub = p_space.add_subparsers(dest="space_command", metavar="SUBCOMMAND")
    space_sub.required = True
    p = space_sub.add_parser(
        "export",
        help="write all 15,625 architectures with index, arch_str, iso_id, degenerate, params_m, flops_m",
        description="Write every architecture of the space with its isomorphism class, degenerate flag and the "
        "params/FLOPs (millions) of its stand-alone network.",
    )
    p.add_argument("out", help="output CSV (.csv or .csv.gz)")
    p.add_argument("--C", type=int, default=16, help="channels of the first stage (default 16)")
    p.add_argument("--N", type=int, default=5, help="cells per stage (default 5)")
    p.add_argument("--classes", type=int, default=10, help="classifier outputs (default 10, CIFAR-10)")
    p.add_argument("--resolution", type=int, default=32, help="input height=width in pixels (default 32)")
    _add_json(p)
    p.set_defaults(handler=_cmd_space_export)

    # evaluate
    p = sub.add_parser(
        "evaluate",
        help="ranking metrics of a table column against the NAS-Bench-201 ground truth",
        description="Kendall tau-b, Spearman rho, top-5%%/10%% tau, P@K, BR@K and regret of COLUMN of TABLE "
        "(which needs an 'index' or 'arch_str' column) against the truth table.",
    )
    p.add_argument("--table", required=True, help="CSV(.gz) with 'index' or 'arch_str' and the score column")
    p.add_argument("--column", required=True, help="score column to evaluate (higher = better)")
    p.add_argument("--truth", default=None, help="ground-truth CSV (default: DATA_ROOT/nb201/nb201_truth.csv.gz)")
    p.add_argument(
        "--dataset", default="cifar10", help="cifar10 (test), cifar100 (x-test) or imagenet16_120 (x-test)"
    )
    _add_json(p)
    p.set_defaults(handler=_cmd_evaluate)

    # data
    p_d = sub.add_parser("data", help="CIFAR-10: decode once into the uint8 cache, or download explicitly")
    d_sub = p_d.add_subparsers(dest="data_command", metavar="SUBCOMMAND")
    d_sub.required = True
    p = d_sub.add_parser(
        "prepare",
        help="decode CIFAR-10 (python batches, image folder or its tar archive) into the uint8 cache",
        description="Load CIFAR-10 from SOURCE (default: the data root) and cache it as uint8 arrays; the cache "
        "goes to --cache-dir, else $NASGCN_CACHE, else cache/ beside the source if writable, else ~/.cache/nasgcn.",
    )
    p.add_argument("--source", default=None, help="data root, cifar-10-batches-py/, or an image-folder tree/archive")
    p.add_argument("--cache-dir", default=None, help="where decoded arrays are cached")
    p.add_argument("--workers", type=int, default=None, help="decoding processes (default: all cores)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_json(p)
    p.set_defaults(handler=_cmd_data_prepare)
    p = d_sub.add_parser(
        "download",
        help="download the official CIFAR-10 python archive (only when you ask) and verify its MD5",
    )
    p.add_argument("--root", required=True, help="folder to download and extract into")
    p.add_argument("--url", default=None, help="mirror URL (default: the official one)")
    p.add_argument("--md5", default=None, help="expected MD5 (default: the official archive's)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_json(p)
    p.set_defaults(handler=_cmd_data_download)

    # bench
    p_b = sub.add_parser("bench", help="ground-truth and hardware tables: import official files, check tables")
    b_sub = p_b.add_subparsers(dest="bench_command", metavar="SUBCOMMAND")
    b_sub.required = True
    p = b_sub.add_parser(
        "import",
        help="convert an official NATS-Bench / NAS-Bench-201 file into the compact truth table",
        description="Read NATS-Bench topology (NATS-tss-v1_0-3ffb9-simple, a directory, or a .pickle.pbz2) or "
        "NAS-Bench-201 (NAS-Bench-201-v1_*.pth) with hp=200, is_random=False (mean over seeds, final epoch) "
        "and write index, arch_str, op_e*, unique_str, iso_id, cifar10_test_acc, cifar100_xtest_acc, "
        "imagenet16_120_xtest_acc plus a JSON sidecar. Streams so memory stays low.",
    )
    p.add_argument("src", help="official file or directory")
    p.add_argument("--out", required=True, help="output CSV(.gz)")
    p.add_argument("--format", choices=["nats", "nb201"], default=None, help="default: detected")
    p.add_argument("--hp", default="200", help="training schedule (default 200 epochs)")
    p.add_argument("--allow-missing", action="store_true", help="accept a file covering a subset")
    p.add_argument("--no-stream", action="store_true", help="load the whole file at once (faster, much more memory)")
    p.add_argument("--method", choices=["auto", "direct", "api"], default="auto",
                   help="direct parsing, the official package, or auto (direct, package as fallback)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_json(p)
    p.set_defaults(handler=_cmd_bench_import)
    p = b_sub.add_parser("check", help="validate the ground-truth and hardware tables and list the devices")
    p.add_argument("--truth", default=None, help="truth CSV (default DATA_ROOT/nb201/nb201_truth.csv.gz)")
    p.add_argument("--hardware", default=None, help="latency CSV (default DATA_ROOT/nb201/nb201_hw_latency.csv.gz)")
    _add_json(p)
    p.set_defaults(handler=_cmd_bench_check)

    # fit, query
    p = sub.add_parser(
        "fit",
        help="fit a predictor on weight-sharing scores and write the lookup table of all 15,625",
        description="Fit MODEL on every row of WS (columns index or arch_str, and ws_acc) and write the lookup "
        "table (index, arch_str, iso_id, pred_acc, pred_std, ws_acc, params_m, flops_m, hardware columns) "
        "with a JSON sidecar.",
    )
    p.add_argument("--ws", default=None, help="weight-sharing CSV (index/arch_str, ws_acc)")
    p.add_argument("--proxies", action="append", default=None, metavar="P.csv.gz",
                   help="signal table (e.g. `nasgcn proxies` output; all or some architectures) to fuse with the "
                        "weight-sharing scores; repeat for several. Without --ws: a proxies-only fusion")
    p.add_argument("--weight", action="append", default=None, metavar="NAME=W",
                   help="fusion weight of one signal (ws, params, a proxy column; default 1, 0 drops it)")
    p.add_argument("--no-params", action="store_true", help="fusion: leave the parameter count out of the signals")
    p.add_argument("--out", required=True, help="lookup table CSV(.gz)")
    p.add_argument("--model", default="gcn", choices=["gcn", "ridge", "gbr", "mlp"], help="predictor (default gcn)")
    p.add_argument("--seed", type=int, default=0, help="random_state of the predictor")
    p.add_argument("--sample", type=int, default=None,
                   help="fit on N rows of WS drawn uniformly (as benchmarks/predictor_quality.py does)")
    p.add_argument("--sample-seed", type=int, default=0, help="seed of --sample (default 0)")
    p.add_argument("--hardware", default=None, help="latency CSV whose columns are appended")
    p.add_argument("--landmarks", default=None,
                   help="optional CSV (index/arch_str, true_acc) of architectures with KNOWN true accuracy used to "
                        "correct the supernet's bias (recorded in the sidecar)")
    _add_json(p)
    p.set_defaults(handler=_cmd_fit)

    p = sub.add_parser("query", help="look architectures up in a lookup table")
    p.add_argument("table", help="lookup table CSV(.gz)")
    p.add_argument("archs", nargs="+", help="official indices or arch strings")
    p.add_argument("--columns", default=None, help="comma-separated columns to show")
    _add_json(p)
    p.set_defaults(handler=_cmd_query)

    # search, pareto
    for name, helptext in (("search", "best architectures under constraints (exact over the whole table)"),
                           ("pareto", "Pareto front of a score against one or two cost columns")):
        p = sub.add_parser(name, help=helptext, description=helptext + ". Constraints: --max COL=V (<=), "
                           "--min COL=V (>=) or --where 'COL<=V'; a device name such as raspi4 resolves to its "
                           "latency column.")
        p.add_argument("--table", required=True, help="lookup table (or any table with index/arch_str)")
        p.add_argument("--extra", action="append", metavar="CSV",
                       help="join the columns of another table on index, e.g. a measured latency CSV (repeatable)")
        p.add_argument("--score", default="pred_acc", help="column to maximise (default pred_acc)")
        p.add_argument("--max", action="append", metavar="COL=VALUE", help="upper bound (repeatable)")
        p.add_argument("--min", action="append", metavar="COL=VALUE", help="lower bound (repeatable)")
        p.add_argument("--where", action="append", metavar="EXPR", help="'COL<=V' or 'COL>=V' (repeatable)")
        if name == "search":
            p.add_argument("--top", type=int, default=10, help="how many to return (default 10)")
            p.add_argument("--all-members", action="store_true",
                           help="list every member of an isomorphism class (default: the best one per class)")
            p.set_defaults(handler=_cmd_search)
        else:
            p.add_argument("--cost", action="append", required=True, help="cost column to minimise (once or twice)")
            p.add_argument("--plot", default=None, help="write a PNG of the front")
            p.set_defaults(handler=_cmd_pareto)
        _add_json(p)

    # latency, costs
    p_l = sub.add_parser("latency", help="measure this machine's latency, or fill a partially measured device")
    l_sub = p_l.add_subparsers(dest="latency_command", metavar="SUBCOMMAND")
    l_sub.required = True
    p = l_sub.add_parser(
        "measure",
        help="time the stand-alone network of every isomorphism class on this machine (resumable)",
        description="Median latency (ms) of each isomorphism class's stand-alone network, copied to its members; "
        "interrupted runs resume from OUT.partial.csv; the sidecar records CPU, threads and torch version.",
    )
    p.add_argument("--out", required=True, help="latency CSV (index, arch_str, NAME_latency_ms)")
    p.add_argument("--name", default="local_cpu", help="device name used in the column (default local_cpu)")
    p.add_argument("--C", type=int, default=16)
    p.add_argument("--N", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--limit", type=int, default=None, help="measure at most this many classes (random order)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random measuring order")
    p.add_argument("--statistic", choices=["median", "min"], default="median",
                   help="summary of the repeats written to the table (min is steadier on a busy machine)")
    p.add_argument("--all-archs", action="store_true", help="time every architecture, not one per isomorphism class")
    p.add_argument("--no-resume", action="store_true", help="start afresh instead of continuing OUT.partial.csv")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_json(p)
    p.set_defaults(handler=_cmd_latency_measure)
    p = l_sub.add_parser("fill", help="predict a device's latency where it was not measured")
    p.add_argument("--table", required=True, help="latency CSV (index/arch_str and the column; NaN = unmeasured)")
    p.add_argument("--column", default=None, help="latency column or device name (default: the only one)")
    p.add_argument("--out", required=True, help="output CSV with all 15,625 rows (+ a *_measured flag column)")
    p.add_argument("--model", default="gbr", choices=["gbr", "ridge", "gcn"], help="regressor (default gbr)")
    p.add_argument("--seed", type=int, default=0)
    _add_json(p)
    p.set_defaults(handler=_cmd_latency_fill)

    p = sub.add_parser("costs", help="params and FLOPs of every architecture's stand-alone network")
    p.add_argument("--out", required=True, help="output CSV (index, params_m, flops_m)")
    p.add_argument("--C", type=int, default=16)
    p.add_argument("--N", type=int, default=5)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--resolution", type=int, default=32)
    p.add_argument("--convention", choices=["nb201", "naslib"], default="nb201",
                   help="FLOP counting rules: NAS-Bench-201's (conv/linear MACs) or NASLib's (adds BN, ReLU, pooling)")
    p.add_argument("--live-only", action="store_true", help="count only edges on an input-output path")
    _add_json(p)
    p.set_defaults(handler=_cmd_costs)

    # run, report
    p = sub.add_parser(
        "run",
        help="the whole pipeline: supernet -> scores -> GCN table -> search -> evaluation -> report",
        description="Run every stage of CONFIG into OUT; a stage whose output exists with unchanged inputs is "
        "skipped, so a killed run resumes and a changed option reruns only what it affects.",
    )
    p.add_argument("--config", required=True, help="pipeline TOML (e.g. configs/demo.toml)")
    p.add_argument("--out", required=True, help="run directory")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    _add_json(p)
    p.set_defaults(handler=_cmd_run)
    p = sub.add_parser("report", help="regenerate RUN/report.md and its plots")
    p.add_argument("run", help="run directory of `nasgcn run`")
    _add_json(p)
    p.set_defaults(handler=_cmd_report)

    # drnas
    p = sub.add_parser(
        "drnas",
        help="DrNAS search (Dirichlet mixing weights, bilevel) of the NAS-Bench-201 space",
        description="Search with DrNAS (Chen et al. 2021): the supernet's weights train on the train half with "
        "Dirichlet-sampled op weights, the Dirichlet concentrations on the valid half. Writes drnas_config.json, "
        "drnas_checkpoint.pt (every epoch; Ctrl-C too), drnas_log.csv and drnas_result.json into OUT and prints "
        "the found architecture, its concentrations and, when the truth table is present, its CIFAR-10 test "
        "accuracy.",
    )
    p.add_argument("--config", required=True, help="DrNAS TOML ([data], [model], [drnas]; e.g. configs/drnas-cpu.toml)")
    p.add_argument("--out", required=True, help="run directory")
    p.add_argument("--resume", action="store_true", help="continue the checkpoint in --out")
    p.add_argument("--epochs", type=int, default=None, help="override [drnas] epochs")
    p.add_argument("--max-steps", type=int, default=None, help="stop (with a checkpoint) after this many steps")
    p.add_argument("--device", default=None, help="override [drnas] device (auto, cpu, cuda, cuda:1)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_json(p)
    p.set_defaults(handler=_cmd_drnas)

    # supernet
    p = sub.add_parser(
        "proxies",
        help="zero-cost proxies (nwot, synflow, jacov, snip, grad_norm) of untrained networks -> CSV",
        description="Score architectures at initialisation on one fixed minibatch of training images: "
        "NASWOT, synflow, jacob_cov, snip, grad_norm (NASLib's names). Each isomorphism class runs once; "
        "degenerate cells are NaN. Interrupted runs resume from OUT.partial-*; shards under torchrun.",
    )
    p.add_argument("--out", required=True, help="output CSV (index, arch_str, nwot, synflow, jacov, snip, grad_norm, iso_id, degenerate)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--sample", type=int, default=None, help="score N architectures drawn uniformly (default: all 15,625)")
    which.add_argument("--archs", default=None, help="CSV with an 'index' or 'arch_str' column listing the architectures")
    p.add_argument("--seed", type=int, default=0, help="seed of --sample (default 0)")
    p.add_argument("--proxy-seed", type=int, default=0,
                   help="seed of the network initialisation and of the minibatch (default 0)")
    p.add_argument("--batch-size", type=int, default=32, help="images in the minibatch (default 32)")
    p.add_argument("--C", type=int, default=16, help="network width (default 16)")
    p.add_argument("--N", type=int, default=5, help="cells per stage (default 5)")
    p.add_argument("--data", default="auto", choices=("auto", "cifar10", "synthetic"),
                   help="images: CIFAR-10's NB201 train half, synthetic, or auto (CIFAR-10 when found)")
    p.add_argument("--data-root", default=None, help="data root (default $NASGCN_DATA or data/)")
    p.add_argument("--device", default=None, help="cpu, cuda, ... (default: auto)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_json(p)
    p.set_defaults(handler=_cmd_proxies)

    p_sn = sub.add_parser("supernet", help="train a weight-sharing supernet and score architectures with it")
    sn_sub = p_sn.add_subparsers(dest="supernet_command", metavar="SUBCOMMAND")
    sn_sub.required = True
    p = sn_sub.add_parser(
        "train",
        help="train a supernet from a TOML config (checkpoint every epoch; --resume continues)",
        description="Train the weight-sharing supernet of CONFIG into OUT (config.json, checkpoint.pt, "
        "train_log.csv). Ctrl-C writes a checkpoint; --resume continues exactly where it stopped. "
        "Under torchrun --nproc_per_node=P it trains data-parallel.",
    )
    p.add_argument("--config", required=True, help="TOML config (see configs/)")
    p.add_argument("--out", required=True, help="run directory")
    p.add_argument("--resume", action="store_true", help="continue the checkpoint in --out")
    p.add_argument("--epochs", type=int, default=None, help="override [train] epochs")
    p.add_argument("--device", default=None, help="override [train] device (auto, cpu, cuda, cuda:1)")
    p.add_argument("--max-steps", type=int, default=None, help="stop (with a checkpoint) after this many steps")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_json(p)
    p.set_defaults(handler=_cmd_supernet_train)

    p = sn_sub.add_parser(
        "fewshot",
        help="split a trained supernet into few-shot sub-supernets on the ops of chosen edges and fine-tune each",
        description="Few-shot NAS (Zhao et al. 2021): one sub-supernet per op combination on EDGES, each "
        "warm-started from BASE and fine-tuned on its part of the space only. Resumable: rerun the same "
        "command. Score with `nasgcn supernet eval --run OUT ...` (routes each architecture).",
    )
    p.add_argument("--base", required=True, help="finished training run of `nasgcn supernet train`")
    p.add_argument("--out", required=True, help="few-shot directory (fewshot.json + one run per sub-supernet)")
    p.add_argument("--edges", default="0",
                   help="split edges: positions 0..5 in official order, or src,dst pairs separated by ';' "
                   "(e.g. '0' or '0 3' or '0,1;0,3'); 5^len sub-supernets (default 0 = edge 0->1)")
    p.add_argument("--epochs", type=int, default=2, help="fine-tuning epochs per sub-supernet (default 2)")
    p.add_argument("--lr", type=float, default=None, help="fine-tuning lr (default 10x the base run's lr_min)")
    p.add_argument("--lr-min", type=float, default=None, help="final fine-tuning lr (default the base's lr_min)")
    p.add_argument("--only", default=None, help="comma list of sub-supernet names to train (default all)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_json(p)
    p.set_defaults(handler=_cmd_supernet_fewshot)

    p = sn_sub.add_parser(
        "eval",
        help="weight-sharing accuracy of sampled / listed / all architectures -> ws.csv",
        description="Score architectures with a trained supernet (BN recalibration, fixed validation subset); "
        "each isomorphism class is run once. Interrupted runs resume from OUT.partial-*.",
    )
    p.add_argument("--run", required=True,
                   help="training run directory, checkpoint file (e.g. a snapshot), or few-shot directory")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--sample", type=int, help="score N architectures drawn uniformly (seeded)")
    which.add_argument("--all", action="store_true", help="score all 15,625 architectures")
    which.add_argument("--archs", help="CSV with an 'index' or 'arch_str' column listing the architectures")
    p.add_argument("--out", required=True, help="output CSV (index, arch_str, iso_id, degenerate, ws_acc, ws_loss, measured)")
    p.add_argument("--seed", type=int, default=0, help="seed of --sample (default 0)")
    p.add_argument("--no-degenerate", action="store_true", help="--sample only from non-degenerate cells")
    p.add_argument("--valid-size", type=int, default=None, help="override [eval] valid_size")
    p.add_argument("--device", default=None, help="cpu, cuda, ... (default: auto)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_json(p)
    p.set_defaults(handler=_cmd_supernet_eval)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``nasgcn`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return int(args.handler(args) or 0)
    except (UserError, ValueError, FileNotFoundError, KeyError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f"nasgcn: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nasgcn: interrupted; completed outputs were kept", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
