"Edge cases of ssfnas.fairdarts: the zero-one loss, the config's hooks into the DARTS loop."
import pytest
import torch
from ssfnas.fairdarts import *
from ssfnas.darts import SearchConfig, DartsCB
from ssfnas.networks import SearchNetwork

torch.set_num_threads(1)


def test_zero_one_loss_inputs():
    net = SearchNetwork(C=2, n_classes=3, layers=3, relaxation='sigmoid')
    with torch.no_grad(): net.alpha_normal.normal_()
    l = zero_one_loss(net)
    assert l.item() == pytest.approx(zero_one_loss(net.alphas()).item())
    s = torch.sigmoid(torch.cat([a.flatten() for a in net.alphas()]))
    assert l.item() == pytest.approx(-((s - 0.5) ** 2).mean().item())
    assert zero_one_loss(torch.zeros(3)).item() == 0.
    assert -0.25 <= l.item() <= 0.


def test_config_hooks():
    c = FairDartsConfig()
    assert isinstance(c.extra_loss(), ZeroOneLoss) and c.extra_loss().w01 == 10.
    assert SearchConfig().extra_loss() is None
    net = SearchNetwork(C=2, n_classes=3, layers=3, relaxation='sigmoid')
    with pytest.raises(ValueError, match='reaches the threshold'): c.derive(net)  # all sigma = 1/2
    assert len(FairDartsConfig(derivation='argmax').derive(net).normal) == 8
    for name in FairDartsConfig.presets():
        p = FairDartsConfig.preset(name); assert FairDartsConfig.from_dict(p.to_dict()) == p


def test_history_tolerates_no_genotype():
    "The callback records None (and NaN skip counts) when the threshold rule keeps nothing yet."
    from ssfnas.learner import Learner, ProgressCB, synth_dls
    torch.manual_seed(0)
    dls = synth_dls(n_train=16, n_valid=16, bs=8, n_classes=3, shape=(3, 8, 8))
    net = SearchNetwork(C=2, n_classes=3, layers=3, relaxation='sigmoid')
    cb = DartsCB(dls.valid, arch_lr=1e-4, extra_loss=ZeroOneLoss(10.), derive=FairDartsConfig().derive)
    Learner(net, dls, lr=0.01, params=lambda m: m.weights(), cbs=[cb, ProgressCB(quiet=True)]).fit(1)
    assert cb.history[-1]['genotype'] is None and cb.history[-1]['n_skip_normal'] != cb.history[-1]['n_skip_normal']
    with pytest.raises(ValueError, match='no genotype could be derived'): cb.genotype
    fig = plot_sigmoid_hist(cb.history); assert fig is not None
