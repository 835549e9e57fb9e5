"Edge cases and bad input for ssfnas.evaluation (the lesson notebook holds the hand-computed examples)."
import json
import numpy as np
import pandas as pd
import pytest
import torch
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt
from ssfnas.evaluation import (confusion_matrix, per_class_accuracy, micro_accuracy, mean_per_class_accuracy, group_accuracy,
                               Report, predict, evaluate, compare, plot_per_class, plot_confusion, plot_history)
from ssfnas.losses import posthoc_adjust


def test_hand_computed_4_classes():
    # true:  0 0 0 0 1 1 2 3 3 3 ; pred: 0 0 1 0 1 2 2 3 0 3
    cm = confusion_matrix([0, 0, 0, 0, 1, 1, 2, 3, 3, 3], [0, 0, 1, 0, 1, 2, 2, 3, 0, 3])
    assert cm.tolist() == [[3, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 0], [1, 0, 0, 2]]
    assert np.allclose(per_class_accuracy(cm), [3/4, 1/2, 1, 2/3])
    assert micro_accuracy(cm) == pytest.approx(7/10)
    assert mean_per_class_accuracy(cm) == pytest.approx((3/4 + 1/2 + 1 + 2/3) / 4)
    g = group_accuracy(cm, ['head', 'head', 'medium', 'tail'])
    assert g == pytest.approx({'head': (3/4 + 1/2) / 2, 'medium': 1.0, 'tail': 2/3})


def test_micro_equals_balanced_on_balanced_test_set():
    rng = np.random.default_rng(0)
    t = np.repeat(np.arange(5), 40); p = np.where(rng.random(200) < 0.6, t, rng.integers(0, 5, 200))
    cm = confusion_matrix(t, p)
    assert micro_accuracy(cm) == pytest.approx(mean_per_class_accuracy(cm))


def test_confusion_matrix_inputs():
    assert confusion_matrix(torch.tensor([0, 1]), torch.tensor([1, 1]), 3).shape == (3, 3)
    with pytest.raises(ValueError, match='2 labels but y_pred has 3'): confusion_matrix([0, 1], [0, 1, 1])
    with pytest.raises(ValueError, match='empty'): confusion_matrix([], [])
    with pytest.raises(ValueError, match=r'y_true holds labels outside 0\.\.1: \[-1\]'): confusion_matrix([-1, 0], [0, 0], 2)
    with pytest.raises(TypeError, match='integer class indices'): confusion_matrix([0., 1.], [0., 1.])
    with pytest.raises(ValueError, match='1-D'): confusion_matrix(np.zeros((2, 2), int), [0, 1])


def test_classes_without_test_samples_and_groups():
    cm = confusion_matrix([0, 0, 1], [0, 1, 1], 4)
    acc = per_class_accuracy(cm)
    assert np.isnan(acc[2:]).all()
    assert mean_per_class_accuracy(cm) == pytest.approx(0.75)
    g = group_accuracy(cm, ['head', 'medium', 'tail', 'tail'])
    assert np.isnan(g['tail']) and g['head'] == 0.5
    with pytest.raises(ValueError, match='3 group labels for 4 classes'): group_accuracy(cm, ['head'] * 3)
    with pytest.raises(ValueError, match='no class has test samples'): mean_per_class_accuracy(np.zeros((2, 2)))


def test_report_defaults_and_json():
    r = Report.from_predictions([0, 1, 2, 2], [0, 1, 1, 2], counts=[100, 10, 1])
    assert r.classes == ['0', '1', '2'] and list(r.groups) == ['head', 'medium', 'tail']
    d = r.to_dict()
    json.dumps(d)  # plain types
    assert d['top1_micro'] == pytest.approx(0.75) and d['top1_balanced'] == pytest.approx((1 + 1 + 0.5) / 3)
    s = r.summary()
    assert 'micro' in s and 'balanced' in s and 'head' in s
    assert 'micro' in repr(r) and '<table' in r._repr_html_()
    t = r.table
    assert list(t.columns) == ['class', 'train_count', 'group', 'n_test', 'correct', 'accuracy']
    assert t.n_test.tolist() == [1, 1, 2]


def test_report_bad_input():
    with pytest.raises(ValueError, match='counts must be 1-D'): Report.from_predictions([0], [0], [[1, 2]])
    with pytest.raises(ValueError, match='2 group labels for 3 classes'): Report.from_predictions([0], [0], [3, 2, 1], groups=['a', 'b'])


def _model_and_dl():
    X = torch.randn(20, 4, generator=torch.Generator().manual_seed(0)); Y = torch.arange(20) % 3
    m = torch.nn.Linear(4, 3)
    dl = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, Y), batch_size=6)
    return m, dl, X, Y


def test_predict_matches_direct_forward_and_restores_mode():
    m, dl, X, Y = _model_and_dl()
    m.train()
    logits, y = predict(m, dl)
    assert torch.allclose(logits, m(X).detach(), atol=1e-6) and torch.equal(y, Y) and m.training
    m.eval(); predict(m, dl); assert not m.training


def test_evaluate_bad_input():
    m, dl, X, Y = _model_and_dl()
    with pytest.raises(ValueError, match=r'outputs shape \(20, 3\) but counts give 4 classes'): evaluate(m, dl, [5, 4, 3, 2])
    empty = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X[:0], Y[:0]), batch_size=4)
    with pytest.raises(ValueError, match='no batches'): evaluate(m, empty, [5, 4, 3])


def test_evaluate_with_posthoc_adjustment():
    m, dl, X, Y = _model_and_dl()
    counts = [1000, 10, 1]
    r0 = evaluate(m, dl, counts); r1 = evaluate(m, dl, counts, logits_fn=lambda z: posthoc_adjust(z, counts, 1.))
    # the adjustment moves predictions towards the rare classes
    assert r1.cm[:, 2].sum() >= r0.cm[:, 2].sum() and r1.cm[:, 0].sum() <= r0.cm[:, 0].sum()


def test_compare_accepts_list_and_dict():
    r = Report.from_predictions([0, 1], [0, 0], [5, 1], name='a')
    assert compare([r]).index.tolist() == ['a'] and compare({'b': r}).index.tolist() == ['b']


def test_figures_build():
    r = Report.from_predictions([0, 1, 2, 2], [0, 1, 1, 2], counts=[100, 10, 1], classes=['x', 'y', 'z'], name='r')
    f1 = plot_per_class([r, r]); f2 = plot_confusion(r)
    assert 'z' in [t.get_text() for t in f1.axes[0].texts]
    assert f2.axes[0].get_xlabel() == 'predicted class'
    big = Report.from_predictions(np.arange(100), np.arange(100), counts=np.arange(100, 0, -1))
    plot_confusion(big)   # 100 classes: no annotations, no tick labels
    plt.close('all')


def test_plot_history_recorder_like():
    h = pd.DataFrame({'epoch': [0, 1], 'train_loss': [2., 1.], 'valid_loss': [2.1, 1.5], 'accuracy': [.3, .5],
                      'lr': [0.1, 0.1], 'time': [3.2, 3.1]})
    f = plot_history(h)
    labels = [l.get_label() for ax in f.axes for l in ax.get_lines()]
    assert 'time' not in labels and {'train_loss', 'valid_loss', 'accuracy', 'lr'} <= set(labels)
    with pytest.raises(ValueError, match='non-empty DataFrame'): plot_history([1, 2])
    plt.close('all')
