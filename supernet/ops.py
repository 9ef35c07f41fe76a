"""NAS-Bench-201 operations, following the benchmark's own definitions.

* ``nor_conv_kxk``: ReLU -> Conv2d(k x k, bias-free, "same" padding) -> BatchNorm2d.
* ``avg_pool_3x3``: AvgPool2d(3, stride, padding=1, count_include_pad=False); a 1x1 ReLU-Conv-BN
  projection runs first only when the channel count changes (never inside an NB201 cell).
* ``skip_connect``: identity (inside a cell stride is 1 and channels do not change).
* ``none``: the zero op. The networks in :mod:`supernet.network` never call it (a ``none`` edge
  costs no work); the module exists so that a supernet edge holds every op name.
* :class:`ResNetBasicblock`: the residual reduction block between stages (two 3x3 ReLU-Conv-BN, the
  first with stride 2; shortcut AvgPool2d(2) -> 1x1 conv).

Module attribute names follow NAS-Bench-201's (``op.1`` is the conv of a ReLU-Conv-BN, ``conv_a``,
``conv_b``, ``downsample`` in the residual block), so state dicts line up with the benchmark's.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .space import OPS

__all__ = [
    "ReLUConvBN",
    "AvgPool3x3",
    "AvgPool2dExcludePad",
    "Identity",
    "Zero",
    "ResNetBasicblock",
    "make_op",
]


class ReLUConvBN(nn.Module):
    """ReLU -> bias-free Conv2d (k x k, padding k // 2) -> BatchNorm2d.  [B, C_in, H, W] -> [B, C_out, H/s, W/s]."""

    def __init__(
        self,
        C_in: int,
        C_out: int,
        kernel_size: int,
        stride: int = 1,
        affine: bool = True,
        track_running_stats: bool = True,
    ) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),  # the input is shared with other edges: never in place
            nn.Conv2d(C_in, C_out, kernel_size, stride=stride, padding=kernel_size // 2, bias=False),
            nn.BatchNorm2d(C_out, affine=affine, track_running_stats=track_running_stats),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class AvgPool2dExcludePad(nn.AvgPool2d):
    """AvgPool2d(k, stride, padding=k // 2, count_include_pad=False), the same function as PyTorch's.

    PyTorch's CPU kernel for NCHW average pooling is slow (with stride 1 it took a third of a supernet
    training step); on CPU with stride 1 we compute the window sums with a depthwise convolution by an
    all-ones kernel and divide by the number of in-image cells (cached per size).  Results agree with
    ``nn.AvgPool2d`` to float rounding; other devices and strides use the native kernel.  Still an
    ``nn.AvgPool2d`` (FLOP counters see a pooling layer; the helper conv has no parameters).
    """

    def __init__(self, kernel_size: int = 3, stride: int = 1) -> None:
        super().__init__(kernel_size, stride=stride, padding=kernel_size // 2, count_include_pad=False)
        self._inv_counts: dict[tuple, torch.Tensor] = {}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type != "cpu" or self.stride != 1 or x.dim() != 4 or not x.dtype.is_floating_point:
            return super().forward(x)
        k, C = self.kernel_size, x.shape[1]
        H, W = x.shape[-2:]
        key = (H, W, x.dtype)
        inv = self._inv_counts.get(key)
        if inv is None:
            ones = torch.ones(1, 1, H, W, dtype=x.dtype)
            counts = F.avg_pool2d(ones, k, 1, k // 2, count_include_pad=False, divisor_override=1)
            inv = self._inv_counts[key] = counts.reciprocal()
        weight = x.new_ones(1, 1, k, k).expand(C, 1, k, k)
        return F.conv2d(x, weight, padding=k // 2, groups=C) * inv


class AvgPool3x3(nn.Module):
    """3x3 average pooling (padding 1, padded cells not counted); 1x1 ReLU-Conv-BN first if C_in != C_out."""

    def __init__(
        self, C_in: int, C_out: int, stride: int = 1, affine: bool = True, track_running_stats: bool = True
    ) -> None:
        super().__init__()
        self.preprocess = (
            None if C_in == C_out else ReLUConvBN(C_in, C_out, 1, 1, affine, track_running_stats)
        )
        self.op = AvgPool2dExcludePad(3, stride=stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.preprocess is not None:
            x = self.preprocess(x)
        return self.op(x)


class Identity(nn.Module):
    """``skip_connect``: returns its input unchanged (the same tensor object)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


class Zero(nn.Module):
    """``none``: an all-zero output of the right shape.  Networks skip it rather than call it."""

    is_zero = True

    def __init__(self, C_in: int, C_out: int, stride: int = 1) -> None:
        super().__init__()
        self.C_in, self.C_out, self.stride = C_in, C_out, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, _, H, W = x.shape
        s = self.stride
        return x.new_zeros((B, self.C_out, (H + s - 1) // s, (W + s - 1) // s))

    def extra_repr(self) -> str:
        return f"C_in={self.C_in}, C_out={self.C_out}, stride={self.stride}"


class ResNetBasicblock(nn.Module):
    """Residual block: conv_b(conv_a(x)) + shortcut(x).  [B, C_in, H, W] -> [B, C_out, H/s, W/s].

    stride 2: shortcut = AvgPool2d(2, 2) -> 1x1 bias-free conv (no BN), as in NAS-Bench-201.
    stride 1: identity shortcut when C_in == C_out, else a 1x1 ReLU-Conv-BN.
    """

    def __init__(
        self, C_in: int, C_out: int, stride: int, affine: bool = True, track_running_stats: bool = True
    ) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"ResNetBasicblock stride must be 1 or 2, got {stride}")
        self.conv_a = ReLUConvBN(C_in, C_out, 3, stride, affine, track_running_stats)
        self.conv_b = ReLUConvBN(C_out, C_out, 3, 1, affine, track_running_stats)
        if stride == 2:
            self.downsample: nn.Module | None = nn.Sequential(
                nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
                nn.Conv2d(C_in, C_out, kernel_size=1, stride=1, padding=0, bias=False),
            )
        elif C_in != C_out:
            self.downsample = ReLUConvBN(C_in, C_out, 1, 1, affine, track_running_stats)
        else:
            self.downsample = None
        self.C_in, self.C_out, self.stride = C_in, C_out, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x if self.downsample is None else self.downsample(x)
        return residual + self.conv_b(self.conv_a(x))

    def extra_repr(self) -> str:
        return f"C_in={self.C_in}, C_out={self.C_out}, stride={self.stride}"


def make_op(
    name: str,
    C_in: int,
    C_out: int,
    stride: int = 1,
    affine: bool = True,
    track_running_stats: bool = True,
) -> nn.Module:
    """Build the NAS-Bench-201 op ``name`` (one of :data:`supernet.space.OPS`)."""
    if name == "none":
        return Zero(C_in, C_out, stride)
    if name == "skip_connect":
        if stride != 1 or C_in != C_out:
            raise ValueError(
                "skip_connect is an identity inside NAS-Bench-201 cells (stride 1, C_in == C_out); "
                f"got C_in={C_in}, C_out={C_out}, stride={stride}"
            )
        return Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(C_in, C_out, 1, stride, affine, track_running_stats)
    if name == "nor_conv_3x3":
        return ReLUConvBN(C_in, C_out, 3, stride, affine, track_running_stats)
    if name == "avg_pool_3x3":
        return AvgPool3x3(C_in, C_out, stride, affine, track_running_stats)
    raise ValueError(f"unknown operation {name!r}; known: {', '.join(OPS)}")
