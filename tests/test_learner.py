"Edge cases of ssfnas.learner: checkpoint/resume corners, bad input, cancellation (all on SYNTHETIC data)."
import contextlib, io, random, warnings
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset

from ssfnas.core import Config, RunDir, set_seed
from ssfnas.learner import *

torch.set_num_threads(1)


def mlp(nh=16): return nn.Sequential(nn.Flatten(), nn.Linear(3*8*8, nh), nn.ReLU(), nn.Dropout(0.2), nn.Linear(nh, 3))


class NumpyAugDS(Dataset):
    "SYNTHETIC data augmented with numpy's and python's global generators (not torch's)."
    def __init__(self, n=48, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.y = torch.randint(0, 3, (n,), generator=g)
        self.x = torch.randn(n, 3, 8, 8, generator=g) + self.y[:, None, None, None]
    def __len__(self): return len(self.y)
    def __getitem__(self, i):
        x = self.x[i] + torch.from_numpy(np.random.randn(3, 8, 8).astype(np.float32)) * 0.1
        if random.random() < 0.5: x = x.flip(-1)
        return x, int(self.y[i])


def numpy_dls(seed=0):
    g = torch.Generator().manual_seed(seed)
    return (DataLoader(NumpyAugDS(), 8, shuffle=True, generator=g), DataLoader(NumpyAugDS(24, seed=1), 8))


class KillCB(Callback):
    def __init__(self, epoch, step): self.at = (epoch, step)
    def before_batch(self):
        if (self.learn.epoch, self.learn.iter) == self.at: raise KeyboardInterrupt


def quiet(): return ProgressCB(quiet=True)


def same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def make(folder, seed=0, cbs=(), dls=None, config=None, **kw):
    set_seed(seed)
    return Learner(mlp(), dls if dls is not None else synth_dls(), lr=0.05, run=folder, config=config,
                   cbs=[MetricsCB(), LRSchedCB(every='epoch'), quiet(), *cbs], **kw)


def test_resume_with_checkpointcb_resume_true_and_every_2(tmp_path):
    ref = make(tmp_path/'ref', cbs=[CheckpointCB(every=2)]).fit(5)
    with pytest.raises(KeyboardInterrupt):
        make(tmp_path/'run', cbs=[CheckpointCB(every=2), KillCB(3, 1)]).fit(5)
    ck = torch.load(tmp_path/'run'/'last.pt', weights_only=True)
    assert ck['epochs_done'] == 2  # saved after epochs 2 and 4 only: resumes from the end of epoch index 1
    res = make(tmp_path/'run', seed=7, cbs=[CheckpointCB(every=2, resume=True)]).fit(5)
    assert same_weights(ref.model, res.model)
    assert ref.history.drop(columns='time').equals(res.history.drop(columns='time'))


def test_resume_true_without_checkpoint_starts_afresh(tmp_path):
    a = make(tmp_path/'a', cbs=[CheckpointCB(resume=True)]).fit(2)
    b = make(tmp_path/'b').fit(2)
    assert same_weights(a.model, b.model)
    assert (tmp_path/'a'/'last.pt').exists()


def test_resume_numpy_and_python_rng_augmentation(tmp_path):
    ref = make(tmp_path/'ref', dls=numpy_dls(), cbs=[CheckpointCB()]).fit(3)
    with pytest.raises(KeyboardInterrupt):
        make(tmp_path/'run', dls=numpy_dls(), cbs=[CheckpointCB(), KillCB(1, 2)]).fit(3)
    np.random.seed(99); random.seed(99)  # the resumed run must not depend on the state before it
    res = make(tmp_path/'run', seed=5, dls=numpy_dls(seed=3), cbs=[CheckpointCB()]).fit(3, resume=tmp_path/'run')
    assert same_weights(ref.model, res.model)


def test_resume_early_stop_decides_the_same(tmp_path):
    cbs = lambda: [EarlyStopCB('accuracy', patience=1), CheckpointCB()]
    ref = make(tmp_path/'ref', cbs=cbs(), config={'x': 1}).fit(8, lr=0.)
    assert len(ref.history) == 2
    res = make(tmp_path/'ref', cbs=cbs(), config={'x': 1}).fit(8, lr=0., resume=tmp_path/'ref')
    assert len(res.history) == 2 and same_weights(ref.model, res.model)


def test_resume_finished_run_does_nothing(tmp_path):
    a = make(tmp_path/'a', cbs=[CheckpointCB()]).fit(2)
    b = make(tmp_path/'a', seed=3, cbs=[CheckpointCB()]).fit(2, resume=tmp_path/'a')
    assert same_weights(a.model, b.model) and len(b.history) == 2


def test_resume_from_file_path_and_rundir(tmp_path):
    run = RunDir(tmp_path/'r', {'lr': 0.05})
    a = make(run, cbs=[CheckpointCB()]).fit(1)
    for src in (tmp_path/'r'/'last.pt', run, str(tmp_path/'r')):
        b = make(RunDir(tmp_path/'r', {'lr': 0.05}), seed=4, cbs=[CheckpointCB()]).fit(1, resume=src)
        assert same_weights(a.model, b.model)


def test_missing_and_foreign_checkpoints(tmp_path):
    learn = make(tmp_path/'x')
    with pytest.raises(FileNotFoundError, match='no checkpoint at'):
        learn.fit(1, resume=tmp_path/'nope.pt')
    torch.save({'a': torch.zeros(1)}, tmp_path/'other.pt')
    with pytest.raises(ValueError, match='not a checkpoint written by Learner'):
        learn.load_checkpoint(tmp_path/'other.pt')


def test_model_mismatch_names_keys(tmp_path):
    make(tmp_path/'a', cbs=[CheckpointCB()]).fit(1)
    set_seed(0)
    other = Learner(nn.Sequential(nn.Flatten(), nn.Linear(192, 3)), synth_dls(), cbs=[quiet()])
    with pytest.raises(ValueError, match=r"(?s)only in the checkpoint: 4.weight, 4.bias.*shape differs: 1.weight: \[16, 192\] \(checkpoint\) != \[3, 192\]"):
        other.fit(1, resume=tmp_path/'a')


@dataclass(frozen=True)
class Cfg(Config):
    lr: float = 0.05
    epochs: int = 2
    widths: tuple = (8, 16)


def test_config_mismatch_lists_fields(tmp_path):
    make(tmp_path/'a', config=Cfg(), cbs=[CheckpointCB()]).fit(1)
    with pytest.raises(ValueError, match=r"(?s)epochs: 2 \(checkpoint\) != 3 \(now\).*widths: \[8, 16\] \(checkpoint\) != \[8, 32\]"):
        make(tmp_path/'b', config=Cfg(epochs=3, widths=(8, 32))).fit(1, resume=tmp_path/'a')
    make(tmp_path/'c', config=Cfg()).fit(1, resume=tmp_path/'a')  # the same config: fine
    # model_only ignores the config (loading weights for evaluation)
    make(tmp_path/'d', config=Cfg(epochs=9)).load_checkpoint(tmp_path/'a', model_only=True)


def test_checkpoint_is_weights_only_and_atomic(tmp_path):
    make(tmp_path/'a', cbs=[CheckpointCB(), EarlyStopCB()]).fit(2)
    ck = torch.load(tmp_path/'a'/'last.pt', weights_only=True)
    assert set(ck) >= {'model', 'opt', 'cbs', 'rng', 'generators', 'config', 'signature', 'epochs_done'}
    assert set(ck['cbs']) == {'recorder', 'early_stop'}
    assert sorted(p.name for p in (tmp_path/'a').iterdir()) == ['last.pt', 'metrics.csv', 'metrics.jsonl']


def test_missing_callback_state_warns(tmp_path):
    make(tmp_path/'a', cbs=[CheckpointCB(), EarlyStopCB()]).fit(1)
    with pytest.warns(UserWarning, match=r"lacks: \['early_stop'\]"):
        make(tmp_path/'a', cbs=[CheckpointCB()]).fit(1, resume=tmp_path/'a')


def test_n_epochs_change_warns(tmp_path):
    make(tmp_path/'a', cbs=[CheckpointCB()]).fit(1)
    with pytest.warns(UserWarning, match='changes the lr schedule'):
        make(tmp_path/'a', cbs=[CheckpointCB()]).fit(3, resume=tmp_path/'a')


def test_bad_inputs():
    dls = synth_dls()
    with pytest.raises(TypeError, match='must have .train'): Learner(mlp(), object())
    with pytest.raises(TypeError, match='pair'): Learner(mlp(), (1, 2, 3))
    m = mlp()
    with pytest.raises(TypeError, match='pass a list'): Learner(m, dls, params=m.parameters())
    with pytest.raises(TypeError, match=r'MetricsCB\(\), not the class'): Learner(m, dls, cbs=[MetricsCB])
    with pytest.raises(ValueError, match="'batch' or 'epoch'"): LRSchedCB(every='step')
    with pytest.raises(ValueError, match='mode must be'): EarlyStopCB(mode='up')
    with pytest.raises(ValueError, match='CheckpointCB needs a folder'): Learner(m, dls, cbs=[CheckpointCB(), quiet()]).fit(1)
    with pytest.raises(AttributeError, match='needs a Recorder'): Learner(m, dls, default_cbs=False).history


def test_params_as_list_of_groups():
    m = mlp()
    groups = [{'params': m[1].parameters(), 'lr': 0.01}, {'params': m[4].parameters()}]
    learn = Learner(m, synth_dls(), lr=0.1, params=[dict(g, params=list(g['params'])) for g in groups], cbs=[quiet()]).fit(1)
    assert [g['lr'] for g in learn.opt.param_groups] == [0.01, 0.1]
    learn.fit(1, lr=0.2)  # a new base lr for every group, the optimiser (momentum) kept
    assert [g['lr'] for g in learn.opt.param_groups] == [0.2, 0.2]


def test_cancel_epoch_skips_validation_but_logs():
    class C(Callback):
        def after_batch(self):
            if self.learn.training and self.learn.iter == 1: raise CancelEpochException()
    learn = Learner(mlp(), synth_dls(), cbs=[C(), quiet()]).fit(2)
    assert len(learn.history) == 2 and learn.history.valid_loss.isna().all()


def test_cancel_train_still_validates():
    class C(Callback):
        def before_batch(self):
            if self.learn.training: raise CancelTrainException()
    learn = Learner(mlp(), synth_dls(), cbs=[C(), quiet()]).fit(1)
    assert learn.history.valid_loss.notna().all()


def test_nan_in_validation_names_the_pass():
    class C(Callback):
        def after_loss(self):
            if not self.learn.training: self.learn.loss = self.learn.loss + float('inf')
    with pytest.raises(NaNLossError, match='validation loss is inf at epoch 0, step 0'):
        Learner(mlp(), synth_dls(), cbs=[C(), quiet()]).fit(1)


def test_two_inputs_without_labels_and_metrics_error():
    class V(Dataset):
        def __len__(self): return 16
        def __getitem__(self, i): return torch.randn(4), torch.randn(4)
    class M(nn.Module):
        def __init__(self): super().__init__(); self.f = nn.Linear(4, 2)
        def forward(self, a, b): return self.f(a), self.f(b)
    loss = lambda p: (p[0] - p[1]).pow(2).mean()
    learn = Learner(M(), (DataLoader(V(), 4), None), loss, n_inp=2, cbs=[quiet()]).fit(1)
    assert learn.yb == () and len(learn.xb) == 2
    with pytest.raises(ValueError, match='MetricsCB needs targets'):
        Learner(M(), (DataLoader(V(), 4), DataLoader(V(), 4)), loss, n_inp=2, cbs=[MetricsCB(), quiet()]).fit(1)


def test_xb_yb_setters():
    learn = Learner(mlp(), synth_dls(), default_cbs=False)
    learn.batch = (torch.zeros(2), torch.ones(2))
    learn.xb = torch.full((2,), 5.)
    assert torch.equal(learn.batch[0], torch.full((2,), 5.)) and torch.equal(learn.yb[0], torch.ones(2))
    learn.yb = (torch.zeros(2), torch.zeros(2))
    assert len(learn.batch) == 3


def test_to_device_nested():
    b = {'a': (torch.zeros(1), [torch.ones(1), 3]), 'b': 'x'}
    out = to_device(b, torch.device('cpu'))
    assert isinstance(out['a'], tuple) and isinstance(out['a'][1], list) and out['a'][1][1] == 3 and out['b'] == 'x'


def test_aux_loss_bad_output():
    class M(nn.Module):
        def __init__(self): super().__init__(); self.f = nn.Linear(192, 3)
        def forward(self, x): y = self.f(x.flatten(1)); return y, y, y
    with pytest.raises(ValueError, match=r'\(logits, logits_aux\), got 3 outputs'):
        Learner(M(), synth_dls(), cbs=[AuxLossCB(), quiet()]).fit(1)


def test_progress_bar_closed_after_interrupt():
    pc = ProgressCB(bars=True)
    with contextlib.redirect_stdout(io.StringIO()), pytest.raises(KeyboardInterrupt):
        Learner(mlp(), synth_dls(), cbs=[pc, KillCB(0, 2)]).fit(2)
    assert pc.pbar is None


def test_progress_prints_one_line_per_epoch():
    out = io.StringIO()
    with contextlib.redirect_stdout(out): Learner(mlp(), synth_dls(), cbs=[ProgressCB(bars=False)]).fit(3)
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 4 and lines[0].split() == ['epoch', 'train_loss', 'valid_loss', 'lr', 'time']


def test_validate_before_fit_and_get_preds():
    learn = Learner(mlp(), synth_dls(), cbs=[MetricsCB(), quiet()])
    r = learn.validate()
    assert set(r) == {'valid_loss', 'accuracy'}
    p, y = learn.get_preds()
    assert p.shape == (48, 3) and y.shape == (48,)


def test_mixed_precision_noop_on_cpu():
    class D(Callback):
        order = 50
        def after_pred(self): self.dtype = self.learn.preds.dtype
    d = D()
    Learner(mlp(), synth_dls(), cbs=[DeviceCB('cpu'), MixedPrecisionCB(), d, quiet()]).fit(1)
    assert d.dtype == torch.float32


def test_default_callbacks_replaced_not_duplicated():
    learn = Learner(mlp(), synth_dls(), cbs=[ProgressCB(quiet=True), Recorder()])
    assert sorted(type(c).__name__ for c in learn.cbs) == ['DeviceCB', 'NaNLossCB', 'ProgressCB', 'Recorder']
    assert learn.progress.quiet


def test_temporary_callbacks_removed():
    class T(Callback): pass
    learn = Learner(mlp(), synth_dls(), cbs=[quiet()])
    n = len(learn.cbs)
    learn.fit(1, cbs=[T()])
    assert len(learn.cbs) == n
