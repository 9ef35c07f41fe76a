"""Landmark regularisation: the ranking loss moves a mis-ordered pair the right way; training uses it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from supernet.config import config_from_dict
from supernet.landmarks import LandmarkSet, landmark_rank_loss
from supernet.network import SuperNet
from supernet.space import Arch, all_archs, degenerate_mask
from supernet.training import load_checkpoint, train_supernet


def _batch(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(32, 3, 32, 32, generator=g), torch.randint(0, 10, (32,), generator=g)


def test_gradient_step_reorders_a_misordered_pair() -> None:
    torch.manual_seed(0)
    net = SuperNet(C=4, N=1, seed=0)
    x, y = _batch()
    crit = nn.CrossEntropyLoss()
    a = Arch.from_ops(["nor_conv_3x3"] * 6)
    b = Arch.from_ops(["avg_pool_3x3", "skip_connect", "nor_conv_1x1", "skip_connect", "avg_pool_3x3", "nor_conv_1x1"])
    with torch.no_grad():
        la, lb = crit(net(x, a), y).item(), crit(net(x, b), y).item()
    # call "better" whichever currently has the HIGHER loss: the pair is mis-ordered by construction
    better, worse = (a, b) if la > lb else (b, a)
    gap0 = abs(la - lb)
    loss = landmark_rank_loss(net, x, y, [(better, worse)], crit)
    assert loss.item() == pytest.approx(gap0, rel=1e-4)
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    for _ in range(5):
        opt.zero_grad()
        landmark_rank_loss(net, x, y, [(better, worse)], crit).backward()
        opt.step()
    with torch.no_grad():
        gap1 = crit(net(x, better), y).item() - crit(net(x, worse), y).item()
    assert gap1 < gap0, f"loss(better) - loss(worse) went from {gap0:.4f} to {gap1:.4f}"
    # the hinge: the reversed pair costs relu(loss(worse) - loss(better)) = max(0, -gap1) ...
    with torch.no_grad():
        rev = landmark_rank_loss(net, x, y, [(worse, better)], crit).item()
    assert rev == pytest.approx(max(0.0, -gap1), abs=1e-5)
    # ... unless a margin asks for a gap
    assert landmark_rank_loss(net, x, y, [(better, worse)], crit, margin=10.0).item() > 0


def test_pairs_are_ordered_by_true_accuracy() -> None:
    idx = np.flatnonzero(~degenerate_mask())[:6]
    acc = np.array([90.0, 85.0, 93.0, 70.0, 88.0, 91.0])
    lm = LandmarkSet(idx, acc)
    by = dict(zip(idx.tolist(), acc.tolist()))
    pairs = lm.sample_pairs(np.random.default_rng(0), 200)
    assert all(by[b.index] > by[w.index] for b, w in pairs)
    assert len({(b.index, w.index) for b, w in pairs}) == 15  # every pair of 6 distinct accuracies appears
    with pytest.raises(ValueError, match="degenerate"):
        LandmarkSet(np.flatnonzero(degenerate_mask())[:2], np.array([10.0, 11.0]))


def _landmark_csv(tmp: Path) -> Path:
    idx = np.flatnonzero(~degenerate_mask())[::1500][:10]
    p = tmp / "landmarks.csv"
    pd.DataFrame({"arch_str": [all_archs()[i].to_str() for i in idx], "true_acc": np.linspace(80, 94, len(idx))}).to_csv(p, index=False)
    return p


def test_training_with_landmarks_changes_weights_and_resumes(tmp_path: Path) -> None:
    base = {
        "data": {"source": "synthetic", "synthetic_train": 128, "synthetic_valid": 64},
        "model": {"C": 4, "N": 1},
        "train": {"epochs": 2, "batch_size": 32, "threads": 1, "device": "cpu"},
    }
    plain = train_supernet(config_from_dict(base), tmp_path / "plain", progress=False)
    with_lm = dict(base, landmarks={"file": str(_landmark_csv(tmp_path)), "every": 2, "weight": 1.0})
    cfg = config_from_dict(with_lm)
    s = train_supernet(cfg, tmp_path / "lm", progress=False)
    assert s["finished"] and s["weights_sha256"] != plain["weights_sha256"]
    # interrupted and resumed: identical weights (pairs come from the checkpointed generator)
    train_supernet(cfg, tmp_path / "lm2", progress=False, max_steps=3)
    s2 = train_supernet(cfg, tmp_path / "lm2", resume=True, progress=False)
    assert s2["weights_sha256"] == s["weights_sha256"]
    assert load_checkpoint(tmp_path / "lm")["config"]["landmarks"]["every"] == 2


def test_landmark_selection_random_and_quantile(tmp_path: Path) -> None:
    idx = np.flatnonzero(~degenerate_mask())[:101]
    acc = np.linspace(50.0, 90.0, 101)[::-1]  # row order is not accuracy order
    path = tmp_path / "lm.csv"
    pd.DataFrame({"index": idx, "true_acc": acc}).to_csv(path, index=False)
    q = LandmarkSet.from_csv(path, limit=5, select="quantile")
    assert sorted(q.true_acc.tolist()) == [50.0, 60.0, 70.0, 80.0, 90.0]
    r1 = LandmarkSet.from_csv(path, limit=5, seed=1)
    r2 = LandmarkSet.from_csv(path, limit=5, seed=2)
    assert len(r1.indices) == 5 and set(r1.indices) <= set(idx)
    assert set(r1.indices) != set(r2.indices), "different seeds should pick different landmarks"
    with pytest.raises(ValueError, match="select must be"):
        LandmarkSet.from_csv(path, limit=5, select="best")
