"""Supernet training and scoring throughput: nasgcn's SuperNet against xautodl's TinyNetworkRANDOM.

Both networks are built at the same C, N and batch size and trained on the same sequence of uniformly
sampled architectures (degenerate cells excluded for both), with the same SGD settings, in one process
on this machine.  The two are measured in alternating rounds so background load hits both alike; the
result is reported as images/s and as the ratio ours / reference.

xautodl (AutoDL-Projects, the reference NAS-Bench-201 code) is a benchmark-only dependency:

    .venv/bin/pip install --no-deps xautodl pyyaml

Also measured: weight-sharing evaluation throughput (architectures/s) of :class:`WSEvaluator` at a stated
validation size, and plain inference images/s of both networks.

Usage: python benchmarks/train_throughput.py [--C 16 --N 5 --batch 64 --rounds 6 --steps 8 --threads 2]
Writes benchmarks/results/train_throughput.json and .md.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from supernet.config import EvalConfig  # noqa: E402
from supernet.data import synthetic_images  # noqa: E402
from supernet.evaluate import WSEvaluator  # noqa: E402
from supernet.network import SuperNet  # noqa: E402
from supernet.sampling import make_sampler  # noqa: E402
from supernet.space import OPS, Arch  # noqa: E402


def _xautodl_net(C: int, N: int, seed: int) -> tuple[nn.Module, type]:
    # xautodl: optional reference implementation, benchmark-only (see DESIGN.md)
    from xautodl.models.cell_searchs.genotypes import Structure
    from xautodl.models.cell_searchs.search_model_random import TinyNetworkRANDOM

    torch.manual_seed(seed)
    net = TinyNetworkRANDOM(C, N, 4, 10, list(OPS), False, False)
    return net, Structure


def _to_structure(arch: Arch, Structure: type):
    o = arch.ops
    return Structure([((o[0], 0),), ((o[1], 0), (o[2], 1)), ((o[3], 0), (o[4], 1), (o[5], 2))])


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--C", type=int, default=16)
    ap.add_argument("--N", type=int, default=5)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=6, help="alternating measurement rounds per network")
    ap.add_argument("--steps", type=int, default=8, help="training steps per round")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--valid-size", type=int, default=1000, help="validation images per scored architecture")
    ap.add_argument("--eval-archs", type=int, default=6)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "train_throughput"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    dev = torch.device(args.device)

    # ours as the trainer runs it (channels_last, the [train] default); xautodl as shipped, and also with
    # channels_last so the ratio is not only the memory format
    cl = torch.channels_last
    ours = SuperNet(C=args.C, N=args.N, num_classes=10, seed=0).to(dev, memory_format=cl)
    ref, Structure = _xautodl_net(args.C, args.N, 0)
    ref = ref.to(dev)
    ref_cl, _ = _xautodl_net(args.C, args.N, 0)
    ref_cl = ref_cl.to(dev, memory_format=cl)
    sampler = make_sampler("uniform", exclude_degenerate=True)
    total = args.warmup + args.rounds * args.steps
    archs = sampler.sample_many(np.random.default_rng(0), total * 2)
    g = torch.Generator().manual_seed(0)
    x_plain = torch.randn(args.batch, 3, 32, 32, generator=g).to(dev)
    x_cl = x_plain.contiguous(memory_format=cl)
    y = torch.randint(0, 10, (args.batch,), generator=g).to(dev)
    crit = nn.CrossEntropyLoss()

    def make_step(net: nn.Module, is_ref: bool, x: torch.Tensor):
        opt = torch.optim.SGD(net.parameters(), lr=0.025, momentum=0.9, nesterov=True, weight_decay=5e-4)
        net.train()

        def step(arch: Arch) -> None:
            if is_ref:
                net.arch_cache = _to_structure(arch, Structure)
                logits = net(x)[1]
            else:
                logits = net(x, arch)
            loss = crit(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_([p for p in net.parameters() if p.grad is not None], 5.0)
            opt.step()

        return step

    steps = {
        "nasgcn": make_step(ours, False, x_cl),
        "xautodl": make_step(ref, True, x_plain),
        "xautodl_channels_last": make_step(ref_cl, True, x_cl),
    }
    seconds = {k: 0.0 for k in steps}
    pos = {k: 0 for k in steps}
    for k, st in steps.items():  # warm-up
        for _ in range(args.warmup):
            st(archs[pos[k]])
            pos[k] += 1
    for r in range(args.rounds):
        order = list(steps) if r % 2 == 0 else list(steps)[::-1]
        for k in order:
            if dev.type == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            for _ in range(args.steps):
                steps[k](archs[pos[k]])
                pos[k] += 1
            if dev.type == "cuda":
                torch.cuda.synchronize()
            seconds[k] += time.perf_counter() - t0
    n_img = args.rounds * args.steps * args.batch
    train_ips = {k: n_img / s for k, s in seconds.items()}

    # inference images/s (eval mode for ours with batch statistics as the supernet is configured)
    infer = {}
    xb = torch.randn(256, 3, 32, 32, generator=g).to(dev)
    with torch.inference_mode():
        for k, net in (("nasgcn", ours), ("xautodl", ref)):
            xin = xb.contiguous(memory_format=cl) if k == "nasgcn" else xb
            t = 0.0
            for i, a in enumerate(archs[: 2 + args.eval_archs]):
                t0 = time.perf_counter()
                if k == "xautodl":
                    net.arch_cache = _to_structure(a, Structure)
                    net(xin)
                else:
                    net(xin, a)
                if i >= 2:
                    t += time.perf_counter() - t0
            infer[k] = args.eval_archs * 256 / t

    # weight-sharing evaluation throughput of our evaluator (BN recalibration + validation subset)

    ecfg = EvalConfig(valid_size=args.valid_size, batch_size=500, bn_batches=4, bn_batch_size=128)
    ev = WSEvaluator(ours, synthetic_images(2000, seed=1), synthetic_images(args.valid_size, seed=2), ecfg, dev)
    ev.score(archs[0])
    t0 = time.perf_counter()
    for a in archs[1 : 1 + args.eval_archs]:
        ev.score(a)
    eval_aps = args.eval_archs / (time.perf_counter() - t0)

    res = {
        "benchmark": "supernet training throughput, nasgcn SuperNet vs xautodl TinyNetworkRANDOM",
        "C": args.C, "N": args.N, "batch": args.batch, "threads": args.threads, "device": str(dev),
        "cpu": cpu_name(), "torch": torch.__version__,
        "steps_measured_each": args.rounds * args.steps,
        "train_images_per_s": {k: round(v, 1) for k, v in train_ips.items()},
        "train_ratio_nasgcn_over_xautodl": round(train_ips["nasgcn"] / train_ips["xautodl"], 3),
        "train_ratio_nasgcn_over_xautodl_channels_last": round(
            train_ips["nasgcn"] / train_ips["xautodl_channels_last"], 3
        ),
        "inference_images_per_s_batch256": {k: round(v, 1) for k, v in infer.items()},
        "inference_ratio": round(infer["nasgcn"] / infer["xautodl"], 3),
        "ws_eval_archs_per_s": round(eval_aps, 3),
        "ws_eval_setting": f"valid_size={args.valid_size}, BN recalibration 4x128 images, batch 500",
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(res, indent=2) + "\n")
    md = [
        f"# Supernet throughput ({res['date']}, {res['cpu']}, {args.threads} threads, torch {torch.__version__})",
        "",
        f"C={args.C}, N={args.N}, batch {args.batch}, uniform single-path sampling (same architecture sequence), "
        f"{res['steps_measured_each']} measured steps each in {args.rounds} alternating rounds.",
        "",
        "| | nasgcn | xautodl TinyNetworkRANDOM | ratio |",
        "|---|---|---|---|",
        f"| training images/s | {train_ips['nasgcn']:.1f} | {train_ips['xautodl']:.1f} | "
        f"{res['train_ratio_nasgcn_over_xautodl']:.2f}x |",
        f"| training images/s, xautodl also channels_last | {train_ips['nasgcn']:.1f} | "
        f"{train_ips['xautodl_channels_last']:.1f} | {res['train_ratio_nasgcn_over_xautodl_channels_last']:.2f}x |",
        f"| inference images/s (batch 256) | {infer['nasgcn']:.1f} | {infer['xautodl']:.1f} | "
        f"{res['inference_ratio']:.2f}x |",
        "",
        f"Weight-sharing evaluation: {eval_aps:.2f} architectures/s ({res['ws_eval_setting']}).",
        "",
    ]
    out.with_suffix(".md").write_text("\n".join(md))
    print("\n".join(md))


if __name__ == "__main__":
    main()
