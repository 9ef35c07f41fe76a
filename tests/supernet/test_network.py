"""NB201 ops, the supernet's single-path / mixed forwards and the stand-alone network."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from supernet.network import Cell, StandaloneNet, SuperNet, all_edges_plan, single_path_plan, stage_channels
from supernet.ops import AvgPool2dExcludePad, AvgPool3x3, ReLUConvBN, ResNetBasicblock, Zero, make_op
from supernet.space import EDGES, OPS, Arch, all_archs, degenerate_mask

SMALL = dict(C=4, N=1, num_classes=5)
# Dead edges: (0,1) and (0,2) feed nodes whose outputs go nowhere; only (0,3) skip is live.
DEAD_SINKS = Arch.from_str("|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|none~1|none~2|")
# Dead sources: node 1 is zero, so (1,2), (1,3) and (2,3) are dead; only (0,3) conv1x1 is live.
DEAD_SOURCES = Arch.from_str("|none~0|+|none~0|nor_conv_3x3~1|+|nor_conv_1x1~0|avg_pool_3x3~1|nor_conv_3x3~2|")
DEGENERATE = Arch.from_str("|nor_conv_3x3~0|+|none~0|avg_pool_3x3~1|+|none~0|none~1|none~2|")
FULL = Arch.from_str("|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|")


def _sample_archs(n: int, seed: int) -> list[Arch]:
    rng = np.random.default_rng(seed)
    archs = all_archs()
    return [archs[i] for i in rng.choice(len(archs), n, replace=False)]


def _x(B: int = 4, H: int = 16, seed: int = 0) -> torch.Tensor:
    return torch.randn(B, 3, H, H, generator=torch.Generator().manual_seed(seed))


# ----------------------------------------------------------------------------- ops
def test_relu_conv_bn_definition() -> None:
    m = ReLUConvBN(8, 8, 3, affine=False, track_running_stats=False)
    relu, conv, bn = m.op
    assert isinstance(relu, nn.ReLU) and not relu.inplace
    assert conv.bias is None and conv.kernel_size == (3, 3) and conv.padding == (1, 1)
    assert bn.weight is None and bn.running_mean is None
    assert ReLUConvBN(8, 8, 1).op[1].padding == (0, 0)
    assert ReLUConvBN(8, 8, 1).op[2].weight is not None  # affine by default


def test_avg_pool_excludes_padding_and_has_no_projection() -> None:
    m = AvgPool3x3(6, 6)
    assert m.preprocess is None and len(list(m.parameters())) == 0
    y = m(torch.ones(1, 6, 5, 5))
    assert torch.equal(y, torch.ones(1, 6, 5, 5))  # corners would be 4/9 if padding counted
    assert AvgPool3x3(6, 8).preprocess is not None


@pytest.mark.parametrize("shape", [(2, 16, 32, 32), (3, 5, 7, 9), (1, 2, 1, 1), (2, 3, 2, 5)])
def test_fast_avg_pool_equals_pytorch_forward_and_backward(shape) -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(*shape, generator=g, dtype=torch.float64, requires_grad=True)
    gy = torch.randn(*shape, generator=g, dtype=torch.float64)
    y = AvgPool2dExcludePad(3)(x)
    (gx,) = torch.autograd.grad(y, x, gy)
    ref_y = nn.functional.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
    (ref_gx,) = torch.autograd.grad(ref_y, x, gy)
    torch.testing.assert_close(y, ref_y, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(gx, ref_gx, rtol=1e-12, atol=1e-12)
    assert isinstance(AvgPool3x3(4, 4).op, nn.AvgPool2d)  # FLOP counters still see a pooling layer
    y2 = AvgPool2dExcludePad(3, stride=2)(x.detach())  # strided: PyTorch's own kernel
    assert torch.equal(y2, nn.functional.avg_pool2d(x.detach(), 3, 2, 1, count_include_pad=False))


def test_zero_and_identity_and_unknown() -> None:
    x = torch.randn(2, 4, 6, 6)
    assert make_op("skip_connect", 4, 4)(x) is x
    z = make_op("none", 4, 4)
    assert isinstance(z, Zero) and torch.equal(z(x), torch.zeros_like(x))
    assert Zero(4, 8, 2)(x).shape == (2, 8, 3, 3)
    with pytest.raises(ValueError, match="unknown operation"):
        make_op("sep_conv_3x3", 4, 4)
    with pytest.raises(ValueError, match="skip_connect"):
        make_op("skip_connect", 4, 8, 2)


def test_resnet_reduction_block() -> None:
    m = ResNetBasicblock(16, 32, 2)
    assert isinstance(m.downsample[0], nn.AvgPool2d) and m.downsample[1].kernel_size == (1, 1)
    assert m.downsample[1].bias is None
    # conv_a 3*3*16*32 + BN 64, conv_b 3*3*32*32 + BN 64, shortcut 16*32 (no BN)
    assert sum(p.numel() for p in m.parameters()) == 4608 + 64 + 9216 + 64 + 512
    x = torch.randn(2, 16, 8, 8)
    assert m(x).shape == (2, 32, 4, 4)
    m.eval()
    assert torch.allclose(m(x), m.downsample(x) + m.conv_b(m.conv_a(x)))


# ----------------------------------------------------------------------------- skeleton
def test_skeleton_layout() -> None:
    assert stage_channels(16, 2) == [(16, False)] * 2 + [(32, True)] + [(32, False)] * 2 + [(64, True)] + [(64, False)] * 2
    net = SuperNet(C=8, N=2, num_classes=7)
    assert sum(isinstance(m, Cell) for m in net.cells) == 6
    assert sum(isinstance(m, ResNetBasicblock) for m in net.cells) == 2
    assert net.stem[0].out_channels == 8 and net.classifier.in_features == 32 and net.classifier.out_features == 7
    for cell in (m for m in net.cells if isinstance(m, Cell)):
        assert len(cell.edges) == 6 and all(tuple(e.keys()) == OPS for e in cell.edges)


@pytest.mark.parametrize("arch", [FULL, DEAD_SINKS, DEGENERATE])
def test_shapes(arch: Arch) -> None:
    net = SuperNet(**SMALL, seed=0)
    y = net(_x(3, 16), arch)
    assert y.shape == (3, 5) and torch.isfinite(y).all()
    assert StandaloneNet(arch, **SMALL)(_x(2, 8)).shape == (2, 5)


def test_forward_accepts_string_and_index() -> None:
    net = SuperNet(**SMALL, seed=0).eval()
    x = _x()
    a = Arch.from_index(77)
    assert torch.equal(net(x, a), net(x, a.to_str()))
    assert torch.equal(net(x, a), net(x, 77))


def test_seed_is_deterministic_and_leaves_global_rng_alone() -> None:
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = SuperNet(**SMALL, seed=7)
    after = torch.rand(1)
    b = SuperNet(**SMALL, seed=7)
    c = SuperNet(**SMALL, seed=8)
    assert torch.equal(before, after)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)


# ----------------------------------------------------------------------------- work skipping
def _count_calls(net: SuperNet) -> tuple[dict[tuple[int, int, str], int], list]:
    """Hook every edge-op module of every cell: calls per (cell, edge, op)."""
    calls: dict[tuple[int, int, str], int] = {}
    handles = []
    for ci, cell in enumerate(net.cells):
        if not isinstance(cell, Cell):
            continue
        for k, ed in enumerate(cell.edges):
            for name, mod in ed.items():
                key = (ci, k, name)
                calls[key] = 0

                def hook(m, i, o, key=key):
                    calls[key] += 1

                handles.append(mod.register_forward_hook(hook))
    return calls, handles


@pytest.mark.parametrize("arch", [FULL, DEAD_SINKS, DEAD_SOURCES, DEGENERATE])
def test_only_live_ops_are_called(arch: Arch) -> None:
    net = SuperNet(**SMALL, seed=0)
    calls, handles = _count_calls(net)
    net(_x(), arch)
    for h in handles:
        h.remove()
    live = arch.live_edges()
    for (ci, k, name), n in calls.items():
        expected = 1 if (live[k] and name == arch.ops[k]) else 0
        assert n == expected, f"cell {ci} edge {EDGES[k]} op {name}: called {n} times, expected {expected}"
    assert sum(calls.values()) == sum(live) * SMALL["N"] * 3


def test_degenerate_gives_zero_cells_and_constant_logits() -> None:
    net = SuperNet(**SMALL, seed=0).eval()
    outs = []
    handles = [m.register_forward_hook(lambda m, i, o: outs.append(o)) for m in net.cells if isinstance(m, Cell)]
    y1 = net(_x(seed=1), DEGENERATE)
    y2 = net(_x(seed=2), DEGENERATE)
    for h in handles:
        h.remove()
    assert all(torch.count_nonzero(o) == 0 for o in outs) and len(outs) == 6
    assert torch.allclose(y1, y2) and torch.allclose(y1, y1[:1].expand_as(y1))


def _reference_forward(net: SuperNet, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """NAS-Bench-201's way: every op on every edge runs (none = zeros), node j = sum of its edges."""
    x = net.stem(x)
    for m in net.cells:
        if not isinstance(m, Cell):
            x = m(x)
            continue
        nodes = [x]
        for j in range(1, 4):
            acc = torch.zeros_like(x)
            for i in range(j):
                k = EDGES.index((i, j))
                for o, name in enumerate(OPS):
                    out = torch.zeros_like(x) if name == "none" else m.edges[k][name](nodes[i])
                    acc = acc + weights[k, o] * out
            nodes.append(acc)
        x = nodes[3]
    return net.classifier(net.global_pooling(net.lastact(x)).flatten(1))


