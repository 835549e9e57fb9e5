"""Trains a small model with `DDPCB`; run by tests/test_distributed.py under
`torchrun --standalone --nproc_per_node=2 tests/ddp_train.py OUT.pt` (gloo backend on CPU)."""
import sys
import torch
from torch import nn
from torch.utils.data import TensorDataset, DataLoader
from ssfnas.distributed import init_distributed, cleanup_distributed, DDPCB
from ssfnas.learner import Learner, ProgressCB, CheckpointCB

SEED, BS, EPOCHS = 3, 8, 2


def dataset():  # SYNTHETIC: 64 points in R^10, label = sign of the sum of 3 coordinates
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 10, generator=g)
    return TensorDataset(x, (x[:, :3].sum(1) > 0).long())


def model():  # no batch norm: DDP then equals a single process on the union of the batches
    torch.manual_seed(1)
    return nn.Sequential(nn.Linear(10, 16), nn.Tanh(), nn.Linear(16, 2))


def opt_func(ps, lr): return torch.optim.SGD(ps, lr=lr, momentum=0.9)


if __name__ == '__main__':
    info = init_distributed()
    m = model()
    dl = DataLoader(dataset(), batch_size=BS, shuffle=True, drop_last=True)
    learn = Learner(m, (dl, None), lr=0.1, opt_func=opt_func,
                    cbs=[DDPCB(seed=SEED), ProgressCB(quiet=True), CheckpointCB(sys.argv[1] + '.ckpt')])
    learn.fit(EPOCHS)
    if info.is_main: torch.save({'world_size': info.world_size, 'model': m.state_dict()}, sys.argv[1])
    cleanup_distributed()
