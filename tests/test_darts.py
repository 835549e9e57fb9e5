"Edge cases of ssfnas.darts: gradients vs oracles, derivation corners, the callback's checkpoint/resume (SYNTHETIC data)."
from functools import partial
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from ssfnas.darts import *
from ssfnas.genotypes import Edge, Genotype
from ssfnas.learner import Learner, Callback, sgd, ProgressCB, CheckpointCB, synth_dls
from ssfnas.networks import SearchNetwork, EvalNetwork

torch.set_num_threads(1)
ce = supervised_loss()


def tiny(seed=0, **kw):
    torch.manual_seed(seed)
    return SearchNetwork(C=2, n_classes=3, layers=3, **kw).double()


def batch(seed, n=4, size=8):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, size, size, generator=g, dtype=torch.float64), torch.randint(0, 3, (n,), generator=g)


def test_first_order_is_plain_autograd():
    net = tiny(); b = batch(1)
    g, loss = first_order_grad(net, ce, b)
    net.zero_grad(); l = F.cross_entropy(net(b[0]), b[1]); l.backward()
    for a, x in zip(net.alphas(), g): torch.testing.assert_close(a.grad, x)
    assert loss == pytest.approx(l.item())


def test_extra_loss_is_added():
    net = tiny(); b = batch(1)
    extra = lambda m: 3. * (m.alpha_normal ** 2).sum()
    g0, _ = first_order_grad(net, ce, b); g1, _ = first_order_grad(net, ce, b, extra)
    torch.testing.assert_close(g1[0] - g0[0], 6. * net.alpha_normal.detach())
    torch.testing.assert_close(g1[1], g0[1])


def test_second_order_first_step_without_buffer():
    "No momentum buffer yet (the first step): still the exact derivative through the unrolled step."
    net = tiny(2); opt = sgd(net.weights(), lr=0.1, momentum=0.9, weight_decay=3e-4)
    tb, vb = batch(3), batch(4)
    oracle = unrolled_grad_oracle(net, ce, tb, vb, opt)
    assert rel_err(second_order_grad(net, ce, tb, vb, opt, hvp='exact')[0], oracle) < 1e-10
    assert rel_err(second_order_grad(net, ce, tb, vb, opt, r=1e-6)[0], oracle) < 1e-3


def test_second_order_sigmoid_relaxation():
    net = tiny(5, relaxation='sigmoid'); opt = sgd(net.weights(), lr=0.05)
    tb, vb = batch(6), batch(7)
    oracle = unrolled_grad_oracle(net, ce, tb, vb, opt)
    assert rel_err(second_order_grad(net, ce, tb, vb, opt, hvp='exact')[0], oracle) < 1e-10


def test_zero_lr_reduces_to_first_order():
    net = tiny(8); opt = sgd(net.weights(), lr=0.)
    tb, vb = batch(9), batch(10)
    g2, _ = second_order_grad(net, ce, tb, vb, opt, hvp='exact'); g1, _ = first_order_grad(net, ce, vb)
    for a, b in zip(g2, g1): torch.testing.assert_close(a, b)


def test_errors():
    with pytest.raises(TypeError, match='has no alphas'): split_params(EvalNetwork(C=4, layers=3, auxiliary=False))
    net = tiny(); opt = sgd(net.weights()[:3], lr=0.1)
    with pytest.raises(ValueError, match='not in the weight optimiser'): unrolled_weights(net, ce, batch(1), opt)
    ws = net.weights()
    two = torch.optim.SGD([{'params': ws[:2], 'lr': 0.1}, {'params': ws[2:], 'lr': 0.2}])
    with pytest.raises(ValueError, match='one learning rate'): second_order_grad(net, ce, batch(1), batch(2), two)
    with pytest.raises(ValueError, match="hvp must be 'fd' or 'exact'"): second_order_grad(net, ce, batch(1), batch(2), sgd(ws, lr=0.1), hvp='x')
    with pytest.raises(ValueError, match="hvp must be 'fd' or 'exact'"): DartsCB(None, hvp='autograd')


def test_fd_hvp_zero_vector():
    net = tiny()
    out = fd_hvp(net, ce, batch(1), [torch.zeros_like(w) for w in net.weights()])
    assert all((o == 0).all() for o in out)


def test_derive_ties_and_threshold():
    P = ('none', 'a_op', 'b_op')
    W = torch.zeros(5, 3)  # all ties: first edges and first non-none op
    # op names must be real ops for Edge validation in genotypes, but derive_cell itself only names them
    assert derive_cell(W, P, n_nodes=2) == [Edge('a_op', 0, 2), Edge('a_op', 1, 2), Edge('a_op', 0, 3), Edge('a_op', 1, 3)]
    assert derive_cell(W, P, n_nodes=2, k=1) == [Edge('a_op', 0, 2), Edge('a_op', 0, 3)]
    assert derive_cell(W, P, n_nodes=2, threshold=0.5) == []
    net = SearchNetwork(C=2, n_classes=3, layers=3, relaxation='sigmoid')  # all sigma = 0.5
    with pytest.raises(ValueError, match='reaches the threshold 0.85'): derive_genotype(net, threshold=0.85)
    g = derive_genotype(net, threshold=0.5)   # sigma = 0.5 >= 0.5: everything kept, argmax = first op
    assert {e.op for e in g.normal} == {'max_pool_3x3'} and len(g.normal) == 8