def _one_hot(arch: Arch) -> torch.Tensor:
    w = torch.zeros(6, 5)
    w[torch.arange(6), torch.tensor(arch.codes)] = 1.0
    return w


@pytest.mark.parametrize("arch", [FULL, DEAD_SINKS, DEAD_SOURCES] + _sample_archs(5, seed=1))
def test_single_path_equals_reference_that_runs_every_edge(arch: Arch) -> None:
    # The searched convention (BN batch stats, no affine): skipping dead edges is exact.
    net = SuperNet(**SMALL, bn_affine=False, track_running_stats=False, seed=0)
    x = _x()
    with torch.no_grad():
        ref = _reference_forward(net, x, _one_hot(arch))
        got = net(x, arch)
    torch.testing.assert_close(got, ref, rtol=1e-4, atol=1e-5)


# ----------------------------------------------------------------------------- mixed forward
@pytest.mark.parametrize("arch", [FULL, DEAD_SOURCES, DEGENERATE] + _sample_archs(4, seed=2))
def test_forward_mixed_one_hot_equals_single_path(arch: Arch) -> None:
    net = SuperNet(**SMALL, seed=0)
    x = _x()
    with torch.no_grad():
        assert torch.equal(net.forward_mixed(x, _one_hot(arch)), net(x, arch))


