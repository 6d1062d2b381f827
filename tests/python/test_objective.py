"""solve_objective: the solver on an objective written in Python (solver/objective.h),
checked against a closed-form minimiser."""
import unittest

import numpy as np

import attnpaths as ap

# S(U) = sum_b [tr(A_b U_b) - n ln det U_b], minimised at U_b = n A_b^{-1} (the gradient
# A_b - n U_b^{-1} vanishes there, and S is strictly convex on SPD matrices).
N = 3.0
A = [np.array([[2.0, 0.3], [0.3, 1.0]]), np.array([[0.5]]),
     np.array([[1.5, 0.2, -0.1], [0.2, 1.0, 0.4], [-0.1, 0.4, 2.5]])]
EXPECTED = [N * np.linalg.inv(a) for a in A]


def evaluate(U):
    S, grad = 0.0, []
    for a, u in zip(A, U):
        sign, logdet = np.linalg.slogdet(u)
        if sign <= 0:
            return None  # S undefined off the SPD cone
        S += np.trace(a @ u) - N * logdet
        grad.append(a - N * np.linalg.inv(u))
    return S, grad


def unit(m, i, j):
    """The symmetric step in independent entry (i, j): both triangles move."""
    e = np.zeros((m, m))
    e[i, j] = e[j, i] = 1.0
    return e


def hessian(U, normalization=1.0):
    """d2S/du_k du_l = n tr(U^-1 E_k U^-1 E_l) over the independent entries
    (i <= j, column by column, block after block); zero across blocks."""
    blocks = []
    for u in U:
        m = u.shape[0]
        inv = np.linalg.inv(u)
        units = [unit(m, i, j) for j in range(m) for i in range(j + 1)]
        blocks.append(np.array([[N * np.trace(inv @ ek @ inv @ el) for el in units]
                                for ek in units]))
    size = sum(b.shape[0] for b in blocks)
    H, k = np.zeros((size, size)), 0
    for b in blocks:
        H[k:k + b.shape[0], k:k + b.shape[0]] = b
        k += b.shape[0]
    return H / normalization


class SolveObjective(unittest.TestCase):
    def start(self):
        return [np.eye(a.shape[0]) for a in A]

    def check_minimiser(self, sol, summary):
        self.assertTrue(summary.converged, summary.full_report())
        for u, e in zip(sol.U, EXPECTED):
            np.testing.assert_allclose(u, e, rtol=1e-8, atol=1e-10)
        S_min = sum(N * a.shape[0] - N * np.linalg.slogdet(N * np.linalg.inv(a))[1] for a in A)
        self.assertAlmostEqual(sol.S, S_min, places=10)
        self.assertGreater(summary.hessian_min_eigenvalue, 0)  # a minimum

    def test_gradient_only(self):
        sol, summary = ap.solve_objective(evaluate, self.start())
        self.check_minimiser(sol, summary)

    def test_analytic_hessian(self):
        calls = []

        def h(U):
            calls.append(1)
            return hessian(U, normalization=2.0)

        sol, summary = ap.solve_objective(evaluate, self.start(), hessian=h, normalization=2.0)
        self.check_minimiser(sol, summary)
        self.assertGreater(len(calls), 0)  # the stability check used it
        # The smallest eigenvalue reported is that of the closed-form Hessian at the minimum.
        lam = np.linalg.eigvalsh(hessian(EXPECTED, normalization=2.0)).min()
        self.assertAlmostEqual(summary.hessian_min_eigenvalue, lam, delta=1e-6 * lam)

    def test_warm_start_from_options(self):
        o = ap.SolveOptions()
        o.initial_U = [e * 1.2 for e in EXPECTED]
        sol, summary = ap.solve_objective(evaluate, self.start(), options=o)
        self.check_minimiser(sol, summary)

    def test_exception_in_evaluate_is_reraised(self):
        class Boom(RuntimeError):
            pass

        def bad(U):
            raise Boom('from evaluate')

        with self.assertRaises(Boom):
            ap.solve_objective(bad, self.start())

    def test_wrong_return_form(self):
        with self.assertRaises(ap.Error) as cm:
            ap.solve_objective(lambda U: 1.0, self.start())
        self.assertIn('evaluate(U)', str(cm.exception))
        with self.assertRaises(ap.Error) as cm:
            ap.solve_objective(lambda U: (1.0, [np.eye(3)]), self.start())
        self.assertIn('evaluate(U)', str(cm.exception))

    def test_bad_arguments(self):
        with self.assertRaises(ap.Error) as cm:
            ap.solve_objective(3, self.start())
        self.assertIn('evaluate', str(cm.exception))
        with self.assertRaises(ap.Error):
            ap.solve_objective(evaluate, [])
        with self.assertRaises(ap.Error) as cm:
            ap.solve_objective(evaluate, self.start(), normalization=0.0)
        self.assertIn('normalization', str(cm.exception))
        o = ap.SolveOptions()
        o.initial_U = [np.eye(2)]
        with self.assertRaises(ap.Error) as cm:
            ap.solve_objective(evaluate, self.start(), options=o)
        self.assertIn('initial_U', str(cm.exception))


if __name__ == '__main__':
    unittest.main()
