"""Module results against independent NumPy computations (theory.md sections 1-5),
and the progress callbacks / GIL behaviour of long calls."""
import os
import signal
import threading
import time
import unittest

import numpy as np

import attnpaths as ap

BETA, T = 2.0, 0.05
VARIANCES = [1.3, 0.7, 1.1, 0.9]  # sigma_0^2, sigma_1^2, sigma_2^2, sigma_a^2 (L = 2)


def softmax_keys(scores):
    e = np.exp(scores - scores.max(axis=0))
    return e / e.sum(axis=0)


def numpy_path_inputs(X, W1, W2):
    """xi_pi(x) of theory.md section 2 for layer 1 {W1, uniform}, layer 2 {W2, uniform},
    last-token readout: (P, Htot, N0)."""
    P, n_tok, N0 = X.shape
    out = []
    for x in X:  # x: n_tok x N0, so x.T is theory.md's N0 x n_tok
        l1 = [softmax_keys(BETA * x @ W1 @ x.T), np.full((n_tok, n_tok), 1 / n_tok)]
        l2 = [softmax_keys(BETA * x @ W2 @ x.T)[:, -1], np.full(n_tok, 1 / n_tok)]
        out.append([np.sqrt(VARIANCES[0] / (N0 * 4)) * x.T @ (a @ w) for a in l1 for w in l2])
    return np.array(out)


