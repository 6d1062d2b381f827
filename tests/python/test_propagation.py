"""Signal propagation from Python (docs/signal-propagation.md, docs/python.md).

* shaped_drift / shaped_diffusion against NumPy implementations of eqs. (I.6)
  and (I.7) written here from the specification;
* kernel_prop against closed forms (E-SPA targets, uniform attention), tat_alpha
  against a NumPy C-map;
* shaped_sde / shaped_networks / kernel_prop return the same numbers as the
  kernel-prop and shaped-sde commands on the same settings (bitwise: same C++
  code, same seeds and streams);
* bad input raises attnpaths.Error naming the field.
"""
import json
import math
import os
import subprocess
import tempfile
import unittest

import numpy as np

import attnpaths as ap

BIN = os.environ.get('ATTNPATHS_BIN', 'attnpaths')
V0 = np.array([[1.0, 0.2, -0.1], [0.2, 0.9, 0.3], [-0.1, 0.3, 1.1]])


def drift_numpy(V, gamma, tau0, mlp_gamma=None, cp=0.0, cm=-1.0):
    m = V.shape[0]
    P = np.eye(m) - np.ones((m, m)) / m
    Vc = P @ V @ P
    v = np.diag(V)
    u = np.diag(Vc) - np.trace(Vc) / m
    w = V @ u
    b = gamma ** 2 / tau0 ** 2 * (np.sum(Vc * V) / m ** 2 * V + (np.outer(v, w) + np.outer(w, v)) / (2 * m))
    if mlp_gamma is not None:
        s = np.sqrt(np.outer(v, v))
        rho = np.clip(V / s, -1, 1)
        nu = (cp - cm) ** 2 / (2 * np.pi) * (np.sqrt(1 - rho ** 2) - rho * np.arccos(rho))
        b += mlp_gamma ** 2 * nu * s
    return b


def diffusion_numpy(V, gamma, tau0, mlp_gamma=0.0):
    m = V.shape[0]
    P = np.eye(m) - np.ones((m, m)) / m
    Vt = V @ P @ V @ P @ V
    S = np.zeros((m * m, m * m))
    cv = gamma ** 2 * (2 - gamma ** 2) + 2 * mlp_gamma ** 2
    ca = gamma ** 4 / (tau0 ** 2 * m ** 2)
    for a in range(m):
        for b in range(m):
            for c in range(m):
                for d in range(m):
                    S[a + m * b, c + m * d] = (
                        cv * (V[a, c] * V[b, d] + V[a, d] * V[b, c]) +
                        ca * (V[a, c] * Vt[b, d] + V[a, d] * Vt[b, c] + V[b, c] * Vt[a, d] + V[b, d] * Vt[a, c]))
    return S


