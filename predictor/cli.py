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

log = logging.getLogger(__name__)

Handler = Callable[[argparse.Namespace], int]


class UserError(Exception):
    """An error the user can fix; printed without a traceback."""


# ---------------------------------------------------------------------- output helpers
def _emit(args: argparse.Namespace, payload: Any, text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(payload, indent=2, default=_json_default))
    else:
        print(text)


def _json_default(o: Any) -> Any:
    import numpy as np

    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


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
    from predictor.benchmark import load_truth, read_arch_table, scores_vs_truth
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
    from predictor.benchmark import import_benchmark, sidecar_path

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
    from predictor.benchmark import latency_columns, load_hardware, load_truth

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
    from supernet.train import StopRequested, train_supernet

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
    from supernet.space import parse_many

    if args.all:
        archs = None
    elif args.sample:
        archs = sample_archs(args.sample, seed=args.seed, include_degenerate=not args.no_degenerate)
    else:
        from predictor.benchmark import read_arch_table

        archs = parse_many(read_arch_table(args.archs)["index"].tolist())
    _, cfg, _ = load_trained(args.run)
    ecfg = cfg.eval
    if args.valid_size is not None:
        ecfg = dataclasses.replace(ecfg, valid_size=args.valid_size)
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


# ---------------------------------------------------------------------- data
def _cmd_data_prepare(args: argparse.Namespace) -> int:
    import time

    from predictor.paths import data_root
    from supernet.datasets import load_cifar10

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
    from supernet.datasets import CIFAR10_MD5, CIFAR10_URL, download_cifar10

    path = download_cifar10(args.root, url=args.url or CIFAR10_URL, md5=args.md5 or CIFAR10_MD5,
                            progress=not args.no_progress)
    _emit(args, {"path": str(path)}, f"CIFAR-10 ready at {path} (checksum verified)")
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

    # supernet
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
        "eval",
        help="weight-sharing accuracy of sampled / listed / all architectures -> ws.csv",
        description="Score architectures with a trained supernet (BN recalibration, fixed validation subset); "
        "each isomorphism class is run once. Interrupted runs resume from OUT.partial-*.",
    )
    p.add_argument("--run", required=True, help="training run directory (or checkpoint file)")
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
