"""`make docs` builds a site a reader can use offline: every page with its figures, typeset equations, search,
an API reference with parameter tables, and links that resolve — checked in the files and in headless Chromium."""
import json, os, re, shutil, subprocess, sys, time
from pathlib import Path
import nbformat, pytest
from conftest import ROOT, VENV_BIN

sys.path.insert(0, str(ROOT/'tools'))
import build_docs  # noqa: E402

# screenshots of the rendered pages land here, for a person to look at after `make test`
SHOTS = Path(os.environ.get('SSFNAS_TEST_OUTPUT', ROOT/'test-output'))/'docs'


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp('site')
    r = subprocess.run([str(VENV_BIN/'python'), 'tools/build_docs.py', '--out', str(out)], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return out


def test_pages_figures_and_navigation(site):
    nbs = sorted((ROOT/'nbs').glob('[0-9]*.ipynb'))
    pages = {re.sub(r'^\d+[a-z]?_', '', p.stem) + '.html' for p in nbs} | {'index.html', 'api.html'}
    assert pages <= {p.name for p in site.iterdir()}
    data = (site/'data.html').read_text()
    assert data.count('<img') >= 4 and 'data:image/png;base64' in data, 'the data page lacks its figures'
    assert 'Long-tailed CIFAR' in data and 'get_cifar_lt' in data
    assert '#| export' not in data and 'default_exp' not in data, 'directives leaked into the page'
    for p in pages: assert 'class="ssfnas-nav"' in (site/p).read_text(), f'{p} has no navigation'


def test_nothing_loads_from_the_network(site):
    for p in site.glob('*.html'):
        page = p.read_text()
        remote = re.findall(r'<(?:script|link|img|iframe)\b[^>]*(?:src|href)="(https?:[^"]+)"', page)
        assert not remote, f'{p.name} loads {remote[:3]}'
        assert '_static/mathjax/tex-svg-full.js' in page and '_static/search_index.js' in page
    for f in ('mathjax/tex-svg-full.js', 'mathjax/LICENSE', 'lunr/lunr.min.js', 'search.js', 'search_index.js', 'site.css'):
        assert (site/'_static'/f).stat().st_size > 0, f


def test_internal_links_resolve(site):
    ids = {p.name: set(re.findall(r'\bid="([^"]+)"', p.read_text())) for p in site.glob('*.html')}
    n, bad = 0, []
    for p in site.glob('*.html'):
        for href in re.findall(r'<a\b[^>]*\bhref="([^"]*)"', p.read_text()):
            if re.match(r'^[a-z]+:', href): continue
            n += 1
            f, _, frag = href.partition('#'); f = f or p.name
            if f not in ids or (frag and frag not in ids[f]): bad.append(f'{p.name} -> {href}')
    assert n > 300 and not bad, bad[:10]
    darts = (site/'darts.html').read_text()  # names and notebooks in the prose link to their place
    assert '<a href="api.html#ssfnas.networks.SearchNetwork"><code>ssfnas.networks.SearchNetwork</code></a>' in darts
    assert '<a href="bench.html">16_bench</a>' in (site/'data.html').read_text()


def test_api_reference(site):
    api = (site/'api.html').read_text()
    mods = re.findall(r'<h2 id="(ssfnas\.[a-z_]+)"', api)
    order = [m for m in ('ssfnas.core', 'ssfnas.data', 'ssfnas.learner', 'ssfnas.losses', 'ssfnas.darts', 'ssfnas.pipeline')]
    assert [m for m in mods if m in order] == order, mods  # notebook order, not alphabetical
    sec = api[api.index('id="ssfnas.data.get_cifar_lt"'):]; sec = sec[:sec.index('<h3', 10)]
    assert '<table>' in sec and '<code>imbalance</code>' in sec and 'rho' in sec  # the parameter's docments comment
    assert 'Initialize internal Module state' not in api and 'Define the computation performed' not in api


def test_bad_output_names_notebook_and_cell(tmp_path):
    nbs = tmp_path/'nbs'; nbs.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell('# A page'), nbformat.v4.new_code_cell('plot()')])
    nb.cells[1].outputs = [nbformat.v4.new_output('display_data', data={'text/plain': '<Figure size 640x480 with 0 Axes>'})]
    nbformat.write(nb, nbs/'01_broken.ipynb')
    with pytest.raises(build_docs.DocsError, match=r"01_broken.ipynb, cell 1 .*figure that was not rendered"):
        build_docs.build(tmp_path/'out', nbs=nbs)
    nb.cells[1].outputs = [nbformat.v4.new_output('error', ename='ValueError', evalue='bad', traceback=[])]
    nbformat.write(nb, nbs/'01_broken.ipynb')
    with pytest.raises(build_docs.DocsError, match=r"01_broken.ipynb, cell 1 .*error output \(ValueError: bad\)"):
        build_docs.build(tmp_path/'out', nbs=nbs)
    with pytest.raises(build_docs.DocsError, match=r"mathjax-3.2.2.tgz not found.*fetch_npm.sh"):
        build_docs.build(tmp_path/'out2', nbs=nbs, npm_dir=tmp_path/'nonpm')


