"""A resumed sweep never reuses points solved on other data, and concurrent
writers of one output folder never mix it (issue 11 sections 3 and 4).

1. A sweep over files is interrupted, then X.npy (or a head's W) is replaced
   under the same name: the rerun refuses to resume, naming the field and the
   file; with the data restored it resumes and loads every point.
2. Point files without a manifest are refused.
3. Several `solve -o same` processes run at once, round after round: each
   either writes its whole result or is refused with the lock message; after
   every round the folder verifies (predict reads it) and holds no staging or
   lock leftovers; a run killed with SIGKILL leaves the folder readable.
Usage: stale_and_concurrent.py ATTNPATHS"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

BIN = sys.argv[1]
root = tempfile.mkdtemp(prefix='attnpaths-stale-')
os.chdir(root)
rng = np.random.default_rng(5)
X = rng.normal(size=(20, 3, 4))
y = np.where(np.arange(20) % 2 == 0, 1.0, -1.0)
np.save('X.npy', X), np.save('y.npy', y), np.save('Xt.npy', rng.normal(size=(10, 3, 4)))
np.save('W.npy', np.eye(4))
study = ('[data]\ntrain_x = "X.npy"\ntrain_y = "y.npy"\ntest_x = "Xt.npy"\n'
         '[architecture]\n[[architecture.layers]]\n'
         'heads = [ { kind = "w", W = "W.npy", name = "w" }, { kind = "uniform" } ]\n')
with open('sweep.toml', 'w') as f:
    f.write(study + '[sweep]\nwidths = [10, 30, 100]\ntemperatures = [0.1, 0.2]\n')
with open('run.toml', 'w') as f:
    f.write('temperature = 0.1\n' + study)


def run(*args, **kw):
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=120, **kw)


def one_error(r, fragment):
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and fragment in lines[0], (r.returncode, r.stderr)


# 1. stale data
r = run('sweep', '--config', 'sweep.toml', '-o', 'sw', '--quiet')
assert r.returncode == 0, r.stderr
points = sorted(os.listdir('sw/points'))
assert len(points) == 6, points
os.remove('sw/sweep.csv'), os.remove('sw/sweep.json'), os.remove(os.path.join('sw/points', points[0]))
for name, array, field in [('X.npy', X + 1e-9, 'data.train_x'), ('W.npy', 2 * np.eye(4),
                           'architecture.layers[0].heads[0].W')]:
    original = np.load(name)
    np.save(name, array)
    before = {f: open(os.path.join('sw/points', f), 'rb').read() for f in os.listdir('sw/points')}
    r = run('sweep', '--config', 'sweep.toml', '-o', 'sw', '--quiet')
    one_error(r, f'sw/sweep_manifest.json: {field} ({name}): found other data '
                 'than the finished points were solved with')
    after = {f: open(os.path.join('sw/points', f), 'rb').read() for f in os.listdir('sw/points')}
    assert before == after and not os.path.exists('sw/sweep.csv'), 'a refused resume wrote files'
    np.save(name, original)
r = run('sweep', '--config', 'sweep.toml', '-o', 'sw')
assert r.returncode == 0 and '(1 points solved, 5 loaded)' in r.stdout, r.stdout + r.stderr

# 2. points without a manifest
os.remove('sw/sweep_manifest.json')
one_error(run('sweep', '--config', 'sweep.toml', '-o', 'sw', '--quiet'),
          'point files without a sweep_manifest.json')

# 3. concurrent writers
def leftovers(d):
    return [f for f in os.listdir(d) if f.startswith('.')]


rounds, writers, committed, refused = 6, 3, 0, 0
for k in range(rounds):
    procs = [subprocess.Popen([BIN, 'solve', '--config', 'run.toml', '-o', 'conc', '--quiet'],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for _ in range(writers)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        if p.returncode == 0:
            committed += 1
        else:
            assert p.returncode == 2 and 'being written by another attnpaths process' in err, err
            refused += 1
    r = run('predict', '--config', 'run.toml', '--solution', 'conc', '-o', 'pred', '--quiet')
    assert r.returncode == 0 and r.stderr == '', r.stderr
    assert leftovers('conc') == [], leftovers('conc')
assert committed >= rounds, (committed, refused)

# A solve killed while it runs leaves the previous result readable and no visible change.
with open('conc/summary.json') as f:
    old = json.load(f)
p = subprocess.Popen([BIN, 'solve', '--config', 'run.toml', '-o', 'conc', '--quiet'],
                     env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(0.05)
p.send_signal(signal.SIGKILL)
p.wait()
r = run('predict', '--config', 'run.toml', '--solution', 'conc', '-o', 'pred', '--quiet')
assert r.returncode == 0, r.stderr
r = run('solve', '--config', 'run.toml', '-o', 'conc', '--quiet')
assert r.returncode == 0 and leftovers('conc') == [], (r.stderr, leftovers('conc'))
shutil.rmtree(root)
print(f'ok: stale data refused twice, resumed; {committed} concurrent solves committed, {refused} '
      'refused by the lock, folder verified after every round')