def test_forward_mixed_weighted_sum_and_gradients() -> None:
    net = SuperNet(**SMALL, seed=0)
    g = torch.Generator().manual_seed(3)
    w = torch.rand(6, 5, generator=g)
    w[2, 3] = 0.0  # a skipped op
    w[4, 1:] = 0.0  # edge (1,3) left with only 'none'
    w.requires_grad_(True)
    x = _x()
    calls, handles = _count_calls(net)
    y = net.forward_mixed(x, w)
    for h in handles:
        h.remove()
    assert all(n == 0 for (ci, k, name), n in calls.items() if name == "none" or (k, name) == (2, "nor_conv_3x3") or k == 4)
    assert all(n == 1 for (ci, k, name), n in calls.items() if name != "none" and k not in (2, 4))
    torch.testing.assert_close(y, _reference_forward(net, x, w.detach()), rtol=1e-4, atol=1e-5)
    y.sum().backward()
    assert w.grad is not None and w.grad.shape == (6, 5)
    assert torch.count_nonzero(w.grad[[0, 1, 3, 5]][:, 1:]) == 16  # every run op gets a gradient
    with pytest.raises(ValueError, match="shape"):
        net.forward_mixed(x, torch.ones(5, 6))


# ----------------------------------------------------------------------------- stand-alone networks
@pytest.mark.parametrize("affine,track", [(False, False), (True, True)])
@pytest.mark.parametrize("arch", [FULL, DEAD_SINKS, DEGENERATE, Arch.from_index(1234)])
def test_extract_equals_supernet_in_eval(arch: Arch, affine: bool, track: bool) -> None:
    net = SuperNet(**SMALL, bn_affine=affine, track_running_stats=track, seed=0)
    with torch.no_grad():  # move BN running stats / affine params off their defaults
        for _ in range(2):
            net(_x(8, seed=5), FULL)
        for p in net.parameters():
            p.add_(0.1 * torch.randn_like(p))
    net.eval()
    sub = net.extract(arch)
    assert isinstance(sub, StandaloneNet) and not sub.training and sub.arch == arch
    assert set(sub.state_dict()) <= set(net.state_dict())
    x = _x(seed=9)
    with torch.no_grad():
        assert torch.equal(sub(x), net(x, arch))
    # a copy, not shared storage
    with torch.no_grad():
        next(sub.parameters()).add_(1.0)
    assert not torch.equal(next(sub.parameters()), next(net.parameters()))


