"""Build the documentation site from the notebooks, without quarto and without the network.

`make docs` runs this. Users who have quarto can use `nbdev_docs` instead (the quarto configuration is in
`nbs/_quarto.yml`); this script gives the same content (the notebooks' prose, code and stored outputs,
figures included, plus an API reference) as static HTML pages with a navigation bar and search, which work
from the file system with no request leaving the machine:

* equations are typeset by MathJax 3, bundled into the site from the pinned npm package;
* search runs in the browser on a lunr index built here (lunr.py), read by lunr.js from npm;
* figures, wide tables and long code lines fit the column (scaled, or scrolled);
* the API reference lists each module in notebook order, each symbol with its signature, docstring and the
  table of its parameters' comments (docments); names and notebooks mentioned in the prose link to it.

    python tools/build_docs.py --out docs [--npm DIR]

The npm tarballs come from `tools/fetch_npm.sh` (run by `make docs` and `make test`).
"""
from __future__ import annotations
import argparse, base64, html, importlib, inspect, json, re, shutil, sys, tarfile
from pathlib import Path
import nbformat
from html.parser import HTMLParser
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parent.parent
DIRECTIVE = re.compile(r'^\s*#\s*\|\s*(.*)$')
NPM = {'mathjax': '3.2.2', 'lunr': '2.3.9'}  # pinned; tools/fetch_npm.sh fetches exactly these
NPM_DIR = ROOT/'.venv'/'share'/'ssfnas-npm'
STATIC = '_static'


class DocsError(Exception):
    "A notebook or asset the site cannot be built from; the message names it and the fix."


def page_name(nb: Path) -> str:
    "Docs page of a notebook: the name without its number (`01_data.ipynb` -> `data.html`), as nbdev does."
    return re.sub(r'^\d+[a-z]?_', '', nb.stem) + '.html'


def directives(src: str) -> list[str]:
    out = []
    for line in src.splitlines():
        m = DIRECTIVE.match(line)
        if not m: break
        out.append(m.group(1).strip())
    return out


def check_outputs(nb, path: Path):
    "Refuse stored outputs that would be missing from the page: errors, figures without an image, broken images."
    for i, c in enumerate(nb.cells):
        where = f"{path.name}, cell {i} (id {c.get('id', '?')})"
        for o in c.get('outputs', []):
            if o.output_type == 'error':
                raise DocsError(f"{where} holds an error output ({o.get('ename')}: {o.get('evalue', '')[:100]}): "
                                "fix the cell and re-run the notebook")
            d = o.get('data', {})
            if set(d) == {'text/plain'} and d['text/plain'].startswith('<Figure size'):
                raise DocsError(f"{where} shows a figure that was not rendered ({d['text/plain'][:40]}...): "
                                "re-run the notebook so that its image is stored")
            if 'image/png' in d:
                try: ok = base64.b64decode(d['image/png'], validate=False)[:8] == b'\x89PNG\r\n\x1a\n'
                except ValueError: ok = False
                if not ok: raise DocsError(f"{where} holds an image/png output that is not a PNG image: re-run the notebook")


def clean(nb):
    "Drop hidden cells and directive lines; return (title, subtitle, notebook)."
    cells, title, subtitle = [], None, ''
    for c in nb.cells:
        keys = {d.split(':')[0].split()[0] for d in directives(c.source) if d} if c.cell_type == 'code' else set()
        if keys & {'hide', 'default_exp'}: continue
        if c.cell_type == 'code':
            c.source = '' if 'hide_input' in keys else '\n'.join(
                l for l in c.source.splitlines() if not DIRECTIVE.match(l)).strip('\n')
            if not c.source and not c.get('outputs'): continue
        if c.cell_type == 'markdown' and title is None:
            m = re.match(r'^#\s+(.+?)\s*$(?:\n+>\s*(.+))?', c.source.strip(), re.M)
            if m:
                title, subtitle = m.group(1), (m.group(2) or '')
                c.source = f"# {title}\n\n*{subtitle}*" if subtitle else f"# {title}"
        cells.append(c)
    nb.cells = cells
    return title, subtitle, nb


