"""``nasgcn`` handlers and parsers of the own-images path: ``train-arch`` (stand-alone training of one cell),
``landmarks propose`` (which cells to train next) and ``data synthetic`` (a tiny image folder for demos)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from .output import UserError, add_json, emit
from .supernet_commands import _resume_mode

__all__ = ["add_standalone_parsers"]

log = logging.getLogger(__name__)

_SOURCES = ("auto", "cifar10", "synthetic")


def _data_section(args: argparse.Namespace) -> dict[str, Any]:
    """``--data`` (auto, cifar10, synthetic or an image folder) and its options as DataConfig fields."""
    d: dict[str, Any] = {"seed": args.data_seed}
    if args.data in _SOURCES:
        d["source"] = args.data
        if args.data_root:
            d["root"] = args.data_root
    else:
        folder = Path(args.data)
        if not folder.is_dir():
            raise UserError(f"--data {args.data}: not auto, cifar10, synthetic or an existing image folder "
                            f"(train/<class>/<image>, optional valid/<class>/<image>)")
        d["source"], d["root"] = "folder", str(folder)
    if args.train_limit is not None:
        d["train_limit"] = args.train_limit
    if args.image_size is not None:
        d["image_size"] = args.image_size
    if args.cache_dir:
        d["cache_dir"] = args.cache_dir
    return d


def _cmd_train_arch(args: argparse.Namespace) -> int:
    from supernet.training import StopRequested, append_result, standalone_config, train_standalone

    cfg = standalone_config(
        args.arch, args.preset, data=_data_section(args), epochs=args.epochs, batch_size=args.batch_size,
        lr=args.lr, C=args.C, N=args.N, eval_split=args.eval_split, valid_limit=args.valid_limit, seed=args.seed,
        threads=args.threads, device=args.device, checkpoint_every_steps=args.checkpoint_every_steps,
    )
    try:
        s = train_standalone(cfg, args.out, resume=_resume_mode(args), progress=not args.no_progress,
                             max_steps=args.max_steps)
    except StopRequested:
        raise UserError(f"stopped; the checkpoint in {args.out} keeps every finished step: rerun with --resume")
    if s.get("result") and args.landmarks_out:
        table = append_result(s["result"], args.landmarks_out)
        s["landmarks_out"], s["landmarks_rows"] = args.landmarks_out, len(table)
    if s["finished"]:
        text = (f"#{s['index']} {s['arch_str']}\n  {s['true_acc']:.2f}% on {s['split']} after {s['epochs']} epochs "
                f"({s['seconds']:.1f} s{', finished earlier' if s.get('already_finished') else ''}); "
                f"wrote {s['result']}")
        if s.get("landmarks_out"):
            text += f"\n  added to {s['landmarks_out']} ({s['landmarks_rows']} landmarks)"
    else:
        text = (f"#{s['index']} checkpointed in {s['out']}: {s['epochs_done']}/{s['epochs']} epochs, "
                f"{s['global_step']} steps; continue with --resume")
    emit(args, s, text)
    return 0


def _cmd_landmarks_propose(args: argparse.Namespace) -> int:
    from predictor.acquisition import excluded_indices, propose_landmarks
    from supernet.tables import read_arch_table

    table = read_arch_table(args.table, [args.score], name=f"lookup table {args.table}")
    exclude = excluded_indices(args.exclude or [])
    prop = propose_landmarks(table, args.k, seed=args.seed, exclude=exclude, score=args.score,
                             top_fraction=args.top_fraction)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    from supernet.tables import write_table

    write_table(prop, out, {"table": str(args.table), "k": args.k, "seed": args.seed, "score": args.score,
                            "top_fraction": args.top_fraction, "excluded": int(len(exclude)),
                            "strategy": "half exploit (highest pred_std in the predicted top), half spread "
                                        "(one per quantile stratum); one per isomorphism class, no degenerate cells"})
    payload = {"out": str(out), "k": len(prop), "excluded": int(len(exclude)),
               "archs": prop.to_dict(orient="records")}
    lines = [f"proposed {len(prop)} landmarks from {args.table} -> {out}"
             + (f" ({len(exclude)} architectures excluded with their isomorphism classes)" if len(exclude) else "")]
    lines += [f"  #{int(r['index']):<6} rank {int(r['pred_rank']):>5}  {args.score} {r['pred_acc']:7.3f}  "
              f"{r['role']:<7} {r['arch_str']}" for _, r in prop.iterrows()]
    lines.append("train each: nasgcn train-arch INDEX --out runs/lm/INDEX --data IMAGES --landmarks-out LM.csv")
    emit(args, payload, "\n".join(lines))
    return 0


def _cmd_data_synthetic(args: argparse.Namespace) -> int:
    from supernet.data import synthetic_images, write_image_folder

    if args.classes < 2:
        raise UserError(f"--classes must be at least 2, got {args.classes}")
    kw = {"num_classes": args.classes, "image_size": args.size, "noise": args.noise}
    sets = {"train": synthetic_images(args.train, seed=args.seed, **kw)}
    if args.valid:
        sets["valid"] = synthetic_images(args.valid, seed=args.seed + 1, **kw)
    try:
        n = write_image_folder(sets, args.out)
    except FileExistsError as e:
        raise UserError(str(e)) from None
    emit(args, {"out": str(args.out), "images": n, "classes": args.classes},
         f"wrote {', '.join(f'{v} {k}' for k, v in n.items())} images of {args.classes} classes to {args.out} "
         f"(<split>/<class>/<i>.png)")
    return 0


def add_standalone_parsers(sub: argparse._SubParsersAction, data_sub: argparse._SubParsersAction) -> None:
    """Register ``train-arch``, ``landmarks propose`` (on ``sub``) and ``data synthetic`` (on ``data_sub``)."""
    from supernet.training import PRESETS

    from .parser import _add_resume  # here, not at the top: the parser module imports this one

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
    p.add_argument("--preset", default="nb201-200", choices=sorted(PRESETS),
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
    add_json(p)
    p.set_defaults(handler=_cmd_train_arch)

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
    add_json(p)
    p.set_defaults(handler=_cmd_landmarks_propose)

    p = data_sub.add_parser("synthetic", help="write a small synthetic image folder (for demos and tests)")
    p.add_argument("--out", required=True, help="new folder: OUT/train/<class>/<i>.png, OUT/valid/...")
    p.add_argument("--train", type=int, default=600, help="training images (default 600)")
    p.add_argument("--valid", type=int, default=200, help="validation images (default 200; 0 = none)")
    p.add_argument("--classes", type=int, default=4, help="classes (default 4)")
    p.add_argument("--size", type=int, default=32, help="image height=width (default 32)")
    p.add_argument("--noise", type=float, default=40.0,
                   help="pixel noise (0..255 units, default 40); higher makes the classes harder to tell apart")
    p.add_argument("--seed", type=int, default=0)
    add_json(p)
    p.set_defaults(handler=_cmd_data_synthetic)
