"""``nasgcn`` handlers of the own-images path: ``train-arch`` (stand-alone training of one cell), ``landmarks
propose`` (which cells to train next) and ``data synthetic`` (a tiny image folder for demos)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from predictor.acquisition import excluded_indices, propose_landmarks
from supernet.data import synthetic_images, write_image_folder
from supernet.tables import read_arch_table, write_table
from supernet.training import StopRequested, append_result, standalone_config, train_standalone

from .output import UserError, emit
from .supernet_commands import _resume_mode

__all__: list[str] = []

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
    table = read_arch_table(args.table, [args.score], name=f"lookup table {args.table}")
    exclude = excluded_indices(args.exclude or [])
    prop = propose_landmarks(table, args.k, seed=args.seed, exclude=exclude, score=args.score,
                             top_fraction=args.top_fraction)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
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
