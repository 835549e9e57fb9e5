"""Build the documentation site from the notebooks, without quarto.

`make docs` runs this. Users who have quarto can use `nbdev_docs` instead (the quarto configuration is in
`nbs/_quarto.yml`); this script gives the same content (the notebooks' prose, code and stored outputs,
figures included, plus an API reference) as static HTML pages with a navigation bar, on a machine where
quarto cannot be installed.

    python tools/build_docs.py --out docs
"""
from __future__ import annotations
import argparse, html, importlib, inspect, re, shutil, sys
from pathlib import Path
import nbformat
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parent.parent
DIRECTIVE = re.compile(r'^\s*#\s*\|\s*(.*)$')


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


NAV_CSS = """
<style>
  body { margin-left: 250px !important; }
  nav.ssfnas-nav { position: fixed; top: 0; left: 0; width: 230px; height: 100%; overflow-y: auto;
    background: #f6f8fa; border-right: 1px solid #ddd; padding: 16px 10px; font: 14px/1.5 sans-serif; z-index: 10; }
  nav.ssfnas-nav a { display: block; color: #24292f; text-decoration: none; padding: 2px 6px; border-radius: 4px; }
  nav.ssfnas-nav a:hover { background: #e7ebef; }
  nav.ssfnas-nav a.current { background: #dbe7f5; font-weight: 600; }
  nav.ssfnas-nav .brand { font-size: 18px; font-weight: 700; margin-bottom: 10px; }
  .ssfnas-api h3 { font-family: monospace; margin-top: 1.4em; }
  .ssfnas-api pre { background: #f6f8fa; padding: 8px; white-space: pre-wrap; }
</style>
"""


def nav_html(pages: list[tuple[str, str]], current: str) -> str:
    links = '\n'.join(f'<a href="{p}"{" class=current" if p == current else ""}>{html.escape(t)}</a>' for p, t in pages)
    return f'<nav class="ssfnas-nav"><div class="brand"><a href="index.html">ssfnas</a></div>{links}</nav>'


def inject(page: str, nav: str, title: str) -> str:
    page = re.sub(r'<title>.*?</title>', f'<title>{html.escape(title)} – ssfnas</title>', page, count=1, flags=re.S)
    page = page.replace('</head>', NAV_CSS + '</head>', 1)
    return re.sub(r'(<body[^>]*>)', lambda m: m.group(1) + nav, page, count=1)


def api_page(lib: str = 'ssfnas') -> str:
    "An API reference: every exported symbol with its signature, docstring and defining notebook."
    modidx = importlib.import_module(f'{lib}._modidx').d
    parts = ['<div class="ssfnas-api" style="max-width: 60em; padding: 20px">', '<h1>API reference</h1>',
             '<p>Every public name of the package, by module. Each module is exported from one notebook; '
             'follow the link for the explanation, the examples and the tests.</p>']
    for mod, syms in sorted(modidx['syms'].items()):
        if not syms: continue
        nb = next(iter(syms.values()))[0] if syms else ''
        parts.append(f'<h2 id="{mod}">{mod} <small>(<a href="{page_name(Path(nb.split("#")[0]))}">notebook</a>)</small></h2>')
        m = importlib.import_module(mod)
        for qual in sorted(syms):
            name = qual[len(mod) + 1:]
            obj = m
            try:
                for a in name.split('.'): obj = getattr(obj, a)
            except AttributeError: continue
            try: sig = str(inspect.signature(obj))
            except (TypeError, ValueError): sig = ''
            doc = inspect.getdoc(obj) or ''
            parts.append(f'<h3 id="{qual}">{html.escape(name)}<span style="color:#777">{html.escape(sig)}</span></h3>')
            if doc: parts.append(f'<pre>{html.escape(doc)}</pre>')
    parts.append('</div>')
    return ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>API</title></head><body>'
            + '\n'.join(parts) + '</body></html>')


def build(out: Path, nbs: Path = ROOT / 'nbs') -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    notebooks = sorted(nbs.glob('[0-9]*.ipynb'))
    index = nbs / 'index.ipynb'
    exporter = HTMLExporter(template_name='lab')
    exporter.exclude_input_prompt = exporter.exclude_output_prompt = True
    rendered = []
    for nb_path in ([index] if index.exists() else []) + notebooks:
        title, sub, nb = clean(nbformat.read(nb_path, as_version=4))
        name = 'index.html' if nb_path == index else page_name(nb_path)
        body, _ = exporter.from_notebook_node(nb)
        rendered.append((name, title or nb_path.stem, body))
    pages = [(n, t if n != 'index.html' else 'Overview') for n, t, _ in rendered] + [('api.html', 'API reference')]
    written = []
    for name, title, body in rendered:
        (out / name).write_text(inject(body, nav_html(pages, name), title))
        written.append(out / name)
    (out / 'api.html').write_text(inject(api_page(), nav_html(pages, 'api.html'), 'API reference'))
    written.append(out / 'api.html')
    return written


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', default=str(ROOT / 'docs'), help='output folder (default docs/)')
    a = ap.parse_args()
    files = build(Path(a.out))
    print(f"built {len(files)} pages into {Path(a.out).resolve()}/ (open index.html)")
