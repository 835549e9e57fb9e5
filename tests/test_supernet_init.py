"Starting the SSF-NAS pre-training from the supernet: the cell map, copied tensors, an exact functional oracle, refusals, the CLI run."
import json, os, subprocess
from pathlib import Path
import pytest
import torch
from conftest import VENV_BIN
from ssfnas.core import set_seed
from ssfnas.genotypes import Genotype, Edge
from ssfnas.networks import SearchNetwork, EvalNetwork, search_edges
from ssfnas.darts import derive_genotype
from ssfnas.pipeline import (PipelineConfig, TwinSearch, supernet_cell_map, init_from_supernet, load_supernet,
                             ssl_supernet, InitReport)

torch.set_num_threads(1)
POOLS = ('max_pool_3x3', 'avg_pool_3x3')


def trained_like(C=4, layers=5, no_pools=False, seed=0) -> tuple[SearchNetwork, Genotype]:
    "A supernet whose weights and BN statistics are all moved away from their initialisation, and its genotype."
    set_seed(seed)
    sn = SearchNetwork(C, None, layers, 'sigmoid')
    with torch.no_grad():
        for p in sn.parameters(): p.add_(0.3 * torch.randn_like(p))
        if no_pools:  # pools never win: the network then computes exactly the supernet restricted to the genotype
            for a in sn.alphas(): a[:, [sn.primitives.index(p) for p in POOLS]] = -10.
    sn.train(); sn(torch.randn(16, 3, 32, 32))  # running statistics
    return sn, derive_genotype(sn)


def test_cell_map():
    # DARTS: 20 cells (reductions 6, 13) from the 8-cell supernet (reductions 2, 5)
    assert supernet_cell_map(20, 8) == [0, 1, 1, 1, 1, 1, 2, 3, 4, 4, 4, 4, 4, 5, 6, 7, 7, 7, 7, 7]
    assert supernet_cell_map(8, 8) == list(range(8))
    assert supernet_cell_map(8, 5) == [0, 0, 1, 2, 2, 3, 4, 4]
    assert supernet_cell_map(5, 8) == [0, 2, 3, 5, 6]
    # a 2-cell supernet has only reduction cells: the normal cells of the network have no counterpart
    assert supernet_cell_map(5, 2) == [None, 0, None, 1, None]


@pytest.mark.parametrize('layers', [5, 8])
def test_every_edge_copied_from_the_same_edge(layers):
    sn, g = trained_like()
    ev = EvalNetwork(g, 4, None, layers, auxiliary=False)
    rep = init_from_supernet(ev, sn)
    assert isinstance(rep, InitReport) and rep.params_total == sum(p.numel() for p in ev.parameters())
    n_edges = 0
    for i, j in enumerate(supernet_cell_map(layers, 5)):
        cell, scell = ev.cells[i], sn.cells[j]
        assert cell.reduction == scell.reduction
        edges, _ = g.cell('reduce' if cell.reduction else 'normal')
        for k, e in enumerate(edges):
            sop = scell.ops[search_edges(4).index((e.src, e.dst))].ops[e.op]   # row of (src, dst) in the supernet cell
            ssd = sop.state_dict()
            for name, t in cell.ops[k].state_dict().items():
                if name in ssd: assert torch.equal(t, ssd[name]), (i, k, name); n_edges += 1
                else:  # the affine BN of the network: its init, the supernet's BN has no scale/shift
                    assert name.endswith(('weight', 'bias')) and torch.equal(t, torch.full_like(t, float(name.endswith('weight'))))
    assert n_edges > 0
    for name, t in ev.stem.state_dict().items(): assert torch.equal(t, sn.stem.state_dict()[name])
    # whatever is reported copied equals its source; whatever is reported kept is not in `copied`
    ssd, esd = sn.state_dict(), ev.state_dict()
    assert all(torch.equal(esd[a], ssd[b]) for a, b in rep.copied.items())
    assert set(rep.copied) | set(rep.kept) == set(esd) and not set(rep.copied) & set(rep.kept)
    # the initialised network runs, in train and eval mode
    x = torch.randn(2, 3, 32, 32)
    assert ev.train()(x).shape == ev.eval()(x).shape == (2, ev.n_features)
    if layers == 5:   # same cells: only the BN scale/shift are left at init
        assert all('affine=False' in r for r in rep.kept.values())
    else:             # 8 from 5: preprocessing of cells reading other widths stays at init, and says why
        assert any('FactorizedReduce in the supernet vs ReLUConvBN' in r for r in rep.kept.values())
        assert any(r.startswith('input widths differ (shape') for r in rep.kept.values())


def test_network_computes_the_supernet_restricted_to_the_genotype():
    "Oracle: the supernet with mixing weight 1 on the genotype's (edge, op) and 0 elsewhere, in eval mode."
    sn, g = trained_like(no_pools=True, seed=1)
    assert not any(e.op in POOLS for e in g.normal + g.reduce)
    ev = EvalNetwork(g, 4, None, 5, auxiliary=False)
    init_from_supernet(ev, sn)
    w = {}
    for kind in ('normal', 'reduce'):
        m = torch.zeros(len(search_edges(4)), len(sn.primitives))
        for e in g.cell(kind)[0]: m[search_edges(4).index((e.src, e.dst)), sn.primitives.index(e.op)] = 1.
        w[kind] = m
    sn.arch_weights = lambda: w
    x = torch.randn(4, 3, 32, 32)
    with torch.no_grad(): a, b = ev.eval().features(x), sn.eval().features(x)
    assert torch.allclose(a, b, atol=1e-5, rtol=1e-4), (a - b).abs().max()
    # and a network left at random init does not
    with torch.no_grad(): c = EvalNetwork(g, 4, None, 5, auxiliary=False).eval().features(x)
    assert not torch.allclose(c, b, atol=1e-2)


