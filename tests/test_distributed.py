"DDP under torchrun on CPU (gloo, 2 processes) equals one process stepping on the union of the processes' batches."
import json, os, subprocess, sys
import torch
import torch.nn.functional as F
from torch.utils.data import DistributedSampler
from conftest import ROOT
sys.path.insert(0, str(ROOT/'tests'))
import ddp_train as T


def union_oracle(world=2):
    "Plain loop: epoch e, batch i = the i-th batch of every rank's shard, concatenated; mean loss; same optimiser."
    ds, m = T.dataset(), T.model()
    opt = T.opt_func(m.parameters(), 0.1)
    samplers = [DistributedSampler(ds, num_replicas=world, rank=r, shuffle=True, seed=T.SEED, drop_last=True) for r in range(world)]
    for e in range(T.EPOCHS):
        shards = []
        for s in samplers: s.set_epoch(e); shards.append(list(s))
        for i in range(len(shards[0]) // T.BS):
            idx = [j for sh in shards for j in sh[i*T.BS:(i+1)*T.BS]]
            x, y = ds.tensors[0][idx], ds.tensors[1][idx]
            opt.zero_grad(); F.cross_entropy(m(x), y).backward(); opt.step()
    return m.state_dict()


def test_ddp_two_processes_equals_union_step(tmp_path):
    out = tmp_path/'w.pt'
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2',
                        str(ROOT/'tests'/'ddp_train.py'), str(out)], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-4000:]
    got = torch.load(out, weights_only=True)
    assert got['world_size'] == 2
    want = union_oracle()
    for k in want: torch.testing.assert_close(got['model'][k], want[k], rtol=1e-5, atol=1e-6)
    assert (tmp_path/'w.pt.ckpt').exists()  # the main process wrote the checkpoint
    ranks = [json.loads((tmp_path/f'w.pt.rank{r}.json').read_text()) for r in (0, 1)]
    assert [(d['is_main'], d['silent']) for d in ranks] == [(True, False), (False, True)]  # rank 0 writes and reports
    assert all(d['ddp_during'] and not d['ddp_after'] for d in ranks)  # the learner ran through DDP, then let it go
    assert len((tmp_path/'w.pt.run'/'metrics.csv').read_text().splitlines()) == 1 + T.EPOCHS
    assert 'train_loss' in r.stdout and r.stdout.count('train_loss') == 1  # one epoch table, printed by rank 0
    # and the single-process run differs (the test can fail): it steps on batches of 8, not 16
    r1 = subprocess.run([sys.executable, str(ROOT/'tests'/'ddp_train.py'), str(tmp_path/'one.pt')], env=env,
                        capture_output=True, text=True, timeout=300)
    assert r1.returncode == 0, r1.stderr[-4000:]
    one = torch.load(tmp_path/'one.pt', weights_only=True)
    assert one['world_size'] == 1 and not torch.allclose(one['model']['0.weight'], want['0.weight'])
