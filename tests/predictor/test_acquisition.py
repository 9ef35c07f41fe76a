"""Landmark acquisition: no duplicates, no isomorphic twins, no degenerate cells, exclusion honoured,
deterministic for a seed; the CLI writes the proposal and train-arch rows feed `fit --landmarks`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from predictor.acquisition import PROPOSAL_COLUMNS, excluded_indices, propose_landmarks
from predictor.cli import main
from predictor.table import fit_table
from supernet.resolve import arch_strs
from supernet.space import NUM_ARCHS, degenerate_mask, iso_ids


def _table(seed: int = 0, std: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pred = rng.normal(88, 3, NUM_ARCHS)
    pred[degenerate_mask()] = 99.0  # degenerate cells predicted best: the proposal must still skip them
    return pd.DataFrame({"index": np.arange(NUM_ARCHS), "arch_str": arch_strs(), "pred_acc": pred,
                         "pred_std": rng.uniform(0.1, 2.0, NUM_ARCHS) if std else np.nan})


@pytest.mark.parametrize("k", [1, 2, 7, 40])
def test_no_duplicates_twins_or_degenerate_cells(k: int) -> None:
    p = propose_landmarks(_table(), k, seed=3)
    assert list(p.columns) == list(PROPOSAL_COLUMNS) and len(p) == k
    idx = p["index"].to_numpy()
    assert len(set(idx)) == k
    assert len(set(iso_ids()[idx])) == k
    assert not degenerate_mask()[idx].any()
    assert (p["role"] == "exploit").sum() == k // 2 and (p["role"] == "spread").sum() == k - k // 2


def test_exclusion_skips_the_architectures_and_their_isomorphism_classes() -> None:
    t = _table()
    first = propose_landmarks(t, 20, seed=0)
    # exclude one twin of each proposed class: neither it nor any member of its class may come back
    iso = iso_ids()
    excl = [int(np.flatnonzero(iso == iso[i])[-1]) for i in first["index"]]
    again = propose_landmarks(t, 20, seed=0, exclude=excl)
    assert not set(iso[again["index"]]) & set(iso[excl])


def test_deterministic_for_a_seed_and_seed_dependent() -> None:
    t = _table()
    a, b = propose_landmarks(t, 12, seed=5), propose_landmarks(t, 12, seed=5)
    pd.testing.assert_frame_equal(a, b)
    c = propose_landmarks(t, 12, seed=6)
    assert a.loc[a["role"] == "spread", "index"].tolist() != c.loc[c["role"] == "spread", "index"].tolist()
    assert a.loc[a["role"] == "exploit", "index"].tolist() == c.loc[c["role"] == "exploit", "index"].tolist()


def test_exploit_takes_the_most_uncertain_of_the_top_and_spread_spans_the_ranking() -> None:
    t = _table()
    p = propose_landmarks(t, 10, seed=0, top_fraction=0.05)
    live = t[~degenerate_mask()].assign(iso=iso_ids()[~degenerate_mask()])
    reps = live.sort_values(["pred_acc", "index"], ascending=[False, True]).drop_duplicates("iso")
    pool = reps.head(int(np.ceil(0.05 * len(reps))))
    expect = pool.sort_values("pred_std", ascending=False).head(5)["index"].tolist()
    assert p.loc[p["role"] == "exploit", "index"].tolist() == expect
    sp = p[p["role"] == "spread"].sort_values("stratum")
    assert sp["pred_rank"].is_monotonic_increasing
    n = len(reps) - 5  # classes left for the spread half, cut into 5 strata
    for s_, r in zip(sp["stratum"], sp["pred_rank"]):
        assert s_ * n / 5 - 5 <= r <= (s_ + 1) * n / 5 + 5 + 1
    # without pred_std, the exploit half is the predicted top
    q = propose_landmarks(_table(std=False), 10, seed=0)
    assert sorted(q.loc[q["role"] == "exploit", "pred_rank"]) == [1, 2, 3, 4, 5]


def test_bad_requests_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        propose_landmarks(_table(), 0)
    small = _table().iloc[:30]
    with pytest.raises(ValueError, match="isomorphism classes remain"):
        propose_landmarks(small, 29)
    with pytest.raises(ValueError, match="no 'score_x' column"):
        propose_landmarks(_table(), 3, score="score_x")


def test_cli_propose_excludes_a_landmark_table_and_fit_uses_train_arch_rows(tmp_path: Path, capsys) -> None:
    t = _table()
    t.to_csv(tmp_path / "T.csv.gz", index=False)
    lm = pd.DataFrame({"index": [1, 2], "arch_str": arch_strs()[[1, 2]], "true_acc": [93.0, 80.0],
                       "split": "cifar10-valid", "epochs": 12, "seconds": 100.0})
    lm.to_csv(tmp_path / "LM.csv", index=False)
    rc = main(["landmarks", "propose", "--table", str(tmp_path / "T.csv.gz"), "-k", "6", "--out",
               str(tmp_path / "todo.csv"), "--exclude", str(tmp_path / "LM.csv"), "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    todo = pd.read_csv(tmp_path / "todo.csv")
    assert out["k"] == 6 and todo["index"].tolist() == [r["index"] for r in out["archs"]]
    assert not set(iso_ids()[todo["index"]]) & set(iso_ids()[[1, 2]])
    assert excluded_indices([tmp_path / "LM.csv"]).tolist() == [1, 2]
    # bad input: exit 2 with a one-line message
    assert main(["landmarks", "propose", "--table", str(tmp_path / "T.csv.gz"), "-k", "0", "--out",
                 str(tmp_path / "x.csv")]) == 2
    assert "positive" in capsys.readouterr().err
    # a result table of train-arch rows is a landmark table for fit_table
    rng = np.random.default_rng(0)
    ws = pd.DataFrame({"index": rng.choice(NUM_ARCHS, 60, replace=False)})
    ws["ws_acc"] = rng.normal(70, 5, len(ws))
    lm3 = pd.concat([lm, lm.assign(index=[3, 4], arch_str=arch_strs()[[3, 4]], true_acc=[90.0, 85.0])])
    lm3.to_csv(tmp_path / "LM3.csv", index=False)
    table = fit_table(ws, model="ridge", landmarks=tmp_path / "LM3.csv")
    assert table.meta["n_landmarks"] == 4 and table.meta["landmark_indices"] == [1, 2, 3, 4]