def test_refusals():
    sn, g = trained_like()
    with pytest.raises(ValueError, match=r'C=8, the supernet C=4; .* build the network with C=4'):
        init_from_supernet(EvalNetwork(g, 8, None, 5, auxiliary=False), sn)
    g7 = Genotype([Edge('sep_conv_7x7', 0, 2), Edge('skip_connect', 1, 2)], [2], g.reduce, g.reduce_concat)
    with pytest.raises(ValueError, match=r"edge sep_conv_7x7\(0->2\) of the genotype has no counterpart in the supernet"):
        init_from_supernet(EvalNetwork(g7, 4, None, 5, auxiliary=False), sn)
    g5 = Genotype([Edge('skip_connect', 0, 2), Edge('sep_conv_3x3', 5, 6), Edge('skip_connect', 1, 3),
                   Edge('skip_connect', 2, 4), Edge('skip_connect', 3, 5)], [6], g.reduce, g.reduce_concat)  # 5 nodes
    with pytest.raises(ValueError, match=r'sep_conv_3x3\(5->6\) .* no counterpart'):
        init_from_supernet(EvalNetwork(g5, 4, None, 5, auxiliary=False), sn)
    with pytest.raises(TypeError, match='supernet must be a SearchNetwork'):
        init_from_supernet(EvalNetwork(g, 4, None, 5, auxiliary=False), EvalNetwork(g, 4, None, 5, auxiliary=False))
    # a TwinSearch is unwrapped
    assert init_from_supernet(EvalNetwork(g, 4, None, 5, auxiliary=False), TwinSearch(sn)).tensors_copied > 0


def test_config_field():
    with pytest.raises(ValueError, match="unknown ssl_init 'imagenet': choose one of \\['random', 'supernet'\\]"):
        PipelineConfig.preset('tiny', ssl_init='imagenet')
    with pytest.raises(ValueError, match=r'train.C=36 vs search.C=16; set train.C=16 \(or search.C=36\)'):
        PipelineConfig.preset('paper', ssl_init='supernet')
    assert PipelineConfig.preset('tiny', method='darts', ssl_init='supernet').train.C == 8  # no pre-training: ignored
    a, b = PipelineConfig.preset('tiny', **{'train.C': 4}), PipelineConfig.preset('tiny', ssl_init='supernet', **{'train.C': 4})
    assert a.diff(b) == {'ssl_init': ('random', 'supernet')}
    assert PipelineConfig.from_dict(b.to_dict()) == b


def test_load_supernet(tmp_path):
    cfg = PipelineConfig.preset('tiny', ssl_init='supernet', **{'train.C': 4})
    net = ssl_supernet(cfg.search)
    with torch.no_grad():
        for p in net.parameters(): p.add_(1.)
    torch.save(TwinSearch(net).state_dict(), tmp_path/'supernet.pt')   # as the search stage saves it
    back = load_supernet(cfg, tmp_path/'supernet.pt')
    assert all(torch.equal(a, b) for a, b in zip(back.state_dict().values(), net.state_dict().values()))
    with pytest.raises(FileNotFoundError, match='run the search first'): load_supernet(cfg, tmp_path/'nope.pt')


SMALL = ['--set', 'search.epochs=1', 'search.max_batches=2', 'pretrain.epochs=1', 'pretrain.max_batches=2', 'train.epochs=1',
         'train.max_batches=2', 'train.C=4']
ENV = dict(os.environ, OMP_NUM_THREADS='1', MPLBACKEND='Agg')


def test_cli_run_with_supernet_init(tmp_path):
    out, ssfnas = tmp_path/'run', str(VENV_BIN/'ssfnas')
    r = subprocess.run([ssfnas, 'run', '--preset', 'tiny', '--out', str(out), *SMALL, 'ssl_init=supernet'],
                       capture_output=True, text=True, timeout=900, env=ENV)
    assert r.returncode == 0, r.stderr[-3000:]
    s = json.loads((out/'summary.json').read_text())
    init = s['pretrain']['init']
    assert init['tensors_copied'] > 0 and 0 < init['params_copied'] < init['params_total'] and init['cell_map'] == [0, 1, 2, 3, 4]
    assert json.loads((out/'pretrain'/'init.json').read_text())['tensors_copied'] == init['tensors_copied']
    assert s['result']['n_test'] == 500
    # the option is part of the run's identity
    r = subprocess.run([ssfnas, 'run', '--preset', 'tiny', '--out', str(out), '--resume', *SMALL],
                       capture_output=True, text=True, timeout=300, env=ENV)
    assert r.returncode == 2 and "ssl_init: 'supernet' (in the folder) != 'random' (asked for)" in r.stderr, r.stderr[-2000:]
    # the widths must agree
    r = subprocess.run([ssfnas, 'run', '--preset', 'tiny', '--out', str(tmp_path/'x'), '--set', 'ssl_init=supernet'],
                       capture_output=True, text=True, timeout=300, env=ENV)
    assert r.returncode == 2 and 'train.C=8 vs search.C=4; set train.C=4' in r.stderr, r.stderr[-2000:]