# --- static assets: MathJax and lunr from their npm tarballs --------------------------------------------------------

def _npm_tarball(name: str, npm_dir: Path) -> Path:
    f = Path(npm_dir)/f"{name}-{NPM[name]}.tgz"
    if not f.exists():
        raise DocsError(f"{f} not found: run `bash tools/fetch_npm.sh {npm_dir} "
                        + ' '.join(f'{k}@{v}' for k, v in NPM.items()) + "` once (it needs the npm registry), or `make docs`")
    return f


def copy_assets(out: Path, npm_dir: Path):
    "MathJax's SVG build (no font files to load) and lunr.js, with their licences, into out/_static/."
    st = out/STATIC; st.mkdir(parents=True, exist_ok=True)
    want = {'mathjax': {'package/es5/tex-svg-full.js': 'mathjax/tex-svg-full.js', 'package/LICENSE': 'mathjax/LICENSE'},
            'lunr': {'package/lunr.min.js': 'lunr/lunr.min.js', 'package/LICENSE': 'lunr/LICENSE'}}
    for name, files in want.items():
        with tarfile.open(_npm_tarball(name, npm_dir)) as t:
            for src, dst in files.items():
                (st/dst).parent.mkdir(parents=True, exist_ok=True)
                (st/dst).write_bytes(t.extractfile(src).read())
    (st/'search.js').write_text(SEARCH_JS)
    (st/'site.css').write_text(SITE_CSS)


SITE_CSS = """
body { margin-left: 250px !important; }
nav.ssfnas-nav { position: fixed; top: 0; left: 0; width: 230px; height: 100%; overflow-y: auto; box-sizing: border-box;
  background: #f6f8fa; border-right: 1px solid #ddd; padding: 16px 10px; font: 14px/1.5 sans-serif; z-index: 10; }
nav.ssfnas-nav a { display: block; color: #24292f; text-decoration: none; padding: 2px 6px; border-radius: 4px; }
nav.ssfnas-nav a:hover { background: #e7ebef; }
nav.ssfnas-nav a.current { background: #dbe7f5; font-weight: 600; }
nav.ssfnas-nav .brand { font-size: 18px; font-weight: 700; margin-bottom: 10px; }
#ssfnas-search { width: 100%; box-sizing: border-box; margin: 0 0 8px; padding: 4px 6px; font-size: 14px; }
#ssfnas-results a { font-size: 13px; border-bottom: 1px solid #e5e5e5; }
#ssfnas-results .none { font-size: 13px; color: #777; padding: 2px 6px; }
.jp-RenderedHTMLCommon a code, .ssfnas-api a { color: #0550ae; }
/* figures, tables and code fit the column: images scale, wide tables and long lines scroll */
.jp-OutputArea-output img, .jp-RenderedImage img { max-width: 100%; height: auto; }
.jp-OutputArea-output svg, .jp-RenderedSVG svg { max-width: 100%; height: auto; }
.jp-Cell, .jp-Cell-inputWrapper, .jp-Cell-outputWrapper, .jp-OutputArea, .jp-OutputArea-child, .jp-OutputArea-output,
.jp-InputArea, .jp-InputArea-editor, .jp-CodeMirrorEditor, .jp-RenderedHTMLCommon { min-width: 0; max-width: 100%; }
.jp-RenderedHTMLCommon table, .jp-OutputArea-output table { display: block; overflow-x: auto; max-width: 100%; }
.jp-InputArea-editor pre, .jp-OutputArea-output pre, .highlight pre { overflow-x: auto; max-width: 100%; }
.ssfnas-api { max-width: 62em; padding: 20px; font: 15px/1.5 sans-serif; }
.ssfnas-api h2 { border-bottom: 1px solid #ddd; margin-top: 2em; }
.ssfnas-api h3 { font-family: monospace; font-size: 15px; margin: 1.6em 0 0.3em; }
.ssfnas-api h3 .sig { color: #666; font-weight: normal; }
.ssfnas-api pre { background: #f6f8fa; padding: 8px; white-space: pre-wrap; margin: 0.3em 0; }
.ssfnas-api table { border-collapse: collapse; margin: 0.4em 0 0.8em; font-size: 14px; display: block; overflow-x: auto; max-width: 100%; }
.ssfnas-api td, .ssfnas-api th { border: 1px solid #ddd; padding: 2px 8px; text-align: left; vertical-align: top; }
.ssfnas-api td code { white-space: pre-wrap; overflow-wrap: anywhere; }
"""

