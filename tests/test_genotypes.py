"Edge cases of ssfnas.genotypes: validation messages, JSON corners, converters, drawing."
import json
import pytest
from ssfnas.genotypes import *

E = lambda *a: Edge(*a)
OK = dict(normal=[('sep_conv_3x3', 0, 2), ('skip_connect', 1, 2)], normal_concat=[2],
          reduce=[('max_pool_3x3', 0, 2), ('max_pool_3x3', 1, 2)], reduce_concat=[2])


def mk(**kw): return Genotype(**{**OK, **kw})


def test_ok_and_order_insensitive():
    a = mk(); b = mk(normal=[('skip_connect', 1, 2), ('sep_conv_3x3', 0, 2)])
    assert a == b and hash(a.to_json()) == hash(b.to_json())


@pytest.mark.parametrize('normal,msg', [
    ([('sep_conv_3x3', 2, 2)], 'source node 2 is not an earlier node than its target 2'),
    ([('sep_conv_3x3', 3, 2)], 'source node 3 is not an earlier node'),
    ([('sep_conv_3x3', -1, 2)], 'source node -1'),
    ([('sep_conv_3x3', 0, 1)], 'dst=1: edges must end in an intermediate node'),
    ([('none', 0, 2)], "normal[0].op is 'none'"),
    ([('conv_3x3', 0, 2)], "normal[0].op: unknown operation 'conv_3x3'"),
    ([('sep_conv_3x3', 0)], 'is not an edge (op, src, dst)'),
    ([('sep_conv_3x3', 0.0, 2)], 'normal[0].src must be an int'),
    ([('sep_conv_3x3', True, 2)], 'normal[0].src must be an int'),
    ([(3, 0, 2)], 'normal[0].op must be a string'),
    ([('sep_conv_3x3', 0, 2), ('skip_connect', 3, 4)], 'leaves node 3, which has no incoming edge'),
])
def test_bad_edges(normal, msg):
    with pytest.raises((ValueError, TypeError), match=_re(msg)): mk(normal=normal)


def _re(s):
    import re; return re.escape(s)


def test_bad_concat():
    with pytest.raises(ValueError, match='normal_concat is empty'): mk(normal_concat=[])
    with pytest.raises(ValueError, match='names node 3, which has no incoming edge'): mk(normal_concat=[2, 3])
    with pytest.raises(ValueError, match='lists a node twice'): mk(normal_concat=[2, 2])
    with pytest.raises(TypeError, match='must be a list of node numbers'): mk(normal_concat='2')


def test_json_errors():
    with pytest.raises(ValueError, match='malformed'): Genotype.from_json('{"normal": [}')
    with pytest.raises(ValueError, match='must be a JSON object'): Genotype.from_json('[1, 2]')
    d = DARTS_V2.to_dict(); d['extra'] = 1
    with pytest.raises(ValueError, match=r"unknown field\(s\) \['extra'\]"): Genotype.from_dict(d)
    d = DARTS_V2.to_dict(); del d['normal'][0]['op']
    with pytest.raises(ValueError, match=r"normal\[0\] lacks field\(s\) \['op'\]"): Genotype.from_dict(d)
    d = DARTS_V2.to_dict(); d['normal'][0]['weight'] = 1.
    with pytest.raises(ValueError, match=r"normal\[0\] has unknown field\(s\) \['weight'\]"): Genotype.from_dict(d)
    d = DARTS_V2.to_dict(); d['reduce'] = 'max_pool'
    with pytest.raises(ValueError, match="field 'reduce' must be a list of edges"): Genotype.from_dict(d)


def test_save_load(tmp_path):
    for g in GENOTYPES.values():
        assert Genotype.load(g.save(tmp_path/'sub'/'g.json')) == g
    with pytest.raises(FileNotFoundError, match='no genotype file'): Genotype.load(tmp_path/'missing.json')
    (tmp_path/'bad.json').write_text(json.dumps({**DARTS_V2.to_dict(), 'normal_concat': [2, 9]}))
    with pytest.raises(ValueError, match='bad.json: normal_concat names node 9'): Genotype.load(tmp_path/'bad.json')


def test_converters():
    assert from_darts(**to_darts(DARTS_V1)) == DARTS_V1
    with pytest.raises(ValueError, match='two per node'): from_darts([('sep_conv_3x3', 0)], [2], [], [2])
    with pytest.raises(ValueError, match='not a FairDARTS triple'): from_fairdarts([('sep_conv_3x3', 2)], [])
    # without pruning, a dangling edge is an error that says how to fix it
    with pytest.raises(ValueError, match='prune_dangling'):
        from_fairdarts([('sep_conv_3x3', 2, 0), ('skip_connect', 4, 3)], [('max_pool_3x3', 2, 0)], prune=False)
    g = from_fairdarts([('sep_conv_3x3', 2, 0), ('skip_connect', 4, 3)], [('max_pool_3x3', 2, 0)])
    assert g.normal == (E('sep_conv_3x3', 0, 2),) and g.normal_concat == (2,)


def test_counts_and_compare():
    assert n_skips(FAIRDARTS_A, 'reduce') == 2 and n_skips(FAIRDARTS_A) == 0
    c = compare_genotypes(DARTS_V2, FAIRDARTS_A)
    assert 0 <= c['normal']['jaccard'] < 1 and not c['normal']['same_concat'] and c['reduce']['same_concat']
    assert len(c['normal']['common']) + len(c['normal']['only_a']) == len(DARTS_V2.normal)


def test_drawings():
    for g in GENOTYPES.values():
        svg = g._repr_svg_()
        assert '<svg' in svg and svg.count('class="node"') > 10
    svg = draw_cell(FAIRDARTS_A, 'normal').pipe(format='svg', encoding='utf-8')
    assert '3 (no input)' in svg
    with pytest.raises(ValueError, match="cell kind must be 'normal' or 'reduce'"): draw_cell(DARTS_V2, 'reduction')


def test_repeated_edge():
    "An edge listed twice is two edges (NASNet's node 5): kept, drawn twice, round-tripped through JSON."
    g = mk(normal=[('avg_pool_3x3', 0, 2), ('avg_pool_3x3', 0, 2)])
    assert g.normal == (E('avg_pool_3x3', 0, 2),) * 2
    assert Genotype.from_json(g.to_json()) == g and g != mk(normal=[('avg_pool_3x3', 0, 2)])
    assert draw_cell(g).source.count('label=avg_pool_3x3') == 2


def test_nasnet_ops_supported():
    "Genotypes with 5 intermediate nodes and the 7x7 ops validate (NASNet-style)."
    g = Genotype([('sep_conv_7x7', 0, 2), ('conv_7x1_1x7', 1, 2), ('skip_connect', 2, 6)], [2, 6],
                 [('max_pool_3x3', 0, 2)], [2])
    assert g.n_nodes('normal') == 5
