"Edge cases of ssfnas.barlow and the two-process (gloo) check that the loss is the loss of the gathered batch."
import math, os, tempfile
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel as DDP

from ssfnas.barlow import (BarlowTwinsLoss, BarlowTwins, Projector, cross_correlation, standardize, LARS,
                           knn_predict, knn_eval, MultiViewTransform, MultiViewDataset, barlow_views,
                           CifarResNet, feature_dim)


# ---------------------------------------------------------------- loss: bad and degenerate input

def test_batch_of_one_raises():
    with pytest.raises(ValueError, match='at least 2 samples.*drop_last=True'):
        BarlowTwinsLoss()(torch.randn(1, 8), torch.randn(1, 8))

def test_shape_mismatch_raises():
    with pytest.raises(ValueError, match=r'same shape.*\(4, 3\) and \(4, 5\)'):
        BarlowTwinsLoss()(torch.randn(4, 3), torch.randn(4, 5))
    with pytest.raises(ValueError, match=r'same shape'):
        BarlowTwinsLoss()(torch.randn(4, 3), torch.randn(5, 3))
    with pytest.raises(ValueError, match='flatten the features'):
        BarlowTwinsLoss()(torch.randn(4, 3, 2), torch.randn(4, 3, 2))
    with pytest.raises(TypeError, match='must be a torch.Tensor'):
        BarlowTwinsLoss()(np.zeros((4, 3)), torch.randn(4, 3))

def test_bad_hyperparameters_raise():
    for kw in (dict(lambd=-1), dict(scale=0), dict(eps=0)):
        with pytest.raises(ValueError, match='need lambd >= 0, scale > 0, eps > 0'): BarlowTwinsLoss(**kw)

def test_constant_dimension_contributes_exactly_one():
    "A dead (constant) dimension standardises to 0: it adds exactly 1 (times scale) and nothing off-diagonal."
    g = torch.Generator().manual_seed(0)
    z1, z2 = torch.randn(16, 5, generator=g), torch.randn(16, 5, generator=g)
    dead1 = torch.cat([z1, torch.full((16, 1), 3.7)], 1)
    dead2 = torch.cat([z2, torch.full((16, 1), -2.0)], 1)
    for s in (1.0, 0.1):
        crit = BarlowTwinsLoss(scale=s)
        assert math.isclose(crit(dead1, dead2).item(), crit(z1, z2).item() + s, rel_tol=1e-5)

def test_collapsed_embedding_is_finite_and_documented():
    z = torch.full((8, 6), 0.3, requires_grad=True)
    loss = BarlowTwinsLoss(scale=0.1)(z, z)
    assert torch.isfinite(loss) and math.isclose(loss.item(), 0.1 * 6, rel_tol=1e-6)
    loss.backward()
    assert torch.isfinite(z.grad).all()

def test_eps_zero_constant_dimension_raises():
    with pytest.raises(ValueError, match='constant over the batch and eps=0'):
        cross_correlation(torch.ones(4, 2), torch.randn(4, 2), eps=0)

def test_bf16_inputs_computed_in_float32():
    g = torch.Generator().manual_seed(1)
    z1, z2 = torch.randn(32, 8, generator=g), torch.randn(32, 8, generator=g)
    l32 = BarlowTwinsLoss()(z1, z2)
    l16 = BarlowTwinsLoss()(z1.bfloat16(), z2.bfloat16())
    assert l16.dtype == torch.float32 and math.isclose(l16.item(), l32.item(), rel_tol=2e-2)

def test_terms_are_recorded():
    crit = BarlowTwinsLoss(lambd=0.01, scale=0.5)
    z1, z2 = torch.randn(10, 4), torch.randn(10, 4)
    loss = crit(z1, z2)
    assert math.isclose(loss.item(), 0.5 * (crit.terms['invariance'] + 0.01 * crit.terms['redundancy']).item(), rel_tol=1e-6)

