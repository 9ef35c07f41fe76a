"""Architecture -> graph encodings, and the whole space as one prebuilt batch.

Two encodings of a NAS-Bench-201 cell:

* **node-as-op** (the default, as in the GCN-predictor paper): 8 nodes — the cell input (node 0), one
  node per edge operation in :data:`~supernet.space.EDGES` order (nodes 1..6) and the cell output
  (node 7).  Node features are one-hot over :data:`NODE_TYPES` (``input``, the 5 ops, ``output``).  A
  directed edge ``u -> v`` means "the result of ``u`` is an input of ``v``": the input feeds the ops on
  edges leaving cell node 0, the op on edge ``(i, j)`` feeds every op on an edge leaving cell node ``j``
  and, when ``j`` is 3, the output.  The skeleton has 10 directed edges; it is the same for every cell.
* **edge-as-op**: the cell's own 4 nodes (one-hot position) with one directed edge per non-``none``
  operation, its op as ``edge_type`` (1..4 = skip, conv1x1, conv3x3, pool; code 0 ``none`` is absent).

``prune=True`` (the default) removes what cannot influence the cell output: the node of every edge that
is not on an input -> output path (:meth:`Arch.live_edges`) is relabelled ``none`` and loses all its
graph edges.  Cells that differ only in dead edges then encode identically, and a degenerate cell
(output disconnected from the input, 341 cells) has no path from node 0 to node 7 — the encoding marks
it structurally.  :func:`canonical_indices` maps every cell to the first member of its isomorphism class,
so an encoder fed those indices gives isomorphic cells the very same graph.

Whole-space tensors are built vectorised once and cached (read-only): :func:`dense_space` gives node
features ``[15625, 8, 7]`` and adjacency ``[15625, 8, 8]`` for the fast batched-matmul path,
:func:`space_batch` the same graphs as one PyG :class:`~torch_geometric.data.Batch`.
"""

from __future__ import annotations

import functools
from typing import Sequence

import numpy as np
import torch
from torch_geometric.data import Batch, Data

from supernet.costs import space_costs

from supernet.space import (
    EDGES,
    NUM_ARCHS,
    NUM_EDGES,
    NUM_OPS,
    OPS,
    Arch,
    degenerate_mask,
    iso_ids,
    ops_matrix,
    parse_arch,
)

__all__ = [
    "NODE_TYPES",
    "NUM_NODES",
    "SKELETON_EDGES",
    "live_matrix",
    "canonical_indices",
    "node_types",
    "arch_to_data",
    "dense_space",
    "space_batch",
    "batch_from_dense",
    "arch_to_edge_data",
    "dense_space_edge",
    "op_counts",
    "onehot_ops",
    "graph_features",
    "GRAPH_FEATURES",
]


NODE_TYPES: tuple[str, ...] = ("input", *OPS, "output")
"""Node-feature columns of the node-as-op encoding."""
NUM_NODES = NUM_EDGES + 2  # input, 6 ops, output
_INPUT, _OUTPUT = 0, NUM_NODES - 1
_NONE_TYPE = 1 + OPS.index("none")


def _skeleton() -> tuple[tuple[int, int], ...]:
    """Directed (src_node, dst_node) pairs of the node-as-op graph (same for every cell)."""
    out = []
    for k, (i, j) in enumerate(EDGES):
        node = 1 + k
        if i == 0:
            out.append((_INPUT, node))
        else:
            out.extend((1 + m, node) for m, (_, d) in enumerate(EDGES) if d == i)
        if j == 3:
            out.append((node, _OUTPUT))
    return tuple(sorted(out))


SKELETON_EDGES: tuple[tuple[int, int], ...] = _skeleton()
"""The 10 directed edges ``(src, dst)`` of the node-as-op skeleton, node ids as described above."""
_SK = np.asarray(SKELETON_EDGES, dtype=np.int64)  # [10, 2]


@functools.lru_cache(maxsize=1)
def live_matrix() -> np.ndarray:
    """bool[15625, 6]: per architecture and edge, is the edge on an input -> output path."""
    a = ops_matrix() != 0  # active edges, [15625, 6] in EDGES order (0,1),(0,2),(1,2),(0,3),(1,3),(2,3)
    fwd1 = a[:, 0]  # node reachable from the input
    fwd2 = a[:, 1] | (fwd1 & a[:, 2])
    bwd2 = a[:, 5]  # node reaches the output
    bwd1 = a[:, 4] | (a[:, 2] & bwd2)
    m = np.stack(
        [a[:, 0] & bwd1, a[:, 1] & bwd2, a[:, 2] & fwd1 & bwd2, a[:, 3], a[:, 4] & fwd1, a[:, 5] & fwd2], axis=1
    )
    m.setflags(write=False)
    return m


