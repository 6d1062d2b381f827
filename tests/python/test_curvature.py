"""The curvature bindings (docs/attention-hessian.md) against an independent NumPy
forward pass of the self-attention layer: its finite-difference gradient and Hessian,
the Gauss-Newton part c J^T J from a finite-difference Jacobian of the outputs, block
norms, eigenvalues, and the `attnpaths hessian` command's files (same seeds, same numbers)."""
import json
import os
import subprocess
import tempfile
import unittest

import numpy as np

import attnpaths as ap

BIN = os.environ.get('ATTNPATHS_BIN', 'attnpaths')


def layer_outputs(X, WQ, WK, WV, causal=False, attention='softmax'):
    """F_s = A_s X_s W_V with Lambda = X W_Q W_K^T X^T / sqrt(k) (the spec's Part A)."""
    k = WQ.shape[1]
    out = []
    for x in X:
        lam = x @ WQ @ WK.T @ x.T / np.sqrt(k)
        m = lam.shape[0]
        mask = np.tril(np.ones((m, m))) if causal else np.ones((m, m))
        if attention == 'softmax':
            lam = np.where(mask > 0, lam, -np.inf)
            e = np.exp(lam - lam.max(axis=1, keepdims=True))
            a = e / e.sum(axis=1, keepdims=True)
        else:
            a = lam * mask
        out.append(a @ x @ WV)
    return np.array(out)


def layer_loss(theta, X, Y, D, k, **kw):
    WQ, WK, WV = unflatten(theta, D, k)
    return np.mean((layer_outputs(X, WQ, WK, WV, **kw) - Y) ** 2)


def unflatten(theta, D, k):
    return (theta[:D * k].reshape(D, k), theta[D * k:2 * D * k].reshape(D, k),
            theta[2 * D * k:].reshape(D, D))


def fd_gradient(f, theta, h=1e-5):
    g = np.zeros_like(theta)
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = h
        g[i] = (f(theta + e) - f(theta - e)) / (2 * h)
    return g


def fd_hessian(f, theta, h=1e-4):
    """Central second differences of f (error O(h^2) + rounding ~ eps f / h^2)."""
    n = theta.size
    H = np.zeros((n, n))
    E = np.eye(n) * h
    for i in range(n):
        for j in range(i, n):
            H[i, j] = H[j, i] = (f(theta + E[i] + E[j]) - f(theta + E[i] - E[j]) -
                                 f(theta - E[i] + E[j]) + f(theta - E[i] - E[j])) / (4 * h * h)
    return H