class NumpyReference(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        rng = np.random.default_rng(3)
        P, Pt, n_tok, N0 = 30, 12, 5, 7
        cls.X, cls.Xt = rng.normal(size=(P, n_tok, N0)), rng.normal(size=(Pt, n_tok, N0))
        cls.y, cls.yt = np.sign(rng.normal(size=P)), np.sign(rng.normal(size=Pt))
        W1, W2 = rng.normal(size=(N0, N0)) / N0, rng.normal(size=(N0, N0)) / N0
        cls.arch = ap.Architecture([[ap.w_head(W1, BETA, 'w1'), ap.uniform_head('u1')],
                                    [ap.w_head(W2, BETA, 'w2'), ap.uniform_head('u2')]],
                                   readout='last', widths=[20, 30, 40], variances=VARIANCES)
        cls.Z, cls.Zt = numpy_path_inputs(cls.X, W1, W2), numpy_path_inputs(cls.Xt, W1, W2)
        cls.train = ap.compute_path_inputs(cls.arch, cls.X)
        cls.test = ap.compute_path_inputs(cls.arch, cls.Xt, 'test')
        cls.kernel = ap.PathKernel(cls.train)

    def test_path_inputs(self):
        got = self.train.xi.reshape(30, 4, 7)  # row mu: xi_0, xi_1, ... each N0 long
        np.testing.assert_allclose(got, self.Z, rtol=1e-12, atol=1e-14)
        w = ap.path_token_weights(self.arch, self.X, 3)
        np.testing.assert_allclose(np.sqrt(VARIANCES[0] / (7 * 4)) * self.X[3].T @ w,
                                   self.Z[3].T, rtol=1e-12, atol=1e-14)

    def test_kernels(self):
        U = np.random.default_rng(7).normal(size=(4, 4))
        U = U @ U.T + np.eye(4)
        K = np.einsum('mpi,pq,nqi->mn', self.Z, U, self.Z)
        # Entries near zero carry the rounding of the largest terms of their sums:
        # an absolute tolerance of 1e-12 times the kernel's scale.
        np.testing.assert_allclose(self.kernel.total(U), K, rtol=1e-12,
                                   atol=1e-12 * np.abs(K).max())
        C12 = self.Z[:, 1] @ self.Z[:, 2].T
        np.testing.assert_allclose(self.kernel.pair(1, 2), C12, rtol=1e-12,
                                   atol=1e-12 * np.abs(C12).max())
        R = np.random.default_rng(8).normal(size=(30, 30))
        R = R + R.T
        np.testing.assert_allclose(self.kernel.contract(R),
                                   np.einsum('mn,mpi,nqi->pq', R, self.Z, self.Z), rtol=1e-11)
        np.testing.assert_allclose(ap.cross_kernel(self.test, self.train, U),
                                   np.einsum('mpi,pq,nqi->mn', self.Zt, U, self.Z), rtol=1e-12)
        np.testing.assert_allclose(ap.kernel_diagonal(self.test, U),
                                   np.einsum('mpi,pq,mqi->m', self.Zt, U, self.Zt), rtol=1e-12)

    def test_gp_predictor(self):
        c = VARIANCES[1] * VARIANCES[2] * VARIANCES[3]
        K = c * np.einsum('mpi,npi->mn', self.Z, self.Z)
        Kt = c * np.einsum('mpi,npi->mn', self.Zt, self.Z)
        Ktt = c * np.einsum('mpi,mpi->m', self.Zt, self.Zt)
        G = K + T * np.eye(len(self.y))
        mean = Kt @ np.linalg.solve(G, self.y)
        var = Ktt - np.einsum('mn,nm->m', Kt, np.linalg.solve(G, Kt.T))
        gp = ap.gp_limit(self.arch)
        np.testing.assert_allclose(gp.U[0], c * np.eye(4))
        st = ap.predict(self.kernel, self.y, T, gp, self.test, self.yt)
        np.testing.assert_allclose(st.mean[:, 0], mean, rtol=1e-10)
        np.testing.assert_allclose(st.variance, var, rtol=1e-9, atol=1e-13)
        self.assertEqual(st.accuracy, np.mean(np.sign(mean) == self.yt))
        self.assertAlmostEqual(st.generalization_error, np.mean((mean - self.yt) ** 2 + var),
                               delta=1e-12)
        self.assertEqual(ap.accuracy(mean, self.yt), st.accuracy)

    def numpy_action(self, U1, U2):
        """S of theory.md section 3 for L = 2, U_a eliminated, written out directly."""
        n1, n2, n3 = self.arch.widths
        s1, s2, sa = VARIANCES[1:]
        H1, H2 = 2, 2
        tr1 = sum(U1[h * 2:(h + 1) * 2, h * 2:(h + 1) * 2] for h in range(H1))
        b = sa * (H2 * n2 / n3 - 1)
        g = sa * n2 * np.trace(U2) / (n3 * s2)
        Ua = (-b + np.sqrt(b * b + 4 * g)) / 2
        logdet = lambda M: np.linalg.slogdet(M)[1]
        entropy = (n1 * (np.trace(np.linalg.solve(U2, tr1)) / s1 - logdet(U1) + H1 * logdet(U2))
                   + n2 * (np.trace(U2) / (Ua * s2) - logdet(U2) + H2 * np.log(Ua))
                   + n3 * (Ua / sa - np.log(Ua)))
        G = np.einsum('mpi,pq,nqi->mn', self.Z, U1, self.Z) + T * np.eye(len(self.y))
        energy = logdet(G) + self.y @ np.linalg.solve(G, self.y)
        return entropy + energy, entropy, energy, Ua

    def test_action_and_gradient(self):
        rng = np.random.default_rng(9)
        A, B = rng.normal(size=(4, 4)), rng.normal(size=(2, 2))
        U = [A @ A.T / 4 + np.eye(4), B @ B.T / 2 + np.eye(2)]
        action = ap.Action(self.arch, self.kernel, self.y, T)
        v, grad = action.evaluate(U, gradient=True)
        S, entropy, energy, Ua = self.numpy_action(*U)
        self.assertTrue(v.ok)
        np.testing.assert_allclose([v.S, v.entropy, v.energy, v.U_a], [S, entropy, energy, Ua],
                                   rtol=1e-10)
        # The gradient treats every entry as independent: a symmetric perturbation E of
        # entries (i, j) and (j, i) changes S by sum(grad * E).
        h = 1e-6
        for l, (i, j) in ((0, (0, 0)), (0, (1, 3)), (1, (0, 1))):
            E = np.zeros_like(U[l])
            E[i, j] = E[j, i] = 1.0
            Up = [u.copy() for u in U]
            Um = [u.copy() for u in U]
            Up[l] += h * E
            Um[l] -= h * E
            fd = (self.numpy_action(*Up)[0] - self.numpy_action(*Um)[0]) / (2 * h)
            self.assertAlmostEqual(np.sum(grad[l] * E), fd, delta=1e-5 * max(1, abs(fd)))

    def test_solution_is_stationary(self):
        action = ap.Action(self.arch, self.kernel, self.y, T)
        sol, summary = ap.solve(action)
        self.assertTrue(summary.converged, summary.full_report())
        self.assertGreater(summary.hessian_min_eigenvalue, 0)
        v, grad = action.evaluate(sol.U, gradient=True)
        self.assertAlmostEqual(v.S, sol.action, delta=1e-12 * abs(v.S))
        self.assertLessEqual(ap.max_abs_entry(grad) / self.arch.n_max, 1e-9)
        self.assertLessEqual(np.abs(np.linalg.eigvalsh(sol.U[0])).min(), np.inf)
        self.assertTrue(np.all(np.linalg.eigvalsh(sol.U[0]) > 0))
        # Starting from the solution converges at once to the same point.
        sol2, summary2 = ap.solve(action, ap.SolveOptions(initial_U=sol.U))
        self.assertLessEqual(summary2.iterations, 1)
        np.testing.assert_allclose(sol2.U[0], sol.U[0], rtol=1e-9)

    def test_warm_start_with_the_neighbours_hessian(self):
        # The wider neighbour's solution and stability-check Hessian, turned into this width's
        # (Action.neighbour_hessian; checked against the direct Hessian in the C++ tests), as
        # the first Newton model: the solve that computes it, one Hessian fewer.
        action = ap.Action(self.arch, self.kernel, self.y, T)
        wide = ap.Architecture(self.arch.layers, readout='last',
                               widths=[3 * n for n in self.arch.widths], variances=VARIANCES)
        wide_action = ap.Action(wide, self.kernel, self.y, T)
        neighbour, s0 = ap.solve(wide_action, ap.SolveOptions(gradient_tolerance=1e-11))
        self.assertTrue(s0.converged, s0.full_report())
        self.assertEqual(neighbour.hessian.shape, (s0.hessian_dimension, s0.hessian_dimension))
        H = action.neighbour_hessian(wide, neighbour.U, neighbour.hessian)
        computed, s1 = ap.solve(action, ap.SolveOptions(initial_U=neighbour.U,
                                                        gradient_tolerance=1e-11))
        given, s2 = ap.solve(action, ap.SolveOptions(initial_U=neighbour.U, initial_hessian=H,
                                                     gradient_tolerance=1e-11))
        self.assertTrue(s1.converged and s2.converged)
        self.assertEqual((s1.hessians_given, s2.hessians_given), (0, 1))
        self.assertEqual(s2.hessians + 1, s1.hessians)
        for a, b in zip(given.U, computed.U):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
        self.assertIsNone(ap.SolveOptions().initial_hessian)
        with self.assertRaises(ap.Error):
            ap.solve(action, ap.SolveOptions(initial_U=neighbour.U, initial_hessian=np.eye(2)))

    def test_alignment(self):
        K = self.kernel.total(ap.gp_limit(self.arch).U[0])
        a = ap.align_kernel(K, self.y, 5)
        lam, V = np.linalg.eigh(K)
        lam, V = lam[::-1], V[:, ::-1]
        proj = V.T @ self.y
        np.testing.assert_allclose(a.eigenvalues, lam[:5], rtol=1e-10)
        np.testing.assert_allclose(a.overlap, np.abs(proj[:5]) / np.sqrt(len(self.y)), rtol=1e-8)
        np.testing.assert_allclose(a.cumulative, np.cumsum(proj[:5] ** 2) / (self.y @ self.y),
                                   rtol=1e-8)

    def test_head_scores(self):
        U1 = np.random.default_rng(11).normal(size=(4, 4))
        U1 = U1 + U1.T
        A = np.abs(U1).reshape(2, 2, 2, 2)  # [h1, h2; h1', h2']
        raw = [[A[h].sum() + A[:, :, h].sum() - A[h, :, h].sum() for h in range(2)],
               [A[:, h].sum() + A[:, :, :, h].sum() - A[:, h, :, h].sum() for h in range(2)]]
        r = ap.head_scores(self.arch, U1)
        np.testing.assert_allclose(r.raw, raw, rtol=1e-12)
        np.testing.assert_allclose(r.score, np.array(raw) / np.max(raw), rtol=1e-12)
        self.assertEqual(r.score_of((2, 1)), r.score[1][1])
        S = ap.silence_heads(self.arch, U1, [ap.HeadId(1, 0)])
        mask = np.array([0, 0, 1, 1.0])  # paths through head 0 of layer 1 are 0 and 1
        np.testing.assert_array_equal(S, U1 * np.outer(mask, mask))


class ReadoutPosterior(unittest.TestCase):
    """Sampling only the readout a with the value weights fixed: the posterior of a is
    Gaussian, so the predictor's mean and variance have a closed form."""

    def test_sampled_predictor_matches_the_closed_form(self):
        rng = np.random.default_rng(21)
        P, Pt, n_tok, N0, n = 20, 6, 3, 4, 3
        X, Xt = rng.normal(size=(P, n_tok, N0)), rng.normal(size=(Pt, n_tok, N0))
        y = np.sign(rng.normal(size=P))
        arch = ap.Architecture([[ap.w_head(rng.normal(size=(N0, N0))), ap.uniform_head()]],
                               widths=[n, n], variances=[1.0, 0.8, 1.2])
        V0, V1 = rng.normal(size=(n, N0)), [rng.normal(size=(n, n)) for _ in range(2)]
        weights = ap.NetworkWeights(V0, [V1], np.zeros((n, 1)))
        train, test = ap.compute_path_inputs(arch, X), ap.compute_path_inputs(arch, Xt, 'test')

        # f(x) = a . z^1 / sqrt(n_2), z^1 = sum_h V1_h V0 x omega_h / sqrt(N0 H n_1)
        #      = a . phi(x) with phi = sum_pi V1_pi V0 xi_pi / (sigma_0 sqrt(n_1 n_2)).
        def features(xi):
            Z = xi.xi.reshape(xi.P, 2, N0)
            return sum(Z[:, p] @ (V1[p] @ V0).T for p in range(2)) / np.sqrt(1.0 * n * n)

        Phi, Phit = features(train), features(test)
        sigma_a2, Tused = 1.2, 0.5
        A = np.eye(n) / sigma_a2 + Phi.T @ Phi / Tused
        cov = np.linalg.inv(A)
        mean = Phit @ cov @ Phi.T @ y / Tused
        var = np.einsum('mi,ij,mj->m', Phit, cov, Phit)

        options = ap.SampleOptions(num_chains=2, num_warmup=200, num_samples=1000, seed=4,
                                   sampled_weights='readout', fixed_weights=weights)
        result, summary = ap.sample(arch, train, y, Tused, test, options)
        self.assertTrue(summary.completed, summary.full_report())
        self.assertEqual(summary.dimension, n)
        f = result.predictor
        z = (f.mean[:, 0] - mean) / f.mean_se[:, 0]
        self.assertLess(np.max(np.abs(z)), 5, (f.mean[:, 0], mean))
        zv = (f.variance[:, 0] - var) / f.variance_se[:, 0]
        self.assertLess(np.max(np.abs(zv)), 5, (f.variance[:, 0], var))
        self.assertEqual(f.covariance.shape, (Pt, 1, 1))
        np.testing.assert_array_equal(f.covariance[:, 0, 0], f.variance[:, 0])
        # Reproducible from the seed; draws and names line up.
        again, _ = ap.sample(arch, train, y, Tused, test, options)
        np.testing.assert_array_equal(again.draws[1], result.draws[1])
        self.assertEqual(result.quantity_names[0], 'lp')
        self.assertEqual(len(result.draws), 2)
        self.assertEqual(result.draws[0].shape, (1000, len(result.quantity_names)))
        np.testing.assert_allclose(
            result.draws[0][:, result.predictor_column:result.predictor_column + Pt].mean(axis=0),
            result.draws[0][:, 1:1 + Pt].mean(axis=0))
        np.testing.assert_array_equal(result.last_weights.V0, V0)


class CallbacksAndGil(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.study = ap.parse_study('''
temperature = 0.01
[data]
generator = "hmm"
[data.hmm]
P = 60
P_test = 10
chain_tokens = 8
N_f = 20
[architecture]
width = 10
[[architecture.layers]]
heads = [ { kind = "hmm_same_token" }, { kind = "hmm_blank", perturbation = 1, seed = 147 } ]
[[architecture.layers]]
heads = [ { kind = "hmm_uniform" }, { kind = "hmm_blank", perturbation = 1, seed = 247 } ]
''', name='callbacks.toml')
        s = cls.study
        cls.train = ap.compute_path_inputs(s.architecture, s.train.x)
        cls.test = ap.compute_path_inputs(s.architecture, s.test.x, 'test')
        cls.kernel = ap.PathKernel(cls.train)
        cls.action = ap.Action(s.architecture, cls.kernel, s.train.y, s.temperature)

    def test_progress_is_called_with_copies(self):
        seen = []
        sol, summary = ap.solve(self.action, progress=seen.append)
        self.assertTrue(summary.converged)
        self.assertGreater(len(seen), 3)
        self.assertEqual([p.iteration for p in seen[:3]], [0, 1, 2])
        self.assertTrue(all(isinstance(p, ap.SolveProgress) for p in seen))
        self.assertLess(seen[-1].gradient_norm, seen[0].gradient_norm)
        # The callback stored in the options is used when no `progress` is given.
        count = []
        ap.solve(self.action, ap.SolveOptions(progress=lambda p: count.append(p.iteration)))
        self.assertEqual(len(count), len(seen))
        self.assertIsNotNone(ap.SolveOptions(progress=print).progress)

    def test_callback_exception_stops_the_solve(self):
        class Stop(Exception):
            pass

        def stop_at_5(p):
            if p.iteration == 5:
                raise Stop('enough')

        with self.assertRaises(Stop):
            ap.solve(self.action, progress=stop_at_5)
        calls = []

        def stop_sampling(p):
            calls.append(p.iteration)
            if len(calls) == 20:
                raise KeyError('sampler stopped')

        options = ap.SampleOptions(num_chains=2, threads=2, num_warmup=500, num_samples=500)
        with self.assertRaises(KeyError):
            ap.sample(self.study.architecture, self.train, self.study.train.y, 0.01, self.test,
                      options, progress=stop_sampling)
        self.assertLess(len(calls), 30)  # every chain stops at its next report

    def test_gil_is_released_during_long_calls(self):
        stop = threading.Event()
        ticks = [0]

        def spin():
            while not stop.is_set():
                ticks[0] += 1
                time.sleep(0.001)

        t = threading.Thread(target=spin)
        t.start()
        try:
            options = ap.SampleOptions(num_chains=1, num_warmup=100, num_samples=100)
            start = ticks[0]
            t0 = time.monotonic()
            ap.sample(self.study.architecture, self.train, self.study.train.y, 0.01, self.test,
                      options)
            elapsed = time.monotonic() - t0
            during = ticks[0] - start
        finally:
            stop.set()
            t.join()
        # The other thread ran while the sampler worked (it would be frozen if the GIL
        # were held): at least a few ticks per 100 ms of sampling.
        self.assertGreater(during, min(20, elapsed * 50), (during, elapsed))

    def test_ctrl_c_interrupts_sampling(self):
        timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
        options = ap.SampleOptions(num_chains=2, threads=2, num_warmup=100000, num_samples=100000)
        t0 = time.monotonic()
        timer.start()
        with self.assertRaises(KeyboardInterrupt):
            ap.sample(self.study.architecture, self.train, self.study.train.y, 0.01, self.test,
                      options)
        self.assertLess(time.monotonic() - t0, 20)
        timer.join()

    def test_log_progress(self):
        import logging
        with self.assertLogs('attnpaths', level='INFO') as logs:
            ap.solve(self.action, progress=ap.log_progress(every=5))
        self.assertTrue(logs.output[0].startswith('INFO:attnpaths:SolveProgress(iteration=0'))
        self.assertTrue(all('iteration=' in line for line in logs.output))


if __name__ == '__main__':
    unittest.main()
