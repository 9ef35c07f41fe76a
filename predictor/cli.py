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
    import numpy as np

    from predictor.benchmark import load_truth, read_arch_table, truth_accuracy
    from predictor.metrics import evaluate_ranking
    from supernet.space import degenerate_mask

    table = read_arch_table(args.table, required=[args.column])
    truth = load_truth(args.truth)
    true_acc = truth_accuracy(truth, args.dataset)  # Series indexed by official index
    idx = table["index"].to_numpy()
    pred = table[args.column].to_numpy(dtype=np.float64)
    t = true_acc.reindex(idx).to_numpy(dtype=np.float64)
    n_missing = int(np.isnan(t).sum())
    if n_missing == len(t):
        raise UserError(f"no architecture of {args.table} has a ground-truth value in {args.truth}")
    metrics = evaluate_ranking(pred, t, degenerate=degenerate_mask()[idx])
    metrics = {"table": str(args.table), "column": args.column, "dataset": args.dataset, **metrics}
    if n_missing:
        metrics["rows_without_truth"] = n_missing
    _emit(
        args,
        metrics,
        f"{args.column} of {args.table} vs {args.dataset} truth "
        f"({metrics['n']} architectures with both values)\n" + _fmt_metrics(
            {k: v for k, v in metrics.items() if k not in ("table", "column", "dataset")}
        ),
    )
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