class SingleLayer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        rng = np.random.default_rng(11)
        cls.B, cls.m, cls.D, cls.k = 3, 4, 3, 2
        cls.X = rng.normal(size=(cls.B, cls.m, cls.D))
        cls.Y = rng.normal(size=(cls.B, cls.m, cls.D))
        cls.WQ = rng.normal(size=(cls.D, cls.k))
        cls.WK = rng.normal(size=(cls.D, cls.k))
        cls.WV = rng.normal(size=(cls.D, cls.D)) / np.sqrt(cls.D)
        cls.theta = np.concatenate([cls.WQ.ravel(), cls.WK.ravel(), cls.WV.ravel()])
        cls.h = {}
        cls.fd = {}
        for causal in (False, True):
            for attention in ('softmax', 'linear'):
                key = (causal, attention)
                cls.h[key] = ap.attention_hessian(cls.X, cls.Y, cls.WQ, cls.WK, cls.WV,
                                                  causal=causal, attention=attention)
                f = lambda t, c=causal, a=attention: layer_loss(t, cls.X, cls.Y, cls.D, cls.k,
                                                                causal=c, attention=a)
                cls.fd[key] = (f, fd_hessian(f, cls.theta))

    def test_loss_gradient_hessian_against_finite_differences(self):
        for key, h in self.h.items():
            f, H_fd = self.fd[key]
            self.assertAlmostEqual(h['loss'], f(self.theta), delta=1e-13 * abs(f(self.theta)))
            g = fd_gradient(f, self.theta)
            np.testing.assert_allclose(h['gradient'], g, rtol=0, atol=1e-8 * np.abs(g).max())
            scale = np.abs(H_fd).max()
            np.testing.assert_allclose(h['hessian'], H_fd, rtol=0, atol=2e-6 * scale,
                                       err_msg=str(key))
            np.testing.assert_allclose(h['hessian_outer'] + h['hessian_functional'],
                                       h['hessian'], rtol=0, atol=1e-12 * scale)

    def test_outer_part_is_gauss_newton_of_the_outputs(self):
        """H_o = (2 / (B m D)) J^T J with J = dF/dtheta by central differences."""
        for (causal, attention), h in self.h.items():
            def F(t):
                return layer_outputs(self.X, *unflatten(t, self.D, self.k), causal=causal,
                                     attention=attention).ravel()
            n = self.theta.size
            J = np.zeros((F(self.theta).size, n))
            for i in range(n):
                e = np.zeros(n)
                e[i] = 1e-6
                J[:, i] = (F(self.theta + e) - F(self.theta - e)) / 2e-6
            Ho = 2 / (self.B * self.m * self.D) * J.T @ J
            np.testing.assert_allclose(h['hessian_outer'], Ho, rtol=0,
                                       atol=1e-8 * np.abs(Ho).max())

    def test_hvp_equals_the_dense_product(self):
        v = np.random.default_rng(4).normal(size=self.theta.size)
        for (causal, attention), h in self.h.items():
            for part, dense in (('full', 'hessian'), ('outer', 'hessian_outer'),
                                ('functional', 'hessian_functional')):
                got = ap.attention_hvp(self.X, self.Y, self.WQ, self.WK, self.WV, v, part=part,
                                       causal=causal, attention=attention)
                want = h[dense] @ v
                np.testing.assert_allclose(got, want, rtol=0,
                                           atol=1e-12 * np.abs(h['hessian']).max() * np.abs(v).sum())

    def test_blocks_are_slices_of_the_dense_matrix(self):
        h = self.h[(False, 'softmax')]
        for part, dense in (('outer', 'hessian_outer'), ('functional', 'hessian_functional'),
                            ('full', 'hessian')):
            for name, blk in h[part].items():
                r0, rn = h['offsets'][name[0]]
                c0, cn = h['offsets'][name[1]]
                np.testing.assert_array_equal(blk, h[dense][r0:r0 + rn, c0:c0 + cn])
        self.assertTrue(np.all(h['functional']['VV'] == 0))

    def test_norms_exact_and_hutchinson(self):
        h = self.h[(False, 'softmax')]
        exact = ap.attention_hessian_norms(self.X, self.Y, self.WQ, self.WK, self.WV)
        hutch = ap.attention_hessian_norms(self.X, self.Y, self.WQ, self.WK, self.WV,
                                           method='hutchinson', probes=200, seed=5)
        z = []
        for part in ('outer', 'functional', 'full'):
            for name, blk in h[part].items():
                want = np.linalg.norm(blk)
                got, se = exact[f'{name}.{part}']
                self.assertAlmostEqual(got, want, delta=1e-12 * max(want, 1e-300))
                self.assertEqual(se, 0)
                est, se = hutch[f'{name}.{part}']
                if want == 0:
                    self.assertEqual(est, 0)
                    continue
                self.assertGreater(se, 0)
                z.append((est - want) / se)
        # 14 nonzero (block, part) estimates, each within 4 s.e.; their mean z within 4/sqrt(14).
        self.assertLess(np.abs(z).max(), 4, z)
        self.assertLess(abs(np.mean(z)), 4 / np.sqrt(len(z)), z)

    def test_spectrum_against_eigvalsh(self):
        h = self.h[(False, 'softmax')]
        for part, dense in (('full', 'hessian'), ('outer', 'hessian_outer')):
            s = ap.attention_hessian_spectrum(self.X, self.Y, self.WQ, self.WK, self.WV,
                                              part=part, k=3, density_probes=4,
                                              density_steps=30)
            ev = np.linalg.eigvalsh(h[dense])
            scale = np.abs(ev).max()
            np.testing.assert_allclose(s['extremes']['largest'], ev[::-1][:3], rtol=0,
                                       atol=1e-8 * scale)
            np.testing.assert_allclose(s['extremes']['smallest'], ev[:3], rtol=0,
                                       atol=1e-8 * scale)
            # Stochastic Lanczos quadrature: unit total weight per probe, averaged.
            self.assertAlmostEqual(s['density']['weights'].sum(), 1, delta=1e-10)

    def test_bad_input(self):
        with self.assertRaisesRegex(ap.Error, 'W_V shape: found 2 × 3, expected 3 × 3'):
            ap.attention_hessian(self.X, self.Y, self.WQ, self.WK, self.WV[:2])
        with self.assertRaisesRegex(ap.Error, 'attention'):
            ap.attention_hessian(self.X, self.Y, self.WQ, self.WK, self.WV, attention='cosine')
        with self.assertRaisesRegex(ap.Error, 'norms'):
            ap.attention_growth_study(norms='approx', repeats=2)


