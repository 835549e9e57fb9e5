"Edge cases of ssfnas.ops: shapes at odd sizes, affine switches, error messages."
import pytest
import torch
from ssfnas.ops import *

torch.set_num_threads(1)


def n_params(m): return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize('name', sorted(OPS))
@pytest.mark.parametrize('stride', [1, 2])
@pytest.mark.parametrize('size', [1, 2, 5, 8])
def test_shapes(name, stride, size):
    op = make_op(name, 4, stride, affine=True)
    y = op(torch.randn(3, 4, size, size))
    assert y.shape == (3, 4, -(-size // stride), -(-size // stride))


def test_rectangular_inputs():
    for name in DARTS_PRIMITIVES:
        assert make_op(name, 4, 2, affine=False, pool_bn=True)(torch.randn(2, 4, 6, 9)).shape == (2, 4, 3, 5)


@pytest.mark.parametrize('name', ['sep_conv_3x3', 'sep_conv_5x5', 'dil_conv_3x3', 'dil_conv_5x5'])
def test_affine_switch(name):
    a, b = make_op(name, 8, 1, affine=True), make_op(name, 8, 1, affine=False)
    n_bn = sum(1 for m in a.modules() if isinstance(m, torch.nn.BatchNorm2d))
    assert n_params(a) - n_params(b) == 2 * 8 * n_bn


def test_param_counts_by_hand():
    C = 16
    assert n_params(make_op('sep_conv_3x3', C, 1)) == 2 * (9 * C + C * C + 2 * C)
    assert n_params(make_op('dil_conv_5x5', C, 2)) == 25 * C + C * C + 2 * C
    assert n_params(make_op('skip_connect', C, 2)) == 2 * (C * C // 2) + 2 * C   # FactorizedReduce
    for p in ('none', 'skip_connect', 'max_pool_3x3', 'avg_pool_3x3'): assert n_params(make_op(p, C, 1, pool_bn=True)) == 0


def test_pool_bn_only_in_search():
    assert isinstance(make_op('max_pool_3x3', 4), torch.nn.MaxPool2d)
    seq = make_op('max_pool_3x3', 4, pool_bn=True)
    assert isinstance(seq[1], torch.nn.BatchNorm2d) and not seq[1].affine
    assert isinstance(make_op('sep_conv_3x3', 4, pool_bn=True), SepConv)  # pool_bn leaves other ops alone


def test_factorized_reduce_even_same_as_slicing():
    "On even sizes the padded shift equals DARTS's x[:, :, 1:, 1:]."
    fr = FactorizedReduce(3, 6).eval()
    x = torch.randn(2, 3, 8, 8)
    r = torch.relu(x)
    ref = fr.bn(torch.cat([fr.conv_1(r), fr.conv_2(r[:, :, 1:, 1:])], 1))
    torch.testing.assert_close(fr(x), ref)


def test_zero_is_zero_and_has_no_grad_path():
    x = torch.randn(2, 3, 5, 5, requires_grad=True)
    y = Zero(2)(x)
    assert y.shape == (2, 3, 3, 3) and (y == 0).all() and not y.requires_grad


def test_errors():
    with pytest.raises(ValueError, match="unknown operation 'conv'"): make_op('conv', 4)
    with pytest.raises(ValueError, match='stride must be 1 or 2'): make_op('max_pool_3x3', 4, 0)
    with pytest.raises(ValueError, match='even number of output channels'): make_op('skip_connect', 3, 2)


def test_primitive_lists():
    assert DARTS_PRIMITIVES[0] == 'none' and len(set(DARTS_PRIMITIVES)) == 8
    assert 'none' not in FAIRDARTS_PRIMITIVES and set(FAIRDARTS_PRIMITIVES) < set(DARTS_PRIMITIVES)
    assert all(p in OPS for p in DARTS_PRIMITIVES)
