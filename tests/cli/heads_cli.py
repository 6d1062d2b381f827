"""`attnpaths heads`, `prune` and `align` against an independent NumPy
computation (theory.md §2, §4, §6, §7) on random data with W-form heads:

* head scores recomputed from the U_1.npy that `solve` wrote;
* silencing: the predictor with the pruned paths' rows and columns of U_1
  zeroed, computed here from our own path inputs, equals every step of the
  silence curve (accuracy and generalisation error);
* alignment: eigen-decomposition of our own K_U and GP kernel;
* solving inside heads/prune/align gives what loading the solution gives;
* the re-solve curve is labelled, has the same lengths and converges;
* examples/plot.py turns the outputs into PNGs.

usage: heads_cli.py ATTNPATHS_BINARY SOURCE_DIR
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

binary, source = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(17)
P, Pt, n_tok, N0 = 40, 60, 5, 7
beta, T, width = 2.0, 0.05, 10
X = rng.normal(size=(P, n_tok, N0))
Xt = rng.normal(size=(Pt, n_tok, N0))
w = rng.normal(size=N0)
y = np.where(X.mean(axis=1) @ w >= 0, 1.0, -1.0)
yt = np.where(Xt.mean(axis=1) @ w >= 0, 1.0, -1.0)
W1 = rng.normal(size=(N0, N0)) / N0
W2 = rng.normal(size=(N0, N0)) / N0
W3 = rng.normal(size=(N0, N0)) / N0
names = [["a", "b", "c"], ["d", "e"]]   # layer 1: W1, W3, uniform; layer 2: W2, uniform
Htot = 6


def attention(x, W):                    # Omega[s, t] = softmax_s(beta x_s^T W x_t)
    sc = beta * x @ W @ x.T
    e = np.exp(sc - sc.max(axis=0))
    return e / e.sum(axis=0)


def path_inputs(Xs):                    # P x Htot x N0, paths (h1, h2) packed h1 outer
    out = []
    for x in Xs:
        l1 = [attention(x, W1), attention(x, W3), np.full((n_tok, n_tok), 1 / n_tok)]
        l2 = [attention(x, W2)[:, -1], np.full(n_tok, 1 / n_tok)]
        out.append(np.stack([np.sqrt(1.0 / (N0 * Htot)) * x.T @ (a @ v) for a in l1 for v in l2]))
    return np.array(out)


Z, Zt = path_inputs(X), path_inputs(Xt)


def kernels(U):
    K = np.einsum('mpi,pq,nqi->mn', Z, U, Z)
    Kt = np.einsum('mpi,pq,nqi->mn', Zt, U, Z)
    Ktt = np.einsum('mpi,pq,mqi->m', Zt, U, Zt)
    return K, Kt, Ktt


def predict(U):
    K, Kt, Ktt = kernels(U)
    G = K + T * np.eye(P)
    mean = Kt @ np.linalg.solve(G, y)
    var = Ktt - np.einsum('mn,nm->m', Kt, np.linalg.solve(G, Kt.T))
    acc = np.mean(np.where(mean > 0, 1.0, np.where(mean < 0, -1.0, 0.0)) == yt)
    return acc, np.mean((mean - yt) ** 2) + np.mean(var)


def path_heads(p):                       # (h1, h2) of packed path p
    return p // 2, p % 2


def scores(U):                           # theory.md §6, by explicit loops
    raw = [[0.0] * 3, [0.0] * 2]
    for layer, H in ((0, 3), (1, 2)):
        for h in range(H):
            raw[layer][h] = sum(abs(U[p, q]) for p in range(Htot) for q in range(Htot)
                                if path_heads(p)[layer] == h or path_heads(q)[layer] == h)
    m = max(max(r) for r in raw)
    return [[v / m for v in r] for r in raw]


def silenced(U, removed):                # removed: list of (layer 1-based, head 1-based)
    V = U.copy()
    for p in range(Htot):
        hp = path_heads(p)
        if any(hp[l - 1] == h - 1 for l, h in removed):
            V[p, :] = 0
            V[:, p] = 0
    return V


def run(*args, expect=0):
    r = subprocess.run([binary, *args, '--quiet'], capture_output=True, text=True)
    assert r.returncode == expect, (args, r.returncode, r.stdout, r.stderr)
    return r


d = tempfile.mkdtemp()
for name, a in dict(X=X, Xt=Xt, y=y, yt=yt, W1=W1, W2=W2, W3=W3).items():
    np.save(os.path.join(d, name + '.npy'), a)
config = os.path.join(d, 'run.toml')
with open(config, 'w') as f:
    f.write(f'''temperature = {T}
[data]
train_x = "X.npy"
train_y = "y.npy"
test_x = "Xt.npy"
test_y = "yt.npy"
[architecture]
readout = "last"
width = {width}
[[architecture.layers]]
heads = [ {{ kind = "w", W = "W1.npy", beta = {beta}, name = "a" }},
          {{ kind = "w", W = "W3.npy", beta = {beta}, name = "b" }},
          {{ kind = "uniform", name = "c" }} ]
[[architecture.layers]]
heads = [ {{ kind = "w", W = "W2.npy", beta = {beta}, name = "d" }}, {{ kind = "uniform", name = "e" }} ]
[output]
directory = "out"
''')
sol = os.path.join(d, 'sol')
summary = json.loads(run('solve', '--config', config, '--output', sol, '--json').stdout)
U1 = np.load(os.path.join(sol, 'U_1.npy'))
assert abs(predict(U1)[0] - summary['test_accuracy']) < 1e-12

# heads: scores from U_1 by loops, ranking, CSV = JSON.
hd = os.path.join(d, 'heads')
heads = json.loads(run('heads', '--config', config, '--solution', sol, '--output', hd, '--json').stdout)
want = scores(U1)
for layer in range(2):
    for h in range(len(want[layer])):
        assert abs(heads['scores'][layer][h] - want[layer][h]) < 1e-12, (layer, h)
ranked = sorted(((want[l][h], l + 1, h + 1) for l in range(2) for h in range(len(want[l]))),
                key=lambda t: -t[0])
assert [(e['layer'], e['head']) for e in heads['heads']] == [(l, h) for _, l, h in ranked]
assert heads['head_names'] == names and heads['N'] == width and heads['temperature'] == T
assert heads['path_labels'][0] == 'a>d' and heads['path_labels'][5] == 'c>e'
with open(os.path.join(hd, 'heads.csv')) as f:
    rows = list(csv.DictReader(l for l in f if not l.startswith('#')))
assert [r['name'] for r in rows] == [e['name'] for e in heads['heads']]
assert all(abs(float(r['score']) - e['score']) == 0 for r, e in zip(rows, heads['heads']))
assert abs(sum(p['weight_share'] for p in heads['path_pairs']) - 1) < 1e-12
print('heads: scores match the loop computation;', [(e['name'], round(e['score'], 4)) for e in heads['heads']])

# heads solving itself (and from the summary.json file) agrees with loading the NPY files.
solved = json.loads(run('heads', '--config', config, '--output', os.path.join(d, 'h2'), '--json').stdout)
assert solved['solution'] == 'solved'
assert max(abs(a - b) for la, lb in zip(solved['scores'], heads['scores']) for a, b in zip(la, lb)) < 1e-9
from_json = json.loads(run('heads', '--config', config, '--solution', os.path.join(sol, 'summary.json'),
                           '--output', os.path.join(d, 'h3'), '--json').stdout)
assert max(abs(a - b) for la, lb in zip(from_json['scores'], heads['scores']) for a, b in zip(la, lb)) < 1e-12

# prune, silencing: every step against our own predictor with zeroed rows/columns.
pd = os.path.join(d, 'prune')
pr = json.loads(run('prune', '--config', config, '--solution', sol, '--output', pd, '--mode', 'silence',
                    '--random-repeats', '4', '--json').stdout)
curves = pr['modes']['silence']['curves']
assert [c['order'] for c in curves] == ['increasing'] + ['random'] * 4 + ['decreasing']
checked = 0
for c in curves:
    assert len(c['steps']) == 1 + (3 - 1) + (2 - 1)   # never the last head of a layer
    removed = []
    for s in c['steps']:
        if s['removed'] > 0:
            removed.append((s['layer'], s['head']))
        acc, gen = predict(silenced(U1, removed))
        assert abs(s['test_accuracy'] - acc) < 1e-12, (c['order'], s, acc)
        assert abs(s['generalization_error'] - gen) < 1e-9 * max(1, gen), (s, gen)
        checked += 1
inc = [(s['layer'], s['head']) for s in curves[0]['steps'][1:]]
order = sorted(((want[l][h], l + 1, h + 1) for l in range(2) for h in range(len(want[l]))))
left = {1: 3, 2: 2}
expect_inc = []
for _, l, h in order:
    if left[l] > 1:
        left[l] -= 1
        expect_inc.append((l, h))
assert inc == expect_inc, (inc, expect_inc)
assert curves[0]['steps'][0]['test_accuracy'] == summary['test_accuracy']
with open(os.path.join(pd, 'pruning.csv')) as f:
    assert len(list(csv.DictReader(l for l in f if not l.startswith('#')))) == checked
print(f'prune: {checked} silenced steps match NumPy; increasing order {inc}')

# prune, re-solve: labelled, same lengths, converged, step 0 is the full network.
pr2 = json.loads(run('prune', '--config', config, '--solution', sol, '--output', os.path.join(d, 'p2'),
                     '--orders', 'increasing', 'decreasing', '--json').stdout)
assert set(pr2['modes']) == {'silence', 'resolve'}
assert 'different quantity' in pr2['modes']['resolve']['label']
assert 'no re-solve' in pr2['modes']['silence']['label']
for c in pr2['modes']['resolve']['curves']:
    assert len(c['steps']) == 4 and c['steps'][0]['test_accuracy'] == summary['test_accuracy']
    assert all(s['converged'] for s in c['steps'][1:]), c
    left = {1: 3, 2: 2}
    for s in c['steps']:
        if s['removed'] > 0:
            left[s['layer']] -= 1
        assert s['paths_remaining'] == left[1] * left[2], (s, left)
print('prune: re-solve curves labelled and converged')

# align: our own eigen-decomposition of K_U and of the GP kernel.
ad = os.path.join(d, 'align')
al = json.loads(run('align', '--config', config, '--solution', sol, '--output', ad, '--components', '12',
                    '--json').stdout)
for key, U in (('theory', U1), ('gp', np.eye(Htot))):
    K = kernels(U)[0]
    lam, V = np.linalg.eigh(K)
    lam, V = lam[::-1], V[:, ::-1]
    proj = V.T @ y
    ov = np.abs(proj) / np.sqrt(P)
    cum = np.cumsum(proj ** 2) / (y @ y)
    got = al[key]
    assert len(got['overlap']) == 12
    assert np.max(np.abs(np.array(got['eigenvalues']) - lam[:12])) < 1e-9 * lam[0], key
    # Overlaps of nearly degenerate eigenvalues are not defined individually; compare
    # where the gap to both neighbours is clear.
    for k in range(12):
        gap = min(abs(lam[k] - lam[k - 1]) if k else np.inf, abs(lam[k] - lam[k + 1]))
        if gap > 1e-6 * lam[0]:
            assert abs(got['overlap'][k] - ov[k]) < 1e-7, (key, k, got['overlap'][k], ov[k])
            assert abs(got['cumulative'][k] - cum[k]) < 1e-7, (key, k)
print('align: eigenvalues, overlaps and cumulative alignment match NumPy')

# align solving itself at another width (--width) differs from the loaded one only through U.
al2 = json.loads(run('align', '--config', config, '--width', '1e9', '--output', os.path.join(d, 'a2'),
                     '--components', '5', '--json').stdout)
assert al2['N'] == 1e9
assert np.allclose(al2['theory']['overlap'], al2['gp']['overlap'][:5], atol=1e-5)

# The plotting script makes every figure from these files.
figs = os.path.join(d, 'figs')
r = subprocess.run(['/usr/bin/python3', os.path.join(source, 'examples', 'plot.py'), '--output', figs,
                    '--heads', os.path.join(hd, 'heads.json'), '--prune', os.path.join(d, 'p2', 'pruning.json'),
                    '--align', os.path.join(ad, 'alignment.json')], capture_output=True, text=True)
assert r.returncode == 0, r.stderr
for name in ('head_scores', 'pruning', 'alignment'):
    with open(os.path.join(figs, name + '.png'), 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n', name
    with open(os.path.join(figs, name + '.pdf'), 'rb') as f:  # vector copy for papers
        assert f.read(5) == b'%PDF-', name
print('plot: PNGs and PDFs written')
print('ok')
