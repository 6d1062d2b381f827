"""Several outputs (labels P x D, theory.md section 9) through the module, against
NumPy: the PD x PD kernel and the action, the gradient in every U_l and in a
free U_a (central differences of our S), the matrix root of U_a, the predictor's
D x D covariance, and the types of U_a (a float for D = 1, a D x D array else)."""
import unittest

import numpy as np

import attnpaths as ap
from test_numerics import BETA, VARIANCES, numpy_path_inputs

T, D = 0.05, 3


def output_kernel(A, B, U1):
    """K[(mu,d),(nu,e)] = sum U1[(p,d),(q,e)] A_p(mu) . B_q(nu), (mu, d) order."""
    H = A.shape[1]
    K = np.einsum('mpi,pdqe,nqi->mdne', A, U1.reshape(H, D, H, D), B)
    return K.reshape(A.shape[0] * D, B.shape[0] * D)


def partial_trace(U, H):
    m = U.shape[0] // H
    return sum(U[h * m:(h + 1) * m, h * m:(h + 1) * m] for h in range(H))


class SeveralOutputs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        rng = np.random.default_rng(4)
        P, Pt, n_tok, N0 = 20, 9, 5, 7
        cls.X, cls.Xt = rng.normal(size=(P, n_tok, N0)), rng.normal(size=(Pt, n_tok, N0))
        cls.Y, cls.Yt = rng.normal(size=(P, D)), rng.normal(size=(Pt, D))
        W1, W2 = rng.normal(size=(N0, N0)) / N0, rng.normal(size=(N0, N0)) / N0
        cls.arch = ap.Architecture([[ap.w_head(W1, BETA, 'w1'), ap.uniform_head('u1')],
                                    [ap.w_head(W2, BETA, 'w2'), ap.uniform_head('u2')]],
                                   readout='last', widths=[20, 30, 40], variances=VARIANCES)
        cls.Z, cls.Zt = numpy_path_inputs(cls.X, W1, W2), numpy_path_inputs(cls.Xt, W1, W2)
        cls.train = ap.compute_path_inputs(cls.arch, cls.X)
        cls.test = ap.compute_path_inputs(cls.arch, cls.Xt, 'test')
        cls.kernel = ap.PathKernel(cls.train)
        r = np.random.default_rng(5)
        A, B, C = r.normal(size=(12, 12)), r.normal(size=(6, 6)), r.normal(size=(3, 3))
        cls.U = [A @ A.T / 12 + np.eye(12), B @ B.T / 6 + np.eye(6)]
        cls.Ua = C @ C.T / 3 + np.eye(3)

    def numpy_action(self, U1, U2, Ua=None):
        """S of theory.md section 9 for L = 2 (U_a eliminated unless given)."""
        n1, n2, n3 = self.arch.widths
        s1, s2, sa = VARIANCES[1:]
        if Ua is None:
            b = sa * (2 * n2 / n3 - 1)
            c, V = np.linalg.eigh(partial_trace(U2, 2))
            Ua = V @ np.diag((-b + np.sqrt(b * b + 4 * sa * n2 * c / (n3 * s2))) / 2) @ V.T
        ld = lambda M: np.linalg.slogdet(M)[1]
        entropy = (n1 * (np.trace(np.linalg.solve(U2, partial_trace(U1, 2))) / s1 - ld(U1) + 2 * ld(U2))
                   + n2 * (np.trace(np.linalg.solve(Ua, partial_trace(U2, 2))) / s2 - ld(U2) + 2 * ld(Ua))
                   + n3 * (np.trace(Ua) / sa - ld(Ua)))
        G = output_kernel(self.Z, self.Z, U1) + T * np.eye(self.Y.size)
        y = self.Y.reshape(-1)
        return entropy + ld(G) + y @ np.linalg.solve(G, y), Ua

    def test_output_kernel_and_action(self):
        K = ap.output_kernel(self.kernel, self.U[0])
        Kn = output_kernel(self.Z, self.Z, self.U[0])
        np.testing.assert_allclose(K, Kn, rtol=1e-11, atol=1e-12 * np.abs(Kn).max())
        action = ap.Action(self.arch, self.kernel, self.Y, T)
        self.assertEqual(action.outputs, D)
        v = action.evaluate(self.U)
        S, Ua = self.numpy_action(*self.U)
        self.assertAlmostEqual(v.S, S, delta=1e-10 * abs(S))
        np.testing.assert_allclose(v.U_a, Ua, rtol=1e-12)
        np.testing.assert_allclose(ap.eliminate_U_a(self.arch, self.U[1]), Ua, rtol=1e-12)

    def test_gradient_with_free_readout(self):
        action = ap.Action(self.arch, self.kernel, self.Y, T, readout='free')
        self.assertEqual(action.readout, 'free')
        U = self.U + [self.Ua]
        v, grad = action.evaluate(U, gradient=True)
        self.assertAlmostEqual(v.S, self.numpy_action(*U)[0], delta=1e-10 * abs(v.S))
        h = 1e-5
        for l, (i, j) in ((0, (0, 0)), (0, (1, 7)), (0, (2, 11)), (1, (0, 4)), (2, (0, 2)),
                          (2, (1, 1))):
            E = np.zeros_like(U[l])
            E[i, j] = E[j, i] = 1.0
            Up, Um = [u.copy() for u in U], [u.copy() for u in U]
            Up[l] += h * E
            Um[l] -= h * E
            fd = (self.numpy_action(*Up)[0] - self.numpy_action(*Um)[0]) / (2 * h)
            self.assertAlmostEqual(np.sum(grad[l] * E), fd, delta=1e-5 * max(1, abs(fd)))

    def test_predictor_covariance(self):
        U1 = self.U[0]
        # Real-valued targets (task "regression": no accuracy); the one-hot case below.
        st = ap.predict(self.kernel, self.Y, T, U1, self.test, self.Yt, task="regression")
        G = output_kernel(self.Z, self.Z, U1) + T * np.eye(self.Y.size)
        k = output_kernel(self.Zt, self.Z, U1)
        mean = (k @ np.linalg.solve(G, self.Y.reshape(-1))).reshape(-1, D)
        Gk = np.linalg.solve(G, k.T)
        cov = np.array([output_kernel(self.Zt[m:m + 1], self.Zt[m:m + 1], U1)
                        - k[m * D:(m + 1) * D] @ Gk[:, m * D:(m + 1) * D] for m in range(len(self.Yt))])
        np.testing.assert_allclose(st.mean, mean, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(st.covariance, cov, rtol=1e-9, atol=1e-12 * np.abs(cov).max())
        np.testing.assert_array_equal(st.variance, np.diagonal(st.covariance, axis1=1, axis2=2))
        self.assertAlmostEqual(st.generalization_error,
                               np.mean((mean - self.Yt) ** 2) + np.mean(np.diagonal(cov, axis1=1, axis2=2)),
                               delta=1e-10)
        self.assertTrue(np.isnan(st.accuracy))
        # One-hot labels (docs/config.md, "Labels"): accuracy by argmax of the mean.
        Y1, Yt1 = np.eye(D)[np.argmax(self.Y, 1)], np.eye(D)[np.argmax(self.Yt, 1)]
        st1 = ap.predict(self.kernel, Y1, T, U1, self.test, Yt1)
        mean1 = (k @ np.linalg.solve(G, Y1.reshape(-1))).reshape(-1, D)
        np.testing.assert_allclose(st1.mean, mean1, rtol=1e-9, atol=1e-12)
        self.assertEqual(st1.accuracy, np.mean(np.argmax(mean1, 1) == np.argmax(Yt1, 1)))

    def test_readout_types(self):
        gp = ap.gp_limit(self.arch, D)
        self.assertEqual(gp.outputs, D)
        np.testing.assert_array_equal(gp.U_a, VARIANCES[3] * np.eye(D))
        self.assertIsInstance(ap.gp_limit(self.arch).U_a, float)
        op = ap.OrderParameters(self.U, self.Ua)
        np.testing.assert_array_equal(op.U_a, self.Ua)
        ap.check_shapes(self.arch, self.U, D)
        with self.assertRaises(ap.Error) as e:
            ap.check_shapes(self.arch, self.U)
        self.assertIn('U_1 shape: found 12 x 12, expected 4 x 4', str(e.exception))
        with self.assertRaises(ap.Error):
            ap.Action(self.arch, self.kernel, self.Y, T, readout='loose')


if __name__ == '__main__':
    unittest.main()