def test_standardize_matches_batchnorm():
    z = torch.randn(20, 7) * 4 + 2
    bn = nn.BatchNorm1d(7, affine=False).train()
    assert torch.allclose(standardize(z), bn(z), atol=1e-6)


# ---------------------------------------------------------------- the two-process check (gloo, CPU)

def _data():
    g = torch.Generator().manual_seed(0)
    x1 = torch.randn(12, 6, generator=g)
    x2 = x1 + 0.3 * torch.randn(12, 6, generator=g)
    torch.manual_seed(0)
    model = BarlowTwins(nn.Sequential(nn.Linear(6, 8), nn.Tanh()), projector=nn.Linear(8, 5, bias=False))
    return x1, x2, model

def _worker(rank, world, init_file, out_dir):
    dist.init_process_group('gloo', init_method=f'file://{init_file}', rank=rank, world_size=world)
    try:
        torch.set_num_threads(1)
        x1, x2, model = _data()
        ddp = DDP(model)
        n = len(x1) // world
        sl = slice(rank * n, (rank + 1) * n)
        z1, z2 = ddp(x1[sl], x2[sl])
        loss = BarlowTwinsLoss(lambd=0.01)(z1, z2)
        loss.backward()
        local = BarlowTwinsLoss(lambd=0.01, gather=False)(z1.detach(), z2.detach())  # per-process loss, for contrast
        torch.save({'loss': loss.item(), 'local': local.item(),
                    'grads': [p.grad.clone() for p in model.parameters()]}, os.path.join(out_dir, f'r{rank}.pt'))
    finally:
        dist.destroy_process_group()

def test_two_process_loss_and_gradients_equal_single_process():
    x1, x2, model = _data()
    loss = BarlowTwinsLoss(lambd=0.01)(*model(x1, x2))
    loss.backward()
    ref_grads = [p.grad.clone() for p in model.parameters()]
    with tempfile.TemporaryDirectory() as d:
        mp.spawn(_worker, args=(2, os.path.join(d, 'init'), d), nprocs=2, join=True)
        res = [torch.load(os.path.join(d, f'r{r}.pt')) for r in range(2)]
    for r in res:
        assert math.isclose(r['loss'], loss.item(), rel_tol=1e-5), (r['loss'], loss.item())
        for g, ref in zip(r['grads'], ref_grads): assert torch.allclose(g, ref, atol=1e-6), (g, ref)
    # the per-process loss (statistics of half a batch) is a different number: gathering matters
    assert not math.isclose(res[0]['local'], loss.item(), rel_tol=1e-3)

def test_no_process_group_needed():
    assert not dist.is_initialized()
    x1, x2, model = _data()
    assert torch.isfinite(BarlowTwinsLoss()(*model(x1, x2)))


# ---------------------------------------------------------------- projector, model, views

def test_projector_structure():
    p = Projector(16, (32, 32, 8))
    kinds = [type(m).__name__ for m in p]
    assert kinds == ['Linear', 'BatchNorm1d', 'ReLU', 'Linear', 'BatchNorm1d', 'ReLU', 'Linear']
    assert all(m.bias is None for m in p if isinstance(m, nn.Linear))
    with pytest.raises(ValueError, match='at least one positive width'): Projector(16, (0,))

def test_model_and_feature_dim():
    bb = CifarResNet((1, 1), (8, 16))
    assert feature_dim(bb) == 16
    m = BarlowTwins(bb, proj_widths=(32, 12))
    z1, z2 = m(torch.randn(3, 3, 32, 32), torch.randn(3, 3, 32, 32))
    assert z1.shape == z2.shape == (3, 12)
    with pytest.raises(ValueError, match='one block count'): CifarResNet((1,), (8, 16))

def test_views_dataset_items_and_errors():
    class A: pass
    a = A(); a.x = np.random.default_rng(0).integers(0, 256, (5, 32, 32, 3), dtype=np.uint8); a.y = np.arange(5)
    ds = MultiViewDataset(a)
    v1, v2, y = ds[3]
    assert v1.shape == v2.shape == (3, 32, 32) and y == 3
    a.x = a.x.astype(np.float32)
    with pytest.raises(ValueError, match='uint8 array'): MultiViewDataset(a)
    with pytest.raises(TypeError, match='callable'): MultiViewTransform([1])
    assert len(barlow_views(p_solarize=(0, 0.2, 0.5), p_blur=(0, 0, 1))) == 3

def test_solarize_only_on_second_view():
    "With all randomness except solarization removed, view 1 never solarizes and view 2 with p=1 always does."
    img = torch.full((3, 32, 32), 200, dtype=torch.uint8)
    t = barlow_views(scale=(1.0, 1.0), p_jitter=0, p_gray=0, p_solarize=(0.0, 1.0))
    v1, v2 = t(img)
    assert v1.mean() > 0 > v2.mean()  # 200 -> 55 after solarization: below the mean after normalisation


# ---------------------------------------------------------------- LARS

def test_lars_excludes_1d_from_decay_and_adaptation():
    b = nn.Parameter(torch.tensor([1.0, 2.0])); b.grad = torch.tensor([0.5, 0.5])
    LARS([b], lr=0.1, momentum=0.0, weight_decay=0.5, eta=1e-3).step()
    assert torch.allclose(b.data, torch.tensor([0.95, 1.95]))

def test_lars_zero_weight_or_grad_is_plain_sgd():
    w = nn.Parameter(torch.zeros(2, 2)); w.grad = torch.ones(2, 2)
    LARS([w], lr=0.1, momentum=0.0, eta=1e-3).step()
    assert torch.allclose(w.data, torch.full((2, 2), -0.1))

def test_lars_trust_ratio_with_weight_decay():
    w = nn.Parameter(torch.tensor([[3.0, 4.0]])); w.grad = torch.tensor([[0.0, 1.0]])
    LARS([w], lr=1.0, momentum=0.0, weight_decay=0.1, eta=0.1, clip=False).step()
    trust = 0.1 * 5 / (1 + 0.1 * 5)
    expect = torch.tensor([[3.0, 4.0]]) - trust * (torch.tensor([[0.0, 1.0]]) + 0.1 * torch.tensor([[3.0, 4.0]]))
    assert torch.allclose(w.data, expect, atol=1e-6)

def test_lars_state_dict_round_trip():
    m = nn.Linear(3, 2); o = LARS(m.parameters(), lr=0.1, weight_decay=1e-4)
    m(torch.randn(4, 3)).sum().backward(); o.step()
    o2 = LARS(m.parameters(), lr=0.5); o2.load_state_dict(o.state_dict())
    assert o2.param_groups[0]['lr'] == 0.1 and len(o2.state) == 2

def test_lars_bad_arguments():
    with pytest.raises(ValueError, match='eta > 0'): LARS([nn.Parameter(torch.ones(1))], lr=0.1, eta=0)


# ---------------------------------------------------------------- kNN

def test_knn_k_larger_than_bank_and_perfect_separation():
    ftr = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]]); ytr = torch.tensor([0, 0, 1])
    assert knn_predict(ftr, ytr, torch.tensor([[0.1, 1.0]]), k=1).tolist() == [1]
    q = torch.tensor([[0.1, 1.0], [1.0, 0.2]])
    assert knn_predict(ftr, ytr, q, k=500).tolist() == knn_predict(ftr, ytr, q, k=3).tolist() == [1, 0]  # k capped at N
    assert knn_predict(ftr, ytr, torch.tensor([[0.1, 1.0]]), k=3, t=100.).tolist() == [0]  # high t: the majority wins
    with pytest.raises(ValueError, match='k >= 1'): knn_predict(ftr, ytr, ftr, k=0)
    with pytest.raises(ValueError, match='labels'): knn_predict(ftr, ytr[:2], ftr)