@functools.lru_cache(maxsize=1)
def canonical_indices() -> np.ndarray:
    """int64[15625]: for every official index, the smallest index of its isomorphism class."""
    iso = iso_ids()
    first = np.full(int(iso.max()) + 1, NUM_ARCHS, dtype=np.int64)
    np.minimum.at(first, iso, np.arange(NUM_ARCHS, dtype=np.int64))
    out = first[iso]
    out.setflags(write=False)
    return out


def node_types(indices: np.ndarray, prune: bool = True) -> np.ndarray:
    """int64[n, 8]: node type (position in :data:`NODE_TYPES`) of every node of the given cells."""
    idx = np.asarray(indices, dtype=np.int64)
    codes = ops_matrix()[idx].astype(np.int64)
    if prune:
        codes = np.where(live_matrix()[idx], codes, 0)
    t = np.empty((idx.size, NUM_NODES), dtype=np.int64)
    t[:, _INPUT] = 0
    t[:, 1:-1] = 1 + codes
    t[:, _OUTPUT] = len(NODE_TYPES) - 1
    return t


def _edge_keep(types: np.ndarray) -> np.ndarray:
    """bool[n, 10]: which skeleton edges exist (an edge touching a ``none`` node is dropped)."""
    src_t = types[:, _SK[:, 0]]
    dst_t = types[:, _SK[:, 1]]
    return (src_t != _NONE_TYPE) & (dst_t != _NONE_TYPE)


# ---------------------------------------------------------------------- node-as-op
def arch_to_data(arch: "Arch | str | int | Sequence[str | int]", prune: bool = True) -> Data:
    """One cell as a PyG graph: ``x`` float[8, 7] one-hot node types, ``edge_index`` long[2, E] (src, dst).

    ``index`` holds the official index.  With ``prune`` dead op nodes become ``none`` and isolated.
    """
    a = parse_arch(arch)
    t = node_types(np.array([a.index]), prune=prune)
    keep = _edge_keep(t)[0]
    x = torch.zeros(NUM_NODES, len(NODE_TYPES))
    x[torch.arange(NUM_NODES), torch.from_numpy(t[0])] = 1.0
    edge_index = torch.from_numpy(_SK[keep].T.copy())
    return Data(x=x, edge_index=edge_index, num_nodes=NUM_NODES, index=torch.tensor([a.index]))