class GrowthStudy(unittest.TestCase):
    def test_python_equals_the_command_and_slopes_are_least_squares(self):
        kw = dict(data='gaussian', tokens=4, features=3, key_dim=2, batch=3, repeats=3,
                  fit_points=4, seed=77)
        sig = np.geomspace(0.01, 1, 6)
        py = ap.attention_growth_study(sigmas=sig, **kw)
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, 'out')
            subprocess.run([BIN, 'hessian', '--data', 'gaussian', '--tokens', '4', '--features',
                            '3', '--key-dim', '2', '--batch', '3', '--repeats', '3',
                            '--fit-points', '4', '--seed', '77', '--sigma-from', '0.01',
                            '--sigma-to', '1', '--sigma-points', '6', '--spectrum', '0',
                            '--quiet', '-o', out], check=True, stdout=subprocess.DEVNULL)
            norms = np.load(os.path.join(out, 'norms.npy'))
            with open(os.path.join(out, 'slopes.json')) as fh:
                slopes = json.load(fh)
        np.testing.assert_allclose(py['sigmas'], sig, rtol=1e-15)
        np.testing.assert_allclose(norms, py['norms'], rtol=1e-12)
        self.assertEqual(norms.shape, (6, 3, 6, 3))
        for i, fit in enumerate(py['slopes']):
            b, p = divmod(i, 3)
            self.assertEqual(fit['block'], py['blocks'][b])
            self.assertEqual(fit['part'], py['parts'][p])
            self.assertEqual(slopes['blocks'][i]['block'], fit['block'])
            if fit['zero']:
                self.assertTrue(np.all(norms[:, :, b, p] == 0))
                continue
            per_repeat = [np.polyfit(np.log(sig[:4]), np.log(norms[:4, r, b, p]), 1)[0]
                          for r in range(3)]
            np.testing.assert_allclose(fit['slopes'], per_repeat, rtol=1e-9, atol=1e-12)
            self.assertAlmostEqual(fit['mean'], np.mean(per_repeat), delta=1e-9)
            self.assertAlmostEqual(slopes['blocks'][i]['mean'], fit['mean'], delta=1e-12)
            self.assertAlmostEqual(fit['standard_error'],
                                   np.std(per_repeat, ddof=1) / np.sqrt(3), delta=1e-9)


