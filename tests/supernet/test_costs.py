"""Params / FLOPs of stand-alone networks, the vectorised whole-space table, latency."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from supernet.costs import count_flops, count_params, measure_latency, space_costs
from supernet.network import StandaloneNet
from supernet.space import Arch, all_archs, degenerate_mask, ops_matrix

DEAD_SINKS = Arch.from_str("|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|none~1|none~2|")
DEGENERATE = Arch.from_str("|nor_conv_3x3~0|+|none~0|avg_pool_3x3~1|+|none~0|none~1|none~2|")
ALL_CONV = Arch.from_ops(["nor_conv_3x3"] * 6)
ALL_NONE = Arch.from_ops(["none"] * 6)


def _counts() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m = ops_matrix()
    return (m == 3).sum(1), (m == 2).sum(1), (m == 4).sum(1)


def _sample(n: int, seed: int) -> list[Arch]:
    rng = np.random.default_rng(seed)
    archs = all_archs()
    deg = np.flatnonzero(degenerate_mask())
    idx = list(rng.choice(len(archs), n, replace=False)) + list(rng.choice(deg, 3, replace=False))
    return [archs[i] for i in idx] + [DEAD_SINKS, DEGENERATE, ALL_CONV, ALL_NONE]


# ----------------------------------------------------------------------------- params
def test_params_formula_for_all_archs() -> None:
    n3, n1, _ = _counts()
    df = space_costs()
    assert list(df.columns) == ["index", "params_m", "flops_m"] and len(df) == 15625
    assert np.array_equal(df["index"].to_numpy(), np.arange(15625))
    assert np.array_equal(df["params_m"].to_numpy(), (73306 + 243040 * n3 + 28000 * n1) / 1e6)


@pytest.mark.parametrize("arch", [DEAD_SINKS, DEGENERATE, ALL_CONV, Arch.from_index(0)])
def test_count_params_equals_real_module(arch: Arch) -> None:
    net = StandaloneNet(arch)  # a real CPU network, not the meta one count_params builds
    assert count_params(arch) == sum(p.numel() for p in net.parameters())
    assert count_params(arch) == 73306 + 243040 * arch.count("nor_conv_3x3") + 28000 * arch.count("nor_conv_1x1")


def test_dead_edges_option() -> None:
    # DEAD_SINKS: conv3x3 on (0,1) and conv1x1 on (0,2) are dead; the live path is one skip.
    assert count_params(DEAD_SINKS) == 73306 + 243040 + 28000
    assert count_params(DEAD_SINKS, dead_edges=False) == 73306
    assert count_flops(DEAD_SINKS, dead_edges=False) == count_flops(ALL_NONE)
    assert count_flops(DEAD_SINKS) == 7_783_050 + 35_389_440 + 3_932_160
    assert count_params(DEGENERATE, dead_edges=False) == 73306
    assert count_params(ALL_CONV, dead_edges=False) == count_params(ALL_CONV)


# ----------------------------------------------------------------------------- FLOPs
def test_flops_by_hand() -> None:
    # stem 3*16*9*32*32 = 442,368; each reduction block 3,670,016; classifier 64*10 + 10 bias
    assert count_flops(ALL_NONE) == 442_368 + 2 * 3_670_016 + 650
    # a 3x3 conv edge: 9*C^2*HW per cell = 2,359,296 at every stage, 15 cells
    assert count_flops(ALL_CONV) - count_flops(ALL_NONE) == 6 * 15 * 2_359_296
    assert count_flops(ALL_NONE, resolution=16) == (442_368 + 2 * 3_670_016) // 4 + 650
    assert count_flops(ALL_NONE, num_classes=100) == 442_368 + 2 * 3_670_016 + 6500
    with pytest.raises(ValueError, match="convention"):
        count_flops(ALL_NONE, convention="thop")


def test_flops_closed_forms_for_all_archs() -> None:
    n3, n1, npool = _counts()
    nb = space_costs(convention="nb201")["flops_m"].to_numpy() * 1e6
    assert np.allclose(nb, 7_783_050 + 35_389_440 * n3 + 3_932_160 * n1, rtol=0, atol=1e-3)
    ns = space_costs(convention="naslib")["flops_m"].to_numpy() * 1e6
    assert np.allclose(ns, 7_943_872 + 35_819_520 * n3 + 4_362_240 * n1 + 1_290_240 * npool, rtol=0, atol=1e-3)
    assert nb.min() == pytest.approx(7.78305e6) and nb.max() == pytest.approx(220.11969e6)


@pytest.mark.parametrize(
    "C,N,num_classes,resolution,convention,dead_edges",
    [
        (16, 5, 10, 32, "nb201", True),
        (16, 5, 10, 32, "nb201", False),
        (16, 5, 10, 32, "naslib", True),
        (16, 5, 10, 32, "naslib", False),
        (8, 2, 100, 16, "nb201", False),
        (8, 2, 120, 16, "naslib", True),
    ],
)
def test_space_costs_equal_module_counts(C, N, num_classes, resolution, convention, dead_edges) -> None:
    df = space_costs(C, N, num_classes, resolution, convention, dead_edges)
    for a in _sample(8, seed=C + N + int(dead_edges)):
        row = df.iloc[a.index]
        assert row["params_m"] * 1e6 == pytest.approx(count_params(a, C, N, num_classes, dead_edges), abs=1e-6)
        f = count_flops(a, C, N, num_classes, resolution, convention, dead_edges)
        assert row["flops_m"] * 1e6 == pytest.approx(f, abs=1e-6), a.to_str()


def test_flops_agree_with_naslib_subset(data_file) -> None:
    z = pd.read_csv(data_file("nb201/nb201_naslib_zc_subset.csv.gz"))
    setups = {"cifar10": (10, 32), "cifar100": (100, 32), "ImageNet16-120": (120, 16)}
    assert set(z["dataset"]) == set(setups)
    for ds, (nc, res) in setups.items():
        sub = z[z["dataset"] == ds]
        idx = sub["index"].to_numpy()
        assert [Arch.from_index(int(i)).to_str() for i in idx[:50]] == list(sub["arch_str"][:50])
        ns = space_costs(num_classes=nc, resolution=res, convention="naslib").iloc[idx]
        np.testing.assert_allclose(ns["flops_m"].to_numpy(), sub["flops_M"].to_numpy(), rtol=0, atol=1e-6)
        np.testing.assert_allclose(ns["params_m"].to_numpy(), sub["params_M"].to_numpy(), rtol=0, atol=1e-9)
        # the NB201 MAC count leaves out BN, ReLU and pooling, so it is never larger
        nb = space_costs(num_classes=nc, resolution=res, convention="nb201").iloc[idx]
        assert (nb["flops_m"].to_numpy() < sub["flops_M"].to_numpy()).all()
    assert len(z[z["dataset"] == "cifar10"]) == 724


# ----------------------------------------------------------------------------- latency
def test_measure_latency_small() -> None:
    threads = torch.get_num_threads()
    r = measure_latency(ALL_CONV, C=4, N=1, batch_size=2, threads=1, warmup=1, repeats=3)
    assert torch.get_num_threads() == threads
    assert {"median_ms", "mean_ms", "std_ms", "min_ms", "p90_ms", "batch_size", "threads", "device"} <= set(r)
    assert 0 < r["min_ms"] <= r["median_ms"] <= r["p90_ms"] and r["batch_size"] == 2 and r["threads"] == 1
    with pytest.raises(ValueError):
        measure_latency(ALL_CONV, repeats=0)
