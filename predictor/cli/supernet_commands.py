"""``nasgcn`` handlers of the space, truth tables, images, supernet, proxies and DrNAS commands."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import time
from pathlib import Path
from typing import Any

import pandas as pd

from predictor.metrics import evaluate_ranking
from predictor.truth import import_benchmark, latency_columns, load_hardware, load_truth, scores_vs_truth, truth_accuracy
from supernet.config import load_config
from supernet.costs import space_costs
from supernet.data import CIFAR10_MD5, CIFAR10_URL, download_cifar10, load_cifar10
from supernet.evaluate import evaluate_supernet, load_trained, sample_archs
from supernet.fewshot import MANIFEST, evaluate_fewshot, train_fewshot
from supernet.paths import data_root
from supernet.proxies import PROXIES, ProxyConfig, compute_proxies, load_proxy_images
from supernet.resolve import parse_many
from supernet.space import all_archs, degenerate_mask, iso_ids
from supernet.tables import Column, TableSchema, read_arch_table, sidecar_path
from supernet.training import StopRequested, load_drnas_config, resolve_device, train_drnas, train_supernet

from .output import UserError, emit as _emit, fmt_metrics as _fmt_metrics, note, out_file, write_csv as _write_csv

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------- space
def _cmd_space_export(args: argparse.Namespace) -> int:

    costs = space_costs(C=args.C, N=args.N, num_classes=args.classes, resolution=args.resolution)
    df = pd.DataFrame(
        {
            "index": range(len(all_archs())),
            "arch_str": [a.to_str() for a in all_archs()],
            "iso_id": iso_ids(),
            "degenerate": degenerate_mask(),
        }
    ).merge(costs[["index", "params_m", "flops_m"]], on="index", how="left", validate="one_to_one")
    out = out_file(args.out, "OUT")
    _write_csv(df, out)
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
    schema = TableSchema("table", (Column(args.column),), make="give every architecture a finite score")
    table = read_arch_table(args.table, name=f"table {args.table}", schema=schema,
                            drop_nonfinite=args.drop_nonfinite)
    dropped = int(table.attrs.get("dropped_nonfinite", 0))
    if dropped:
        note(f"dropped {dropped} row(s) of {args.table} whose {args.column} is NaN or inf; evaluating the other "
             f"{len(table)}")
    truth = load_truth(args.truth)
    s = scores_vs_truth(table, args.column, truth, args.dataset)
    metrics = evaluate_ranking(s["pred"].to_numpy(), s["true"].to_numpy(), degenerate=s["degenerate"].to_numpy())
    metrics = {"table": str(args.table), "column": args.column, "dataset": args.dataset, **metrics,
               "dropped_nonfinite": dropped}
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
def _check_counts(args: argparse.Namespace, *names: str) -> None:
    """Flags that count something (``--epochs``, ``--max-steps``, ``--sample``) must be >= 1 when given."""
    for name in names:
        v = getattr(args, name)
        if v is not None and v < 1:
            raise UserError(f"--{name.replace('_', '-')} must be >= 1, got {v}")


def _resume_mode(args: argparse.Namespace) -> bool | str:
    """``--resume`` -> True (a checkpoint must exist), ``--resume-or-start`` -> "auto", neither -> False."""
    return "auto" if args.resume_or_start else bool(args.resume)


def _cmd_supernet_train(args: argparse.Namespace) -> int:
    _check_counts(args, "epochs", "max_steps")
    cfg = load_config(args.config)
    overrides: dict[str, dict[str, Any]] = {}
    if args.epochs is not None:
        overrides.setdefault("train", {})["epochs"] = args.epochs
    if args.device is not None:
        overrides.setdefault("train", {})["device"] = args.device
    if overrides:
        cfg = cfg.replace(**overrides)
    try:
        summary = train_supernet(cfg, args.out, resume=_resume_mode(args), progress=not args.no_progress,
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
    _check_counts(args, "sample")
    out_file(args.out)
    if args.all:
        archs = None
    elif args.sample is not None:
        archs = sample_archs(args.sample, seed=args.seed, include_degenerate=not args.no_degenerate)
    else:
        archs = parse_many(read_arch_table(args.archs)["index"].tolist())

    fewshot = (Path(args.run) / MANIFEST).is_file()
    if fewshot:  # a few-shot split: each architecture goes to its sub-supernet
        if archs is None:
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
    if args.sample is not None and args.sample < 1:
        raise UserError(f"--sample must be a positive number of architectures, got {args.sample}")
    if args.archs is not None:
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
    _check_counts(args, "epochs")
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
    path = download_cifar10(args.root, url=args.url or CIFAR10_URL, md5=args.md5 or CIFAR10_MD5,
                            progress=not args.no_progress)
    _emit(args, {"path": str(path)}, f"CIFAR-10 ready at {path} (checksum verified)")
    return 0


# ---------------------------------------------------------------------- drnas
def _cmd_drnas(args: argparse.Namespace) -> int:
    _check_counts(args, "epochs", "max_steps")
    scfg, dcfg = load_drnas_config(args.config)
    if args.epochs is not None:
        dcfg = dcfg.replace(epochs=args.epochs)
    if args.device is not None:
        dcfg = dcfg.replace(device=args.device)
    try:
        s = train_drnas(scfg, dcfg, args.out, resume=_resume_mode(args), progress=not args.no_progress,
                        max_steps=args.max_steps)
    except StopRequested:
        raise UserError(f"stopped; the checkpoint in {args.out} keeps every finished step: rerun with --resume")
    true_acc = None
    try:
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
