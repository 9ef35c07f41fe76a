"""The GCN's torch modules: directed graph convolutions (PyG MessagePassing with a dense fast path) and
the network that pools them into one score per cell graph.

* :class:`DirGCNConv`: node-as-op graphs, messages along both edge directions with their own weights.
* :class:`RelDirConv`: edge-as-op graphs, one weight per op (relation) and direction.
* :class:`GCNNet`: convolutions -> pooling (+ graph features) -> MLP head.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn import MessagePassing, global_add_pool, global_mean_pool

from supernet.space import NUM_OPS

__all__ = ["DirGCNConv", "RelDirConv", "GCNNet", "dense_mean"]


def dense_mean(adj: Tensor) -> tuple[Tensor, Tensor]:
    """Row-normalised forward (dst<-src) and backward (src<-dst) adjacency of ``adj`` [B, N, N]."""
    fwd = adj / adj.sum(-1, keepdim=True).clamp(min=1.0)
    at = adj.transpose(-1, -2)
    bwd = at / at.sum(-1, keepdim=True).clamp(min=1.0)
    return fwd, bwd


class DirGCNConv(MessagePassing):
    """Directed graph convolution with separate weights per direction.

    ``h_i' = W_s h_i + W_f mean_{j -> i} h_j + W_b mean_{i -> j} h_j + b``: messages flow along the DAG
    (``W_f``) and against it (``W_b``), so a node sees both its inputs and its consumers.  A node
    without in- (out-) neighbours gets a zero forward (backward) term.
    """

    def __init__(self, in_channels: int, out_channels: int, bias: bool = True) -> None:
        super().__init__(aggr="mean")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.lin_self = nn.Linear(in_channels, out_channels, bias=bias)
        self.lin_fwd = nn.Linear(in_channels, out_channels, bias=False)
        self.lin_bwd = nn.Linear(in_channels, out_channels, bias=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for lin in (self.lin_self, self.lin_fwd, self.lin_bwd):
            lin.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        """x: float[num_nodes, in]; edge_index: long[2, E] (src, dst) -> float[num_nodes, out]."""
        fwd = self.propagate(edge_index, x=self.lin_fwd(x))
        bwd = self.propagate(edge_index.flip(0), x=self.lin_bwd(x))
        return self.lin_self(x) + fwd + bwd

    def forward_dense(self, x: Tensor, fwd: Tensor, bwd: Tensor) -> Tensor:
        """Same map on dense batches: x float[B, N, in]; ``fwd``/``bwd`` = :func:`dense_mean` of adj."""
        return self.lin_self(x) + fwd @ self.lin_fwd(x) + bwd @ self.lin_bwd(x)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, directions=2)"


class RelDirConv(MessagePassing):
    """Relational directed convolution for the edge-as-op graph: one weight per (op, direction).

    ``h_i' = W_s h_i + sum_r (W_f[r] mean_{j -r-> i} h_j + W_b[r] mean_{i -r-> j} h_j) + b`` with
    ``r`` the op on the edge (``edge_type`` in 1..num_relations).
    """

    def __init__(self, in_channels: int, out_channels: int, num_relations: int = NUM_OPS - 1, bias: bool = True) -> None:
        super().__init__(aggr="mean")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_relations = num_relations
        self.lin_self = nn.Linear(in_channels, out_channels, bias=bias)
        self.lin_rel = nn.Linear(2 * num_relations * in_channels, out_channels, bias=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.lin_self.reset_parameters()
        self.lin_rel.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_type: Tensor) -> Tensor:
        """x float[n, in]; edge_index long[2, E]; edge_type long[E] in 1..R -> float[n, out]."""
        parts = []
        for direction in (edge_index, edge_index.flip(0)):
            for r in range(1, self.num_relations + 1):
                ei = direction[:, edge_type == r]
                parts.append(self.propagate(ei, x=x, size=(x.size(0), x.size(0))))
        return self.lin_self(x) + self.lin_rel(torch.cat(parts, dim=-1))

    def forward_dense(self, x: Tensor, fwd: Tensor, bwd: Tensor) -> Tensor:
        """x float[B, N, in]; fwd/bwd float[B, R, N, N] per-relation row-normalised adjacency."""
        B, N, F = x.shape
        f = (fwd @ x.unsqueeze(1)).permute(0, 2, 1, 3).reshape(B, N, -1)
        b = (bwd @ x.unsqueeze(1)).permute(0, 2, 1, 3).reshape(B, N, -1)
        return self.lin_self(x) + self.lin_rel(torch.cat([f, b], dim=-1))

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, num_relations={self.num_relations})"


class GCNNet(nn.Module):
    """Graph convolutions -> pooling (+ graph features) -> MLP head -> one score per graph."""

    def __init__(
        self,
        in_channels: int,
        hidden: int,
        num_layers: int,
        pool: str,
        num_graph_features: int,
        head_hidden: int,
        dropout: float,
        encoding: str,
        output_node: int,
    ) -> None:
        super().__init__()
        conv = DirGCNConv if encoding == "node" else RelDirConv
        self.convs = nn.ModuleList(
            [conv(in_channels if k == 0 else hidden, hidden) for k in range(num_layers)]
        )
        self.pool = pool
        self.output_node = output_node
        self.dropout = dropout
        width = hidden * (2 if pool == "mean+output" else 1) + num_graph_features
        self.head = nn.Sequential(nn.Linear(width, head_hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(head_hidden, 1))

    def _readout(self, h: Tensor) -> Tensor:  # h [B, N, H]
        if self.pool == "mean":
            return h.mean(1)
        if self.pool == "sum":
            return h.sum(1)
        if self.pool == "output":
            return h[:, self.output_node]
        return torch.cat([h.mean(1), h[:, self.output_node]], dim=-1)

    def forward_dense(self, x: Tensor, fwd: Tensor, bwd: Tensor, gfeat: Tensor | None) -> Tensor:
        """x float[B, N, F]; fwd/bwd normalised adjacency; gfeat float[B, d] or None -> float[B]."""
        h = x
        for conv in self.convs:
            h = torch.relu(conv.forward_dense(h, fwd, bwd))
            h = nn.functional.dropout(h, self.dropout, self.training)
        z = self._readout(h)
        if gfeat is not None:
            z = torch.cat([z, gfeat], dim=-1)
        return self.head(z).squeeze(-1)

    def forward(self, x: Tensor, edge_index: Tensor, batch: Tensor, ptr: Tensor, gfeat: Tensor | None, edge_type: Tensor | None = None) -> Tensor:
        """The PyG (sparse) path: x float[n_nodes, F], edge_index long[2, E], batch long[n_nodes] -> float[B]."""
        h = x
        for conv in self.convs:
            h = conv(h, edge_index) if edge_type is None else conv(h, edge_index, edge_type)
            h = nn.functional.dropout(torch.relu(h), self.dropout, self.training)
        out_nodes = ptr[:-1] + self.output_node
        if self.pool == "mean":
            z = global_mean_pool(h, batch)
        elif self.pool == "sum":
            z = global_add_pool(h, batch)
        elif self.pool == "output":
            z = h[out_nodes]
        else:
            z = torch.cat([global_mean_pool(h, batch), h[out_nodes]], dim=-1)
        if gfeat is not None:
            z = torch.cat([z, gfeat], dim=-1)
        return self.head(z).squeeze(-1)