MATHJAX_CONFIG = """<script>
window.MathJax = {tex: {inlineMath: [['$', '$'], ['\\\\(', '\\\\)']], displayMath: [['$$', '$$'], ['\\\\[', '\\\\]']],
                        processEscapes: true, processEnvironments: true, tags: 'ams'},
                  svg: {fontCache: 'global'}, options: {enableMenu: false}};
</script>
<script src="_static/mathjax/tex-svg-full.js" defer></script>"""

SEARCH_JS = r"""
// Search over the site: the lunr index is built with the site (tools/build_docs.py) and read by lunr.js.
(function () {
  var idx = null;
  function show(q) {
    var box = document.getElementById('ssfnas-results'); box.innerHTML = '';
    q = q.trim(); if (q.length < 2) return;
    if (!idx) idx = lunr.Index.load(SSFNAS_SEARCH.index);
    var terms = q.toLowerCase().split(/\s+/).filter(Boolean).map(function (t) { return t.replace(/[:~^+\-*]/g, ''); });
    var hits = [];
    try { hits = idx.search(terms.map(function (t) { return '+' + t; }).join(' ')); } catch (e) { hits = []; }
    if (!hits.length) { try { hits = idx.search(terms.join(' ')); } catch (e) { hits = []; } }
    if (!hits.length) { box.innerHTML = '<div class="none">no match</div>'; return; }
    hits.slice(0, 12).forEach(function (h) {
      var d = SSFNAS_SEARCH.docs[h.ref], a = document.createElement('a');
      a.href = d.url; a.textContent = d.title; box.appendChild(a);
    });
  }
  document.addEventListener('DOMContentLoaded', function () {
    var inp = document.getElementById('ssfnas-search'); if (!inp) return;
    inp.addEventListener('input', function () { show(inp.value); });
  });
})();
"""


# --- pages ----------------------------------------------------------------------------------------------------------

def nav_html(pages: list[tuple[str, str]], current: str) -> str:
    links = '\n'.join(f'<a href="{p}"{" class=current" if p == current else ""}>{html.escape(t)}</a>' for p, t in pages)
    return ('<nav class="ssfnas-nav"><div class="brand"><a href="index.html">ssfnas</a></div>'
            '<input id="ssfnas-search" type="search" placeholder="Search the docs" aria-label="Search the docs">'
            f'<div id="ssfnas-results"></div>{links}</nav>')


_CDN_SCRIPTS = [  # what nbconvert's lab template loads from the network; the site brings its own or needs none
    re.compile(r'<script src="https://cdnjs\.cloudflare\.com/ajax/libs/require\.js/[^"]*"></script>'),
    re.compile(r'<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->', re.S),
]


def inject(page: str, nav: str, title: str) -> str:
    page = re.sub(r'<title>.*?</title>', lambda m: f'<title>{html.escape(title)} – ssfnas</title>', page, count=1, flags=re.S)
    for rx in _CDN_SCRIPTS: page = rx.sub('', page)
    head = (f'<link rel="stylesheet" href="{STATIC}/site.css">\n{MATHJAX_CONFIG}\n'
            f'<script src="{STATIC}/lunr/lunr.min.js"></script>\n<script src="{STATIC}/search_index.js"></script>\n'
            f'<script src="{STATIC}/search.js"></script>\n')
    page = page.replace('</head>', head + '</head>', 1)
    return re.sub(r'(<body[^>]*>)', lambda m: m.group(1) + nav, page, count=1)


