"Edge cases and bad input for ssfnas.losses (the lesson notebook holds the formula checks)."
import math
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from ssfnas.losses import (as_counts, check_logits_target, CELoss, FocalLoss, class_balanced_weights, ldam_margins,
                           LDAMLoss, LogitAdjustedLoss, BalancedSoftmaxLoss, FocalLALoss, posthoc_adjust, DRW,
                           get_loss, LOSSES, ClassAwareSampler, ClassBalancedSampler, SqrtSampler)

COUNTS = [500, 120, 30, 8]
RE_WEIGHTING = [lambda c: LDAMLoss(c), lambda c: LogitAdjustedLoss(c), lambda c: BalancedSoftmaxLoss(c),
                lambda c: FocalLALoss(c), lambda c: class_balanced_weights(c), lambda c: ldam_margins(c),
                lambda c: DRW(c)]


def batch(n=6, C=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, C, generator=g), torch.randint(0, C, (n,), generator=g)


@pytest.mark.parametrize('make', RE_WEIGHTING)
def test_zero_count_is_refused(make):
    with pytest.raises(ValueError, match=r'zero samples for class\(es\) \[2\].*Remove the empty classes'):
        make([10, 5, 0, 3])


@pytest.mark.parametrize('bad,match', [([[1, 2], [3, 4]], '1-D sequence'), ([], '1-D sequence'),
                                       ([3, -1], 'negative'), ([3, float('nan')], 'nan/inf'), ('abc', 'sequence of numbers')])
def test_bad_counts(bad, match):
    with pytest.raises((ValueError, TypeError), match=match): as_counts(bad)


def test_counts_accept_tensor_numpy_list():
    for c in (COUNTS, np.array(COUNTS), torch.tensor(COUNTS)):
        assert torch.equal(as_counts(c), torch.tensor(COUNTS, dtype=torch.float64))


@pytest.mark.parametrize('make,name', [(lambda: FocalLoss(-0.5), 'gamma'), (lambda: FocalLALoss(COUNTS, gamma=-1), 'gamma'),
                                       (lambda: LogitAdjustedLoss(COUNTS, tau=-0.1), 'tau'),
                                       (lambda: FocalLALoss(COUNTS, tau=-2), 'tau'),
                                       (lambda: posthoc_adjust(torch.zeros(1, 4), COUNTS, tau=-1), 'tau'),
                                       (lambda: FocalLoss(float('inf')), 'gamma'), (lambda: LDAMLoss(COUNTS, max_m=-0.1), 'max_m')])
def test_negative_parameters(make, name):
    with pytest.raises(ValueError, match=f'{name} must be a finite number >= 0'): make()


def test_ldam_scale_must_be_positive():
    with pytest.raises(ValueError, match='s must be > 0'): LDAMLoss(COUNTS, s=0)


@pytest.mark.parametrize('beta', [1.0, -0.1, 1.5, float('nan'), True])
def test_beta_outside_range(beta):
    with pytest.raises(ValueError, match=r'beta must be in \[0, 1\)'): class_balanced_weights(COUNTS, beta)


def test_beta_zero_and_near_one():
    assert torch.equal(class_balanced_weights(COUNTS, 0.0), torch.ones(4))
    w = class_balanced_weights(COUNTS, 0.9999)
    assert abs(w.sum().item() - 4) < 1e-5 and torch.all(w[1:] > w[:-1])  # rarer class, larger weight


ALL_LOSSES = [lambda: CELoss(), lambda: FocalLoss(2.), lambda: LDAMLoss(COUNTS), lambda: LogitAdjustedLoss(COUNTS),
              lambda: BalancedSoftmaxLoss(COUNTS), lambda: FocalLALoss(COUNTS)]


@pytest.mark.parametrize('make', ALL_LOSSES)
def test_labels_outside_range(make):
    z, _ = batch()
    for bad in ([0, 1, 2, 3, 4, 0], [0, -1, 2, 3, 1, 0]):
        with pytest.raises(ValueError, match=r'outside the class range 0\.\.3'): make()(z, torch.tensor(bad))


