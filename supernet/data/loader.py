"""Batches from uint8 images kept on the training device, augmented (crop and flip) for the whole batch at once.

The augmentation is driven by an explicit ``torch.Generator`` whose position :meth:`TensorLoader.state_dict`
saves, so a resumed run draws exactly the same batches.
"""

from __future__ import annotations

import math
from typing import Any, Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .images import CIFAR10_MEAN, CIFAR10_STD, ImageSet

__all__ = ["TensorLoader"]


class TensorLoader:
    """Batches from uint8 images kept on ``device``; crop and flip done per batch on the device.

    Iterating yields ``(x, y)``: ``x`` float ``(B, 3, H, W)`` normalised with ``mean``/``std``, ``y`` int64
    ``(B,)``. With ``augment``, each image is zero-padded by ``pad`` pixels, cropped back to H x W at a random
    offset and flipped left-right with probability 1/2 (the torchvision ``RandomCrop(32, 4)`` +
    ``RandomHorizontalFlip`` recipe), all by one gather over the batch.

    Randomness: one ``torch.Generator`` (seeded from ``seed`` unless given) draws, at the start of each
    epoch, the order (``shuffle``) and every image's crop offset and flip. :meth:`state_dict` records the
    epoch, the batch position within it and the generator state at the epoch's start, so
    :meth:`load_state_dict` makes a new loader continue with exactly the batches the old one would have
    produced, mid-epoch included. Iterating continues where the last iteration stopped; an epoch ends when
    its last batch has been taken.

    ``rank``/``world_size`` shard every epoch for data-parallel training: all ranks draw the same plan (same
    seed) and rank r takes positions r, r+world_size, ... of the first ``world_size * (N // world_size)``.
    """

    def __init__(
        self,
        images: ImageSet | np.ndarray | torch.Tensor,
        labels: np.ndarray | torch.Tensor | None = None,
        *,
        batch_size: int = 256,
        device: str | torch.device = "cpu",
        shuffle: bool = True,
        augment: bool = True,
        drop_last: bool = False,
        pad: int = 4,
        mean: Sequence[float] = CIFAR10_MEAN,
        std: Sequence[float] = CIFAR10_STD,
        seed: int = 0,
        generator: torch.Generator | None = None,
        layout: str = "NHWC",
        channels_last: bool = False,
        dtype: torch.dtype = torch.float32,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if isinstance(images, ImageSet):
            if labels is not None:
                raise ValueError("labels come from the ImageSet; do not pass them as well")
            images, labels = images.images, images.labels
        if labels is None:
            raise ValueError("labels are required with an image array")
        self.device = torch.device(device)
        x = torch.as_tensor(images)
        if x.dtype != torch.uint8 or x.ndim != 4:
            raise ValueError(f"images must be a uint8 4-d array, got {x.dtype} {tuple(x.shape)}")
        if layout == "NCHW":
            x = x.permute(0, 2, 3, 1)
        elif layout != "NHWC":
            raise ValueError(f"layout must be 'NHWC' or 'NCHW', got {layout!r}")
        self.images = x.contiguous().to(self.device)  # uint8 (N, H, W, C)
        y = labels if isinstance(labels, torch.Tensor) else torch.from_numpy(np.asarray(labels))
        self.labels = y.to(device=self.device, dtype=torch.int64)
        if len(self.labels) != len(self.images):
            raise ValueError(f"{len(self.images)} images but {len(self.labels)} labels")
        if batch_size < 1 or not 0 <= rank < world_size:
            raise ValueError(f"bad batch_size={batch_size} or rank={rank}/world_size={world_size}")
        c = self.images.shape[-1]
        if len(mean) != c or len(std) != c:
            raise ValueError(f"mean/std need {c} values")
        self.batch_size, self.shuffle, self.augment, self.drop_last, self.pad = batch_size, shuffle, augment, drop_last, pad
        self.rank, self.world_size, self.channels_last, self.dtype = rank, world_size, channels_last, dtype
        s = torch.tensor(std, dtype=torch.float32, device=self.device)
        self._scale = (1.0 / (255.0 * s)).view(1, c, 1, 1)
        self._shift = (-torch.tensor(mean, dtype=torch.float32, device=self.device) / s).view(1, c, 1, 1)
        if generator is None:
            generator = torch.Generator(device=self.device)
            generator.manual_seed(seed)
        self.generator = generator
        self._epoch = 0
        self._batch = 0
        self._plan: tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None] | None = None
        self._epoch_rng: torch.Tensor | None = None

    # -------------------------------------------------------------- sizes
    @property
    def num_samples(self) -> int:
        """Images this rank sees per epoch (before ``drop_last``)."""
        return len(self.images) // self.world_size if self.world_size > 1 else len(self.images)

    def __len__(self) -> int:
        n, b = self.num_samples, self.batch_size
        return n // b if self.drop_last else math.ceil(n / b)

    @property
    def epoch(self) -> int:
        """Completed epochs."""
        return self._epoch

    @property
    def position(self) -> int:
        """Batches already taken in the current epoch."""
        return self._batch

    # -------------------------------------------------------------- plan and batches
    def _draw_plan(self) -> None:
        g, dev, n = self.generator, self.device, len(self.images)
        self._epoch_rng = g.get_state()
        order = torch.randperm(n, generator=g, device=dev) if self.shuffle else torch.arange(n, device=dev)
        offsets = flips = None
        if self.augment:
            offsets = torch.randint(0, 2 * self.pad + 1, (n, 2), generator=g, device=dev)
            flips = torch.randint(0, 2, (n,), generator=g, device=dev).bool()
        if self.world_size > 1:
            keep = torch.arange(self.rank, self.num_samples * self.world_size, self.world_size, device=dev)
            order = order[keep]
            offsets = offsets[keep] if offsets is not None else None
            flips = flips[keep] if flips is not None else None
        self._plan = (order, offsets, flips)

    def _make_batch(self, sl: slice) -> tuple[torch.Tensor, torch.Tensor]:
        assert self._plan is not None
        order, offsets, flips = self._plan
        idx = order[sl]
        x = self.images[idx]  # (B, H, W, C) uint8
        if self.augment:
            assert offsets is not None and flips is not None
            b, h, w, _ = x.shape
            p = self.pad
            xp = F.pad(x, (0, 0, p, p, p, p))
            off, fl = offsets[sl], flips[sl]
            rows = off[:, :1] + torch.arange(h, device=x.device)  # (B, H)
            ar = torch.arange(w, device=x.device)
            cols = off[:, 1:] + torch.where(fl[:, None], (w - 1) - ar, ar)  # (B, W), reversed when flipped
            x = xp[torch.arange(b, device=x.device)[:, None], rows]  # (B, H, W + 2p, C): whole rows
            x = torch.gather(x, 2, cols[:, None, :, None].expand(b, h, w, x.shape[-1]))  # (B, H, W, C)
        x = x.permute(0, 3, 1, 2)  # NCHW view of NHWC memory = channels_last
        if not self.channels_last:
            x = x.contiguous()  # reorder the uint8 bytes (4x cheaper than reordering floats)
        out = x.to(self.dtype).mul_(self._scale).add_(self._shift)
        return out, self.labels[idx]

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        nb = len(self)
        if self._plan is None:
            self._draw_plan()
        while self._batch < nb:
            start = self._batch * self.batch_size
            sl = slice(start, min(start + self.batch_size, self.num_samples))
            self._batch += 1
            yield self._make_batch(sl)
        self._epoch += 1
        self._batch = 0
        self._plan = None

    # -------------------------------------------------------------- resume
    def state_dict(self) -> dict[str, Any]:
        """Epoch, batch position and generator state (at the epoch's start), for checkpoints."""
        epoch, batch = self._epoch, self._batch
        if self._plan is not None and batch >= len(self):  # every batch taken: report the next epoch's start
            epoch, batch = epoch + 1, 0
        rng = self._epoch_rng if (self._plan is not None and batch > 0) else self.generator.get_state()
        assert rng is not None
        return {
            "epoch": epoch, "batch": batch, "rng": rng.clone(),
            "num_samples": len(self.images), "batch_size": self.batch_size, "shuffle": self.shuffle,
            "augment": self.augment, "drop_last": self.drop_last, "world_size": self.world_size,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state_dict` of a loader over the same data with the same settings."""
        for k in ("num_samples", "batch_size", "shuffle", "augment", "drop_last", "world_size"):
            mine = len(self.images) if k == "num_samples" else getattr(self, k)
            if state.get(k) != mine:
                raise ValueError(f"loader state has {k}={state.get(k)!r} but this loader has {mine!r}: the "
                                 f"batches would not reproduce")
        self.generator.set_state(state["rng"].cpu() if isinstance(state["rng"], torch.Tensor) else state["rng"])
        self._epoch, self._batch, self._plan = int(state["epoch"]), int(state["batch"]), None
        if self._batch > 0:
            self._draw_plan()

    def __repr__(self) -> str:
        return (f"TensorLoader(n={len(self.images)}, batch_size={self.batch_size}, device={self.device}, "
                f"shuffle={self.shuffle}, augment={self.augment}, epoch={self._epoch}, batch={self._batch})")