def test_standalone_holds_dead_edge_modules_and_runs_them_on_request() -> None:
    net = StandaloneNet(DEAD_SINKS, **SMALL)
    cell = next(m for m in net.cells if isinstance(m, Cell))
    assert [tuple(e.keys()) for e in cell.edges] == [("nor_conv_3x3",), ("nor_conv_1x1",), (), ("skip_connect",), (), ()]
    called = []
    h = cell.edges[0]["nor_conv_3x3"].register_forward_hook(lambda m, i, o: called.append(1))
    net(_x())
    assert called == []
    net(_x(), all_edges=True)
    h.remove()
    assert called == [1]
    assert single_path_plan(DEAD_SINKS) == ((0, 3, 3, "skip_connect"),)
    assert len(all_edges_plan(DEAD_SINKS)) == 3


@pytest.mark.parametrize("arch", [FULL, DEAD_SINKS, DEGENERATE, Arch.from_index(1234), Arch.from_index(9001)])
def test_reinit_standalone_equals_a_fresh_standalone_net(arch: Arch) -> None:
    """The supernet's copy of an architecture, re-initialised from a seed, is bit for bit the stand-alone
    network built with that seed (its modules, their names, order, weights and buffers), and so is its
    all-edges forward; it works after other architectures have been drawn into the same supernet."""
    sup = SuperNet(**SMALL, bn_affine=True, track_running_stats=True).train()
    sup.reinit_standalone(FULL, 3)  # leave other values behind first
    sup.reinit_standalone(arch, 7)
    ref = StandaloneNet(arch, **SMALL, seed=7).train()
    names = dict(zip(map(id, sup.modules()), (n for n, _ in sup.named_modules())))
    assert [names[id(m)] for m in sup.standalone_modules(arch)] == [n for n, _ in ref.named_modules()]
    own = sup.state_dict()
    for k, v in ref.state_dict().items():
        assert torch.equal(own[k], v), k
    x = _x(seed=4)
    with torch.no_grad():
        assert torch.equal(sup(x, arch, all_edges=True), ref(x, all_edges=True))
        assert torch.equal(sup(x, arch), ref(x))


def test_degenerate_count_matches_space() -> None:
    # the single-path plan is empty exactly for the 341 degenerate cells
    empty = np.array([not single_path_plan(a) for a in all_archs()])
    assert np.array_equal(empty, degenerate_mask()) and empty.sum() == 341