@functools.lru_cache(maxsize=4)
def dense_space(prune: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """The whole space, node-as-op, as dense tensors (cached, do not modify).

    Returns ``x`` float32[15625, 8, 7] (one-hot node types) and ``adj`` float32[15625, 8, 8] with
    ``adj[b, dst, src] = 1`` for every directed edge ``src -> dst`` of cell ``b`` (official index order).
    """
    t = node_types(np.arange(NUM_ARCHS), prune=prune)
    x = torch.nn.functional.one_hot(torch.from_numpy(t), len(NODE_TYPES)).float()
    keep = torch.from_numpy(_edge_keep(t)).float()  # [n, 10]
    adj = torch.zeros(NUM_ARCHS, NUM_NODES, NUM_NODES)
    adj[:, _SK[:, 1], _SK[:, 0]] = keep
    return x, adj


def batch_from_dense(x: torch.Tensor, adj: torch.Tensor) -> Batch:
    """A PyG :class:`Batch` from dense node features ``[B, N, F]`` and adjacency ``[B, N, N]`` (dst, src)."""
    B, N, F = x.shape
    b, dst, src = adj.nonzero(as_tuple=True)
    edge_index = torch.stack([b * N + src, b * N + dst])
    batch = torch.arange(B).repeat_interleave(N)
    return Batch(
        x=x.reshape(B * N, F),
        edge_index=edge_index,
        batch=batch,
        ptr=torch.arange(0, (B + 1) * N, N),
        _num_graphs=B,
    )


@functools.lru_cache(maxsize=2)
def space_batch(prune: bool = True) -> Batch:
    """All 15,625 node-as-op graphs as one PyG :class:`Batch` (graph ``b`` = official index ``b``; cached)."""
    x, adj = dense_space(prune)
    return batch_from_dense(x, adj)


# ---------------------------------------------------------------------- edge-as-op
def arch_to_edge_data(arch: "Arch | str | int | Sequence[str | int]", prune: bool = True) -> Data:
    """One cell, edge-as-op: ``x`` float[4, 4] one-hot node position, ``edge_index`` long[2, E] over the
    non-``none`` (with ``prune``: live) edges, ``edge_type`` long[E] = official op code (1..4)."""
    a = parse_arch(arch)
    live = a.live_edges() if prune else tuple(c != 0 for c in a.codes)
    keep = [k for k in range(NUM_EDGES) if live[k] and a.codes[k] != 0]
    ei = torch.tensor([[EDGES[k][0] for k in keep], [EDGES[k][1] for k in keep]], dtype=torch.long).reshape(2, -1)
    return Data(
        x=torch.eye(4),
        edge_index=ei,
        edge_type=torch.tensor([a.codes[k] for k in keep], dtype=torch.long),
        num_nodes=4,
        index=torch.tensor([a.index]),
    )


@functools.lru_cache(maxsize=2)
def dense_space_edge(prune: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """The whole space, edge-as-op: ``x`` float32[15625, 4, 4] and per-op adjacency
    ``adj`` float32[15625, 4, 4, 4] (batch, op code - 1, dst, src); cached, do not modify."""
    codes = ops_matrix().astype(np.int64)
    if prune:
        codes = np.where(live_matrix(), codes, 0)
    adj = torch.zeros(NUM_ARCHS, NUM_OPS - 1, 4, 4)
    for k, (i, j) in enumerate(EDGES):
        c = torch.from_numpy(codes[:, k])
        rows = torch.nonzero(c > 0).squeeze(1)
        adj[rows, c[rows] - 1, j, i] = 1.0
    x = torch.eye(4).expand(NUM_ARCHS, 4, 4).contiguous()
    return x, adj


# ---------------------------------------------------------------------- flat features
def onehot_ops(indices: np.ndarray, prune: bool = False) -> np.ndarray:
    """float64[n, 30]: one-hot op per edge (edge-major, official op order)."""
    codes = ops_matrix()[np.asarray(indices, dtype=np.int64)].astype(np.int64)
    if prune:
        codes = np.where(live_matrix()[np.asarray(indices, dtype=np.int64)], codes, 0)
    return np.eye(NUM_OPS)[codes].reshape(len(codes), NUM_EDGES * NUM_OPS)


def op_counts(indices: np.ndarray, prune: bool = False) -> np.ndarray:
    """float64[n, 5]: how many edges carry each op (official op order)."""
    return onehot_ops(indices, prune).reshape(-1, NUM_EDGES, NUM_OPS).sum(1)


GRAPH_FEATURES: tuple[str, ...] = ("params", "flops", "counts", "live_counts", "live_ops", "degenerate", "skip_io")
"""Names accepted by :func:`graph_features`."""


@functools.lru_cache(maxsize=1)
def _space_costs() -> tuple[np.ndarray, np.ndarray]:
    """(params_m, flops_m) of all cells for the standard C=16, N=5, CIFAR-10 network."""
    c = space_costs(16, 5, 10, 32)
    return c["params_m"].to_numpy(np.float64), c["flops_m"].to_numpy(np.float64)


def graph_features(indices: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """float64[n, d]: graph-level features, concatenated in the order given.

    ``params``/``flops``: millions, standard C=16 N=5 CIFAR-10 network; ``counts``: op counts (5);
    ``live_counts``: op counts over live edges only (5); ``live_ops``: one-hot op per edge with dead
    edges as ``none`` (30, :func:`onehot_ops` with ``prune``); ``degenerate``: 1.0 for a disconnected cell;
    ``skip_io``: 1.0 when the input -> output edge (0, 3) is ``skip_connect`` (a residual cell).
    """
    idx = np.asarray(indices, dtype=np.int64)
    cols = []
    for name in names:
        if name == "params":
            cols.append(_space_costs()[0][idx, None])
        elif name == "flops":
            cols.append(_space_costs()[1][idx, None])
        elif name == "counts":
            cols.append(op_counts(idx))
        elif name == "live_counts":
            cols.append(op_counts(idx, prune=True))
        elif name == "live_ops":
            cols.append(onehot_ops(idx, prune=True))
        elif name == "degenerate":
            cols.append(degenerate_mask()[idx, None].astype(np.float64))
        elif name == "skip_io":
            cols.append((ops_matrix()[idx, EDGES.index((0, 3))] == OPS.index("skip_connect"))[:, None].astype(np.float64))
        else:
            raise ValueError(f"unknown graph feature {name!r}; known: {', '.join(GRAPH_FEATURES)}")
    if not cols:
        return np.zeros((idx.size, 0))
    return np.concatenate(cols, axis=1)
