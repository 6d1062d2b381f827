"""`attnpaths hessian` end to end (docs/cli.md):

* single layer on NPY inputs and fixed weights: hessian.npy equals central second
  differences of an independent NumPy loss at sigma = spectrum_sigma; norms.npy are the
  Frobenius norms of its blocks; spectrum.csv's extremes are numpy's eigenvalues;
  slopes.json's slopes are least-squares fits of ln norms.npy on ln sigmas.npy;
* trained network (a tiny `attnpaths train` run): hessian.npy is symmetric, its
  Gauss-Newton part positive semi-definite, Lanczos extremes match eigvalsh;
* every file carries the provenance record, --json prints summary.json.

usage: hessian_cli.py ATTNPATHS_BIN"""
import csv
import io
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

BIN = sys.argv[1]


def run(*args):
    p = subprocess.run([BIN, *args], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f'FAIL: {" ".join(args)} exited {p.returncode}\n{p.stderr}')
    return p.stdout


def check(cond, msg):
    if not cond:
        sys.exit('FAIL: ' + msg)


def loss(theta, X, Y, D, k):
    WQ, WK, WV = (theta[:D * k].reshape(D, k), theta[D * k:2 * D * k].reshape(D, k),
                  theta[2 * D * k:].reshape(D, D))
    total = 0.0
    for x, y in zip(X, Y):
        lam = x @ WQ @ WK.T @ x.T / np.sqrt(k)
        e = np.exp(lam - lam.max(axis=1, keepdims=True))
        total += np.sum((e / e.sum(axis=1, keepdims=True) @ x @ WV - y) ** 2)
    return total / Y.size


def fd_hessian(f, theta, h=1e-4):
    n = theta.size
    H = np.zeros((n, n))
    E = np.eye(n) * h
    for i in range(n):
        for j in range(i, n):
            H[i, j] = H[j, i] = (f(theta + E[i] + E[j]) - f(theta + E[i] - E[j]) -
                                 f(theta - E[i] + E[j]) + f(theta - E[i] - E[j])) / (4 * h * h)
    return H


def provenance_everywhere(out, files):
    with open(os.path.join(out, 'summary.json')) as fh:
        summary = json.load(fh)
    check('provenance' in summary and summary['provenance'].get('settings', {}).get('seed')
          is not None, 'summary.json lacks provenance with the seed')
    with open(os.path.join(out, 'slopes.json')) as fh:
        check('provenance' in json.load(fh), 'slopes.json lacks provenance')
    for name in ('blocks.csv', 'spectrum.csv', 'density.csv'):
        if name in files:
            with open(os.path.join(out, name)) as fh:
                check(fh.readline().startswith('# provenance: {'), name + ' lacks provenance')
    check(sorted(files) == sorted(summary['files']), 'summary files list')
    check(all(os.path.exists(os.path.join(out, f)) for f in files), 'a listed file is missing')
    return summary


def spectrum_rows(out):
    with open(os.path.join(out, 'spectrum.csv')) as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith('#')))


def single_layer(tmp):
    rng = np.random.default_rng(5)
    B, m, D, k = 2, 4, 3, 2
    X, Y = rng.normal(size=(B, m, D)), rng.normal(size=(B, m, D))
    WQ, WK, WV = rng.normal(size=(D, k)), rng.normal(size=(D, k)), rng.normal(size=(D, D))
    for name, a in (('X', X), ('Y', Y), ('WQ', WQ), ('WK', WK), ('WV', WV)):
        np.save(os.path.join(tmp, name + '.npy'), a)
    sig = 0.7
    cfg = os.path.join(tmp, 'h.toml')
    with open(cfg, 'w') as fh:
        fh.write(f'''[hessian]
data = "npy"
x = "X.npy"
y = "Y.npy"
wq = "WQ.npy"
wk = "WK.npy"
wv = "WV.npy"
sigma = [0.05, 0.1, 0.2, {sig}, 1.5]
fit_points = 3
repeats = 2
spectrum = 3
spectrum_sigma = {sig}
density_probes = 2
density_steps = 20
seed = 9
[output]
directory = "single"
''')
    printed = json.loads(run('hessian', '--config', cfg, '--json', '--quiet'))
    out = os.path.join(tmp, 'single')
    summary = provenance_everywhere(out, printed['files'])
    check(summary == printed, '--json differs from summary.json')

    theta = np.concatenate([WQ.ravel(), WK.ravel(), WV.ravel()])
    H_fd = fd_hessian(lambda t: loss(t, sig * X, Y, D, k), theta)
    H = np.load(os.path.join(out, 'hessian.npy'))
    err = np.abs(H - H_fd).max() / np.abs(H_fd).max()
    check(err < 2e-6, f'hessian.npy vs finite differences: relative error {err:.2e}')
    Ho, Hf = (np.load(os.path.join(out, f'hessian_{p}.npy')) for p in ('outer', 'functional'))
    check(np.abs(Ho + Hf - H).max() < 1e-12 * np.abs(H).max(), 'outer + functional != full')

    norms, sigmas = np.load(os.path.join(out, 'norms.npy')), np.load(os.path.join(out, 'sigmas.npy'))
    axes = summary['norms_axes']
    check(list(norms.shape) == axes['shape'] == [5, 2, 6, 3], f'norms shape {norms.shape}')
    off = {'Q': (0, D * k), 'K': (D * k, D * k), 'V': (2 * D * k, D * D)}
    for b, name in enumerate(axes['blocks']):
        (r0, rn), (c0, cn) = off[name[0]], off[name[1]]
        for p, M in enumerate((Ho, Hf, H)):
            want = np.linalg.norm(M[r0:r0 + rn, c0:c0 + cn])
            for r in range(2):  # fixed weights and data: both repeats equal
                got = norms[3, r, b, p]
                check(abs(got - want) <= 1e-10 * max(want, 1e-300), f'{name} part {p}: {got} vs {want}')

    with open(os.path.join(out, 'slopes.json')) as fh:
        slopes = json.load(fh)
    for i, fit in enumerate(slopes['blocks']):
        b, p = divmod(i, 3)
        if fit['zero']:
            check(np.all(norms[:, :, b, p] == 0), f'{fit["block"]} zero but nonzero norms')
            continue
        want = np.polyfit(np.log(sigmas[:3]), np.log(norms[:3, 0, b, p]), 1)[0]
        check(abs(fit['mean'] - want) < 1e-9, f'slope {fit["block"]}: {fit["mean"]} vs {want}')

    ev = np.linalg.eigvalsh(H)
    rows = [r for r in spectrum_rows(out) if r['matrix'] == 'H' and r['part'] == 'full']
    top = [float(r['value']) for r in rows if r['which'] == 'largest']
    bottom = [float(r['value']) for r in rows if r['which'] == 'smallest']
    scale = np.abs(ev).max()
    check(np.allclose(top, ev[::-1][:3], atol=1e-8 * scale), f'largest {top} vs {ev[::-1][:3]}')
    check(np.allclose(bottom, ev[:3], atol=1e-8 * scale), f'smallest {bottom} vs {ev[:3]}')
    qk = [float(r['value']) for r in spectrum_rows(out)
          if r['matrix'] == 'QK' and r['part'] == 'full' and r['which'] == 'singular']
    sv = np.linalg.svd(H[0:D * k, D * k:2 * D * k], compute_uv=False)
    check(np.allclose(qk, sv[:3], atol=1e-7 * sv[0]), f'QK singular values {qk} vs {sv[:3]}')
    print(f'single layer: hessian.npy vs finite differences {err:.1e}, norms, slopes, spectra ok')


