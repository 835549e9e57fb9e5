import os, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


@pytest.fixture(scope='session')
def root() -> Path: return ROOT


def full_cifar10_available() -> bool:
    from ssfnas.core import data_dir
    return (data_dir()/'cifar10.npz').exists() or (data_dir()/'cifar-10-batches-py').exists()