def modules_in_order(lib: str = 'ssfnas', nbs: Path = ROOT/'nbs') -> list[tuple[str, str, dict]]:
    "(module, notebook, {qualified name: ...}) for every module with exported symbols, in notebook order."
    syms = importlib.import_module(f'{lib}._modidx').d['syms']
    exp = {}  # module -> the notebook that exports it (its `default_exp`)
    for nb in sorted(Path(nbs).glob('[0-9]*.ipynb')):
        m = re.search(r'#\s*\|\s*default_exp\s+([\w.]+)', nb.read_text())
        if m: exp.setdefault(f'{lib}.{m.group(1)}', nb.name)
    return sorted(((m, exp.get(m, '~'), s) for m, s in syms.items() if s), key=lambda t: (t[1], t[0]))


def _resolve(mod, name: str):
    obj = mod
    for a in name.split('.'): obj = getattr(obj, a)
    return obj


def _line(obj) -> int:
    try: return inspect.getsourcelines(inspect.unwrap(obj))[1]
    except (TypeError, OSError): return 10**9


def param_rows(obj) -> list[tuple[str, str, str, str]]:
    "(name, annotation, default, comment) for each parameter of a function or class, from its docments."
    from fastcore.docments import docments
    try: d = docments(obj, full=True)
    except Exception: return []
    rows = []
    for k, v in d.items():
        if k in ('return', 'self'): continue
        anno = v.get('anno'); default = v.get('default')
        anno = '' if anno is inspect._empty else (anno if isinstance(anno, str) else getattr(anno, '__name__', str(anno)))
        default = '' if default is inspect._empty else repr(default)
        rows.append((k, anno, default, v.get('docment') or ''))
    return rows if any(r[3] for r in rows) else []


def _own_doc(obj) -> str:
    "The docstring written for `obj` itself (not one inherited from a base class, e.g. torch's `Module.forward`)."
    doc = obj.__doc__ if isinstance(obj, type) or inspect.isroutine(obj) else None
    return inspect.cleandoc(doc) if isinstance(doc, str) else ''


def api_symbols(lib: str = 'ssfnas') -> list[tuple[str, str, str, list]]:
    "(module, notebook, [(qualified name, short name, object)]) in notebook order, each module's symbols in source order."
    out = []
    for modname, nb, syms in modules_in_order(lib):
        m = importlib.import_module(modname)
        items = []
        for qual in syms:
            name = qual[len(modname) + 1:]
            try: obj = _resolve(m, name)
            except AttributeError: continue
            items.append((qual, name, obj))
        items.sort(key=lambda t: (_line(t[2]), t[0]))
        out.append((modname, nb, items))
    return out


def api_page(mods: list) -> str:
    "The API reference of `api_symbols()`: per module (in notebook order) each symbol's signature, docstring and parameter table."
    parts = ['<div class="ssfnas-api">', '<h1 id="api-reference">API reference</h1>',
             '<p>Every public name of the package, module by module in the order of the notebooks that export them. '
             'Follow a module\'s notebook link for the explanation, the examples and the tests.</p><ul>']
    parts += [f'<li><a href="#{m}">{m}</a></li>' for m, _, _ in mods] + ['</ul>']
    for modname, nb, items in mods:
        m = importlib.import_module(modname)
        parts.append(f'<h2 id="{modname}">{modname} <small>(<a href="{page_name(Path(nb))}">{Path(nb).stem}</a>)</small></h2>')
        if m.__doc__: parts.append(f'<p>{html.escape(inspect.cleandoc(m.__doc__))}</p>')
        for qual, name, obj in items:
            try: sig = str(inspect.signature(obj)) if callable(obj) else ''
            except (TypeError, ValueError): sig = ''
            kind = 'class ' if isinstance(obj, type) else ''
            parts.append(f'<h3 id="{qual}">{kind}{html.escape(name)}<span class="sig">{html.escape(sig)}</span></h3>')
            doc = _own_doc(obj)
            if doc: parts.append(f'<pre>{html.escape(doc)}</pre>')
            rows = param_rows(obj) if callable(obj) else []
            if rows:
                parts.append('<table><tr><th>parameter</th><th>type</th><th>default</th><th>meaning</th></tr>' + ''.join(
                    f'<tr><td><code>{html.escape(k)}</code></td><td><code>{html.escape(a)}</code></td>'
                    f'<td><code>{html.escape(d)}</code></td><td>{html.escape(c)}</td></tr>' for k, a, d, c in rows) + '</table>')
    parts.append('</div>')
    return ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>API</title></head><body>'
            + '\n'.join(parts) + '</body></html>')


