"""Weight-sharing evaluation: iso-class dedup, degenerate cells, resume, BN modes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from supernet import evaluate as E
from supernet.config import EvalConfig, config_from_dict
from supernet.space import Arch, all_archs, degenerate_mask, iso_ids
from supernet.training import train_supernet

CFG = {
    "data": {"source": "synthetic", "synthetic_train": 256, "synthetic_valid": 96},
    "model": {"C": 4, "N": 1},
    "train": {"epochs": 1, "batch_size": 32, "threads": 1, "device": "cpu"},
    "eval": {"valid_size": 96, "batch_size": 48, "bn_batches": 2, "bn_batch_size": 32},
}


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ws") / "run"
    train_supernet(config_from_dict(CFG), out, progress=False)
    return out


def _archs_with_twins_and_degenerate() -> list[Arch]:
    ids, deg = iso_ids(), degenerate_mask()
    archs = list(E.sample_archs(12, seed=3, include_degenerate=False))
    # two members of one isomorphism class
    a = Arch.from_ops(["none", "none", "none", "nor_conv_3x3", "none", "none"])
    b = Arch.from_ops(["skip_connect", "none", "none", "none", "nor_conv_3x3", "none"])
    assert ids[a.index] == ids[b.index]
    d = all_archs()[int(np.flatnonzero(deg)[0])]
    return [a, b] + archs + [d]


def test_eval_table(run: Path, tmp_path: Path) -> None:
    archs = _archs_with_twins_and_degenerate()
    out = tmp_path / "ws.csv"
    df = E.evaluate_supernet(run, archs, out, device="cpu", progress=False)
    assert list(df.columns) == E.WS_COLUMNS
    assert df["index"].tolist() == [a.index for a in archs]
    back = pd.read_csv(out)
    assert back["arch_str"].tolist() == [a.to_str() for a in archs]
    twins = df.iloc[:2]
    assert twins["ws_acc"].nunique() == 1 and twins["measured"].tolist() == [True, False]
    deg = df.iloc[-1]
    assert deg["degenerate"] and not deg["measured"] and deg["ws_acc"] == pytest.approx(10.0)
    live = df[~df["degenerate"]]
    assert live["ws_acc"].between(0, 100).all() and (live["ws_loss"] > 0).all()
    assert int(df["measured"].sum()) == len({iso_ids()[a.index] for a in archs[:-1]})
    side = json.loads(Path(str(out) + ".json").read_text())
    assert side["classes_scored"] == int(df["measured"].sum()) and side["trained_epochs"] == 1
    assert not list(tmp_path.glob("ws.csv.partial*"))


def test_scores_are_deterministic_and_arch_dependent(run: Path) -> None:
    model, cfg, _ = E.load_trained(run)
    from supernet.training import load_images

    imgs = load_images(cfg)
    import torch

    ev = E.WSEvaluator(model, imgs["train"], imgs["valid"], cfg.eval, torch.device("cpu"))
    a, b = E.sample_archs(2, seed=11, include_degenerate=False)
    assert ev.score(a) == ev.score(a)
    assert ev.score(a) != ev.score(b)
    ev_batch = E.WSEvaluator(model, imgs["train"], imgs["valid"], EvalConfig(valid_size=96, bn_mode="batch"),
                             torch.device("cpu"))
    acc, loss = ev_batch.score(a)
    assert 0 <= acc <= 100 and loss > 0


def test_interrupted_eval_resumes_without_rescoring(run: Path, tmp_path: Path, monkeypatch) -> None:
    archs = E.sample_archs(10, seed=5, include_degenerate=False)
    out = tmp_path / "ws.csv"
    calls = {"n": 0}
    real = E.WSEvaluator.score

    def flaky(self, arch):
        calls["n"] += 1
        if calls["n"] > 4:
            raise KeyboardInterrupt
        return real(self, arch)

    monkeypatch.setattr(E.WSEvaluator, "score", flaky)
    with pytest.raises(KeyboardInterrupt):
        E.evaluate_supernet(run, archs, out, device="cpu", progress=False)
    assert not out.exists()
    assert len(next(tmp_path.glob("ws.csv.partial-*")).read_text().splitlines()) == 4
    calls["n"] = -100  # no more failures
    monkeypatch.setattr(E.WSEvaluator, "score", lambda self, a: (calls.__setitem__("n", calls["n"] + 1), real(self, a))[1])
    df = E.evaluate_supernet(run, archs, out, device="cpu", progress=False)
    assert calls["n"] == -100 + 6, "the 4 scored classes were scored again"
    ref = E.evaluate_supernet(run, archs, tmp_path / "ref.csv", device="cpu", progress=False)
    assert df["ws_acc"].tolist() == ref["ws_acc"].tolist()


def test_sample_archs() -> None:
    s = E.sample_archs(500, seed=1, include_degenerate=False)
    assert len(set(s)) == 500 and not any(a.is_degenerate for a in s)
    assert E.sample_archs(500, seed=1, include_degenerate=False) == s
    with pytest.raises(ValueError, match="sample size"):
        E.sample_archs(0)
