"""Independent check of `attnpaths solve`: a NumPy implementation of attention,
path inputs and the GP-limit predictor (theory.md §1, §2, §4) on random data,
compared with the solver's test predictions at width 1e9 (where U -> U_GP)."""
import json, os, subprocess, sys, tempfile
import numpy as np

binary = sys.argv[1]
rng = np.random.default_rng(3)
P, Pt, n_tok, N0 = 30, 12, 5, 7
X = rng.normal(size=(P, n_tok, N0)); Xt = rng.normal(size=(Pt, n_tok, N0))
y = np.sign(rng.normal(size=P)); yt = np.sign(rng.normal(size=Pt))
W1 = rng.normal(size=(N0, N0)) / N0; W2 = rng.normal(size=(N0, N0)) / N0
beta, T, s0, s = 2.0, 0.05, 1.3, [1.3, 0.7, 1.1, 0.9]   # variances sigma_0^2..sigma_a^2 (L=2)

def attention(x, W):                      # x: n_tok x N0; Omega[s, t], softmax over keys s
    sc = beta * x @ W @ x.T               # sc[s, t] = beta x_s^T W x_t
    e = np.exp(sc - sc.max(axis=0)); return e / e.sum(axis=0)

def path_inputs(Xs):                      # heads: layer 1 {W1, uniform}, layer 2 {W2, uniform}
    out = []
    for x in Xs:
        l1 = [attention(x, W1), np.full((n_tok, n_tok), 1 / n_tok)]
        l2 = [attention(x, W2)[:, -1], np.full(n_tok, 1 / n_tok)]   # last-token readout
        xis = [np.sqrt(s[0] / (N0 * 4)) * x.T @ (a @ w) for a in l1 for w in l2]
        out.append(np.stack(xis))
    return np.array(out)                  # P x Htot x N0

Z, Zt = path_inputs(X), path_inputs(Xt)
c = s[1] * s[2] * s[3]
K = c * np.einsum('mpi,npi->mn', Z, Z); Kt = c * np.einsum('mpi,npi->mn', Zt, Z)
Ktt = c * np.einsum('mpi,mpi->m', Zt, Zt)
G = K + T * np.eye(P)
mean = Kt @ np.linalg.solve(G, y)
var = Ktt - np.einsum('mn,nm->m', Kt, np.linalg.solve(G, Kt.T))

d = tempfile.mkdtemp()
for name, a in dict(X=X, Xt=Xt, y=y, yt=yt, W1=W1, W2=W2).items():
    np.save(os.path.join(d, name + '.npy'), a)
with open(os.path.join(d, 'run.toml'), 'w') as f:
    f.write(f'''temperature = {T}
[data]
train_x = "X.npy"
train_y = "y.npy"
test_x = "Xt.npy"
test_y = "yt.npy"
[architecture]
readout = "last"
width = 1e9
variances = {s}
[[architecture.layers]]
heads = [ {{ kind = "w", W = "W1.npy", beta = {beta} }}, {{ kind = "uniform" }} ]
[[architecture.layers]]
heads = [ {{ kind = "w", W = "W2.npy", beta = {beta} }}, {{ kind = "uniform" }} ]
''')
r = subprocess.run([binary, 'solve', '--config', os.path.join(d, 'run.toml'),
                    '--output', os.path.join(d, 'out'), '--json', '--quiet'],
                   capture_output=True, text=True)
assert r.returncode == 0, (r.returncode, r.stderr)
summary = json.loads(r.stdout)
got_mean = np.load(os.path.join(d, 'out', 'test_mean.npy'))[:, 0]
got_var = np.load(os.path.join(d, 'out', 'test_variance.npy'))
err_m = np.max(np.abs(got_mean - mean)) / np.max(np.abs(mean))
err_v = np.max(np.abs(got_var - var)) / np.max(np.abs(var))
acc = np.mean(np.sign(mean) == yt)
print(f'mean rel err {err_m:.2e}, variance rel err {err_v:.2e}, accuracy {summary["test_accuracy"]} vs {acc}')
assert err_m < 1e-5 and err_v < 1e-5, 'solver predictions differ from the NumPy GP computation'
assert abs(summary['test_accuracy'] - acc) < 1e-12
for key in ['N', 'action', 'iterations', 'gradient_norm', 'test_accuracy', 'generalization_error',
            'U', 'U_a', 'converged', 'seconds']:
    assert key in summary, key
print('ok')