# --- cross-references -----------------------------------------------------------------------------------------------

def link_targets(mods: list) -> tuple[dict, dict]:
    "({name: url} for the API symbols of `api_symbols()` by qualified and unambiguous short name, {notebook stem: page})."
    full, short = {}, {}
    for modname, nb, items in mods:
        for qual, name, _ in items:
            url = f'api.html#{qual}'
            full[qual] = url; full[name if '.' in name else f'{modname.split(".")[-1]}.{name}'] = url
            short.setdefault(name, []).append(url)
    names = {**{k: v[0] for k, v in short.items() if len(set(v)) == 1}, **full}
    pages = {p.stem: page_name(p) for p in (ROOT/'nbs').glob('[0-9]*.ipynb')}
    return names, pages


_TOKEN = re.compile(r'(<[^>]+>)')
_NB_REF = re.compile(r'\b(\d\d[a-z]?_[a-z_]+[a-z])\b')


def add_links(body: str, names: dict, pages: dict) -> str:
    "Link inline `code` that names an API symbol or a notebook, and plain-text notebook names, outside code blocks."
    toks, out, skip, i = _TOKEN.split(body), [], 0, 0
    while i < len(toks):
        t = toks[i]
        if t.startswith('<'):
            tag = re.match(r'</?\s*([a-zA-Z0-9]+)', t)
            tag = tag.group(1).lower() if tag else ''
            if tag in ('pre', 'a', 'script', 'style', 'h1', 'h2', 'h3', 'h4', 'title', 'svg'):
                skip = max(0, skip + (-1 if t.startswith('</') else (0 if t.endswith('/>') else 1)))
            if not skip and tag == 'code' and not t.startswith('</') and i + 2 < len(toks) and toks[i + 2] == '</code>':
                txt = html.unescape(toks[i + 1]).strip().rstrip('()')
                url = names.get(txt) or names.get(txt.removeprefix('ssfnas.')) or (pages.get(txt) and pages[txt])
                if url:
                    out.append(f'<a href="{url}">{t}{toks[i + 1]}</code></a>'); i += 3; continue
            out.append(t)
        else:
            out.append(t if skip else _NB_REF.sub(lambda m: f'<a href="{pages[m.group(1)]}">{m.group(1)}</a>'
                                                  if m.group(1) in pages else m.group(1), t))
        i += 1
    return ''.join(out)


# --- search index ---------------------------------------------------------------------------------------------------

class _Prose(HTMLParser):
    "Sections of a page for the search: each h1-h3 with an id starts one; text is kept from markdown cells and the API page."
    VOID = {'img', 'br', 'hr', 'input', 'meta', 'link', 'col', 'area', 'base', 'wbr', 'source', 'path', 'rect', 'circle'}
    def __init__(self):
        super().__init__(); self.stack, self.keep_at, self.head, self.secs = [], None, None, []
    def handle_starttag(self, tag, attrs):
        if tag in self.VOID: return
        self.stack.append(tag); a = dict(attrs); cls = a.get('class') or ''
        if self.keep_at is None and tag == 'div' and ('jp-MarkdownOutput' in cls or 'ssfnas-api' in cls): self.keep_at = len(self.stack)
        if tag in ('h1', 'h2', 'h3') and a.get('id') and self.keep_at is not None:
            self.secs.append({'level': int(tag[1]), 'id': a['id'], 'title': '', 'body': []}); self.head = len(self.stack)
    def handle_endtag(self, tag):
        if tag in self.VOID or tag not in self.stack: return
        while self.stack and self.stack.pop() != tag: pass
        if self.head is not None and len(self.stack) < self.head: self.head = None
        if self.keep_at is not None and len(self.stack) < self.keep_at: self.keep_at = None
    def handle_data(self, data):
        if self.keep_at is None or not self.secs or 'script' in self.stack or 'style' in self.stack: return
        s = self.secs[-1]
        if self.head is not None: s['title'] += data
        else: s['body'].append(data)


