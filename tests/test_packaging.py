"Packaging: pinned requirements agree between pyproject.toml and settings.ini; the public API imports."
import configparser, tomllib
from conftest import ROOT


def test_requirements_agree():
    proj = tomllib.loads((ROOT/'pyproject.toml').read_text())['project']
    ini = configparser.ConfigParser(); ini.read(ROOT/'settings.ini')
    assert sorted(proj['dependencies']) == sorted(ini['DEFAULT']['requirements'].split())
    assert sorted(proj['optional-dependencies']['dev']) == sorted(ini['DEFAULT']['dev_requirements'].split())
    assert all('==' in r for r in proj['dependencies']), 'every dependency is pinned'
    assert proj['scripts']['ssfnas'] == ini['DEFAULT']['console_scripts'].split('=')[1]


def test_version_and_all():
    import ssfnas
    ini = configparser.ConfigParser(); ini.read(ROOT/'settings.ini')
    assert ssfnas.__version__ == ini['DEFAULT']['version']
    ns = {}
    exec('from ssfnas.all import *', ns)
    for name in ('set_seed', 'RunDir', 'get_cifar_lt', 'lt_counts', 'load_sample'): assert name in ns


def test_check_disk():
    "`make` refuses to start a .venv on a full disk with a message that names the need and the fix."
    import subprocess
    run = lambda gib: subprocess.run(['bash', str(ROOT/'tools/check_disk.sh'), str(gib)], cwd=ROOT,
                                     capture_output=True, text=True)
    ok = run(0)
    assert ok.returncode == 0 and ok.stderr == ''
    full = run(10**9)  # a billion GiB: more than any disk has
    assert full.returncode == 1
    assert 'MiB free' in full.stderr and 'needs about 1000000000 GiB' in full.stderr and 'Free some space' in full.stderr