# --- in a real browser ----------------------------------------------------------------------------------------------

@pytest.fixture(scope='module')
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    exe, drv = shutil.which('chromium'), shutil.which('chromedriver')
    assert exe and drv, "Chromium and its driver are missing: `make test` installs them (Debian: chromium chromium-driver)"
    o = webdriver.ChromeOptions()
    for a in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--window-size=1400,1000'):
        o.add_argument(a)
    o.binary_location = exe
    d = webdriver.Chrome(service=Service(drv), options=o)
    yield d
    d.quit()


def _open(d, page: Path):
    d.get(page.as_uri())
    d.execute_async_script("""const done = arguments[arguments.length - 1];
        const wait = () => (window.MathJax && MathJax.startup && MathJax.startup.promise)
            ? MathJax.startup.promise.then(() => done(1)) : setTimeout(wait, 50);
        wait();""")


def test_pages_in_chromium(site, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name in ('darts.html', 'losses.html', 'genotypes.html', 'fairdarts.html', 'api.html'):
        _open(browser, site/name)
        r = browser.execute_script("""
            const text = document.body.innerText, cells = [], W = document.documentElement.clientWidth;
            for (const img of document.querySelectorAll('.jp-OutputArea-output img')) {
                const c = img.closest('.jp-Cell').getBoundingClientRect(), b = img.getBoundingClientRect();
                cells.push([img.complete && img.naturalWidth > 0, b.left >= c.left - 1 && b.right <= c.right + 1, b.width]);
            }
            return {wide: document.documentElement.scrollWidth > W + 1, math: document.querySelectorAll('mjx-container').length, raw: text.includes('$$') || text.includes('\\\\('),
                    errors: document.querySelectorAll('mjx-merror').length, imgs: cells,
                    remote: performance.getEntriesByType('resource').map(e => e.name).filter(n => !/^(file|data):/.test(n))};""")
        assert not r['remote'], (name, r['remote'])
        assert not r['wide'], f'{name} is wider than the window: something does not fit its column'
        assert (r['imgs'] or name == 'api.html') and all(ok for ok, _, _ in r['imgs']), f'{name}: an image did not load'
        assert all(fits for _, fits, _ in r['imgs']), f'{name}: a figure is wider than its column: {r["imgs"]}'
        if name in ('darts.html', 'losses.html'):
            assert r['math'] > 20 and not r['raw'] and not r['errors'], (name, r['math'], r['raw'], r['errors'])
        if name in ('darts.html', 'genotypes.html', 'api.html'): browser.save_screenshot(str(SHOTS/name.replace('.html', '.png')))


def test_search_in_chromium(site, browser):
    from selenium.webdriver.common.by import By
    _open(browser, site/'index.html')
    box = browser.find_element(By.ID, 'ssfnas-search'); box.send_keys('logit adjustment')
    deadline = time.time() + 10
    while not browser.find_elements(By.CSS_SELECTOR, '#ssfnas-results a') and time.time() < deadline: time.sleep(0.1)
    hits = [a.get_attribute('href') for a in browser.find_elements(By.CSS_SELECTOR, '#ssfnas-results a')]
    assert any('losses.html#' in h for h in hits), hits
    browser.find_elements(By.CSS_SELECTOR, '#ssfnas-results a')[0].click()
    assert browser.current_url.split('/')[-1].split('#')[0] in {h.split('/')[-1].split('#')[0] for h in hits}
