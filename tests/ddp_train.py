"""Trains a small model with `DDPCB`; run by tests/test_distributed.py under
`torchrun --standalone --nproc_per_node=2 tests/ddp_train.py OUT.pt` (gloo backend on CPU)."""
import json, sys
import torch
from torch import nn
from torch.utils.data import TensorDataset, DataLoader
from ssfnas.distributed import init_distributed, cleanup_distributed, DDPCB
from ssfnas.learner import Learner, Callback, ProgressCB, CheckpointCB

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
    learn = Learner(m, (dl, None), lr=0.1, opt_func=opt_func, run=sys.argv[1] + '.run',
                    cbs=[DDPCB(seed=SEED), ProgressCB(bars=False), CheckpointCB(sys.argv[1] + '.ckpt')])
    ddp_during = []
    class Spy(Callback):
        def after_batch(self): ddp_during.append(self.learn.ddp is not None)
    learn.add_cbs([Spy()])
    learn.fit(EPOCHS)
    with open(f'{sys.argv[1]}.rank{info.rank}.json', 'w') as f:  # what each process saw: who writes, the DDP wrapper
        json.dump({'is_main': learn.is_main, 'silent': learn.progress.silent, 'ddp_during': all(ddp_during),
                   'ddp_after': learn.ddp is not None}, f)
    if info.is_main: torch.save({'world_size': info.world_size, 'model': m.state_dict()}, sys.argv[1])
    cleanup_distributed()
