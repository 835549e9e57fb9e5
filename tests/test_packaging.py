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