def sections(page: str, url: str, title: str) -> list[dict]:
    "One search document per heading of a page: its title and the prose under it (markdown cells and API text)."
    p = _Prose(); p.feed(page)
    out = []
    for s in p.secs:
        head = re.sub(r'\s+', ' ', s['title']).replace('¶', '').strip()
        body = re.sub(r'\s+', ' ', ' '.join(s['body'])).strip()[:4000]
        out.append({'url': f"{url}#{s['id']}", 'title': title if s['level'] == 1 else f'{title} › {head}', 'body': body})
    return out


def search_index(docs: list[dict]) -> str:
    "The lunr index of `docs` (lunr.py, read by lunr.js), as a script that sets `SSFNAS_SEARCH`."
    from lunr import lunr
    for i, d in enumerate(docs): d['id'] = str(i)
    idx = lunr(ref='id', fields=[{'field_name': 'title', 'boost': 5}, 'body'], documents=docs)
    data = {'index': idx.serialize(), 'docs': {d['id']: {'url': d['url'], 'title': d['title']} for d in docs}}
    return 'window.SSFNAS_SEARCH = ' + json.dumps(data, separators=(',', ':')) + ';\n'


# --- build ----------------------------------------------------------------------------------------------------------

def build(out: Path, nbs: Path = ROOT/'nbs', npm_dir: Path = NPM_DIR) -> list[Path]:
    out = Path(out); out.mkdir(parents=True, exist_ok=True)
    copy_assets(out, npm_dir)
    notebooks = sorted(Path(nbs).glob('[0-9]*.ipynb'))
    index = Path(nbs)/'index.ipynb'
    exporter = HTMLExporter(template_name='lab')
    exporter.exclude_input_prompt = exporter.exclude_output_prompt = True
    mods = api_symbols()
    names, pages_by_stem = link_targets(mods)
    rendered = []
    for nb_path in ([index] if index.exists() else []) + notebooks:
        nb = nbformat.read(nb_path, as_version=4)
        check_outputs(nb, nb_path)
        title, sub, nb = clean(nb)
        name = 'index.html' if nb_path == index else page_name(nb_path)
        body, _ = exporter.from_notebook_node(nb)
        rendered.append((name, title or nb_path.stem, add_links(body, names, pages_by_stem)))
    rendered.append(('api.html', 'API reference', api_page(mods)))
    pages = [(n, t if n != 'index.html' else 'Overview') for n, t, _ in rendered]
    written, docs = [], []
    for name, title, body in rendered:
        page = inject(body, nav_html(pages, name), title)
        (out/name).write_text(page); written.append(out/name)
        docs += sections(page, name, title if name != 'index.html' else 'Overview')
    (out/STATIC/'search_index.js').write_text(search_index(docs))
    return written


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', default=str(ROOT/'docs'), help='output folder (default docs/)')
    ap.add_argument('--npm', default=str(NPM_DIR), help='folder of the npm tarballs (tools/fetch_npm.sh)')
    ap.add_argument('--npm-specs', action='store_true', help='print the pinned npm packages (for tools/fetch_npm.sh) and exit')
    a = ap.parse_args()
    if a.npm_specs: print(' '.join(f'{k}@{v}' for k, v in NPM.items())); sys.exit()
    try: files = build(Path(a.out), npm_dir=Path(a.npm))
    except DocsError as e: sys.exit(f"docs not built: {e}")
    print(f"built {len(files)} pages into {Path(a.out).resolve()}/ (open index.html)")
