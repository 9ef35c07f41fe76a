"""The ground-truth table: datasets, validation, pairing scores with truth; the real table when present."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from predictor import truth as T
from predictor.metrics import kendall_tau
from supernet import space
from supernet.space import NUM_ARCHS
from supernet.tables import align_to_space, read_arch_table

from tests.predictor.truth.fakes import COL, META, SOME, expected, write_csv


def test_default_truth_path_follows_env(monkeypatch, tmp_path):
    monkeypatch.setenv("NASGCN_DATA", str(tmp_path))
    assert T.default_truth_path() == tmp_path / "nb201" / "nb201_truth.csv.gz"


def test_dataset_resolution_and_column_choice():
    assert T.resolve_dataset("ImageNet16-120") == "imagenet16_120"
    assert T.resolve_dataset("CIFAR-100") == "cifar100"
    assert T.truth_column("cifar10") == "cifar10_test_acc"
    with pytest.raises(T.BenchmarkError, match=r"unknown dataset 'svhn'; choose one of \['cifar10', 'cifar100', 'imagenet16_120'\]"):
        T.resolve_dataset("svhn")
    df = T.build_truth_table({i: expected(i) for i in SOME})
    for ds in ("cifar10", "cifar100", "ImageNet16-120"):
        np.testing.assert_array_equal(T.truth_accuracy(df, ds), [expected(i)[COL[ds]] for i in SOME])
    with pytest.raises(T.BenchmarkError, match="has no column 'cifar100_xtest_acc'"):
        T.truth_accuracy(df.drop(columns="cifar100_xtest_acc"), "cifar100")


def test_validate_truth_checks_values_and_derived_columns():
    df = T.build_truth_table({i: expected(i) for i in SOME})
    out = T.validate_truth(df, subset=True)
    assert out.shape == (len(SOME), len(T.TRUTH_COLUMNS))
    with pytest.raises(T.BenchmarkError, match="covers 5 of the 15625"):
        T.validate_truth(df)
    bad = df.copy()
    bad.loc[1, "cifar10_test_acc"] = 0.9337 * 1000
    with pytest.raises(T.BenchmarkError, match="is 933.7; an accuracy in percent in 0..100 is expected"):
        T.validate_truth(bad, subset=True)
    bad = df.copy()
    bad["op_e12"] = (bad["op_e12"] + 1) % 5
    with pytest.raises(T.BenchmarkError, match="column 'op_e12' row 0 \\(index 0\\)"):
        T.validate_truth(bad, subset=True)
    bad = df.copy()
    bad.loc[7, "iso_id"] = 99999
    with pytest.raises(T.BenchmarkError, match="'iso_id' row 2 \\(index 7\\) is 99999"):
        T.validate_truth(bad, subset=True)
    slim = df[["arch_str", *T.ACC_COLUMNS]]  # derived columns are filled in
    assert T.validate_truth(slim, subset=True)["unique_str"].tolist() == [space.unique_strs()[i] for i in SOME]
    only_c10 = df[["index", "cifar10_test_acc"]]
    assert "cifar10_test_acc" in T.validate_truth(only_c10, subset=True, datasets=["cifar10"]).columns
    with pytest.raises(T.BenchmarkError, match=r"lacks column\(s\) \['cifar100_xtest_acc', 'imagenet16_120_xtest_acc'\]"):
        T.validate_truth(only_c10, subset=True)


def test_scores_vs_truth_pairs_by_index():
    truth = T.build_truth_table({i: expected(i) for i in SOME})
    table = align_to_space(pd.DataFrame({"arch_str": [META[123], META[0]], "ws": [0.5, np.nan]}))
    s = T.scores_vs_truth(table, "ws", truth, "cifar100")
    assert s["index"].tolist() == [0, 123]
    assert s["true"].tolist() == [expected(0)["cifar100_xtest_acc"], expected(123)["cifar100_xtest_acc"]]
    assert np.isnan(s.loc[0, "pred"]) and s.loc[123, "pred"] == 0.5
    assert s["degenerate"].tolist() == [bool(space.degenerate_mask()[0]), bool(space.degenerate_mask()[123])]
    far = align_to_space(pd.DataFrame({"index": [5], "ws": [1.0]}))
    with pytest.raises(T.BenchmarkError, match="no row for 1 architecture"):
        T.scores_vs_truth(far, "ws", truth)


# ----------------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def real_truth(data_file):
    path = data_file("nb201/nb201_truth.csv.gz")
    return path, pd.read_csv(path)


def test_real_truth_loads_and_validates(real_truth):
    path, _ = real_truth
    df = T.load_truth(path)
    assert df.shape == (NUM_ARCHS, len(T.TRUTH_COLUMNS))
    assert (df["index"].to_numpy() == np.arange(NUM_ARCHS)).all() and (df.index == np.arange(NUM_ARCHS)).all()
    assert round(df["cifar10_test_acc"].max(), 2) == 94.37
    assert round(T.truth_accuracy(df, "cifar100").max(), 2) == 73.51
    assert round(T.truth_accuracy(df, "ImageNet16-120").max(), 2) == 47.31
    assert df["iso_id"].nunique() == 6466


def test_real_truth_corrupt_copies_fail_clearly(real_truth, tmp_path):
    path, raw = real_truth
    with pytest.raises(T.BenchmarkError, match=r"lacks column\(s\) \['cifar100_xtest_acc'\]; expected \['index', 'arch_str'"):
        T.load_truth(write_csv(raw.drop(columns="cifar100_xtest_acc"), tmp_path / "a.csv.gz"))
    swapped = raw.copy()  # two rows exchanged, index column left as it was
    swapped.iloc[[10, 20], 1:] = raw.iloc[[20, 10], 1:].to_numpy()
    with pytest.raises(T.BenchmarkError, match="wrong index order: row 10 has index 10 but arch_str .* official index 20.* 2 of 15625 rows"):
        T.load_truth(write_csv(swapped, tmp_path / "b.csv.gz"))
    garbage = raw.copy()
    garbage.loc[5, "arch_str"] = "|nor_conv_3x3~0|+|nor_conv_3x3~0|"
    with pytest.raises(T.BenchmarkError, match="row 5 has an arch_str that is not a NAS-Bench-201 cell"):
        T.load_truth(write_csv(garbage, tmp_path / "c.csv.gz"))
    nan = raw.copy()
    nan.loc[7, "imagenet16_120_xtest_acc"] = np.nan
    with pytest.raises(T.BenchmarkError, match="'imagenet16_120_xtest_acc' has 1 NaN value\\(s\\), first at row 7 \\(index 7: nan\\)"):
        T.load_truth(write_csv(nan, tmp_path / "d.csv.gz"))
    # whole rows in another order are fine: they are sorted back (each row is self-consistent)
    shuffled = raw.sample(frac=1.0, random_state=np.random.default_rng(0).integers(1 << 31))
    df = T.load_truth(write_csv(shuffled, tmp_path / "e.csv.gz"))
    np.testing.assert_array_equal(df["cifar10_test_acc"].to_numpy(), raw["cifar10_test_acc"].to_numpy())


def test_real_ws_table_pairs_with_truth(data_file, real_truth):
    ws = read_arch_table(data_file("nb201/nb201_ws_oneshot.csv.gz"), ["ws_acc"])
    truth = T.load_truth(real_truth[0])
    s = T.scores_vs_truth(ws, "ws_acc", truth, "cifar10")
    assert kendall_tau(s["pred"].to_numpy(), s["true"].to_numpy()) == pytest.approx(0.485, abs=0.002)
