"""Write README.md from nbs/index.ipynb (what `nbdev_readme` does with quarto, without it).

    python tools/make_readme.py          # write README.md
    python tools/make_readme.py --check  # exit 1 if README.md is out of date
"""
import re, sys
from pathlib import Path
import nbformat

ROOT = Path(__file__).resolve().parent.parent


def readme_text() -> str:
    nb = nbformat.read(ROOT / 'nbs' / 'index.ipynb', as_version=4)
    parts = []
    for c in nb.cells:
        if c.cell_type == 'markdown':
            parts.append(c.source.strip())
        elif c.cell_type == 'code' and not re.match(r'\s*#\s*\|\s*hide', c.source):
            parts.append('```python\n' + c.source.strip() + '\n```')
    text = '\n\n'.join(parts) + '\n'
    # the nbdev frontmatter subtitle `> ...` reads as a quote in markdown, as on the docs' front page
    return '<!-- generated from nbs/index.ipynb by tools/make_readme.py: edit the notebook, not this file -->\n\n' + text


if __name__ == '__main__':
    text, path = readme_text(), ROOT / 'README.md'
    if '--check' in sys.argv:
        ok = path.exists() and path.read_text() == text
        print('README.md is up to date' if ok else 'README.md is out of date: run python tools/make_readme.py')
        sys.exit(0 if ok else 1)
    path.write_text(text)
    print(f'wrote {path}')
