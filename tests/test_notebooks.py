"Every notebook runs under `nbdev_test` (cells flagged notest/slow/gpu are skipped), one test per notebook."
import os, subprocess, sys
from pathlib import Path
import pytest
from conftest import ROOT, VENV_BIN

NOTEBOOKS = sorted(p.name for p in (ROOT/'nbs').glob('*.ipynb'))


@pytest.mark.parametrize('nb', NOTEBOOKS)
def test_notebook(nb):
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1', MPLBACKEND='Agg')
    r = subprocess.run([str(VENV_BIN/'nbdev_test'), '--path', f'nbs/{nb}'], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0 and 'Success.' in r.stdout, f"{nb} failed under nbdev_test:\n{r.stdout[-6000:]}\n{r.stderr[-6000:]}"