def test_knn_eval_reports_micro_and_balanced():
    "A backbone that sees only the mean colour: on a 90/10 test set micro and balanced accuracy differ."
    from ssfnas.data import Arrays
    rng = np.random.default_rng(0)
    def imgs(n, lo, hi): return rng.integers(lo, hi, (n, 32, 32, 3), dtype=np.uint8)
    train = Arrays(np.concatenate([imgs(50, 0, 100), imgs(50, 150, 255)]), np.repeat([0, 1], 50), ['dark', 'bright'])
    # test: 90 dark, 10 mid-grey images labelled bright that look dark to the backbone
    test = Arrays(np.concatenate([imgs(90, 0, 100), imgs(10, 0, 100)]), np.repeat([0, 1], [90, 10]), ['dark', 'bright'])
    bb = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 2))
    with torch.no_grad(): bb[2].weight.copy_(torch.tensor([[1., 1, 1], [0, 0, 0]])); bb[2].bias.copy_(torch.tensor([0., 1.]))
    r = knn_eval(bb, train, test, k=5)
    assert math.isclose(r['acc'], 0.9) and math.isclose(r['bal_acc'], 0.5)
    assert r['per_class'].tolist() == [1.0, 0.0]
    assert r['pc']['per_class'].tolist() == [1.0, 0.0]  # a balanced bank: the prior-corrected vote is the weighted one


# ---------------------------------------------------------------- learner integration

def _small_arrays(n, seed):
    from ssfnas.data import Arrays
    rng = np.random.default_rng(seed)
    return Arrays(rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8), np.arange(n) % 3, ['a', 'b', 'c'])

def test_views_loss_ignores_labels_and_checks_preds():
    from ssfnas.barlow import ViewsLoss
    z1, z2 = torch.randn(6, 4), torch.randn(6, 4)
    crit = ViewsLoss(BarlowTwinsLoss())
    assert torch.equal(crit((z1, z2), torch.arange(6)), BarlowTwinsLoss()(z1, z2))
    with pytest.raises(TypeError, match='as a tuple'): crit(z1, torch.arange(6))

def test_learner_checkpoint_resume_with_monitors(tmp_path):
    "A run with both monitors saves a checkpoint (weights_only-loadable) and resumes from it."
    from ssfnas.barlow import BarlowConfig, barlow_learner
    from ssfnas.learner import CheckpointCB
    torch.set_num_threads(1)
    train, test = _small_arrays(48, 0), _small_arrays(12, 1)
    cfg = BarlowConfig.preset('tiny', bs=16, epochs=2, eval_every=1, knn_k=5, proj=(32, 32))
    from ssfnas.learner import Callback, CancelFitException
    class StopAfterFirst(Callback):  # an interrupted run: stops after epoch 0, once its checkpoint is written
        order = 100
        def after_epoch(self): raise CancelFitException()
    learn = barlow_learner(cfg, train, test, device='cpu', quiet=True, run=tmp_path, cbs=[CheckpointCB(), StopAfterFirst()])
    learn.fit(2)
    h1 = learn.history
    assert {'knn_acc', 'knn_bal_acc', 'probe_acc', 'probe_bal_acc', 'knn_init_acc'} <= set(h1.columns)
    head = learn.online_probe.head.weight.detach().clone()
    learn2 = barlow_learner(cfg, train, test, device='cpu', quiet=True, run=tmp_path, cbs=[CheckpointCB(resume=True)])
    learn2.fit(2)
    assert len(learn2.history) == 2 and learn2.history.epoch.tolist() == [0, 1]
    assert learn2.knn_monitor.init['acc'] == learn.knn_monitor.init['acc'] and 0 in learn2.knn_monitor.results
    assert not torch.equal(learn2.online_probe.head.weight.detach(), head)  # loaded, then trained on

def test_barlow_learner_bad_config():
    from ssfnas.barlow import BarlowConfig, barlow_learner
    with pytest.raises(ValueError, match="choose 'lars' or 'sgd'"):
        barlow_learner(BarlowConfig.preset('tiny', opt='adam'), _small_arrays(200, 0))
    with pytest.raises(ValueError, match='fewer than one batch'):
        barlow_learner(BarlowConfig.preset('tiny'), _small_arrays(20, 0))
