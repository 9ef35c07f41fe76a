"""Few-shot sub-supernets, patterns, partition sampling, warm start, snapshots and evaluation reuse."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from supernet import network
from supernet.evaluate import evaluate_supernet, sample_archs
from supernet.fewshot import evaluate_fewshot, parse_edges, route, split_patterns, train_fewshot
from supernet.sampling import PartitionSampler, UniformSampler, make_sampler
from supernet.space import (
    NUM_ARCHS, OPS, ArchError, all_archs, degenerate_mask, ops_matrix, parse_pattern, pattern_mask,
)
from supernet.training import CheckpointError, load_checkpoint, snapshot_paths, train_supernet
from tests.supernet.tiny import tiny_cfg

def _cfg(**over):
    """The shared tiny config at 2 epochs and one recalibration batch."""
    over = {k: dict(v) for k, v in over.items()}
    over["train"] = {"epochs": 2, **over.get("train", {})}
    over["eval"] = {"bn_batches": 1, **over.get("eval", {})}
    return tiny_cfg(**over)


@pytest.fixture(scope="module")
def base_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("fewshot") / "base"
    train_supernet(_cfg(train={"snapshot_every": 1}), run, progress=False)
    return run


# ------------------------------------------------------------------ patterns
def test_pattern_mask_counts_and_errors() -> None:
    assert pattern_mask("|*~0|+|*~0|*~1|+|*~0|*~1|*~2|").sum() == NUM_ARCHS
    m = pattern_mask("|nor_conv_3x3~0|+|*~0|*~1|+|*~0|none~1|*~2|")
    assert m.sum() == NUM_ARCHS // 25
    ops = ops_matrix()
    assert (ops[m, 0] == 3).all() and (ops[m, 4] == 0).all()
    assert parse_pattern("|*~0|+|none~0|*~1|+|*~0|*~1|avg_pool_3x3~2|") == (None, 0, None, None, None, 4)
    with pytest.raises(ArchError, match="unknown operation 'conv'"):
        pattern_mask("|conv~0|+|*~0|*~1|+|*~0|*~1|*~2|")
    with pytest.raises(ArchError, match="node groups"):
        pattern_mask("|*~0|+|*~0|*~1|")


def test_split_patterns_partition_the_space() -> None:
    pats = split_patterns(["0,1", 5])
    assert len(pats) == 25
    total = np.zeros(NUM_ARCHS, dtype=int)
    for p in pats.values():
        total += pattern_mask(p)
    assert (total == 1).all(), "every architecture must belong to exactly one sub-supernet"
    archs = all_archs()[:200]
    for a, name in zip(archs, route(archs, (0, 5))):
        assert pattern_mask(pats[name])[a.index]
    assert parse_edges(["(1,3)", "0"]) == (0, 4)
    with pytest.raises(ValueError, match="unknown edge"):
        parse_edges(["1,0"])
    with pytest.raises(ValueError, match="repeats"):
        parse_edges([2, 2])


def test_partition_sampler_draws_only_its_part_uniformly() -> None:
    pat = "|*~0|+|*~0|skip_connect~1|+|*~0|*~1|*~2|"
    s = make_sampler("uniform", restrict=pat)
    assert isinstance(s, PartitionSampler)
    idx = s.sample_indices(np.random.default_rng(0), 20000)
    mask = pattern_mask(pat) & ~degenerate_mask()
    assert mask[idx].all()
    counts = np.bincount(idx, minlength=NUM_ARCHS)[mask]
    # uniform over the part: each of the ~3,100 cells near 20000/3100 draws; chi-square loose bound
    expected = len(idx) / mask.sum()
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < mask.sum() * 1.15
    p = s.probabilities()
    assert p.sum() == pytest.approx(1.0) and (p[~mask] == 0).all()
    # size sampling restricted keeps the size ratios inside the part
    z = make_sampler("size", restrict=pat, C=4, N=1)
    pz, full = z.probabilities(), make_sampler("size", C=4, N=1).probabilities()
    i, j = np.flatnonzero(mask)[:2]
    assert pz[i] / pz[j] == pytest.approx(full[i] / full[j])
    # state refuses another pattern
    other = make_sampler("uniform", restrict="|none~0|+|*~0|*~1|+|*~0|*~1|*~2|")
    with pytest.raises(ValueError, match="resume with the same sampling"):
        other.load_state_dict(s.state_dict())
    assert PartitionSampler(UniformSampler(), pat).fingerprint() == s.fingerprint()


# ------------------------------------------------------------------ training pieces
def test_snapshots_and_warm_start(base_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    snaps = snapshot_paths(base_run)
    assert list(snaps) == [1, 2]
    last = load_checkpoint(base_run)["model"]
    assert all(torch.equal(last[k], v) for k, v in load_checkpoint(snaps[2])["model"].items())
    assert any(not torch.equal(last[k], v) for k, v in load_checkpoint(snaps[1])["model"].items())
    # a warm-started run whose optimiser steps do nothing keeps the weights it started from (lr must be > 0)
    cfg = _cfg(train={"epochs": 1, "init_from": str(base_run)})
    with monkeypatch.context() as mp:
        mp.setattr(torch.optim.SGD, "step", lambda self, closure=None: None)
        train_supernet(cfg, tmp_path / "ws", progress=False)
    got = load_checkpoint(tmp_path / "ws")["model"]
    float_keys = [k for k, v in last.items() if v.is_floating_point() and "running" not in k]
    assert all(torch.equal(got[k], last[k]) for k in float_keys)
    wider = _cfg(model={"C": 8}, train={"init_from": str(base_run)})
    with pytest.raises(CheckpointError, match="differs from this config"):
        train_supernet(wider, tmp_path / "wide", progress=False)


def test_each_sub_supernet_trains_only_its_architectures(base_run: Path, tmp_path: Path, monkeypatch) -> None:
    seen: list[tuple[int, ...]] = []
    orig = network.SuperNet.forward

    def spy(self, x, arch):
        seen.append(network._as_arch(arch).codes)
        return orig(self, x, arch)

    monkeypatch.setattr(network.SuperNet, "forward", spy)
    out = tmp_path / "fs"
    per_sub: dict[str, list[tuple[int, ...]]] = {}
    pats = split_patterns([3])
    for name in pats:
        seen.clear()
        train_fewshot(base_run, out, [3], epochs=1, only=[name], progress=False)
        per_sub[name] = list(seen)
    base = load_checkpoint(base_run)["model"]
    for name, pat in pats.items():
        code = parse_pattern(pat)[3]
        assert per_sub[name], f"{name} trained nothing"
        assert all(c[3] == code for c in per_sub[name]), f"{name} trained an architecture outside its part"
        sub = load_checkpoint(out / name)["model"]
        # the other ops of the split edge never received a gradient: their weights are the base's
        for k, v in sub.items():
            if ".edges.3." in k and v.is_floating_point():
                op = k.split(".edges.3.")[1].split(".")[0]
                same = torch.equal(v, base[k])
                if op != name.removeprefix("sub_"):
                    assert same, f"{name}: {k} changed"
        own = [k for k in sub if f".edges.3.{name.removeprefix('sub_')}." in k and "weight" in k]
        if own:
            assert any(not torch.equal(sub[k], base[k]) for k in own), f"{name}: its own op did not train"
    man = json.loads((out / "fewshot.json").read_text())
    assert man["edges"] == [3] and len(man["subs"]) == 5 and all(s["finished"] for s in man["subs"].values())
    # rerunning skips finished sub-supernets (no forward pass at all)
    seen.clear()
    train_fewshot(base_run, out, [3], epochs=1, progress=False)
    assert seen == []
    with pytest.raises(CheckpointError, match="other settings"):
        train_fewshot(base_run, out, [3], epochs=2, progress=False)


def test_evaluate_fewshot_routes_and_matches_sub_scores(base_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "fs"
    train_fewshot(base_run, out, [0], epochs=1, progress=False)
    archs = sample_archs(40, seed=3, include_degenerate=False)
    df = evaluate_fewshot(out, archs, tmp_path / "ws.csv", progress=False)
    assert df["index"].tolist() == [a.index for a in archs]
    assert (df["sub"] == route(archs, [0])).all()
    # a row equals scoring that architecture with its own sub-supernet directly
    a = archs[0]
    direct = evaluate_supernet(out / df["sub"][0], [a], tmp_path / "one.csv", progress=False)
    assert df["ws_acc"][0] == direct["ws_acc"][0]
    assert pd.read_csv(tmp_path / "ws.csv")["index"].tolist() == df["index"].tolist()
    with pytest.raises(FileNotFoundError, match="train the split first"):
        evaluate_fewshot(tmp_path / "nothing", archs, tmp_path / "x.csv")


def test_fewshot_refuses_unfinished_base(tmp_path: Path) -> None:
    train_supernet(_cfg(), tmp_path / "half", progress=False, max_steps=3)
    with pytest.raises(CheckpointError, match="has not finished"):
        train_fewshot(tmp_path / "half", tmp_path / "fs", [0])


def test_finished_evaluation_is_reused_not_recomputed(base_run: Path, tmp_path: Path, monkeypatch) -> None:
    archs = sample_archs(12, seed=1, include_degenerate=False)
    first = evaluate_supernet(base_run, archs, tmp_path / "ws.csv", progress=False)
    from supernet import evaluate as ev

    def boom(*a, **k):
        raise AssertionError("scored again")

    monkeypatch.setattr(ev.WSEvaluator, "score", boom)
    again = evaluate_supernet(base_run, archs[::-1], tmp_path / "ws.csv", progress=False)
    assert again["index"].tolist() == [a.index for a in archs[::-1]]
    assert again.set_index("index")["ws_acc"].equals(first.set_index("index")["ws_acc"].loc[again["index"]])
    # another architecture set is scored, not taken from the file
    with pytest.raises(AssertionError, match="scored again"):
        evaluate_supernet(base_run, archs[:5], tmp_path / "ws.csv", progress=False)


def test_cli_fewshot_then_eval_routes(base_run: Path, tmp_path: Path, capsys) -> None:
    from predictor.cli import main

    out = tmp_path / "fs"
    assert main(["supernet", "fewshot", "--base", str(base_run), "--out", str(out), "--edges", "1,3",
                 "--epochs", "1", "--no-progress", "--json"]) == 0
    man = json.loads(capsys.readouterr().out)
    assert man["edges"] == [4] and len(man["subs"]) == 5
    assert main(["supernet", "eval", "--run", str(out), "--sample", "15", "--no-degenerate", "--seed", "2",
                 "--out", str(tmp_path / "ws.csv"), "--no-progress", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["architectures"] == 15
    df = pd.read_csv(tmp_path / "ws.csv")
    assert set(df["sub"]) <= set(man["subs"])
    ops = ops_matrix()[df["index"].to_numpy(), 4]
    assert all(s == f"sub_{OPS[o]}" for s, o in zip(df["sub"], ops))
    assert main(["supernet", "fewshot", "--base", str(base_run), "--out", str(tmp_path / "x"), "--edges", "9"]) == 2
    assert "out of range" in capsys.readouterr().err