def test_derive_drops_dangling_edges():
    net = SearchNetwork(C=2, n_classes=3, layers=3, relaxation='sigmoid')
    with torch.no_grad():
        net.alpha_normal.fill_(-5.); net.alpha_reduce.fill_(5.)
        # node 2 keeps nothing; node 3 keeps only 2->3 (row 4), which dangles; node 4 keeps 0->4 (row 5)
        net.alpha_normal[4, 3] = 5.; net.alpha_normal[5, 4] = 5.
    g = derive_genotype(net, threshold=0.85)
    assert g.normal == (Edge('sep_conv_5x5', 0, 4),) and g.normal_concat == (4,)


def test_stratified_split_errors_and_cover():
    y = np.repeat(np.arange(4), [7, 5, 3, 1])
    a, b = stratified_split(y, 0.5, seed=3)
    assert sorted(np.concatenate([a, b]).tolist()) == list(range(len(y)))
    with pytest.raises(ValueError, match=r'portion must be in \(0, 1\)'): stratified_split(y, 1.0)


def test_config_presets_roundtrip():
    for name in SearchConfig.presets():
        c = SearchConfig.preset(name)
        assert SearchConfig.from_dict(c.to_dict()) == c
    assert SearchConfig.preset('paper').second_order and SearchConfig.preset('paper').epochs == 50
    assert SearchConfig.preset('paper').C == 16 and SearchConfig.preset('paper').layers == 8


def _learner(arch_dl, run=None, second_order=False):
    torch.manual_seed(0)
    dls = synth_dls(n_train=32, n_valid=16, bs=8, n_classes=3, shape=(3, 8, 8))
    m = SearchNetwork(C=2, n_classes=3, layers=3)
    cbs = [DartsCB(arch_dl, second_order, arch_lr=1e-2), ProgressCB(quiet=True)]
    if run is not None: cbs.append(CheckpointCB(run, resume=True))
    return Learner(m, dls, lr=0.05, params=lambda m: m.weights(), opt_func=partial(sgd, weight_decay=3e-4), cbs=cbs, run=run)


def _arch_dl(seed=1):
    g = torch.Generator().manual_seed(seed)
    ds = TensorDataset(torch.randn(24, 3, 8, 8, generator=g), torch.randint(0, 3, (24,), generator=g))
    return DataLoader(ds, 8, shuffle=True, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize('second_order', [False, True])
def test_resume_is_exact(tmp_path, second_order):
    "2 epochs in one go == 1 epoch, then a resumed run from its checkpoint (alphas, alpha Adam state, history)."
    full = _learner(_arch_dl(), second_order=second_order).fit(2)
    _learner(_arch_dl(), tmp_path/'run', second_order).fit(1)
    with pytest.warns(UserWarning, match='from a run of 1 epochs; continuing to 2 changes the lr schedule'):
        res = _learner(_arch_dl(), tmp_path/'run', second_order).fit(2)  # epoch 0's lr is the same in both schedules
    torch.testing.assert_close(res.model.alpha_normal, full.model.alpha_normal)
    torch.testing.assert_close(res.darts.opt.state_dict()['state'][1]['exp_avg_sq'], full.darts.opt.state_dict()['state'][1]['exp_avg_sq'])
    assert [h['epoch'] for h in res.darts.history] == [-1, 0, 1]
    assert res.darts.history[-1]['genotype'] == full.darts.history[-1]['genotype']


def test_weight_step_does_not_move_alphas():
    "With the arch lr at 0 the alphas never change (the weight optimiser does not hold them)."
    learn = _learner(_arch_dl()); learn.darts.arch_lr = 0.
    a0 = learn.model.alpha_normal.detach().clone(); learn.fit(1)
    torch.testing.assert_close(learn.model.alpha_normal.detach(), a0)


def test_no_wasted_gradients():
    "The architecture step computes no weight gradient; the weight step computes no α gradient; flags are restored."
    net = tiny(); b = batch(1)
    first_order_grad(net, ce, b)
    assert all(w.grad is None for w in net.weights()) and all(w.requires_grad for w in net.weights())
    seen = []
    class Spy(Callback):
        def after_backward(self):
            seen.append(([a.grad for a in self.learn.model.alphas()], [a.requires_grad for a in self.learn.model.alphas()],
                         sum(w.grad is not None for w in self.learn.model.weights())))
    learn = _learner(_arch_dl()); learn.add_cbs([Spy()]); learn.fit(1)
    assert seen and all(g == [None, None] and rg == [False, False] and n > 0 for g, rg, n in seen)
    assert all(a.requires_grad for a in learn.model.alphas())   # restored after the fit


def test_fused_search_network_equals_plain():
    "The supernet accelerated (17_fast) gives the plain modules' loss and gradients (α and weights), and the search accelerates its supernet on the CPU."
    import copy
    from ssfnas.fast import accelerate, is_accelerated
    net = tiny(relaxation='softmax'); b = batch(2)
    fast = accelerate(copy.deepcopy(net))
    assert is_accelerated(fast) and not is_accelerated(net)
    loss = F.cross_entropy(fast(b[0]), b[1]); g = torch.autograd.grad(loss, list(fast.parameters()))
    loss0 = F.cross_entropy(net(b[0]), b[1]); g0 = torch.autograd.grad(loss0, list(net.parameters()))
    torch.testing.assert_close(loss, loss0)
    for x, y in zip(g, g0): torch.testing.assert_close(x, y)
    from ssfnas.darts import search_learner
    dls = synth_dls(n_train=32, n_valid=16, bs=8, n_classes=3, shape=(3, 8, 8))
    learn = search_learner(tiny().float(), dls, F.cross_entropy, DartsCB(_arch_dl()), lr=0.05, lr_min=0., momentum=0.9,
                           weight_decay=3e-4, grad_clip=5., device='cpu', quiet=True)
    assert is_accelerated(learn.model)
