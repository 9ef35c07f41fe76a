"""The GCN accuracy predictor: graph convolutions over the cell DAG, an ensemble, a held-out error scale.

Graph convolutions (:class:`~predictor.nn.DirGCNConv`, PyG style, both edge directions with their own
weights) over the node-as-op graph (or :class:`~predictor.nn.RelDirConv` over the edge-as-op graph),
graph pooling, an MLP head; standardised target; MSE and/or pairwise ranking loss; early stopping on a
held-out slice; an ensemble whose spread and held-out error are :meth:`GCNPredictor.predict_std`.
The torch modules live in :mod:`predictor.nn`.
"""

from __future__ import annotations

import copy
import logging
import math
from typing import Literal

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from torch import Tensor, nn

from supernet.resolve import to_indices
from supernet.space import NUM_ARCHS

from .. import graphs as G
from ..nn import GCNNet, dense_mean
from .base import BasePredictor

__all__ = ["GCNPredictor"]

log = logging.getLogger(__name__)


def _pairwise_rank_loss(s: Tensor, y: Tensor) -> Tensor:
    """Mean logistic loss ``log(1 + exp(-(s_i - s_j)))`` over pairs with ``y_i > y_j``."""
    ds = s.unsqueeze(1) - s.unsqueeze(0)
    better = (y.unsqueeze(1) - y.unsqueeze(0)) > 0
    if not bool(better.any()):
        return s.sum() * 0.0
    return nn.functional.softplus(-ds[better]).mean()


