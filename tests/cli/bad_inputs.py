"""Bad inputs a new user tries, class by class (issue 11 sections 2-5; docs/errors.md).

Each case runs the attnpaths command line on inputs made here and asserts the
contract of docs/errors.md: exit status 2, exactly one line "error: ..." on
stderr containing the expected text, nothing on stdout, no crash (signal), no
hang (timeout), and the output folder exactly as before the run (no new,
removed or changed files). Usage: bad_inputs.py ATTNPATHS [CLASS ...]
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

BIN = sys.argv[1]
ONLY = set(sys.argv[2:])
TMP = tempfile.mkdtemp(prefix='attnpaths-bad-')
failures = []
counts = {}


def path(*parts):
    return os.path.join(TMP, *parts)


def save(name, a):
    np.save(path(name), a)


def write(name, text):
    with open(path(name), 'w') as f:
        f.write(text)


def snapshot(root):
    """Every file under root (hidden ones too) with a hash of its bytes."""
    files = {}
    if os.path.isdir(root):
        for d, _, names in os.walk(root):
            for n in names:
                p = os.path.join(d, n)
                with open(p, 'rb') as f:
                    files[os.path.relpath(p, root)] = hashlib.sha256(f.read()).hexdigest()
    return files


# A hang is a run that never ends: the limit is generous because a sanitizer
# build on a loaded machine runs a small `sample` for over a minute.
def run(args, timeout=300, env=None, preexec=None):
    return subprocess.run([BIN] + args, cwd=TMP, capture_output=True, text=True, timeout=timeout,
                          env=env, preexec_fn=preexec)


def bad(cls, name, expected, args, folder='out', env=None, preexec=None):
    """One bad input: exit 2, one error line containing `expected`, folder untouched."""
    if ONLY and cls not in ONLY:
        return
    counts[cls] = counts.get(cls, 0) + 1
    before = snapshot(path(folder))
    existed = os.path.exists(path(folder))
    try:
        r = run(args, env=env, preexec=preexec)
    except subprocess.TimeoutExpired:
        failures.append(f'{cls}/{name}: hang (timeout) on {args}')
        return
    lines = r.stderr.strip().splitlines()
    problems = []
    if r.returncode < 0:
        problems.append(f'crashed with signal {-r.returncode}')
    elif r.returncode != 2:
        problems.append(f'exit {r.returncode}')
    if len(lines) != 1 or not lines[0].startswith('error: '):
        problems.append(f'stderr {len(lines)} lines')
    if expected not in r.stderr:
        problems.append(f'message lacks {expected!r}')
    if r.stdout:
        problems.append('stdout not empty')
    if snapshot(path(folder)) != before or os.path.exists(path(folder)) != existed:
        problems.append(f'output folder {folder} changed')
    if os.environ.get('ATTNPATHS_PRINT_MESSAGES'):
        print(f'{cls}/{name}\t{" ".join(args)}\t{r.stderr.strip()}')
    if problems:
        failures.append(f'{cls}/{name}: {"; ".join(problems)}\n    args: {args}\n'
                        f'    stderr: {r.stderr.strip()[:500]}')


def good(args, what):
    r = run(args, timeout=120)
    if r.returncode not in (0, 1):
        failures.append(f'setup {what}: exit {r.returncode}: {r.stderr.strip()[:300]}')
    return r


# ------------------------------------------------------------------ fixtures
rng = np.random.default_rng(7)
P, Pt, n_tok, N0 = 24, 30, 3, 4
X = rng.normal(size=(P, n_tok, N0))
w = rng.normal(size=N0)
y = np.where(X[:, -1, :] @ w >= 0, 1.0, -1.0)
y[:2] = [1.0, -1.0]
Xt = rng.normal(size=(Pt, n_tok, N0))
yt = np.where(Xt[:, -1, :] @ w >= 0, 1.0, -1.0)
save('X.npy', X), save('y.npy', y), save('Xt.npy', Xt), save('yt.npy', yt)
save('y01.npy', (y + 1) / 2), save('yt01.npy', (yt + 1) / 2)
save('y_half.npy', np.where(y > 0, 0.5, -1.0))
save('X2.npy', rng.normal(size=(P, n_tok, N0)))
save('Xt_tokens.npy', rng.normal(size=(Pt, n_tok + 1, N0)))
save('Xt_features.npy', rng.normal(size=(Pt, n_tok, N0 + 2)))
save('X_huge.npy', X * 1e200)
save('W.npy', np.eye(N0)), save('W2.npy', 2 * np.eye(N0))
classes = rng.integers(0, 3, size=P)
classes[:3] = [0, 1, 2]
onehot = np.eye(3)[classes]
save('Y3.npy', onehot)
save('Y3_pm.npy', 2 * onehot - 1)
two_hot = onehot.copy()
two_hot[4] = [1, 1, 0]
save('Y3_two_hot.npy', two_hot)
mixed = onehot.copy()
mixed[5] = 2 * mixed[5] - 1
save('Y3_mixed.npy', mixed)
save('Y3_one_class.npy', np.tile([1.0, 0, 0], (P, 1)))
save('Yt3_pm.npy', 2 * np.eye(3)[rng.integers(0, 3, size=Pt)] - 1)
os.mkfifo(path('fifo.npy'))
os.mkfifo(path('fifo.h5'))
os.mkfifo(path('fifo.toml'))

HEAD = '{ kind = "w", W = "W.npy", name = "w" }'


def study(name, data='', arch='', top='temperature = 0.1', head=HEAD, extra=''):
    data = data or 'train_x = "X.npy"\ntrain_y = "y.npy"\ntest_x = "Xt.npy"\ntest_y = "yt.npy"'
    write(name + '.toml', f'{top}\n[data]\n{data}\n[architecture]\nwidth = 20\n{arch}\n'
                          f'[[architecture.layers]]\nheads = [ {head} ]\n{extra}\n')


study('ok')
study('uniform', head='{ kind = "uniform", name = "w" }')
study('w2', head='{ kind = "w", W = "W2.npy", name = "w" }')
study('other_data', data='train_x = "X2.npy"\ntrain_y = "y.npy"\ntest_x = "Xt.npy"\ntest_y = "yt.npy"')
study('variances2', arch='variances = [1, 2, 1]')
good(['solve', '--config', 'ok.toml', '-o', 'out', '--quiet'], 'solve ok')

# ------------------------------------------------------------------ labels
L = 'labels'
study('y01', data='train_x = "X.npy"\ntrain_y = "y01.npy"')
study('yt01', data='train_x = "X.npy"\ntrain_y = "y.npy"\ntest_x = "Xt.npy"\ntest_y = "yt01.npy"')
study('yhalf', data='train_x = "X.npy"\ntrain_y = "y_half.npy"')
study('two_hot', data='train_x = "X.npy"\ntrain_y = "Y3_two_hot.npy"')
study('mixed_hot', data='train_x = "X.npy"\ntrain_y = "Y3_mixed.npy"')
study('one_class3', data='train_x = "X.npy"\ntrain_y = "Y3_one_class.npy"')
study('coding_differs', data='train_x = "X.npy"\ntrain_y = "Y3.npy"\ntest_x = "Xt.npy"\n'
                             'test_y = "Yt3_pm.npy"')
study('bad_task', data='train_x = "X.npy"\ntrain_y = "y.npy"\ntask = "regresion"')
study('test_y_only', data='train_x = "X.npy"\ntrain_y = "y.npy"\ntest_y = "yt.npy"')
study('hmm_one_class', data='generator = "hmm"\n[data.hmm]\nP = 1\nP_test = 5\nchain_tokens = 4\n'
                            'N_f = 6', head='{ kind = "hmm_uniform" }')
for cmd in ['solve', 'gp', 'sweep', 'check', 'heads', 'align', 'prune']:
    args = [cmd, 'y01.toml'] if cmd == 'check' else [cmd, '--config', 'y01.toml', '-o', 'out_l',
                                                     '--quiet']
    bad(L, f'{cmd}_zero_one', 'convert with y = 2*y - 1', args, 'out_l')
for cmd in ['sample', 'compare']:
    bad(L, f'{cmd}_zero_one', 'convert with y = 2*y - 1',
        [cmd, '--config', 'y01.toml', '-o', 'out_l', '--chains', '1', '--warmup', '5',
         '--samples', '5', '--quiet'], 'out_l')
bad(L, 'test_zero_one', 'data.test_y: found labels in {0, 1}',
    ['solve', '--config', 'yt01.toml', '-o', 'out_l', '--quiet'], 'out_l')
bad(L, 'half_label', 'train_y[0]: found 0.5, expected a class label +1 or -1',
    ['solve', '--config', 'yhalf.toml', '-o', 'out_l', '--quiet'], 'out_l')
bad(L, 'two_hot', 'row 4: found [1, 1, 0], expected a one-hot row',
    ['solve', '--config', 'two_hot.toml', '-o', 'out_l', '--quiet'], 'out_l')
bad(L, 'mixed_coding', 'row 5', ['solve', '--config', 'mixed_hot.toml', '-o', 'out_l', '--quiet'],
    'out_l')
bad(L, 'one_hot_one_class', 'only one class',
    ['gp', '--config', 'one_class3.toml', '-o', 'out_l', '--quiet'], 'out_l')
bad(L, 'coding_differs', 'the same one-hot coding as the training labels',
    ['solve', '--config', 'coding_differs.toml', '-o', 'out_l', '--quiet'], 'out_l')
bad(L, 'task_typo', 'data.task: found "regresion", expected "classification" or "regression"',
    ['solve', '--config', 'bad_task.toml', '-o', 'out_l', '--quiet'], 'out_l')
bad(L, 'test_y_without_test_x', 'data.test_y: found test labels without test_x',
    ['solve', '--config', 'test_y_only.toml', '-o', 'out_l', '--quiet'], 'out_l')
bad(L, 'generator_one_class', 'hmm.P = 1 generated labels: found only one class',
    ['solve', '--config', 'hmm_one_class.toml', '-o', 'out_l', '--quiet'], 'out_l')
bad(L, 'predict_test_y_zero_one', '--test-y yt01.npy: found labels in {0, 1}',
    ['predict', '--config', 'ok.toml', '--solution', 'out', '--test-x', 'Xt.npy', '--test-y',
     'yt01.npy', '--quiet'])
bad(L, 'predict_test_y_alone', '--test-y: found labels without --test-x',
    ['predict', '--config', 'ok.toml', '--solution', 'out', '--test-y', 'yt.npy', '--quiet'])
bad(L, 'train_zero_one', 'data.train_y y01.npy: found labels in {0, 1}',
    ['train', '--train-x', 'X.npy', '--train-y', 'y01.npy', '--heads', '1', '--epochs', '1',
     '-o', 'out_l', '--quiet'], 'out_l')
bad(L, 'train_task_typo', '--task: found "regress"',
    ['train', '--train-x', 'X.npy', '--train-y', 'y.npy', '--task', 'regress', '-o', 'out_l',
     '--quiet'], 'out_l')

# --------------------------------------------------- inputs meaning something else
I = 'ignored'
study('width_widths', arch='widths = [10, 10]')
study('variance_variances', arch='variance = 2\nvariances = [1, 1, 1]')
study('two_temperature_keys', top='temperature = 0.1\ntemperatures = [0.1]')
study('sweep_temperature_twice', extra='[sweep]\ntemperatures = [0.1, 0.2]')
study('hmm_without_generator', data='train_x = "X.npy"\ntrain_y = "y.npy"\n[data.hmm]\nP = 5')
study('generator_and_files', data='generator = "hmm"\ntrain_x = "X.npy"',
      head='{ kind = "hmm_uniform" }')
study('negative_p_test', data='generator = "hmm"\n[data.hmm]\nP = 10\nP_test = -5\n'
                              'chain_tokens = 4\nN_f = 6', head='{ kind = "hmm_uniform" }')
study('empty_sweep_widths', extra='[sweep]\nwidths = []')
bad(I, 'width_and_widths', 'architecture.width and widths: found both',
    ['solve', '--config', 'width_widths.toml', '-o', 'out_i', '--quiet'], 'out_i')
bad(I, 'variance_and_variances', 'architecture.variance and variances: found both',
    ['solve', '--config', 'variance_variances.toml', '-o', 'out_i', '--quiet'], 'out_i')
bad(I, 'temperature_and_temperatures', 'temperature and temperatures: found both',
    ['solve', '--config', 'two_temperature_keys.toml', '-o', 'out_i', '--quiet'], 'out_i')
bad(I, 'sweep_and_top_temperature', 'sweep.temperatures: found a second list',
    ['sweep', '--config', 'sweep_temperature_twice.toml', '-o', 'out_i', '--quiet'], 'out_i')
bad(I, 'hmm_table_without_generator', 'data.hmm: found a [data.hmm] table without generator',
    ['solve', '--config', 'hmm_without_generator.toml', '-o', 'out_i', '--quiet'], 'out_i')
bad(I, 'generator_and_files', 'data.train_x: found a file together with generator',
    ['solve', '--config', 'generator_and_files.toml', '-o', 'out_i', '--quiet'], 'out_i')
bad(I, 'negative_p_test', 'data.hmm.P_test: found -5',
    ['solve', '--config', 'negative_p_test.toml', '-o', 'out_i', '--quiet'], 'out_i')
bad(I, 'empty_sweep_widths', 'sweep.widths: found an empty array',
    ['sweep', '--config', 'empty_sweep_widths.toml', '-o', 'out_i', '--quiet'], 'out_i')
for cmd in ['solve', 'gp', 'sweep', 'heads', 'sample', 'predict', 'train']:
    args = {'predict': ['predict', '--config', 'ok.toml', '--solution', 'out'],
            'train': ['train', '--train-x', 'X.npy', '--train-y', 'y.npy', '-o', 'out_i']}.get(
        cmd, [cmd, '--config', 'ok.toml', '-o', 'out_i'])
    folder = 'out' if cmd == 'predict' else 'out_i'
    bad(I, f'{cmd}_threads_negative', '--threads: found -1', args + ['--threads', '-1', '--quiet'],
        folder)
for cmd in ['sample', 'compare']:
    for width in ['0', '-3', '2.5', 'nan']:
        bad(I, f'{cmd}_width_{width}', f'--width: found {width}',
            [cmd, '--config', 'ok.toml', '--width', width, '-o', 'out_i', '--quiet'], 'out_i')
for cmd in ['solve', 'gp', 'sweep', 'sample', 'compare', 'heads', 'prune', 'align', 'predict']:
    args = [cmd, '--config', 'ok.toml', '-o', '', '--quiet']
    if cmd == 'predict':
        args += ['--solution', 'out']
    bad(I, f'{cmd}_empty_output', '--output: found an empty path', args)
bad(I, 'empty_solution', '--solution: found an empty path',
    ['heads', '--config', 'ok.toml', '--solution', '', '-o', 'out_i', '--quiet'], 'out_i')
bad(I, 'empty_config', '--config: found an empty path', ['solve', '--config', '', '--quiet'])
bad(I, 'demo_test_zero', '--test: found 0, expected at least 1 test example',
    ['demo', '--test', '0', '--quiet'])
bad(I, 'demo_train_one', '--train: found 1', ['demo', '--train', '1', '--quiet'])
bad(I, 'demo_width_zero', '--widths[0]: found 0', ['demo', '--widths', '0', '--quiet'])
bad(I, 'demo_negative_temperature', '--temperature: found -1',
    ['demo', '--temperature', '-1', '--quiet'])
study('notest', data='train_x = "X.npy"\ntrain_y = "y.npy"')
bad(I, 'predict_no_test_set', 'data.test_x: found no test set',
    ['predict', '--config', 'notest.toml', '--solution', 'out', '--quiet'])

# --------------------------------------------------- readers check the architecture
A = 'architecture'
for cfg, what in [('uniform', 'kind'), ('w2', 'parameters'), ('other_data', 'training_data'),
                  ('variances2', 'variances')]:
    bad(A, f'predict_{cfg}', f'solved_for.', ['predict', '--config', cfg + '.toml', '--solution',
                                              'out', '--quiet'])
    for cmd in ['heads', 'align']:
        bad(A, f'{cmd}_{cfg}', what, [cmd, '--config', cfg + '.toml', '--solution', 'out', '-o',
                                     'out_a', '--quiet'], 'out_a')
    bad(A, f'prune_{cfg}', what, ['prune', '--config', cfg + '.toml', '--solution', 'out', '-o',
                                  'out_a', '--mode', 'silence', '--quiet'], 'out_a')
bad(A, 'predict_tokens', '--test-x Xt_tokens.npy shape: found (30, 4, 4), expected (P_test, 3, 4)',
    ['predict', '--config', 'ok.toml', '--solution', 'out', '--test-x', 'Xt_tokens.npy', '--quiet'])
bad(A, 'predict_features', '--test-x Xt_features.npy shape: found (30, 3, 6)',
    ['predict', '--config', 'ok.toml', '--solution', 'out', '--test-x', 'Xt_features.npy',
     '--quiet'])

# --------------------------------------------------- bad values inside a solution
S = 'solution'
for field, value, expected in [('temperature', '-1', 'temperature: found -1'),
                               ('temperature', '"hot"', 'temperature: found "hot"'),
                               ('N', '0', 'N: found 0'),
                               ('converged', '"yes"', 'converged: found "yes"'),
                               ('files', '[]', 'files: found []')]:
    d = f'sol_{field}_{len(value)}'
    shutil.copytree(path('out'), path(d))
    import json
    with open(path(d, 'summary.json')) as f:
        j = json.load(f)
    j[field] = json.loads(value)
    with open(path(d, 'summary.json'), 'w') as f:
        json.dump(j, f)
    cmd = ['predict'] if field in ('temperature', 'files') else ['heads', '-o', 'out_s']
    bad(S, f'{cmd[0]}_{field}', expected, cmd + ['--config', 'ok.toml', '--solution', d, '--quiet'],
        d if cmd[0] == 'predict' else 'out_s')
shutil.copytree(path('out'), path('sol_nan'))
np.save(path('sol_nan', 'U_1.npy'), np.array([[np.nan]]))
bad(S, 'nan_U', 'U_1.npy', ['heads', '--config', 'ok.toml', '--solution', 'sol_nan', '-o', 'out_s',
                            '--quiet'], 'out_s')

# --------------------------------------------------- mixed and partial folders
F = 'folders'
good(['solve', '--config', 'ok.toml', '-o', 'other', '--quiet'], 'solve other')
good(['solve', '--config', 'uniform.toml', '-o', 'uni', '--quiet'], 'solve uniform')
shutil.copytree(path('out'), path('mixed'))
shutil.copy(path('uni', 'U_1.npy'), path('mixed', 'U_1.npy'))
bad(F, 'predict_mixed_folder', 'mixes files of different runs',
    ['predict', '--config', 'ok.toml', '--solution', 'mixed', '--quiet'], 'mixed')
bad(F, 'heads_mixed_folder', 'mixes files of different runs',
    ['heads', '--config', 'ok.toml', '--solution', 'mixed', '-o', 'out_f', '--quiet'], 'out_f')
shutil.copytree(path('out'), path('partial'))
os.remove(path('partial', 'U_a.npy'))
bad(F, 'heads_missing_file', 'U_a.npy: found no such file',
    ['heads', '--config', 'ok.toml', '--solution', 'partial', '-o', 'out_f', '--quiet'], 'out_f')


def file_limit(kib):
    """preexec: at most `kib` KiB per file written (a full disk), SIGXFSZ ignored."""
    def apply():
        import resource
        import signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (kib * 1024, kib * 1024))
    return apply


shutil.copytree(path('out'), path('full'))
bad(F, 'solve_disk_full', 'full/U_1.npy: found a write error (File too large)',
    ['solve', '--config', 'ok.toml', '-o', 'full', '--quiet'], 'full', preexec=file_limit(0))
bad(F, 'solve_disk_full_new_folder', 'File too large',
    ['solve', '--config', 'ok.toml', '-o', 'full_new/a/b', '--quiet'], 'full_new',
    preexec=file_limit(0))
bad(F, 'sample_draws_disk_full', 'full/draws.h5: found a write error (File too large)',
    ['sample', '--config', 'ok.toml', '-o', 'full', '--chains', '1', '--warmup', '20',
     '--samples', '200', '--quiet'], 'full', preexec=file_limit(8))
bad(F, 'train_disk_full', 'File too large',
    ['train', '--train-x', 'X.npy', '--train-y', 'y.npy', '--heads', '1', '--width', '4',
     '--epochs', '1', '-o', 'full', '--quiet'], 'full', preexec=file_limit(0))

# The commands of the newer theories (hessian, train-sweep, kernel-prop,
# shaped-sde) write whole folders too: a failed write leaves `full` as it was.
write('kp.toml', '[kernel_prop]\ntokens = 4\ndepth = 2\nmethod = "espa"\n')
write('sde.toml', '[shaped_sde]\nV0 = [[1.0, 0.2], [0.2, 1.0]]\ngamma = 0.5\npaths = 10\n'
                  '[shaped_sde.networks]\nwidths = [8]\nsamples = [10]\n')
HESSIAN_SMALL = ['hessian', '--data', 'gaussian', '--tokens', '3', '--features', '2', '--key-dim',
                 '2', '--batch', '2', '--sigma-points', '4', '--fit-points', '2', '--repeats', '2']
# The limit lets the first files through and stops a later, larger one (blocks.csv 9 KiB
# then slopes.json 15 KiB; curves.csv 2 KiB then mixture_x.npy 16 KiB; kernels.npy 0.5 KiB
# then metrics.csv 1.7 KiB; V_T_*.npy 0.4 KiB then quantiles.csv 170 KiB).
for name, kib, args in (('hessian', 10, HESSIAN_SMALL + ['--spectrum', '2']),
                        ('train_sweep', 10, ['train-sweep', '--heads', '1', '2', '--modes',
                                             'growing', '--examples', '16', '--test-examples',
                                             '16', '--steps', '3', '--repeats', '1']),
                        ('kernel_prop', 1, ['kernel-prop', '--config', 'kp.toml']),
                        ('shaped_sde', 1, ['shaped-sde', '--config', 'sde.toml'])):
    bad(F, name + '_disk_full', 'File too large', args + ['-o', 'full', '--quiet'], 'full',
        preexec=file_limit(kib))
if not ONLY or F in ONLY:
    # A second run replaces the first one's files: no file of the first run stays behind.
    good(HESSIAN_SMALL + ['--spectrum', '2', '-o', 'h_again', '--quiet'], 'hessian with spectrum')
    good(HESSIAN_SMALL + ['--spectrum', '0', '-o', 'h_again', '--quiet'], 'hessian without')
    left = sorted(set(os.listdir(path('h_again'))) & {'spectrum.csv', 'density.csv'})
    if left:
        failures.append(f'folders/hessian_rerun: {left} of the first run left beside the second')

# --------------------------------------------------- special files
N = 'special'
study('zero_x', data='train_x = "/dev/zero"\ntrain_y = "y.npy"')
study('fifo_x', data='train_x = "fifo.npy"\ntrain_y = "y.npy"')
study('fifo_h5', data='train_x = "fifo.h5:/x"\ntrain_y = "y.npy"')
study('dir_x', data='train_x = "out"\ntrain_y = "y.npy"')
study('fifo_w', head='{ kind = "w", W = "fifo.npy" }')
bad(N, 'dev_zero_npy', '/dev/zero: found a character device, expected a regular .npy file',
    ['solve', '--config', 'zero_x.toml', '-o', 'out_n', '--quiet'], 'out_n')
bad(N, 'fifo_npy', 'fifo.npy: found a FIFO (named pipe)',
    ['solve', '--config', 'fifo_x.toml', '-o', 'out_n', '--quiet'], 'out_n')
bad(N, 'fifo_h5', 'fifo.h5: found a FIFO (named pipe)',
    ['solve', '--config', 'fifo_h5.toml', '-o', 'out_n', '--quiet'], 'out_n')
bad(N, 'directory_npy', 'found a directory',
    ['solve', '--config', 'dir_x.toml', '-o', 'out_n', '--quiet'], 'out_n')
bad(N, 'fifo_head', 'fifo.npy: found a FIFO', ['check', 'fifo_w.toml'])
bad(N, 'fifo_config', 'fifo.toml: found an empty file', ['solve', '--config', 'fifo.toml', '-o', 'out_n', '--quiet'],
    'out_n')
bad(N, 'dev_zero_config', '/dev/zero', ['check', '/dev/zero'])
bad(N, 'predict_dev_zero', '/dev/zero: found a character device',
    ['predict', '--config', 'ok.toml', '--solution', 'out', '--test-x', '/dev/zero', '--quiet'])
bad(N, 'train_fifo', 'fifo.npy: found a FIFO',
    ['train', '--train-x', 'fifo.npy', '--train-y', 'y.npy', '-o', 'out_n', '--quiet'], 'out_n')
bad(N, 'solution_dev_null', 'invalid JSON',
    ['heads', '--config', 'ok.toml', '--solution', '/dev/null', '-o', 'out_n', '--quiet'], 'out_n')

# --------------------------------------------------- overflow and sizes
O = 'overflow'
study('beta_huge', head='{ kind = "w", W = "W.npy", beta = 1e308, name = "big" }')
study('inputs_huge', data='train_x = "X_huge.npy"\ntrain_y = "y.npy"', head='{ kind = "uniform" }')
study('variance_huge', arch='variances = [1, 1e308, 1]')
study('variance_tiny', arch='variances = [1e-300, 1, 1]')
study('hmm_huge', data='generator = "hmm"\n[data.hmm]\nP = 1000000000000',
      head='{ kind = "hmm_uniform" }')
bad(O, 'beta_1e308', 'layer 1 head 1 (big, kind w, beta = 1e+308): found attention that is not '
    'finite', ['solve', '--config', 'beta_huge.toml', '-o', 'out_o', '--quiet'], 'out_o')
bad(O, 'beta_1e308_sample', 'found attention that is not finite',
    ['sample', '--config', 'beta_huge.toml', '-o', 'out_o', '--quiet'], 'out_o')
bad(O, 'inputs_1e200', 'data.train_x example 0: found path inputs whose squared norm is',
    ['solve', '--config', 'inputs_huge.toml', '-o', 'out_o', '--quiet'], 'out_o')
bad(O, 'variance_1e308', 'architecture.variances[1]: found 1e+308',
    ['solve', '--config', 'variance_huge.toml', '-o', 'out_o', '--quiet'], 'out_o')
bad(O, 'variance_1e-300', 'architecture.variances[0]: found 1e-300',
    ['gp', '--config', 'variance_tiny.toml', '-o', 'out_o', '--quiet'], 'out_o')
bad(O, 'hmm_P_huge', 'expected at most 2^28', ['check', 'hmm_huge.toml'])
bad(O, 'hmm_P_huge_solve', 'hmm.P: found P = 1000000000000',  # streamed: only labels are held
    ['solve', '--config', 'hmm_huge.toml', '-o', 'out_o', '--quiet'], 'out_o')
bad(O, 'demo_train_huge', '--train: found P*n_tok*N0', ['demo', '--train', '1000000000000',
                                                         '--quiet'])
bad(O, 'demo_test_huge', '--test: found P*n_tok*N0', ['demo', '--test', '99999999999', '--quiet'])

print('bad inputs tried, by class:', ', '.join(f'{k} {v}' for k, v in counts.items()),
      f'(total {sum(counts.values())})')
shutil.rmtree(TMP, ignore_errors=True)
if failures:
    print(f'{len(failures)} failed:\n' + '\n'.join(failures))
    sys.exit(1)
print('all answered with one error line, exit 2, nothing on stdout, folders untouched')
