"""Several outputs (labels P x D, theory.md section 9) through the command line,
against an independent NumPy computation on random data with W-form heads:

* solve: the shapes of U_l ((m_l D) x (m_l D)) and U_a (D x D); U_a is the
  matrix root of section 9 at the written U_L; the written point is a
  stationary point of the section 9 action S written out here (central
  differences of our S in every independent entry of every U_l); the test
  mean, the D x D covariance per test point (variance = its diagonal), the
  argmax accuracy and the generalisation error averaged over points and outputs
  against G (PD x PD, (mu, d) order) built here;
* gp: U_l = sigma^2...sigma_a^2 I, U_a = sigma_a^2 I, independent outputs;
* predict: the same arrays from the saved solution;
* heads: scores summed over every output pair; align: eigen-decomposition of
  our PD x PD kernel; prune (silence): every step against our predictor;
* sweep: the U_a[d d'] and U1[path:d|path:d'] columns, and a resume.

usage: several_outputs.py ATTNPATHS_BINARY
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

binary = sys.argv[1]
rng = np.random.default_rng(29)
P, Pt, n_tok, N0, D = 36, 40, 5, 6, 3
beta, T, width = 2.0, 0.05, 12
sig = [1.2, 0.8, 1.1, 0.9]          # sigma_0^2, sigma_1^2, sigma_2^2, sigma_a^2 (L = 2)
X = rng.normal(size=(P, n_tok, N0))
Xt = rng.normal(size=(Pt, n_tok, N0))
Wc = rng.normal(size=(N0, D))       # one-hot classes from the mean token
Y = np.eye(D)[np.argmax(X.mean(axis=1) @ Wc, axis=1)]
Yt = np.eye(D)[np.argmax(Xt.mean(axis=1) @ Wc, axis=1)]
W1 = rng.normal(size=(N0, N0)) / N0
W2 = rng.normal(size=(N0, N0)) / N0
H = [2, 2]
Htot = 4


def attention(x, W):                    # Omega[s, t] = softmax_s(beta x_s^T W x_t)
    sc = beta * x @ W @ x.T
    e = np.exp(sc - sc.max(axis=0))
    return e / e.sum(axis=0)


def path_inputs(Xs):                    # P x Htot x N0, paths (h1, h2) packed h1 outer
    out = []
    for x in Xs:
        l1 = [attention(x, W1), np.full((n_tok, n_tok), 1 / n_tok)]
        l2 = [attention(x, W2)[:, -1], np.full(n_tok, 1 / n_tok)]
        out.append(np.stack([np.sqrt(sig[0] / (N0 * Htot)) * x.T @ (a @ v) for a in l1 for v in l2]))
    return np.array(out)


Z, Zt = path_inputs(X), path_inputs(Xt)


def output_kernel(A, B, U1):            # K[(mu,d),(nu,e)] = sum U1[(p,d),(q,e)] A_p(mu).B_q(nu)
    U4 = U1.reshape(Htot, D, Htot, D)
    K = np.einsum('mpi,pdqe,nqi->mdne', A, U4, B)
    return K.reshape(A.shape[0] * D, B.shape[0] * D)


def predict(U1):                        # mean (Pt x D), covariance (Pt x D x D), accuracy, gen
    G = output_kernel(Z, Z, U1) + T * np.eye(P * D)
    k = output_kernel(Zt, Z, U1)
    mean = (k @ np.linalg.solve(G, Y.reshape(-1))).reshape(Pt, D)
    Gk = np.linalg.solve(G, k.T)
    cov = np.empty((Pt, D, D))
    for m in range(Pt):
        Ktt = output_kernel(Zt[m:m + 1], Zt[m:m + 1], U1)
        cov[m] = Ktt - k[m * D:(m + 1) * D] @ Gk[:, m * D:(m + 1) * D]
    acc = np.mean(np.argmax(mean, axis=1) == np.argmax(Yt, axis=1))
    gen = np.mean((mean - Yt) ** 2) + np.mean(np.einsum('mdd->md', cov))
    return mean, cov, acc, gen


def partial_trace(U, Hout):
    m = U.shape[0] // Hout
    return sum(U[h * m:(h + 1) * m, h * m:(h + 1) * m] for h in range(Hout))


def readout_root(UL):                   # theory.md 9: U_a^2 + b U_a = g C, C = tr_L U_L
    b = sig[3] * (H[1] * width / width - 1)
    g = sig[3] * width / (width * sig[2])
    c, V = np.linalg.eigh(partial_trace(UL, H[1]))
    r = (-b + np.sqrt(b * b + 4 * g * c)) / 2
    return V @ np.diag(r) @ V.T


def action(U):                          # S of theory.md 3 / 9 with U_a eliminated
    Ua = readout_root(U[1])
    n = width
    S = 0.0
    for l, nxt in ((0, U[1]), (1, Ua)):
        tr = partial_trace(U[l], H[l])
        S += n * (np.trace(np.linalg.solve(nxt, tr)) / sig[l + 1] - np.linalg.slogdet(U[l])[1]
                  + H[l] * np.linalg.slogdet(nxt)[1])
    S += n * (np.trace(Ua) / sig[3] - np.linalg.slogdet(Ua)[1])
    G = output_kernel(Z, Z, U[0]) + T * np.eye(P * D)
    y = Y.reshape(-1)
    return S + np.linalg.slogdet(G)[1] + y @ np.linalg.solve(G, y)


def run(*args, expect=0):
    r = subprocess.run([binary, *args, '--quiet'], capture_output=True, text=True)
    assert r.returncode == expect, (args, r.returncode, r.stdout, r.stderr)
    return r


d = tempfile.mkdtemp()
for name, a in dict(X=X, Xt=Xt, Y=Y, Yt=Yt, W1=W1, W2=W2).items():
    np.save(os.path.join(d, name + '.npy'), a)
config = os.path.join(d, 'run.toml')
with open(config, 'w') as f:
    f.write(f'''temperature = {T}
[data]
train_x = "X.npy"
train_y = "Y.npy"
test_x = "Xt.npy"
test_y = "Yt.npy"
[architecture]
readout = "last"
width = {width}
variances = {sig}
[[architecture.layers]]
heads = [ {{ kind = "w", W = "W1.npy", beta = {beta}, name = "a" }}, {{ kind = "uniform", name = "b" }} ]
[[architecture.layers]]
heads = [ {{ kind = "w", W = "W2.npy", beta = {beta}, name = "c" }}, {{ kind = "uniform", name = "e" }} ]
[output]
directory = "out"
''')

# ---- solve
sol = os.path.join(d, 'sol')
summary = json.loads(run('solve', '--config', config, '--output', sol, '--json').stdout)
assert summary['converged'] and summary['outputs'] == D, summary
U = [np.load(os.path.join(sol, f'U_{l}.npy')) for l in (1, 2)]
Ua = np.load(os.path.join(sol, 'U_a.npy'))
assert U[0].shape == (Htot * D, Htot * D) and U[1].shape == (H[1] * D, H[1] * D) and Ua.shape == (D, D)
assert np.allclose(Ua, summary['U_a'], rtol=0, atol=0)
err_ua = np.max(np.abs(Ua - readout_root(U[1]))) / np.max(np.abs(Ua))
assert err_ua < 1e-12, err_ua
# The output-off-diagonal blocks are not zero: the outputs are coupled.
off = max(abs(U[0][i, j]) for i in range(Htot * D) for j in range(Htot * D) if i % D != j % D)
assert off > 1e-3 * np.max(np.abs(U[0])), off

# Stationarity of our own S at the written U (independent entries, central differences).
worst = 0.0
for l in range(2):
    m = U[l].shape[0]
    for i in range(m):
        for j in range(i, m):
            h = 1e-5 * max(abs(U[l][i, j]), np.mean(np.abs(np.diag(U[l]))))
            Up = [u.copy() for u in U]
            Um = [u.copy() for u in U]
            for V, s in ((Up, h), (Um, -h)):
                V[l][i, j] += s
                if i != j:
                    V[l][j, i] += s
            worst = max(worst, abs(action(Up) - action(Um)) / (2 * h) / width)
assert worst < 1e-5, worst
print(f'solve: U_a is the matrix root ({err_ua:.1e}); max |dS/du|/n from NumPy central differences {worst:.1e}')

mean, cov, acc, gen = predict(U[0])
got_mean = np.load(os.path.join(sol, 'test_mean.npy'))
got_var = np.load(os.path.join(sol, 'test_variance.npy'))
got_cov = np.load(os.path.join(sol, 'test_covariance.npy'))
assert got_mean.shape == (Pt, D) and got_var.shape == (Pt, D) and got_cov.shape == (Pt, D, D)
e_mean = np.max(np.abs(got_mean - mean)) / np.max(np.abs(mean))
e_cov = np.max(np.abs(got_cov - cov)) / np.max(np.abs(cov))
assert e_mean < 1e-8 and e_cov < 1e-8, (e_mean, e_cov)
assert np.array_equal(got_var, np.einsum('mdd->md', got_cov))
assert abs(summary['test_accuracy'] - acc) < 1e-12 and abs(summary['generalization_error'] - gen) < 1e-9
assert np.max(np.abs(cov[:, 0, 1])) > 1e-3 * np.max(np.abs(cov)), 'covariances across outputs vanish'
print(f'solve: mean {e_mean:.1e}, covariance {e_cov:.1e} vs NumPy; accuracy {acc} (argmax), '
      f'generalisation error {gen:.5f}')

# ---- gp: U_GP and independent outputs
gp = os.path.join(d, 'gp')
run('gp', '--config', config, '--output', gp)
c = sig[1] * sig[2] * sig[3]
assert np.allclose(np.load(os.path.join(gp, 'U_1.npy')), c * np.eye(Htot * D), rtol=1e-15, atol=0)
assert np.allclose(np.load(os.path.join(gp, 'U_a.npy')), sig[3] * np.eye(D), rtol=1e-15, atol=0)
gcov = np.load(os.path.join(gp, 'test_covariance.npy'))
gmean, gcov_np, _, _ = predict(c * np.eye(Htot * D))
assert np.max(np.abs(gcov - gcov_np)) < 1e-9 * np.max(np.abs(gcov_np))
assert np.max(np.abs(gcov[:, 0, 1])) < 1e-12 * np.max(np.abs(gcov))
print('gp: U_GP, sigma_a^2 I and uncorrelated outputs')

# ---- predict from the saved solution
pd = os.path.join(d, 'pred')
pj = json.loads(run('predict', '--config', config, '--solution', sol, '--output', pd, '--json').stdout)
assert pj['outputs'] == D and abs(pj['test_accuracy'] - acc) < 1e-12
for a, b in (('predict_mean', 'test_mean'), ('predict_variance', 'test_variance'),
             ('predict_covariance', 'test_covariance')):
    x, y = np.load(os.path.join(pd, a + '.npy')), np.load(os.path.join(sol, b + '.npy'))
    assert x.shape == y.shape and np.max(np.abs(x - y)) <= 1e-12 * np.max(np.abs(y)), a

# ---- heads: every output pair of an entry through the head counts
hd = os.path.join(d, 'heads')
heads = json.loads(run('heads', '--config', config, '--solution', sol, '--output', hd, '--json').stdout)
raw = [[0.0, 0.0], [0.0, 0.0]]
for layer in range(2):
    for h in range(2):
        for i in range(Htot * D):
            for j in range(Htot * D):
                hi = ((i // D) // 2, (i // D) % 2)
                hj = ((j // D) // 2, (j // D) % 2)
                if hi[layer] == h or hj[layer] == h:
                    raw[layer][h] += abs(U[0][i, j])
top = max(max(r) for r in raw)
for layer in range(2):
    for h in range(2):
        assert abs(heads['scores'][layer][h] - raw[layer][h] / top) < 1e-12
assert heads['outputs'] == D and len(heads['path_pairs']) == Htot * D * (Htot * D + 1) // 2
assert abs(sum(p['weight_share'] for p in heads['path_pairs']) - 1) < 1e-12
print('heads:', [(e['name'], round(e['score'], 4)) for e in heads['heads']])

# ---- align: the PD x PD kernel and vec(Y)
ad = os.path.join(d, 'align')
al = json.loads(run('align', '--config', config, '--solution', sol, '--output', ad, '--components', '9',
                    '--json').stdout)
y = Y.reshape(-1)
for key, U1 in (('theory', U[0]), ('gp', c * np.eye(Htot * D))):
    lam, V = np.linalg.eigh(output_kernel(Z, Z, U1))
    lam, V = lam[::-1], V[:, ::-1]
    proj = V.T @ y
    got = al[key]
    assert np.max(np.abs(np.array(got['eigenvalues']) - lam[:9])) < 1e-10 * lam[0], key
    if key == 'theory':      # distinct eigenvalues: overlaps one by one
        assert np.max(np.abs(np.array(got['overlap']) - np.abs(proj[:9]) / np.sqrt(P))) < 1e-8
    else:                    # every eigenvalue D times: the group's projection on its first vector
        for g in range(3):
            s = np.linalg.norm(proj[g * D:(g + 1) * D]) / np.sqrt(P)
            assert abs(got['overlap'][g * D] - s) < 1e-8 and max(got['overlap'][g * D + 1:(g + 1) * D]) < 1e-8
    cum = np.cumsum(proj ** 2) / (y @ y)
    assert abs(got['cumulative'][8] - cum[8]) < 1e-8, key
print('align: theory overlaps', np.round(al['theory']['overlap'][:4], 4), 'GP', np.round(al['gp']['overlap'][:4], 4))

# ---- prune (silence): every step against our predictor with the paths' rows/columns zeroed
pr = json.loads(run('prune', '--config', config, '--solution', sol, '--output', os.path.join(d, 'prune'),
                    '--mode', 'silence', '--random-repeats', '2', '--json').stdout)
checked = 0
for curve in pr['modes']['silence']['curves']:
    removed = []
    for s in curve['steps']:
        if s['removed'] > 0:
            removed.append((s['layer'], s['head']))
        V = U[0].copy()
        for i in range(Htot * D):
            path = i // D
            if any((path // 2, path % 2)[l - 1] == hh - 1 for l, hh in removed):
                V[i, :] = 0
                V[:, i] = 0
        _, _, a, g = predict(V)
        assert abs(s['test_accuracy'] - a) < 1e-12 and abs(s['generalization_error'] - g) < 1e-9, s
        checked += 1
print(f'prune: {checked} silenced steps match NumPy')

# ---- sweep: columns with output indices, resumable
sw = os.path.join(d, 'sweep')
run('sweep', '--config', config, '--widths', '12', '40', '--output', sw)
with open(os.path.join(sw, 'sweep.csv')) as f:
    rows = list(csv.DictReader(line for line in f if not line.startswith('#')))
assert 'U_a[0 1]' in rows[0] and 'U1[a>c:0|a>c:1]' in rows[0], list(rows[0])[:14]
row12 = [r for r in rows if r['N'] == '12'][0]
assert abs(float(row12['U1[a>c:0|a>c:1]']) - U[0][0, 1]) < 1e-7 * np.max(np.abs(U[0]))
assert abs(float(row12['U_a[0 1]']) - Ua[0, 1]) < 1e-7 * np.max(np.abs(Ua))
again = run('sweep', '--config', config, '--widths', '12', '40', '--output', sw).stdout
assert '0 points solved, 2 loaded' in again, again
print('sweep: output-indexed columns; resumed without solving')
print('ok')