class GCNPredictor(BasePredictor):
    """GCN accuracy predictor over the node-as-op (or edge-as-op) cell graph.

    Hyper-parameters: ``hidden`` width and ``num_layers`` of :class:`DirGCNConv`; ``pool`` in
    ``mean | sum | output | mean+output``; ``features``: graph-level features
    (:data:`predictor.graphs.GRAPH_FEATURES`) joined to the pooled embedding (default the live op counts:
    on the tuning seeds 0-4 they lifted the weight-sharing-only tau from 0.45 to 0.54 on the project's CPU
    supernet and from 0.59 to 0.60 on the published one-shot file, above GBR's 0.50 / 0.58 on both, and
    removed the seeds where the plain GCN collapsed; benchmarks/results/gcn_ws_only.md);
    ``side_features``: further graph-level features given as values, float[15625, k] in official order
    (NaN read as 0; e.g. the fusion's normal scores of the signals known for the whole space; with
    ``canonical`` a cell reads its class's first member's row), joined after ``features``; ``loss`` in
    ``mse | rank | both`` (``both`` = MSE + ``rank_weight`` x pairwise logistic loss); Adam with ``lr``,
    ``weight_decay``, ``batch_size``, at most ``max_epochs`` epochs, early stopping after ``patience``
    epochs without improvement of the loss on a held-out ``val_fraction`` (skipped below 20 samples);
    ``n_ensemble`` members, each with its own seed and held-out slice; ``canonical``: give isomorphic
    cells the same graph (the first member of the class); ``prune``: drop dead edges;
    ``backend``: ``dense`` (batched matmul, fast) or ``pyg`` (MessagePassing on a sparse batch; same
    function); ``device``: torch device string; ``num_threads``: torch CPU threads while fitting
    (default 1: the graphs are tiny, and more threads on a busy CPU only wait; None = leave as is).
    """

    def __init__(
        self,
        hidden: int = 32,
        num_layers: int = 2,
        pool: Literal["mean", "sum", "output", "mean+output"] = "mean+output",
        head_hidden: int = 32,
        dropout: float = 0.0,
        features: tuple[str, ...] = ("live_counts",),
        side_features: np.ndarray | None = None,
        loss: Literal["mse", "rank", "both"] = "mse",
        rank_weight: float = 1.0,
        lr: float = 3e-3,
        weight_decay: float = 0.1,
        batch_size: int = 64,
        max_epochs: int = 200,
        patience: int = 25,
        val_fraction: float = 0.1,
        n_ensemble: int = 3,
        canonical: bool = True,
        prune: bool = True,
        encoding: Literal["node", "edge"] = "node",
        backend: Literal["dense", "pyg"] = "dense",
        device: str = "cpu",
        num_threads: int | None = 1,
        random_state: int | None = 0,
    ) -> None:
        self.hidden = hidden
        self.num_layers = num_layers
        self.pool = pool
        self.head_hidden = head_hidden
        self.dropout = dropout
        self.features = features
        self.side_features = side_features
        self.loss = loss
        self.rank_weight = rank_weight
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.val_fraction = val_fraction
        self.n_ensemble = n_ensemble
        self.canonical = canonical
        self.prune = prune
        self.encoding = encoding
        self.backend = backend
        self.device = device
        self.num_threads = num_threads
        self.random_state = random_state

    # ------------------------------------------------------------------ data
    def _validate(self) -> None:
        if self.pool not in ("mean", "sum", "output", "mean+output"):
            raise ValueError(f"pool must be mean, sum, output or mean+output, got {self.pool!r}")
        if self.loss not in ("mse", "rank", "both"):
            raise ValueError(f"loss must be mse, rank or both, got {self.loss!r}")
        if self.encoding not in ("node", "edge"):
            raise ValueError(f"encoding must be node or edge, got {self.encoding!r}")
        if self.backend not in ("dense", "pyg"):
            raise ValueError(f"backend must be dense or pyg, got {self.backend!r}")
        if self.n_ensemble < 1:
            raise ValueError(f"n_ensemble must be >= 1, got {self.n_ensemble}")
        for f in self.features:
            if f not in G.GRAPH_FEATURES:
                raise ValueError(f"unknown graph feature {f!r}; known: {', '.join(G.GRAPH_FEATURES)}")
        if self.side_features is not None:
            side = np.asarray(self.side_features, dtype=np.float64)
            if side.ndim != 2 or side.shape[0] != NUM_ARCHS or np.isinf(side).any():
                raise ValueError(f"side_features must be a finite float array of shape ({NUM_ARCHS}, k) (NaN allowed), "
                                 f"got shape {side.shape}")

    @property
    def space_(self) -> tuple[Tensor, Tensor, Tensor, Tensor | None]:
        """(x, fwd, bwd, gfeat) of the whole space on the device: a cache (about 11 MB), built on first use
        and left out of pickles (:meth:`__getstate__`), so a saved model is small and rebuilds it on load."""
        cache = self.__dict__.get("_space_cache")
        if cache is None:
            cache = self.__dict__["_space_cache"] = self._space()
        return cache

    def __getstate__(self) -> dict:
        state = dict(super().__getstate__())
        state.pop("_space_cache", None)
        return state

    def _space(self) -> tuple[Tensor, Tensor, Tensor, Tensor | None]:
        """(x, fwd, bwd, gfeat) for the whole space on the device (see :attr:`space_`)."""
        if self.encoding == "node":
            x, adj = G.dense_space(self.prune)
            fwd, bwd = dense_mean(adj)
        else:
            x, adj = G.dense_space_edge(self.prune)
            fwd, bwd = dense_mean(adj)
        gfeat = None
        F = G.graph_features(np.arange(NUM_ARCHS), self.features)
        if self.side_features is not None:
            F = np.concatenate([F, np.nan_to_num(np.asarray(self.side_features, dtype=np.float64), nan=0.0)], axis=1)
        if F.shape[1]:
            sd = np.where(F.std(0) > 0, F.std(0), 1.0)
            gfeat = torch.as_tensor((F - F.mean(0)) / sd, dtype=torch.float32)
        dev = torch.device(self.device)
        return (x.to(dev), fwd.to(dev), bwd.to(dev), None if gfeat is None else gfeat.to(dev))

    def _rows(self, idx: np.ndarray) -> np.ndarray:
        return G.canonical_indices()[idx] if self.canonical else idx

    def _forward(self, net: GCNNet, rows: Tensor) -> Tensor:
        x, fwd, bwd, gfeat = self.space_
        g = None if gfeat is None else gfeat[rows]
        if self.backend == "dense":
            return net.forward_dense(x[rows], fwd[rows], bwd[rows], g)
        return self._forward_pyg(net, rows, g)

    def _forward_pyg(self, net: GCNNet, rows: Tensor, g: Tensor | None) -> Tensor:
        if self.encoding == "node":
            _, adj = G.dense_space(self.prune)
            b = G.batch_from_dense(self.space_[0][rows], adj[rows.cpu()].to(self.space_[0].device))
            return net(b.x, b.edge_index, b.batch, b.ptr, g)
        _, adj = G.dense_space_edge(self.prune)
        a = adj[rows.cpu()].to(self.space_[0].device)  # [B, R, N, N]
        B, R, N, _ = a.shape
        bb, r, dst, src = a.nonzero(as_tuple=True)
        ei = torch.stack([bb * N + src, bb * N + dst])
        batch = torch.arange(B, device=a.device).repeat_interleave(N)
        ptr = torch.arange(0, (B + 1) * N, N, device=a.device)
        return net(self.space_[0][rows].reshape(B * N, -1), ei, batch, ptr, g, edge_type=r + 1)

    def _new_net(self, gen: torch.Generator) -> GCNNet:
        in_ch = len(G.NODE_TYPES) if self.encoding == "node" else 4
        out_node = G.NUM_NODES - 1 if self.encoding == "node" else 3
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=gen)))
            n_gfeat = 0 if self.space_[3] is None else int(self.space_[3].shape[1])
            net = GCNNet(in_ch, self.hidden, self.num_layers, self.pool, n_gfeat, self.head_hidden,
                         self.dropout, self.encoding, out_node)
        return net.to(torch.device(self.device))

    def _loss(self, s: Tensor, y: Tensor) -> Tensor:
        if self.loss == "mse":
            return nn.functional.mse_loss(s, y)
        if self.loss == "rank":
            return _pairwise_rank_loss(s, y)
        return nn.functional.mse_loss(s, y) + self.rank_weight * _pairwise_rank_loss(s, y)

    # ------------------------------------------------------------------ fit / predict
    def _fit(self, idx: np.ndarray, y: np.ndarray) -> None:
        self._validate()
        old_threads = torch.get_num_threads()
        if self.num_threads:
            torch.set_num_threads(self.num_threads)
        try:
            self._fit_members(idx, y)
        finally:
            if self.num_threads:
                torch.set_num_threads(old_threads)

    def _fit_members(self, idx: np.ndarray, y: np.ndarray) -> None:
        dev = torch.device(self.device)
        self._space_cache = self._space()
        self.y_mean_, self.y_std_ = float(y.mean()), float(y.std()) or 1.0
        rows_all = torch.as_tensor(self._rows(idx), device=dev)
        yz = torch.as_tensor((y - self.y_mean_) / self.y_std_, dtype=torch.float32, device=dev)
        rng = np.random.default_rng(self.random_state)
        self.members_: list[GCNNet] = []
        val_sets: list[np.ndarray] = []
        self.epochs_: list[int] = []
        self.val_loss_: list[float] = []
        for m in range(self.n_ensemble):
            seed = int(rng.integers(2**31 - 1))
            gen = torch.Generator().manual_seed(seed)
            perm = np.random.default_rng(seed).permutation(idx.size)
            n_val = int(round(self.val_fraction * idx.size)) if idx.size >= 20 and self.val_fraction > 0 else 0
            val, tr = perm[:n_val], perm[n_val:]
            net = self._new_net(gen)
            opt = torch.optim.Adam(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
            best, best_state, best_epoch, bad = math.inf, None, 0, 0
            tr_t = torch.as_tensor(tr, device=dev)
            for epoch in range(self.max_epochs):
                net.train()
                order = tr_t[torch.randperm(tr_t.numel(), generator=gen).to(dev)]
                for start in range(0, order.numel(), self.batch_size):
                    b = order[start : start + self.batch_size]
                    if b.numel() < 2:
                        continue
                    opt.zero_grad(set_to_none=True)
                    loss = self._loss(self._forward(net, rows_all[b]), yz[b])
                    loss.backward()
                    opt.step()
                if n_val:
                    net.eval()
                    with torch.no_grad():
                        v = float(self._loss(self._forward(net, rows_all[val]), yz[val]))
                    if v < best - 1e-6:
                        best, best_epoch, bad = v, epoch, 0
                        best_state = copy.deepcopy(net.state_dict())
                    else:
                        bad += 1
                        if bad >= self.patience:
                            break
            if best_state is not None:
                net.load_state_dict(best_state)
            else:
                best_epoch = epoch
            net.eval()
            self.members_.append(net)
            self.epochs_.append(best_epoch + 1)
            self.val_loss_.append(best)
            val_sets.append(val)
        # rank-only training leaves the scale free: calibrate to y by least squares on the training set
        self.calib_ = (0.0, 1.0)
        if self.loss == "rank":
            s = self._member_scores(idx).mean(0)
            a, b = np.polyfit(s, (y - self.y_mean_) / self.y_std_, 1)[::-1]
            self.calib_ = (float(a), float(b))
        # held-out error scale: each member's residuals on the slice it never trained on (y units)
        res = []
        for m, val in enumerate(val_sets):
            if val.size:
                a, b = self.calib_
                with torch.no_grad():
                    sc = self._forward(self.members_[m], rows_all[torch.as_tensor(val, device=dev)]).double().cpu().numpy()
                res.append(y[val] - (self.y_mean_ + self.y_std_ * (a + b * sc)))
        self.heldout_rmse_ = float(np.sqrt(np.mean(np.concatenate(res) ** 2))) if res else 0.0
        log.info("GCN fitted on %d archs: epochs %s", idx.size, self.epochs_)

    @torch.no_grad()
    def _member_scores(self, idx: np.ndarray) -> np.ndarray:
        """float64[n_ensemble, n]: standardised member outputs; only unique graphs are evaluated."""
        rows = self._rows(idx)
        uniq, inv = np.unique(rows, return_inverse=True)
        r = torch.as_tensor(uniq, device=torch.device(self.device))
        out = torch.stack([self._forward(net, r) for net in self.members_])
        return out.cpu().double().numpy()[:, inv]

    def _predict_members(self, idx: np.ndarray) -> np.ndarray:
        a, b = getattr(self, "calib_", (0.0, 1.0))
        return self.y_mean_ + self.y_std_ * (a + b * self._member_scores(idx))

    def _predict(self, idx: np.ndarray) -> np.ndarray:
        return self._predict_members(idx).mean(0)

    def predict_std(self, archs) -> np.ndarray:
        """Predictive standard deviation of the fitted target (percent), float64[n]:
        ``sqrt(ensemble spread^2 + heldout_rmse_^2)``, where ``heldout_rmse_`` is the members' error on
        the slices they never trained on (0 below 20 training samples).  The spread alone covered 5% of
        held-out weight-sharing scores at +-1 std (benchmarks/results/signal_fusion.md); with the
        held-out term the interval is meant to cover about 68%.
        :class:`~predictor.models.LandmarkCorrection` carries it through its correction.
        """
        check_is_fitted(self)
        members = self._predict_members(to_indices(archs))
        return np.sqrt(members.std(0) ** 2 + getattr(self, "heldout_rmse_", 0.0) ** 2)