def run_cli(args, cwd):
    r = subprocess.run([BIN] + args + ['--quiet'], cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError(f'{args}: exit {r.returncode}: {r.stderr}')


class Formulas(unittest.TestCase):
    def test_drift_and_diffusion_are_the_specification(self):
        rng = np.random.default_rng(3)
        G = rng.standard_normal((4, 6))
        V = G @ G.T / 6
        b = ap.shaped_drift(V, gamma=0.5, tau0=0.7)
        np.testing.assert_allclose(b, drift_numpy(V, 0.5, 0.7), rtol=1e-12, atol=1e-14)
        b = ap.shaped_drift(V, gamma=0.5, tau0=0.7, mlp=True, mlp_gamma=0.6, c_plus=0.3, c_minus=-1.2)
        np.testing.assert_allclose(b, drift_numpy(V, 0.5, 0.7, 0.6, 0.3, -1.2), rtol=1e-12, atol=1e-14)
        S = ap.shaped_diffusion(V, gamma=0.5, tau0=0.7, mlp=True, mlp_gamma=0.6)
        np.testing.assert_allclose(S, diffusion_numpy(V, 0.5, 0.7, 0.6), rtol=1e-12, atol=1e-14)
        np.testing.assert_array_equal(ap.shaped_drift(V, gamma=0.5, tau0=math.inf), np.zeros((4, 4)))

    def test_tat_alpha_and_espa(self):
        a = ap.tat_alpha(0.7, 8)
        c = 0.0
        for _ in range(8):
            c = c + (1 - a) ** 2 / (math.pi * (1 + a ** 2)) * (math.sqrt(1 - c * c) - c * math.acos(c))
        self.assertAlmostEqual(c, 0.7, places=12)
        self.assertAlmostEqual(ap.tat_cmap(0.0, a, 8), 0.7, places=12)
        A = ap.espa_attention(7, 3, gamma_final=0.1)
        self.assertEqual(A.shape, (3, 7, 7))
        r = ap.kernel_prop(tokens=7, depth=3, method='espa', gamma_final=0.1)
        i = np.arange(7)
        np.testing.assert_allclose(r['kernels'][3], np.exp(-0.1 * np.abs(np.subtract.outer(i, i))), atol=1e-12)
        S = np.eye(7)
        for l in range(3):
            S = A[l] @ S @ A[l].T
            np.testing.assert_allclose(S, r['kernels'][l + 1], atol=1e-12)
        u = ap.kernel_prop(tokens=5, depth=1, causal=False, method='uniform')
        np.testing.assert_allclose(u['kernels'][1], np.full((5, 5), 1 / 5), atol=1e-15)
        self.assertAlmostEqual(u['metrics']['effective_rank'][1], 1.0, places=12)
        self.assertAlmostEqual(ap.kernel_metrics(np.eye(5))['effective_rank'], 5.0, places=12)


class TokenKernels(unittest.TestCase):
    def test_readout_equals_the_gp_path_kernel(self):
        # K_GP of the token recursion against K_{U_GP} by path enumeration (kernels/).
        here = os.path.dirname(os.path.abspath(__file__))
        s = ap.load_study(os.path.join(here, 'small_hmm.toml'))
        x = s.train.x
        K = ap.PathKernel(ap.compute_path_inputs(s.architecture, x, 'train'))
        M = K.total(ap.gp_order_parameters(s.architecture).U[0])
        for a, b in [(0, 1), (2, 2), (3, 0)]:
            t = ap.token_kernels(s.architecture, x.example(a), x.example(b), example=a, example2=b)
            self.assertAlmostEqual(t['gp'] / M[a, b], 1.0, delta=1e-12)
            self.assertEqual(t['sigma'].shape[1:], (x.example(a).shape[1], x.example(b).shape[1]))


class SameAsTheCommands(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.tmp.name
        with open(os.path.join(d, 'kp.toml'), 'w') as f:
            f.write('[kernel_prop]\ntokens = 6\ndepth = 3\nmethod = "uspa"\nmlp = "tat"\ntat_eta = 0.7\n'
                    '[kernel_prop.finite_width]\nwidths = [16]\nvalues = "gaussian"\ndraws = 4\nseed = 2\n'
                    '[output]\ndirectory = "kp"\n')
        run_cli(['kernel-prop', '--config', 'kp.toml'], d)
        with open(os.path.join(d, 'sde.toml'), 'w') as f:
            f.write('[shaped_sde]\nV0 = [[1.0, 0.2, -0.1], [0.2, 0.9, 0.3], [-0.1, 0.3, 1.1]]\n'
                    'gamma = 0.4\ntau0 = 0.6\ndepth_to_width = 0.25\ndt = 0.0078125\npaths = 300\nseed = 5\n'
                    'sde_no_attention = false\n'
                    '[shaped_sde.networks]\nwidths = [12]\nsamples = [50]\nkey_dim = 4\n'
                    '[output]\ndirectory = "sde"\n')
        run_cli(['shaped-sde', '--config', 'sde.toml'], d)

    def test_kernel_prop(self):
        d = os.path.join(self.tmp.name, 'kp')
        r = ap.kernel_prop(tokens=6, depth=3, method='uspa', mlp="tat", tat_eta=0.7,
                           finite_width=dict(widths=[16], values='gaussian', draws=4, seed=2))
        np.testing.assert_array_equal(r['kernels'], np.load(os.path.join(d, 'kernels.npy')))
        np.testing.assert_array_equal(r['attention'], np.load(os.path.join(d, 'attention.npy')))
        np.testing.assert_array_equal(r['finite_width'][0]['mean_kernels'],
                                      np.load(os.path.join(d, 'finite_width_kernels.npy'))[0])
        with open(os.path.join(d, 'summary.json')) as f:
            s = json.load(f)
        self.assertEqual(r['tat_alpha'], s['tat_alpha'])

    def test_shaped_sde_and_networks(self):
        d = os.path.join(self.tmp.name, 'sde')
        s = ap.shaped_sde(V0, gamma=0.4, tau0=0.6, depth_to_width=0.25, dt=0.0078125, paths=300, seed=5)
        np.testing.assert_array_equal(s['V_T'], np.load(os.path.join(d, 'V_T_sde.npy')))
        n = ap.shaped_networks(V0, width=12, samples=50, gamma=0.4, tau0=0.6, depth_to_width=0.25,
                               key_dim=4, seed=5, stream=100)
        np.testing.assert_array_equal(n['V_T'], np.load(os.path.join(d, 'V_T_net_12.npy')))
        self.assertEqual(n['steps'], 3)  # round(12 * 0.25)
        self.assertEqual(s['tracked'].shape, (300, 64, len(s['quantities'])))
        np.testing.assert_array_equal(s['tracked'][:, -1, 0], s['V_T'][:, 0, 0])


class Errors(unittest.TestCase):
    def test_bad_input(self):
        with self.assertRaisesRegex(ap.Error, 'V0'):
            ap.shaped_sde(np.array([[1.0, 2.0], [2.0, 1.0]]), paths=10)
        with self.assertRaisesRegex(ap.Error, 'gamma'):
            ap.shaped_sde(V0, gamma=1.5, paths=10)
        with self.assertRaisesRegex(ap.Error, 'width'):
            ap.shaped_networks(V0, width=-4)
        with self.assertRaisesRegex(ap.Error, 'depth'):
            ap.kernel_prop(tokens=4, depth=0)
        with self.assertRaisesRegex(ap.Error, 'eta'):
            ap.tat_alpha(0.999, 4)
        with self.assertRaisesRegex(ap.Error, 'finite_width'):
            ap.kernel_prop(tokens=4, depth=2, finite_width=dict(widths=[2]))


if __name__ == '__main__':
    unittest.main()
