"""`attnpaths train-sweep` end to end (docs/cli.md): a small head-count sweep with the
Hessian track; groups.csv recomputed from runs.csv with NumPy (means, standard errors,
paired differences), curves.csv's last loss row against runs.csv, parameter counts from
the widths, the mixture files, provenance in every file, --json equal to summary.json,
the Python module's head_count_study equal to the command (same seeds); the NTK margin
at initialisation per run (runs.csv), per group (groups.csv, summary.json) and in the
printed table.

usage: train_sweep_cli.py ATTNPATHS_BIN"""
import csv
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

BIN = sys.argv[1]


def check(cond, msg):
    if not cond:
        sys.exit('FAIL: ' + msg)


def rows(path):
    with open(path) as fh:
        first = fh.readline()
        check(first.startswith('# provenance: {'), path + ' lacks provenance')
        return list(csv.DictReader(fh))


with tempfile.TemporaryDirectory() as tmp:
    cfg = os.path.join(tmp, 's.toml')
    with open(cfg, 'w') as fh:
        fh.write('''[mixture]
examples = 24
test_examples = 40
tokens = 4
features = 7
irrelevant_means = 3
seed = 5
[network]
heads = [1, 2]
modes = ["equal_total", "growing"]
total_key_dim = 4
total_width = 2
key_dim = 2
width = 3
input_width = 5
[training]
steps = 6
learning_rate = 1.0
repeats = 3
seed = 11
[hessian]
every = 3
examples = 8
[margin]
tolerance = 1e-10
max_sweeps = 5000
[output]
directory = "sweep"
''')
    p = subprocess.run([BIN, 'train-sweep', '--config', cfg, '--json', '--quiet'],
                       capture_output=True, text=True)
    check(p.returncode == 0, f'train-sweep exited {p.returncode}: {p.stderr}')
    printed = json.loads(p.stdout)
    out = os.path.join(tmp, 'sweep')
    with open(os.path.join(out, 'summary.json')) as fh:
        summary = json.load(fh)
    check(summary == printed, '--json differs from summary.json')
    check(summary['provenance']['settings']['mixture']['seed'] == 5, 'provenance mixture seed')
    check(summary['provenance']['settings']['seed'] == 11, 'provenance seed')
    check(summary['provenance']['settings']['margin']['tolerance'] == 1e-10 and
          summary['provenance']['settings']['margin']['max_sweeps'] == 5000, 'provenance margin')
    for f in summary['files']:
        check(os.path.exists(os.path.join(out, f)), f + ' missing')

    runs = rows(os.path.join(out, 'runs.csv'))
    curves = rows(os.path.join(out, 'curves.csv'))
    hess = rows(os.path.join(out, 'hessian.csv'))
    groups = rows(os.path.join(out, 'groups.csv'))
    check(len(runs) == 2 * 2 * 3, f'{len(runs)} runs')
    check(len(curves) == len(runs) * 6, f'{len(curves)} curve rows')
    check(len(hess) == len(runs) * 2, f'{len(hess)} hessian rows')
    N0, n1 = 7, 5
    for r in runs:
        H, d, n2 = int(r['heads']), int(r['key_dim']), int(r['width'])
        if r['mode'] == 'equal_total':
            check((d, n2) == (4 // H, 2 // H), f'equal_total widths {d}, {n2} at H = {H}')
        else:
            check((d, n2) == (2, 3), f'growing widths {d}, {n2}')
        check(int(r['num_parameters']) == n1 * N0 + H * (n2 * n1 + 2 * d * N0) + n2,
              f'parameters {r["num_parameters"]} at H = {H}, d = {d}, n2 = {n2}')
        check(r['termination'] == 'completed', 'termination')
        check(r['ntk_status'] == 'converged', f'ntk_status {r["ntk_status"]}')
        check(int(r['ntk_features']) == int(r['num_parameters']), 'ntk features = parameters')
        check(float(r['ntk_margin']) > 0 and 0 < float(r['ntk_normalized_margin']) <= 1,
              'ntk margins')
        check(float(r['ntk_kkt_violation']) <= 1e-10, 'ntk KKT violation (margin.tolerance)')
        check(1 <= int(r['ntk_support_vectors']) <= 24, 'support vectors')
    for h in hess:
        check(float(h['lambda_min']) <= float(h['lambda_max']), 'lambda_min > lambda_max')
        check(h['step'] in ('3', '6'), 'hessian steps')

    for g in groups:
        mine = [r for r in runs if r['mode'] == g['mode'] and r['heads'] == g['heads']]
        first = [r for r in runs if r['mode'] == g['mode'] and r['heads'] == '1']
        loss = np.array([float(r['final_train_loss']) for r in mine])
        base = np.array([float(r['final_train_loss']) for r in first])
        acc = np.array([float(r['final_test_accuracy']) for r in mine])
        margin = np.array([float(r['ntk_margin']) for r in mine])
        normalized = np.array([float(r['ntk_normalized_margin']) for r in mine])
        diff = loss - base
        check(g['ntk_separable'] == '3' and g['ntk_decided'] == '3', 'ntk repeat counts')
        js = [j for j in summary['groups'] if j['mode'] == g['mode'] and str(j['heads']) == g['heads']]
        check(len(js) == 1 and abs(js[0]['ntk_margin']['mean'] - float(g['ntk_margin'])) <= 1e-15 *
              float(g['ntk_margin']) and js[0]['ntk_margin']['separable_repeats'] == 3,
              'summary.json ntk_margin')
        for col, v in (('ntk_margin', margin.mean()),
                       ('ntk_margin_se', margin.std(ddof=1) / np.sqrt(3)),
                       ('ntk_normalized_margin', normalized.mean()),
                       ('ntk_normalized_margin_se', normalized.std(ddof=1) / np.sqrt(3)),('final_train_loss', loss.mean()),
                       ('final_train_loss_se', loss.std(ddof=1) / np.sqrt(3)),
                       ('paired_difference', diff.mean()),
                       ('final_test_accuracy', acc.mean()),
                       ('final_test_accuracy_se', acc.std(ddof=1) / np.sqrt(3))):
            check(abs(float(g[col]) - v) < 1e-12, f'{g["mode"]} H={g["heads"]} {col}: {g[col]} vs {v}')
        if g['heads'] != '1':
            check(abs(float(g['paired_difference_se']) - diff.std(ddof=1) / np.sqrt(3)) < 1e-12,
                  'paired se')

    x, y = np.load(os.path.join(out, 'mixture_x.npy')), np.load(os.path.join(out, 'mixture_y.npy'))
    check(x.shape == (24, 4, 7) and y.shape == (24,), f'mixture shapes {x.shape} {y.shape}')
    check(set(np.unique(y)) <= {-1.0, 1.0}, 'labels')
    check(np.allclose(x[:, 0, :], np.eye(7)[5] * 3.0), 'query token S e_{M+2}')

    # The Python module, same settings: same numbers.
    try:
        import attnpaths as ap
    except ImportError:
        ap = None
    if ap is not None:
        mix = ap.tokenized_mixture(examples=24, tokens=4, features=7, irrelevant_means=3, seed=5)
        check(np.array_equal(mix['x'], x) and np.array_equal(mix['y'], y), 'python mixture')
        st = ap.head_count_study(heads=[1, 2], modes=['equal_total', 'growing'], examples=24,
                                 test_examples=40, tokens=4, features=7, irrelevant_means=3,
                                 total_key_dim=4, total_width=2, key_dim=2, width=3,
                                 input_width=5, steps=6, learning_rate=1.0, repeats=3, seed=5)
        # Python's seed is the data and the initial seed: the command with --seed 5 (both 5).
    p2 = subprocess.run([BIN, 'train-sweep', '--config', cfg, '--seed', '5', '--json', '--quiet',
                         '-o', os.path.join(tmp, 'sweep5')], capture_output=True, text=True)
    check(p2.returncode == 0, f'train-sweep --seed 5 exited {p2.returncode}: {p2.stderr}')
    if ap is not None:
        runs5 = rows(os.path.join(tmp, 'sweep5', 'runs.csv'))
        for r in runs5:
            py = [q for q in st['runs'] if q['mode'] == r['mode'] and q['heads'] == int(r['heads'])
                  and q['repeat'] == int(r['repeat'])]
            # Same features and data; the Python call holds the dual to the default 1e-9.
            check(len(py) == 1 and abs(py[0]['ntk_margin'] - float(r['ntk_margin'])) <=
                  1e-8 * float(r['ntk_margin']),
                  f'python ntk_margin {py[0]["ntk_margin"] if py else None} vs {r["ntk_margin"]}')
    p3 = subprocess.run([BIN, 'train-sweep', '--config', cfg, '--quiet', '-o',
                         os.path.join(tmp, 'table')], capture_output=True, text=True)
    check(p3.returncode == 0 and p3.stdout.count('NTK margin at init') == 4,
          'the printed table has an NTK margin line per group: ' + p3.stdout)
    p4 = subprocess.run([BIN, 'train-sweep', '--config', cfg, '--quiet', '--no-margin', '-o',
                         os.path.join(tmp, 'nomargin')], capture_output=True, text=True)
    check(p4.returncode == 0, 'train-sweep --no-margin')
    for r in rows(os.path.join(tmp, 'nomargin', 'runs.csv')):
        check(r['ntk_status'] == 'not_run' and r['ntk_margin'] == '', 'no margin without it')
    print(f'ok: {len(runs)} runs, groups recomputed from runs.csv')
