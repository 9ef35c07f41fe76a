"""NAS-Bench-201 operations: output shapes and the function each op computes, on small tensors."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from supernet.ops import (
    AvgPool2dExcludePad,
    AvgPool3x3,
    Identity,
    ReLUConvBN,
    ResNetBasicblock,
    Zero,
    make_op,
)

EPS = 1e-5  # BatchNorm2d's default eps


def _x(*shape: int, seed: int = 0, dtype=torch.float32) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


# ---------------------------------------------------------------------------------------------- ReLUConvBN
@pytest.mark.parametrize(
    "k,stride,hw,out_hw",
    [(1, 1, 8, 8), (3, 1, 8, 8), (3, 2, 8, 4), (3, 2, 7, 4), (1, 2, 7, 4)],
)
def test_relu_conv_bn_shape(k: int, stride: int, hw: int, out_hw: int) -> None:
    op = ReLUConvBN(3, 5, k, stride)
    assert op(_x(2, 3, hw, hw)).shape == (2, 5, out_hw, out_hw)
    conv = op.op[1]
    assert conv.padding == (k // 2, k // 2) and conv.bias is None and conv.stride == (stride, stride)


def test_relu_conv_bn_order_and_function() -> None:
    op = ReLUConvBN(2, 3, 3, 1).eval()  # fresh running stats: mean 0, var 1, weight 1, bias 0
    assert [type(m) for m in op.op] == [nn.ReLU, nn.Conv2d, nn.BatchNorm2d]
    x = _x(1, 2, 5, 5)
    want = F.conv2d(F.relu(x), op.op[1].weight, padding=1) / math.sqrt(1 + EPS)
    torch.testing.assert_close(op(x), want)
    # ReLU first: an all-negative input gives exactly BN(conv(0)) = 0
    assert torch.equal(op(-x.abs() - 0.1), torch.zeros(1, 3, 5, 5))
    # ReLU is not in place: the shared input is left untouched
    before = x.clone()
    op(x)
    assert torch.equal(x, before)


def test_relu_conv_bn_state_dict_names_and_bn_flags() -> None:
    assert set(ReLUConvBN(2, 3, 1).state_dict()) == {
        "op.1.weight", "op.2.weight", "op.2.bias", "op.2.running_mean", "op.2.running_var", "op.2.num_batches_tracked"}
    # NB201 supernets: no affine BN and no running stats -> only the conv weight
    op = ReLUConvBN(2, 3, 1, affine=False, track_running_stats=False)
    assert set(op.state_dict()) == {"op.1.weight"}
    # without running stats even eval mode normalises with the batch's own statistics
    y = op.eval()(_x(4, 2, 6, 6) * 3 + 5)
    torch.testing.assert_close(y.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(y.var(dim=(0, 2, 3), unbiased=False), torch.ones(3), atol=1e-3, rtol=0)


# ---------------------------------------------------------------------------------------------- average pooling
def test_avg_pool_excluding_padding_by_hand() -> None:
    x = torch.arange(9, dtype=torch.float32).view(1, 1, 3, 3)  # [[0,1,2],[3,4,5],[6,7,8]]
    want = torch.tensor([
        [2.0, 2.5, 3.0],  # (0+1+3+4)/4, (0+1+2+3+4+5)/6, (1+2+4+5)/4
        [3.5, 4.0, 4.5],  # (0+1+3+4+6+7)/6, 36/9, (1+2+4+5+7+8)/6
        [5.0, 5.5, 6.0],  # (3+4+6+7)/4, (3+4+5+6+7+8)/6, (4+5+7+8)/4
    ]).view(1, 1, 3, 3)
    got = AvgPool2dExcludePad(3, 1)(x)
    torch.testing.assert_close(got, want, atol=1e-6, rtol=0)


@pytest.mark.parametrize(
    "shape,dtype,channels_last",
    [((2, 3, 8, 8), torch.float32, False), ((1, 4, 5, 7), torch.float32, False),
     ((2, 3, 8, 8), torch.float32, True), ((1, 2, 1, 1), torch.float32, False), ((2, 3, 6, 6), torch.float64, False)],
)
def test_depthwise_path_equals_native_avg_pool(shape, dtype, channels_last: bool) -> None:
    x = _x(*shape, dtype=dtype)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    op = AvgPool2dExcludePad(3, 1)
    ref = nn.AvgPool2d(3, 1, padding=1, count_include_pad=False)
    got = op(x)
    assert got.shape == x.shape and got.dtype == dtype
    torch.testing.assert_close(got, ref(x), atol=1e-6, rtol=1e-6)
    # the depthwise path ran (it caches 1/counts per size) and agrees with the native kernel of the same module
    assert (shape[2], shape[3], dtype) in op._inv_counts
    torch.testing.assert_close(got, nn.AvgPool2d.forward(op, x), atol=1e-6, rtol=1e-6)


def test_depthwise_path_gradient_equals_native() -> None:
    x1 = _x(2, 3, 6, 6).requires_grad_()
    x2 = x1.detach().clone().requires_grad_()
    w = _x(2, 3, 6, 6, seed=1)
    (AvgPool2dExcludePad(3, 1)(x1) * w).sum().backward()
    (nn.AvgPool2d(3, 1, 1, count_include_pad=False)(x2) * w).sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad, atol=1e-6, rtol=1e-6)


def test_avg_pool_cache_per_size_and_stride_2_native() -> None:
    op = AvgPool2dExcludePad(3, 1)
    op(_x(1, 2, 4, 4))
    op(_x(3, 5, 4, 4))  # same size, other batch / channels: reuses the entry
    op(_x(1, 2, 6, 4))
    assert sorted(k[:2] for k in op._inv_counts) == [(4, 4), (6, 4)]
    assert isinstance(op, nn.AvgPool2d) and list(op.parameters()) == []
    s2 = AvgPool2dExcludePad(3, 2)
    x = _x(2, 3, 7, 7)
    y = s2(x)
    assert y.shape == (2, 3, 4, 4) and s2._inv_counts == {}
    torch.testing.assert_close(y, nn.AvgPool2d(3, 2, 1, count_include_pad=False)(x))


def test_avg_pool_3x3_projection_only_when_channels_change() -> None:
    same = AvgPool3x3(4, 4)
    assert same.preprocess is None
    x = _x(2, 4, 6, 6)
    torch.testing.assert_close(same(x), nn.AvgPool2d(3, 1, 1, count_include_pad=False)(x))
    proj = AvgPool3x3(4, 6, stride=2).eval()
    assert isinstance(proj.preprocess, ReLUConvBN) and proj.preprocess.op[1].kernel_size == (1, 1)
    y = proj(x)
    assert y.shape == (2, 6, 3, 3)
    torch.testing.assert_close(y, F.avg_pool2d(proj.preprocess(x), 3, 2, 1, count_include_pad=False))


# ---------------------------------------------------------------------------------------------- identity, zero
def test_identity_returns_the_same_tensor() -> None:
    x = _x(1, 2, 3, 3)
    assert Identity()(x) is x


@pytest.mark.parametrize("C_in,C_out,stride,hw,out_hw", [(3, 3, 1, 5, 5), (3, 6, 2, 8, 4), (3, 6, 2, 7, 4)])
def test_zero_shape_and_values(C_in: int, C_out: int, stride: int, hw: int, out_hw: int) -> None:
    z = Zero(C_in, C_out, stride)
    x = _x(2, C_in, hw, hw, dtype=torch.float64)
    y = z(x)
    assert y.shape == (2, C_out, out_hw, out_hw) and y.dtype == torch.float64
    assert torch.count_nonzero(y) == 0
    assert z.is_zero and repr(z) == f"Zero(C_in={C_in}, C_out={C_out}, stride={stride})"


# ---------------------------------------------------------------------------------------------- residual block
def test_basicblock_stride_2_shape_and_sum() -> None:
    b = ResNetBasicblock(4, 8, 2).eval()
    assert isinstance(b.downsample, nn.Sequential)
    assert [type(m) for m in b.downsample] == [nn.AvgPool2d, nn.Conv2d]  # no BN on the shortcut
    assert b.downsample[1].bias is None and b.conv_a.op[1].stride == (2, 2) and b.conv_b.op[1].stride == (1, 1)
    x = _x(2, 4, 8, 8)
    y = b(x)
    assert y.shape == (2, 8, 4, 4)
    shortcut = F.conv2d(F.avg_pool2d(x, 2, 2), b.downsample[1].weight)
    torch.testing.assert_close(y, shortcut + b.conv_b(b.conv_a(x)))
    assert {"conv_a.op.1.weight", "conv_b.op.1.weight", "downsample.1.weight"} <= set(b.state_dict())


def test_basicblock_stride_1_identity_residual() -> None:
    b = ResNetBasicblock(4, 4, 1).eval()
    assert b.downsample is None
    x = _x(2, 4, 6, 6)
    with torch.no_grad():
        b.conv_b.op[2].weight.zero_()  # the residual branch now outputs exactly 0 (BN bias 0)
    assert torch.equal(b(x), x)


def test_basicblock_stride_1_projection_and_bad_stride() -> None:
    b = ResNetBasicblock(4, 6, 1)
    assert isinstance(b.downsample, ReLUConvBN)
    assert b(_x(2, 4, 5, 5)).shape == (2, 6, 5, 5)
    assert b.extra_repr() == "C_in=4, C_out=6, stride=1"
    with pytest.raises(ValueError, match="stride must be 1 or 2, got 3"):
        ResNetBasicblock(4, 4, 3)


# ---------------------------------------------------------------------------------------------- make_op
@pytest.mark.parametrize(
    "name,cls",
    [("none", Zero), ("skip_connect", Identity), ("nor_conv_1x1", ReLUConvBN), ("nor_conv_3x3", ReLUConvBN),
     ("avg_pool_3x3", AvgPool3x3)],
)
def test_make_op_each_name(name: str, cls: type) -> None:
    op = make_op(name, 4, 4, 1, affine=False, track_running_stats=False)
    assert type(op) is cls
    x = _x(2, 4, 6, 6)
    assert op(x).shape == (2, 4, 6, 6)
    if cls is ReLUConvBN:
        assert op.op[1].kernel_size == ((1, 1) if name.endswith("1x1") else (3, 3))
        assert op.op[2].affine is False and op.op[2].track_running_stats is False


def test_make_op_errors() -> None:
    with pytest.raises(ValueError, match=r"skip_connect is an identity .* got C_in=4, C_out=4, stride=2"):
        make_op("skip_connect", 4, 4, 2)
    with pytest.raises(ValueError, match="got C_in=4, C_out=8, stride=1"):
        make_op("skip_connect", 4, 8, 1)
    with pytest.raises(ValueError, match="unknown operation 'conv'; known: none, skip_connect"):
        make_op("conv", 4, 4)