class NtkMargin(unittest.TestCase):
    """The hard-margin dual (curvature/hard_margin_svm.h) against scipy.optimize: the
    primal max-margin problem, the dual by L-BFGS-B, and linprog's infeasibility of a
    non-separable set; the head-count study's margins per run and group."""

    @staticmethod
    def separable(rng, P, n):
        phi = rng.standard_normal((P, n))
        y = np.sign(phi @ rng.standard_normal(n))
        return phi, y

    def test_dual_optimum_equals_scipy(self):
        from scipy import optimize
        rng = np.random.default_rng(4)
        for P, n in ((12, 3), (25, 6), (40, 4)):
            phi, y = self.separable(rng, P, n)
            r = ap.hard_margin_dual(phi @ phi.T, y)
            self.assertEqual(r['status'], 'converged', r['message'])
            self.assertLessEqual(r['kkt_violation'], 1e-8)
            # Primal: min |w|^2/2 subject to y_mu w.phi_mu >= 1 (SLSQP); margin 1/|w|.
            z = y[:, None] * phi
            w0 = np.linalg.lstsq(z, np.ones(P), rcond=None)[0]
            w0 /= max((z @ w0).min(), 1e-3)
            res = optimize.minimize(lambda w: 0.5 * w @ w, w0, jac=lambda w: w,
                                    constraints=[{'type': 'ineq', 'fun': lambda w: z @ w - 1,
                                                  'jac': lambda w: z}],
                                    method='SLSQP', options={'ftol': 1e-14, 'maxiter': 1000})
            # SLSQP may end on "Positive directional derivative for linesearch" at its
            # rounding floor (it does in the portable build): judge its point, not its flag.
            self.assertTrue(res.success or res.status == 8, res.message)
            self.assertGreaterEqual((z @ res.x).min(), 1 - 1e-7)
            primal = 1 / np.linalg.norm(res.x)
            self.assertAlmostEqual(r['margin'], primal, delta=1e-6 * primal)
            # Dual by L-BFGS-B with bounds alpha >= 0.
            Q = np.outer(y, y) * (phi @ phi.T)
            dual = optimize.minimize(lambda a: 0.5 * a @ Q @ a - a.sum(), np.zeros(P),
                                     jac=lambda a: Q @ a - 1, method='L-BFGS-B',
                                     bounds=[(0, None)] * P,
                                     options={'ftol': 1e-15, 'gtol': 1e-12, 'maxiter': 10000})
            self.assertAlmostEqual(r['sum_alpha'], dual.x.sum(), delta=1e-5 * dual.x.sum())
            # KKT from the features: w = sum alpha y phi, margins >= 1, = 1 on the support.
            w = phi.T @ (r['alpha'] * y)
            m = y * (phi @ w)
            self.assertGreaterEqual(m.min(), 1 - 1e-8)
            np.testing.assert_allclose(m[r['alpha'] > 0], 1, atol=1e-8)
            self.assertAlmostEqual(m.min() / np.linalg.norm(w), r['margin'], delta=1e-8)
            self.assertAlmostEqual(r['margin'], 1 / np.sqrt(r['alpha'].sum()), delta=1e-14)

    def test_not_separable_is_a_status(self):
        from scipy import optimize
        rng = np.random.default_rng(8)
        phi = rng.standard_normal((30, 2))
        y = np.where(rng.standard_normal(30) > 0, 1.0, -1.0)
        # Independent: no w with y_mu w.phi_mu >= 1 (linprog reports infeasible).
        lp = optimize.linprog(np.zeros(2), A_ub=-(y[:, None] * phi), b_ub=-np.ones(30),
                              bounds=[(None, None)] * 2, method='highs')
        self.assertEqual(lp.status, 2, lp.message)
        r = ap.hard_margin_dual(phi @ phi.T, y)
        self.assertEqual(r['status'], 'not_separable', r['message'])
        self.assertEqual(r['margin'], 0)
        r = ap.hard_margin_dual(phi @ phi.T, y, max_sweeps=1, face_solve_every=0)
        self.assertIn(r['status'], ('iteration_limit', 'not_separable'))
        with self.assertRaisesRegex(ap.Error, 'margin.tolerance: found -1'):
            ap.hard_margin_dual(phi @ phi.T, y, tolerance=-1)
        with self.assertRaisesRegex(ap.Error, 'labels'):
            ap.hard_margin_dual(phi @ phi.T, y[:5])

    def test_head_count_study_returns_the_margin(self):
        kw = dict(heads=[1, 2], modes=['equal_total', 'growing'], examples=16, test_examples=8,
                  tokens=4, features=7, irrelevant_means=3, total_key_dim=4, total_width=2,
                  key_dim=2, width=3, input_width=5, steps=2, repeats=3, seed=5)
        s = ap.head_count_study(**kw)
        for g in s['groups']:
            mine = [r for r in s['runs'] if r['mode'] == g['mode'] and r['heads'] == g['heads']]
            self.assertTrue(all(r['ntk_status'] == 'converged' for r in mine))
            m = np.array([r['ntk_margin'] for r in mine])
            self.assertTrue(np.all(m > 0))
            self.assertAlmostEqual(g['ntk_margin'][0], m.mean(), delta=1e-14 * m.mean())
            self.assertAlmostEqual(g['ntk_margin'][1], m.std(ddof=1) / np.sqrt(3), delta=1e-12)
            self.assertEqual((g['ntk_separable'], g['ntk_decided']), (3, 3))
        off = ap.head_count_study(ntk_margin=False, **kw)
        self.assertTrue(np.isnan(off['groups'][0]['ntk_margin'][0]))
        self.assertEqual(off['runs'][0]['ntk_status'], 'not_run')


if __name__ == '__main__':
    unittest.main()