@pytest.mark.parametrize('make', ALL_LOSSES)
def test_wrong_logits_shape(make):
    z, y = batch()
    with pytest.raises(ValueError, match=r'logits must have shape \(batch, n_classes\)'): make()(z[:, :, None], y)
    with pytest.raises(ValueError, match=r'logits must have shape'): make()(z[0], y[:1])


@pytest.mark.parametrize('make', ALL_LOSSES[2:])
def test_wrong_number_of_classes(make):
    z, y = batch(C=5)
    with pytest.raises(ValueError, match='built for 4 classes.*logits have 5 columns'): make()(z, y % 4)


@pytest.mark.parametrize('make', ALL_LOSSES)
def test_bad_targets(make):
    z, y = batch()
    with pytest.raises(TypeError, match='integer class indices'): make()(z, y.float())
    with pytest.raises(TypeError, match='one-hot'): make()(z, F.one_hot(y, 4))
    with pytest.raises(ValueError, match='6 samples but target holds 5'): make()(z, y[:5])
    with pytest.raises(TypeError, match='must be tensors'): make()(z.numpy(), y)
    with pytest.raises(TypeError, match='floating point'): make()(z.long(), y)


@pytest.mark.parametrize('make', ALL_LOSSES)
def test_reductions_and_grad(make):
    z, y = batch(8)
    z.requires_grad_(True)
    lf = make(); mean = lf(z, y)
    lf.reduction = 'none'; l_none = lf(z, y)
    assert l_none.shape == (8,) and torch.all(l_none >= 0)
    assert torch.allclose(mean, l_none.mean())
    lf.reduction = 'sum'
    assert torch.allclose(lf(z, y), l_none.sum())
    mean.backward()
    assert torch.isfinite(z.grad).all() and z.grad.abs().sum() > 0


def test_bad_reduction():
    with pytest.raises(ValueError, match="reduction must be"): CELoss(reduction='avg')


def test_weights_checked():
    with pytest.raises(ValueError, match='finite, >= 0 and not all zero'): CELoss(weight=[1., -1.])
    with pytest.raises(ValueError, match='finite, >= 0 and not all zero'): CELoss(weight=[0., 0.])
    with pytest.raises(ValueError, match='got 3 class weights for a loss over 4 classes'): LDAMLoss(COUNTS, weight=[1, 1, 1])
    with pytest.raises(ValueError, match='1-D'): CELoss(weight=[[1., 1.]])


def test_weighted_mean_matches_torch():
    z, y = batch(16)
    w = class_balanced_weights(COUNTS, 0.999)
    assert torch.allclose(CELoss(weight=w)(z, y), F.cross_entropy(z, y, weight=w), atol=1e-6)
    assert torch.allclose(FocalLoss(0., weight=w)(z, y), F.cross_entropy(z, y, weight=w), atol=1e-6)


def test_focal_is_finite_for_confident_predictions():
    z = torch.tensor([[60., -60.], [-60., 60.]], requires_grad=True)
    for g in (0.5, 1., 2.):
        l = FocalLoss(g)(z, torch.tensor([0, 1]))
        l.backward()
        assert l.item() < 1e-20 and torch.isfinite(z.grad).all()
        z.grad = None


def test_focal_down_weights_easy_samples():
    z = torch.tensor([[3., 0.], [0.2, 0.]]); y = torch.tensor([0, 0])
    ce = CELoss(reduction='none')(z, y); fl = FocalLoss(2., reduction='none')(z, y)
    assert (fl / ce)[0] < (fl / ce)[1] < 1


def test_bf16_logits_are_upcast():
    z, y = batch()
    assert CELoss()(z.bfloat16(), y).dtype == torch.float32


def test_la_prediction_unchanged_and_loss_identity():
    z, y = batch(10)
    # balanced softmax == LA tau=1 for any counts scale; LA only depends on the frequencies
    assert torch.allclose(BalancedSoftmaxLoss(COUNTS)(z, y), LogitAdjustedLoss(COUNTS, 1.)(z, y), atol=1e-6)
    assert torch.allclose(LogitAdjustedLoss(np.array(COUNTS) * 7, 1.)(z, y), LogitAdjustedLoss(COUNTS, 1.)(z, y), atol=1e-6)
    assert torch.allclose(FocalLALoss(COUNTS, 0., 0.)(z, y), CELoss()(z, y), atol=1e-6)