def trained_network(tmp):
    rng = np.random.default_rng(8)
    P, n_tok, N0 = 12, 3, 4
    x = rng.normal(size=(P, n_tok, N0))
    y = np.sign(x[:, 0, 0] + 0.1)
    np.save(os.path.join(tmp, 'tx.npy'), x)
    np.save(os.path.join(tmp, 'ty.npy'), y)
    net = os.path.join(tmp, 'net')
    run('train', '--train-x', os.path.join(tmp, 'tx.npy'), '--train-y', os.path.join(tmp, 'ty.npy'),
        '--heads', '2', '--width', '3', '--key-dim', '2', '--epochs', '3', '--batch-size', '6',
        '--threads', '1', '--quiet', '-o', net)
    out = os.path.join(tmp, 'nh')
    printed = json.loads(run('hessian', '--model', 'trained_network', '--network', net, '--x',
                             os.path.join(tmp, 'tx.npy'), '--y', os.path.join(tmp, 'ty.npy'),
                             '--batch', '8', '--repeats', '2', '--sigma-points', '4',
                             '--sigma-from', '0.1', '--sigma-to', '1', '--fit-points', '3',
                             '--spectrum', '2', '--threads', '1', '--json', '--quiet',
                             '-o', out))
    summary = provenance_everywhere(out, printed['files'])
    check(summary['provenance']['settings']['network']['path'] is not None, 'network record')
    H = np.load(os.path.join(out, 'hessian.npy'))
    Ho = np.load(os.path.join(out, 'hessian_outer.npy'))
    n = summary['num_parameters']
    check(H.shape == (n, n), f'hessian shape {H.shape}')
    check(np.abs(H - H.T).max() < 1e-9 * np.abs(H).max(), 'hessian not symmetric')
    check(np.linalg.eigvalsh(Ho).min() > -1e-10 * np.abs(Ho).max(), 'outer part not PSD')
    ev = np.linalg.eigvalsh(H)
    rows = [r for r in spectrum_rows(out) if r['matrix'] == 'H' and r['part'] == 'full']
    top = [float(r['value']) for r in rows if r['which'] == 'largest']
    check(np.allclose(top, ev[::-1][:2], rtol=1e-6, atol=1e-8 * np.abs(ev).max()),
          f'network largest {top} vs {ev[::-1][:2]}')
    groups = summary['parameter_groups']
    check(sum(g['size'] for g in groups) == n, 'parameter groups do not cover the parameters')
    print(f'trained network: {n} parameters, symmetric, PSD outer part, extremes ok')


def bad_input_writes_nothing(tmp):
    out = os.path.join(tmp, 'bad')
    p = subprocess.run([BIN, 'hessian', '--sigma-from', '2', '--sigma-to', '1', '-o', out],
                       capture_output=True, text=True)
    check(p.returncode == 2 and p.stderr.startswith('error: hessian.sigma.to: found 1'),
          f'bad sigma range: exit {p.returncode}, {p.stderr!r}')
    check(not os.path.exists(out), 'bad input created the output folder')


with tempfile.TemporaryDirectory() as tmp:
    bad_input_writes_nothing(tmp)
    single_layer(tmp)
    trained_network(tmp)
print('ok')
