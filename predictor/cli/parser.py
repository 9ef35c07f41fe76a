"""The ``nasgcn`` argument parser: every subcommand, its options and its handler.

(Over 400 lines by choice: it is declarations only, one block per command, and splitting it would scatter
the one place that lists the whole command line.)
"""

from __future__ import annotations

import argparse
import importlib
from typing import Callable

from .output import add_drop_nonfinite as _add_drop_nonfinite, add_json as _add_json


def _handler(module: str, name: str) -> Callable[[argparse.Namespace], int]:
    """The handler ``name`` of ``predictor.cli.<module>``, imported when its command runs: the handler
    modules import torch and the whole library, which ``nasgcn --help`` and argument errors need not wait for."""

    def run(args: argparse.Namespace) -> int:
        return getattr(importlib.import_module(f"predictor.cli.{module}"), name)(args)

    run.__name__ = name
    return run



def _add_resume(p: argparse.ArgumentParser) -> None:
    """``--resume`` (continue the checkpoint in --out; an error when there is none) or ``--resume-or-start``."""
    g = p.add_mutually_exclusive_group()
    g.add_argument("--resume", action="store_true",
                   help="continue the checkpoint in --out (an error when there is none)")
    g.add_argument("--resume-or-start", action="store_true",
                   help="continue the checkpoint in --out when there is one, else start a new run there")


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
    p.set_defaults(handler=_handler("supernet_commands", "_cmd_space_export"))

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
    _add_drop_nonfinite(p)
    _add_json(p)
    p.set_defaults(handler=_handler("supernet_commands", "_cmd_evaluate"))

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
    p.set_defaults(handler=_handler("supernet_commands", "_cmd_data_prepare"))
    p = d_sub.add_parser(
        "download",
        help="download the official CIFAR-10 python archive (only when you ask) and verify its MD5",
    )
    p.add_argument("--root", required=True, help="folder to download and extract into")
    p.add_argument("--url", default=None, help="mirror URL (default: the official one)")
    p.add_argument("--md5", default=None, help="expected MD5 (default: the official archive's)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_json(p)
    p.set_defaults(handler=_handler("supernet_commands", "_cmd_data_download"))

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
    p.set_defaults(handler=_handler("supernet_commands", "_cmd_bench_import"))
    p = b_sub.add_parser("check", help="validate the ground-truth and hardware tables and list the devices")
    p.add_argument("--truth", default=None, help="truth CSV (default DATA_ROOT/nb201/nb201_truth.csv.gz)")
    p.add_argument("--hardware", default=None, help="latency CSV (default DATA_ROOT/nb201/nb201_hw_latency.csv.gz)")
    _add_json(p)
    p.set_defaults(handler=_handler("supernet_commands", "_cmd_bench_check"))

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
                   help="fusion weight of one signal (ws, params, a proxy column, and with --landmarks ws_lm, the "
                        "landmark-corrected ws; default ws 0.5, ws_lm 3, snip/grad_norm -0.25 (reversed), others 1; 0 drops it, "
                        "a negative weight enters the signal reversed)")
    p.add_argument("--head-fraction", type=float, default=None, metavar="F",
                   help="fusion: order the fused top F of the space among itself by the head weights "
                        "(default 0.2; 0 keeps the fused order)")
    p.add_argument("--head-weight", action="append", default=None, metavar="NAME=W",
                   help="fusion: weight of one signal in the head order (default ws=0.5 synflow=1 jacov=0.5, "
                        "others 0); repeat for several; the first replaces the defaults")
    p.add_argument("--spread-penalty", type=float, default=None, metavar="L",
                   help="fusion: rank by the signals' weighted mean less L times their weighted spread, so a cell "
                        "only some signals rate high ranks below one they agree on (default 0.5; 0: the plain mean)")
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
                        "correct the supernet's bias (recorded in the sidecar); the weight-sharing model is then "
                        "fitted with the landmark base settings (GCN: no graph features, weight decay 1e-4)")
    p.add_argument("--landmark-map", default=None, choices=["isotonic", "linear", "signals"],
                   help="fusion with --landmarks: how the fused score is mapped onto the true accuracy (default "
                        "isotonic: monotone, never above the best landmark inside their range; linear: a ridge "
                        "line; signals: a ridge on the fused score and every signal, re-weighting them)")
    _add_drop_nonfinite(p)
    _add_json(p)
    p.set_defaults(handler=_handler("table_commands", "_cmd_fit"))

    p = sub.add_parser("query", help="look architectures up in a lookup table")
    p.add_argument("table", help="lookup table CSV(.gz)")
    p.add_argument("archs", nargs="+", help="official indices or arch strings")
    p.add_argument("--columns", default=None, help="comma-separated columns to show")
    _add_json(p)
    p.set_defaults(handler=_handler("table_commands", "_cmd_query"))

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
            p.set_defaults(handler=_handler("table_commands", "_cmd_search"))
        else:
            p.add_argument("--cost", action="append", required=True, help="cost column to minimise (once or twice)")
            p.add_argument("--plot", default=None, help="write a PNG of the front")
            p.set_defaults(handler=_handler("table_commands", "_cmd_pareto"))
        _add_drop_nonfinite(p)
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
    p.set_defaults(handler=_handler("table_commands", "_cmd_latency_measure"))
    p = l_sub.add_parser("fill", help="predict a device's latency where it was not measured")
    p.add_argument("--table", required=True, help="latency CSV (index/arch_str and the column; NaN = unmeasured)")
    p.add_argument("--column", default=None, help="latency column or device name (default: the only one)")
    p.add_argument("--out", required=True, help="output CSV with all 15,625 rows (+ a *_measured flag column)")
    p.add_argument("--model", default="gbr", choices=["gbr", "ridge", "gcn"], help="regressor (default gbr)")
    p.add_argument("--seed", type=int, default=0)
    _add_json(p)
    p.set_defaults(handler=_handler("table_commands", "_cmd_latency_fill"))

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
    p.set_defaults(handler=_handler("table_commands", "_cmd_costs"))

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
    p.set_defaults(handler=_handler("table_commands", "_cmd_run"))
    p = sub.add_parser("report", help="regenerate RUN/report.md and its plots")
    p.add_argument("run", help="run directory of `nasgcn run`")
    _add_json(p)
    p.set_defaults(handler=_handler("table_commands", "_cmd_report"))

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
    _add_resume(p)
    p.add_argument("--epochs", type=int, default=None, help="override [drnas] epochs")
    p.add_argument("--max-steps", type=int, default=None, help="stop (with a checkpoint) after this many steps")
    p.add_argument("--device", default=None, help="override [drnas] device (auto, cpu, cuda, cuda:1)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_json(p)
    p.set_defaults(handler=_handler("supernet_commands", "_cmd_drnas"))

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
    p.set_defaults(handler=_handler("supernet_commands", "_cmd_proxies"))

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
    _add_resume(p)
    p.add_argument("--epochs", type=int, default=None, help="override [train] epochs")
    p.add_argument("--device", default=None, help="override [train] device (auto, cpu, cuda, cuda:1)")
    p.add_argument("--max-steps", type=int, default=None, help="stop (with a checkpoint) after this many steps")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_json(p)
    p.set_defaults(handler=_handler("supernet_commands", "_cmd_supernet_train"))

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
    p.set_defaults(handler=_handler("supernet_commands", "_cmd_supernet_fewshot"))

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
    p.set_defaults(handler=_handler("supernet_commands", "_cmd_supernet_eval"))

    _add_standalone(sub, d_sub)  # train-arch, landmarks propose, data synthetic
    return parser


PRESET_NAMES = ("nb201-200", "nb201-12")
"""The keys of :data:`supernet.training.standalone_config.PRESETS`, spelled out so that building the parser
does not import torch (a test checks they agree)."""


def _add_standalone(sub: argparse._SubParsersAction, data_sub: argparse._SubParsersAction) -> None:
    """Register ``train-arch``, ``landmarks propose`` (on ``sub``) and ``data synthetic`` (on ``data_sub``)."""
    p = sub.add_parser(
        "train-arch",
        help="train one architecture's stand-alone network (NB201 schedule) and write its accuracy row",
        description="Train the NAS-Bench-201 network (C=16, N=5 by default) of ARCH from scratch on CIFAR-10's "
        "NB201 train half, synthetic images or your own image folder, and score it on the held-out split. "
        "Writes OUT/config.json, checkpoint.pt (every epoch; Ctrl-C too), train_log.csv and result.csv "
        "(index, arch_str, true_acc, split, epochs, seconds: a landmark table for `nasgcn fit --landmarks`). "
        "Under torchrun --nproc_per_node=P it trains data-parallel.",
    )
    p.add_argument("arch", help="architecture: official arch string or index")
    p.add_argument("--out", required=True, help="run directory")
    p.add_argument("--preset", default="nb201-200", choices=PRESET_NAMES,
                   help="schedule: nb201-200 (200 epochs) or nb201-12 (12 epochs); SGD nesterov, lr 0.1 cosine "
                        "to 0, wd 5e-4, batch 256")
    p.add_argument("--data", default="auto",
                   help="auto (CIFAR-10 when found, else synthetic), cifar10, synthetic, or an image folder "
                        "(train/<class>/<image>, optional valid/; without valid/ the train images are halved)")
    p.add_argument("--data-root", default=None, help="CIFAR-10 data root (default $NASGCN_DATA or data/)")
    p.add_argument("--data-seed", type=int, default=0, help="seed of data subsets and folder halves (default 0)")
    p.add_argument("--cache-dir", default=None, help="where decoded images are cached")
    p.add_argument("--image-size", type=int, default=None, help="image height=width of a folder (default 32)")
    p.add_argument("--epochs", type=int, default=None, help="override the preset's epochs")
    p.add_argument("--batch-size", type=int, default=None, help="override the preset's batch size")
    p.add_argument("--lr", type=float, default=None, help="override the preset's initial learning rate")
    p.add_argument("--train-limit", type=int, default=None, help="train on a stratified subset of this many images")
    p.add_argument("--valid-limit", type=int, default=None, help="score on a stratified subset of this many images")
    p.add_argument("--eval-split", default="valid", choices=["valid", "test", "train"],
                   help="split scored after training (default valid: the held-out half)")
    p.add_argument("--C", type=int, default=None, help="network width (default 16)")
    p.add_argument("--N", type=int, default=None, help="cells per stage (default 5)")
    p.add_argument("--seed", type=int, default=None, help="initialisation and batch-order seed (default 0)")
    p.add_argument("--threads", type=int, default=None, help="torch threads")
    p.add_argument("--device", default=None, help="auto, cpu, cuda, cuda:1 (default auto)")
    p.add_argument("--checkpoint-every-steps", type=int, default=None, help="also checkpoint every N steps")
    _add_resume(p)
    p.add_argument("--max-steps", type=int, default=None, help="stop (with a checkpoint) after this many steps")
    p.add_argument("--landmarks-out", default=None,
                   help="append the result row to this landmark table (created if missing; same arch replaced)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_json(p)
    p.set_defaults(handler=_handler("standalone_commands", "_cmd_train_arch"))

    p_lm = sub.add_parser("landmarks", help="landmark architectures: propose which ones to train next")
    lm_sub = p_lm.add_subparsers(dest="landmarks_command", metavar="SUBCOMMAND")
    lm_sub.required = True
    p = lm_sub.add_parser(
        "propose",
        help="choose K architectures of a lookup table to train stand-alone",
        description="Half among the predicted top with the largest pred_std (top by pred_acc without one), half "
        "spread over the predicted ranking (one seeded draw per quantile stratum); one architecture per "
        "isomorphism class, never a degenerate cell, never one already in an --exclude table.",
    )
    p.add_argument("--table", required=True, help="lookup table CSV(.gz) (index/arch_str, pred_acc[, pred_std])")
    p.add_argument("-k", "--k", type=int, required=True, help="how many architectures")
    p.add_argument("--out", required=True, help="proposal CSV (index, arch_str, iso_id, pred_acc, pred_std, "
                                                "pred_rank, role, stratum)")
    p.add_argument("--seed", type=int, default=0, help="seed of the spread draws (default 0)")
    p.add_argument("--exclude", action="append", default=None, metavar="LM.csv",
                   help="table of architectures already trained (repeatable); their classes are skipped")
    p.add_argument("--score", default="pred_acc", help="column to rank by (default pred_acc)")
    p.add_argument("--top-fraction", type=float, default=0.05,
                   help="the predicted top the exploit half is drawn from (default 0.05 of the classes)")
    _add_json(p)
    p.set_defaults(handler=_handler("standalone_commands", "_cmd_landmarks_propose"))

    p = data_sub.add_parser("synthetic", help="write a small synthetic image folder (for demos and tests)")
    p.add_argument("--out", required=True, help="new folder: OUT/train/<class>/<i>.png, OUT/valid/...")
    p.add_argument("--train", type=int, default=600, help="training images (default 600)")
    p.add_argument("--valid", type=int, default=200, help="validation images (default 200; 0 = none)")
    p.add_argument("--classes", type=int, default=4, help="classes (default 4)")
    p.add_argument("--size", type=int, default=32, help="image height=width (default 32)")
    p.add_argument("--noise", type=float, default=40.0,
                   help="pixel noise (0..255 units, default 40); higher makes the classes harder to tell apart")
    p.add_argument("--seed", type=int, default=0)
    _add_json(p)
    p.set_defaults(handler=_handler("standalone_commands", "_cmd_data_synthetic"))
