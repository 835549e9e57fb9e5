"The package is what the notebooks export: `nbdev_export` (run in a scratch copy) leaves `ssfnas/` unchanged."
import shutil, subprocess
from pathlib import Path
from conftest import ROOT, VENV_BIN


def test_export_leaves_package_unchanged(tmp_path):
    for f in ('settings.ini', 'pyproject.toml'): shutil.copy(ROOT/f, tmp_path/f)
    shutil.copytree(ROOT/'nbs', tmp_path/'nbs')
    shutil.copytree(ROOT/'ssfnas', tmp_path/'ssfnas', ignore=shutil.ignore_patterns('__pycache__'))
    r = subprocess.run([str(VENV_BIN/'nbdev_export')], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    mine = {p.relative_to(ROOT): p.read_text() for p in (ROOT/'ssfnas').rglob('*.py')}
    theirs = {p.relative_to(tmp_path): p.read_text() for p in (tmp_path/'ssfnas').rglob('*.py')}
    assert sorted(mine) == sorted(theirs), f"files differ: {set(mine) ^ set(theirs)}"
    stale = [str(p) for p in mine if mine[p] != theirs[p]]
    assert not stale, f"ssfnas/ disagrees with the notebooks in {stale}: run `make export` and commit"


def test_readme_is_generated_from_index():
    r = subprocess.run([str(VENV_BIN/'python'), 'tools/make_readme.py', '--check'], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout
