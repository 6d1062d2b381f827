"""Writes the NPY/HDF5 files and TOML studies that the bad-input CLI tests read
(docs/errors.md lists each case). Usage: make_fixtures.py OUTDIR"""
import os, sys
import numpy as np

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(0)
P, n_tok, N0 = 6, 3, 4
X = rng.normal(size=(P, n_tok, N0)); y = np.array([1., -1, 1, -1, 1, -1])
save = lambda name, a: np.save(os.path.join(out, name), a)
save('X.npy', X); save('y.npy', y); save('W.npy', np.eye(N0)); save('W_bad.npy', np.eye(N0 + 1))
save('Q.npy', rng.normal(size=(2, N0))); save('K_bad.npy', rng.normal(size=(3, N0)))
Xn = X.copy(); Xn[2, 1, 3] = np.nan; save('X_nan.npy', Xn)
yi = y.copy(); yi[4] = np.inf; save('y_inf.npy', yi)
save('y_short.npy', y[:5]); save('y_one_class.npy', np.ones(P))
save('X_empty.npy', np.zeros((0, n_tok, N0))); save('X_2d.npy', X.reshape(P, -1))
save('X_complex.npy', X.astype(np.complex128))
save('X_same.npy', np.repeat(X[:1], P, axis=0))
save('Xt_wide.npy', rng.normal(size=(4, n_tok, N0 + 1)))
A = np.full((P, n_tok, n_tok), 1.0 / n_tok); save('A.npy', A)
Ab = A.copy(); Ab[3, 1, :] = [0.5, 0.4, 0.3]; save('A_bad_rows.npy', Ab)
raw = open(os.path.join(out, 'X.npy'), 'rb').read()
open(os.path.join(out, 'X_truncated.npy'), 'wb').write(raw[:len(raw) // 2])
open(os.path.join(out, 'X_corrupt.npy'), 'wb').write(b'\x93NUMPY\x01\x00\x20\x00{garbage' + b' ' * 40)

def study(name, body, head='{ kind = "w", W = "W.npy" }', arch='', data=None, top='temperature = 0.1'):
    data = data or 'train_x = "X.npy"\ntrain_y = "y.npy"'
    text = f'{top}\n[data]\n{data}\n[architecture]\n{arch}\n[[architecture.layers]]\nheads = [ {head} ]\n{body}\n'
    open(os.path.join(out, name + '.toml'), 'w').write(text)

study('ok', '')
study('nan_x', '', data='train_x = "X_nan.npy"\ntrain_y = "y.npy"')
study('inf_y', '', data='train_x = "X.npy"\ntrain_y = "y_inf.npy"')
study('y_rows', '', data='train_x = "X.npy"\ntrain_y = "y_short.npy"')
study('empty', '', data='train_x = "X_empty.npy"\ntrain_y = "y.npy"')
study('one_class', '', data='train_x = "X.npy"\ntrain_y = "y_one_class.npy"')
study('singular', '', data='train_x = "X_same.npy"\ntrain_y = "y.npy"', top='temperature = 0')
study('zero_variance', '', arch='variance = 0')
study('variances_count', '', arch='variances = [1, 1]')
study('w_shape', '', head='{ kind = "w", W = "W_bad.npy" }')
study('qk_shape', '', head='{ kind = "qk", Q = "Q.npy", K = "K_bad.npy" }')
study('attention_rows', '', head='{ kind = "given", attention = "A_bad_rows.npy" }')
study('truncated_npy', '', data='train_x = "X_truncated.npy"\ntrain_y = "y.npy"')
study('corrupt_npy', '', data='train_x = "X_corrupt.npy"\ntrain_y = "y.npy"')
study('complex_dtype', '', data='train_x = "X_complex.npy"\ntrain_y = "y.npy"')
study('x_2d', '', data='train_x = "X_2d.npy"\ntrain_y = "y.npy"')
study('test_features', '', data='train_x = "X.npy"\ntrain_y = "y.npy"\ntest_x = "Xt_wide.npy"')
study('memory_limit', '[kernel]\nmemory_limit_gb = 1e-9')
study('unknown_readout', '', arch='readout = "middle"')
study('width_type', '', arch='width = "wide"')
study('missing_w', '', head='{ kind = "w" }')
study('unknown_solver_key', '[solver]\ngradient_tol = 1e-8')
study('bad_strategy', '[kernel]\nstrategy = "fastest"')
study('missing_dataset_h5', '', data='train_x = "nothere.h5:/group/X"\ntrain_y = "y.npy"')
study('no_layers_heads', '', head='')
study('two_temperatures', '', top='temperatures = [0.1, 0.2]')
study('bad_normalization', '', head='{ kind = "w", W = "W.npy", normalization = "sparsemax" }')
print('fixtures in', out)
