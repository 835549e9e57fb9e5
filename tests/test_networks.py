"Edge cases of ssfnas.networks: alpha registration and loading, heads, cells, evaluation network with the learner."
import io
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from ssfnas.genotypes import DARTS_V2, FAIRDARTS_A, FAIRDARTS_B, Genotype
from ssfnas.networks import *
from ssfnas.ops import Identity, Zero

torch.set_num_threads(1)
X = torch.randn(2, 3, 32, 32)


def small(**kw): return SearchNetwork(C=2, n_classes=3, layers=3, **kw)


def test_relaxations():
    with pytest.raises(ValueError, match="unknown relaxation 'Softmax'"): SearchNetwork(relaxation='Softmax')
    with pytest.raises(ValueError, match='unknown relaxation'): relax(torch.zeros(2, 2), 'tanh')
    with pytest.raises(ValueError, match=r"unknown primitive\(s\) \['conv'\]"): small(primitives=['conv'])
    s = small(); w = s.arch_weights()['normal']
    torch.testing.assert_close(w.sum(-1), torch.ones(14))
    f = small(relaxation='sigmoid'); assert f.alpha_normal.shape == (14, 7) and (f.alpha_normal == 0).all()


def test_alpha_accessors_and_state_dict():
    s = small()
    names = [n for n, _ in s.named_parameters()]
    assert 'alpha_normal' in names and 'alpha_reduce' in names
    assert {id(p) for p in s.weights()}.isdisjoint({id(a) for a in s.alphas()})
    assert len(s.named_weights()) == len(s.weights())
    buf = io.BytesIO(); torch.save(s.state_dict(), buf); buf.seek(0)
    t = small(); t.load_state_dict(torch.load(buf, weights_only=True))
    torch.testing.assert_close(t.alpha_reduce, s.alpha_reduce)


def test_alpha_shape_mismatch_messages():
    sd = small().state_dict()
    with pytest.raises(ValueError, match=r'alpha_normal has shape \(14, 8\).*\(14, 7\).*same relaxation'):
        small(relaxation='sigmoid').load_state_dict(sd)
    with pytest.raises(ValueError, match=r'\(20, 8\)'):
        SearchNetwork(C=2, n_classes=3, layers=3, n_nodes=5).load_state_dict(sd)
    # nested in another module, the check still fires (prefix handled)
    outer = nn.Sequential(small(relaxation='sigmoid'))
    with pytest.raises(ValueError, match=r'0\.alpha_normal has shape'): outer.load_state_dict({f'0.{k}': v for k, v in sd.items()})


def test_mixed_op_never_runs_zero():
    s = small()
    assert not any(isinstance(m, Zero) for m in s.modules())
    # builds its modules once: the same module objects before and after forward passes
    before = [id(m) for m in s.modules()]; s(torch.randn(2, 3, 8, 8)); s(torch.randn(2, 3, 8, 8))
    assert before == [id(m) for m in s.modules()]


def test_only_none_mixed_op():
    mo = MixedOp(4, 2, primitives=['none'])
    assert len(mo.ops) == 0 and mo(torch.randn(2, 4, 6, 6), torch.ones(1)).shape == (2, 4, 3, 3)


def test_alpha_gradient_by_cell_type():
    "Normal alphas get no gradient from a network without normal cells' contribution... here: both get one."
    s = small(); s(torch.randn(2, 3, 8, 8)).sum().backward()
    assert s.alpha_normal.grad.abs().sum() > 0 and s.alpha_reduce.grad.abs().sum() > 0
    assert all(p.grad is not None for p in s.weights())


def test_heads_and_features():
    s = SearchNetwork(C=2, n_classes=None, layers=3)
    assert isinstance(s.head, nn.Identity) and s(torch.randn(2, 3, 8, 8)).shape == (2, s.n_features)
    s.head = nn.Linear(s.n_features, 7)  # replace afterwards
    assert s(torch.randn(2, 3, 8, 8)).shape == (2, 7) and s.features(torch.randn(2, 3, 8, 8)).shape == (2, s.n_features)
    e = EvalNetwork(DARTS_V2, C=4, layers=3, n_classes=None, auxiliary=False)
    assert e.train()(X).shape == (2, e.n_features)


def test_eval_network_modes_and_errors():
    e = EvalNetwork(FAIRDARTS_B, C=4, layers=6)
    out = e.train()(X)
    assert isinstance(out, tuple) and out[0].shape == out[1].shape == (2, 10)
    assert e.eval()(X).shape == (2, 10)
    with pytest.raises(TypeError, match='genotype must be a Genotype'): EvalNetwork([('sep_conv_3x3', 0)])
    with pytest.raises(ValueError, match='expects 8x8 maps'): EvalNetwork(DARTS_V2, C=4, layers=6).train()(torch.randn(2, 3, 16, 16))
    with pytest.raises(ValueError, match='layers must be >= 1'): EvalNetwork(DARTS_V2, layers=0)


def test_drop_path_skips_identity():
    "An identity-only cell is unchanged by drop path even at p=0.99."
    g = Genotype([('skip_connect', 0, 2), ('skip_connect', 1, 2)], [2], [('max_pool_3x3', 0, 2)], [2])
    c = genotype_cell(g, 4, 4, 4, False, False).train()
    s0, s1 = torch.randn(2, 4, 5, 5), torch.randn(2, 4, 5, 5)
    torch.manual_seed(0); a = c(s0, s1, drop_prob=0.99); torch.manual_seed(1); b = c(s0, s1, drop_prob=0.99)
    torch.testing.assert_close(a, b)


def test_reduction_layers():
    assert reduction_layers(8) == (2, 5) and reduction_layers(20) == (6, 13) and reduction_layers(3) == (1, 2)


def test_counts_other_settings():
    "CIFAR-100 heads: only the classifiers differ from the 10-class counts."
    a, b = EvalNetwork(DARTS_V2, n_classes=100), EvalNetwork(DARTS_V2, n_classes=10)
    assert count_params(a) - count_params(b) == 90 * (a.n_features + 1)
    assert count_params(a, auxiliary=True) - count_params(a) == count_params(a.auxiliary_head)
    assert count_params(SearchNetwork(n_classes=100)) == 1_953_748  # counted on quark0/darts model_search.Network


def test_with_learner_aux_and_droppath():
    "One epoch of the evaluation network through the learner with AuxLossCB and DropPathCB (SYNTHETIC data)."
    from ssfnas.learner import Learner, AuxLossCB, DropPathCB, ProgressCB
    from torch.utils.data import TensorDataset, DataLoader
    ds = TensorDataset(torch.randn(8, 3, 32, 32), torch.randint(0, 10, (8,)))
    m = EvalNetwork(DARTS_V2, C=4, layers=6)
    learn = Learner(m, (DataLoader(ds, 4), DataLoader(ds, 4)), cbs=[AuxLossCB(0.4), DropPathCB(0.2), ProgressCB(quiet=True)])
    learn.fit(2)
    assert m.drop_path_prob == pytest.approx(0.1) and len(learn.history) == 2
