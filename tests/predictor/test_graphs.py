"""Graph encodings: skeleton, pruning, degenerate and isomorphic cells, dense vs PyG agreement."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from predictor import graphs as G
from supernet.space import NUM_ARCHS, OPS, Arch, all_archs, degenerate_mask, iso_ids


def _reach(adj: torch.Tensor) -> torch.Tensor:
    """bool[B, N, N]: reach[b, dst, src] = a directed path src -> dst exists (or dst == src)."""
    n = adj.shape[-1]
    r = (adj > 0) | torch.eye(n, dtype=torch.bool)
    for _ in range(n):
        r = r | ((r.float() @ r.float()) > 0)
    return r


def test_skeleton_is_the_cell_dag():
    sk = G.SKELETON_EDGES
    assert len(sk) == 10
    src = [s for s, _ in sk]
    dst = [d for _, d in sk]
    assert src.count(0) == 3 and dst.count(G.NUM_NODES - 1) == 3  # input feeds 3 ops, output reads 3
    assert all(s < d for s, d in sk)  # node ids are a topological order
    # op (0,1) = node 1 feeds the ops on (1,2) and (1,3) = nodes 3 and 5
    assert (1, 3) in sk and (1, 5) in sk and (1, 6) not in sk


def test_node_types_follow_ops():
    a = Arch.from_ops(["avg_pool_3x3", "nor_conv_1x1", "skip_connect", "nor_conv_3x3", "skip_connect", "skip_connect"])
    d = G.arch_to_data(a)
    types = [G.NODE_TYPES[i] for i in d.x.argmax(1).tolist()]
    assert types == ["input", *a.ops, "output"]
    assert d.x.sum().item() == G.NUM_NODES  # one-hot rows
    assert d.edge_index.shape == (2, 10)  # no none op: full skeleton
    assert int(d.index) == a.index


def test_prune_makes_dead_edges_none():
    # (0,1) conv feeds nothing (edges (1,2), (1,3) are none): dead, so it encodes like none
    dead = Arch.from_ops(["nor_conv_3x3", "nor_conv_3x3", "none", "skip_connect", "none", "nor_conv_1x1"])
    same = Arch.from_ops(["none", "nor_conv_3x3", "none", "skip_connect", "none", "nor_conv_1x1"])
    a, b = G.arch_to_data(dead), G.arch_to_data(same)
    assert torch.equal(a.x, b.x) and torch.equal(a.edge_index, b.edge_index)
    raw = G.arch_to_data(dead, prune=False)
    assert not torch.equal(raw.x, b.x)
    assert raw.edge_index.shape[1] > a.edge_index.shape[1]


@pytest.mark.parametrize("prune", [True, False])
def test_dense_space_matches_single_graphs(prune):
    x, adj = G.dense_space(prune)
    assert x.shape == (NUM_ARCHS, 8, len(G.NODE_TYPES)) and adj.shape == (NUM_ARCHS, 8, 8)
    for i in np.random.default_rng(0).choice(NUM_ARCHS, 40, replace=False):
        d = G.arch_to_data(int(i), prune=prune)
        assert torch.equal(x[i], d.x)
        dense_edges = sorted(zip(*[t.tolist() for t in adj[i].nonzero(as_tuple=True)[::-1]]))
        assert dense_edges == sorted(map(tuple, d.edge_index.t().tolist()))


def test_degenerate_cells_have_no_input_output_path():
    _, adj = G.dense_space(prune=True)
    path = _reach(adj)[:, G.NUM_NODES - 1, 0].numpy()
    deg = degenerate_mask()
    assert deg.sum() == 341
    assert np.array_equal(~path, deg)
    # none nodes lose their edges with or without pruning, so the marking holds for prune=False too
    _, adj_raw = G.dense_space(prune=False)
    assert np.array_equal(~_reach(adj_raw)[:, G.NUM_NODES - 1, 0].numpy(), deg)


def test_canonical_indices_share_one_graph_per_iso_class():
    can = G.canonical_indices()
    iso = iso_ids()
    assert np.unique(can).size == np.unique(iso).size == 6466
    assert np.array_equal(iso[can], iso)  # representative is in the same class
    assert (can <= np.arange(NUM_ARCHS)).all()  # the smallest member
    # members of a class that differ only in dead edges get one graph even without canonical
    x, adj = G.dense_space(prune=True)
    deg = np.flatnonzero(degenerate_mask())
    assert np.unique(can[deg]).size > 1  # the benchmark's rule splits the degenerate cells...
    assert (x[deg] == x[deg[0]]).all() and adj[deg].sum() == 0  # ...pruning makes them one graph


def test_space_batch_is_the_dense_space():
    b = G.space_batch()
    _, adj = G.dense_space()
    assert b.num_graphs == NUM_ARCHS
    assert b.x.shape == (NUM_ARCHS * 8, len(G.NODE_TYPES))
    assert b.edge_index.shape[1] == int(adj.sum())
    # graph 7's edges live in node range 56..63
    e = b.edge_index[:, (b.edge_index[0] >= 56) & (b.edge_index[0] < 64)] - 56
    assert sorted(map(tuple, e.t().tolist())) == sorted(map(tuple, G.arch_to_data(7).edge_index.t().tolist()))


def test_edge_encoding_matches_dense():
    x, adj = G.dense_space_edge()
    assert adj.shape == (NUM_ARCHS, 4, 4, 4)
    for i in np.random.default_rng(1).choice(NUM_ARCHS, 30, replace=False):
        d = G.arch_to_edge_data(int(i))
        b, dst, src = adj[i].nonzero(as_tuple=True)
        got = sorted(zip(src.tolist(), dst.tolist(), (b + 1).tolist()))
        want = sorted(zip(d.edge_index[0].tolist(), d.edge_index[1].tolist(), d.edge_type.tolist()))
        assert got == want
        assert all(t in (1, 2, 3, 4) for t in d.edge_type.tolist())


def test_graph_features():
    idx = np.array([0, 1, 2, 100])
    F = G.graph_features(idx, ["params", "counts", "skip_io", "degenerate"])
    assert F.shape == (4, 1 + 5 + 1 + 1)
    for row, i in zip(F, idx):
        a = all_archs()[i]
        want = (73306 + 243040 * a.count("nor_conv_3x3") + 28000 * a.count("nor_conv_1x1")) / 1e6
        assert row[0] == pytest.approx(want, abs=1e-9)
        assert row[1:6].tolist() == [a.count(op) for op in OPS]
        assert row[6] == float(a.op_on(0, 3) == "skip_connect")
        assert row[7] == float(a.is_degenerate)
    with pytest.raises(ValueError, match="unknown graph feature"):
        G.graph_features(idx, ["latency"])
    # dead edges count as none in live_counts: none can only grow, every other op only shrink
    live = G.graph_features(np.arange(NUM_ARCHS), ["live_counts"])
    raw = G.op_counts(np.arange(NUM_ARCHS))
    assert (live[:, 0] >= raw[:, 0]).all() and (live[:, 1:] <= raw[:, 1:]).all()
    assert (live.sum(1) == 6).all() and (live != raw).any()