def test_ldam_margins_largest_for_rarest():
    m = ldam_margins(COUNTS, 0.5)
    assert abs(m.max().item() - 0.5) < 1e-7 and m.argmax().item() == 3 and torch.all(m[1:] > m[:-1])
    assert torch.equal(ldam_margins(COUNTS, 0.), torch.zeros(4))


def test_loss_buffers_follow_to_and_weights_can_be_reset():
    lf = LDAMLoss(COUNTS, weight=[1, 2, 3, 4]).to(torch.float64)
    assert 'margins' in dict(lf.named_buffers()) and 'weight' in dict(lf.named_buffers())
    lf.set_weight(None); assert lf.weight is None
    assert 'weight' in repr(lf) and 'max_m=0.5' in repr(lf)


def test_get_loss_all_names():
    for n in LOSSES:
        lf, cbs = get_loss(n, COUNTS)
        z, y = batch()
        assert torch.isfinite(lf(z, y))
        assert (len(cbs) == 1) == (n == 'ldam_drw')
    assert get_loss('focal', COUNTS)[0].gamma == 1.0 and get_loss('focal_la', COUNTS)[0].gamma == 2.0
    with pytest.raises(ValueError, match='choose one of'): get_loss('LDAM', COUNTS)
    with pytest.raises(ValueError, match='zero samples'): get_loss('ce', [3, 0])


def test_drw_bad_start():
    with pytest.raises(ValueError, match='start must be an epoch number'): DRW(COUNTS, start=-1)


# ---- samplers ----
LABELS = np.repeat(np.arange(4), [500, 120, 30, 8])


@pytest.mark.parametrize('S,q', [(ClassBalancedSampler, 0.0), (SqrtSampler, 0.5), (lambda l, **k: ClassAwareSampler(l, 1.0, **k), 1.0)])
def test_sampler_frequencies(S, q):
    n = 80_000
    s = S(LABELS, num_samples=n, seed=5)
    freq = np.bincount(LABELS[list(s)], minlength=4) / n
    target = np.array([500, 120, 30, 8], float) ** q; target /= target.sum()
    assert np.allclose(freq, target, atol=4 * np.sqrt(target * (1 - target) / n) + 1e-3), (freq, target)
    # per-sample probability is proportional to n_c^(q-1)
    w = s.sample_weights.numpy()
    assert np.allclose(w[0] / w[-1], (500 / 8) ** (q - 1))


def test_sampler_determinism_and_global_rng_untouched():
    torch.manual_seed(0); before = torch.rand(3)
    torch.manual_seed(0)
    a = list(ClassBalancedSampler(LABELS, seed=1))
    after = torch.rand(3)
    assert torch.equal(before, after)                       # the sampler has its own generator
    assert a == list(ClassBalancedSampler(LABELS, seed=1))
    assert a != list(ClassBalancedSampler(LABELS, seed=2))
    s = SqrtSampler(LABELS, seed=1); e1 = list(s); e2 = list(s)
    assert e1 != e2                                         # a new draw each epoch


def test_sampler_missing_class_and_bad_input():
    lab = np.array([0, 0, 2, 2, 2])                         # class 1 has no samples: never drawn
    s = ClassBalancedSampler(lab, num_samples=1000, seed=0)
    assert s.class_probs[1] == 0 and set(lab[list(s)]) == {0, 2}
    with pytest.raises(ValueError, match='non-empty 1-D'): ClassBalancedSampler([])
    with pytest.raises(ValueError, match='non-empty 1-D'): ClassBalancedSampler([0.5, 1.0])
    with pytest.raises(ValueError, match='>= 0'): ClassBalancedSampler([0, -1])
    with pytest.raises(ValueError, match='num_samples must be > 0'): ClassBalancedSampler([0, 1], num_samples=0)


def test_sampler_in_dataloader():
    ds = torch.utils.data.TensorDataset(torch.arange(len(LABELS)), torch.as_tensor(LABELS))
    dl = torch.utils.data.DataLoader(ds, batch_size=64, sampler=ClassBalancedSampler(LABELS, seed=0))
    ys = torch.cat([b[1] for b in dl])
    assert len(ys) == len(LABELS)
    assert abs((ys == 3).float().mean().item() - 0.25) < 0.06
