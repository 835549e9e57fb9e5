"`make docs` builds a browsable site: one page per notebook with its figures, navigation and an API page."
import re, subprocess
from conftest import ROOT, VENV_BIN


def test_docs_build(tmp_path):
    r = subprocess.run([str(VENV_BIN/'python'), 'tools/build_docs.py', '--out', str(tmp_path)], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    nbs = sorted((ROOT/'nbs').glob('[0-9]*.ipynb'))
    pages = {re.sub(r'^\d+[a-z]?_', '', p.stem) + '.html' for p in nbs} | {'index.html', 'api.html'}
    assert pages <= {p.name for p in tmp_path.iterdir()}
    data = (tmp_path/'data.html').read_text()
    assert data.count('<img') >= 4 and 'data:image/png;base64' in data, 'the data page lacks its figures'
    assert 'Long-tailed CIFAR' in data and 'get_cifar_lt' in data
    assert '#| export' not in data and 'default_exp' not in data, 'directives leaked into the page'
    for p in pages: assert 'class="ssfnas-nav"' in (tmp_path/p).read_text(), f'{p} has no navigation'
    api = (tmp_path/'api.html').read_text()
    assert 'get_cifar_lt' in api and 'ssfnas.data' in api
