"""NumPy arrays in and out: layouts, dtypes, views without copies, round trips."""
import unittest

import numpy as np

import attnpaths as ap


class Inputs(unittest.TestCase):
    def setUp(self):
        self.x = np.random.default_rng(1).normal(size=(5, 3, 4))

    def test_round_trip_and_layout(self):
        inputs = ap.Inputs(self.x)
        self.assertEqual((inputs.P, inputs.n_tok, inputs.N0), (5, 3, 4))
        self.assertEqual(len(inputs), 5)
        np.testing.assert_array_equal(inputs.array, self.x)
        np.testing.assert_array_equal(np.asarray(inputs), self.x)
        # example(mu) is theory.md's N0 x n_tok matrix: [i, t] = feature i of token t.
        np.testing.assert_array_equal(inputs.example(2), self.x[2].T)
        self.assertEqual(repr(inputs), 'Inputs(P=5, n_tok=3, N0=4)')

    def test_other_dtypes_and_orders_convert(self):
        for a in (np.asfortranarray(self.x), self.x.astype(np.float32), self.x[:, ::-1, :],
                  (self.x > 0).astype(np.int16), self.x > 0, self.x.tolist()):
            np.testing.assert_array_equal(ap.Inputs(a).array, np.asarray(a, dtype=np.float64))

    def test_array_is_a_view(self):
        inputs = ap.Inputs(self.x)
        a, b = inputs.array, inputs.array
        self.assertTrue(np.shares_memory(a, b))
        self.assertFalse(np.shares_memory(a, self.x))  # Inputs owns a copy
        a[0, 1, 2] = 42.0
        self.assertEqual(inputs.example(0)[2, 1], 42.0)
        self.assertFalse(inputs.example(0).flags.writeable)
        del inputs
        self.assertEqual(a[0, 1, 2], 42.0)  # the view keeps the Inputs alive

    def test_zero_filled_and_select(self):
        z = ap.Inputs(2, 3, 4)
        np.testing.assert_array_equal(z.array, np.zeros((2, 3, 4)))
        s = ap.Inputs(self.x).select([4, 0])
        np.testing.assert_array_equal(s.array, self.x[[4, 0]])

    def test_inputs_objects_pass_without_copy(self):
        arch = ap.Architecture([[ap.uniform_head()]], N=10)
        inputs = ap.Inputs(self.x)
        a = ap.compute_path_inputs(arch, inputs)
        b = ap.compute_path_inputs(arch, self.x)
        np.testing.assert_array_equal(a.xi, b.xi)


class Matrices(unittest.TestCase):
    def test_head_matrices(self):
        rng = np.random.default_rng(2)
        W, Q, K = rng.normal(size=(4, 4)), rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
        h = ap.w_head(W, beta=2.5, name='w1')
        np.testing.assert_array_equal(h.W, W)
        self.assertIsNone(h.Q)
        self.assertEqual((h.kind, h.name, h.beta, h.normalization, h.causal),
                         ('w', 'w1', 2.5, 'softmax', False))
        h.W = np.asfortranarray(2 * W)
        np.testing.assert_array_equal(h.W, 2 * W)
        q = ap.qk_head(Q, K, name='qk', normalization='hardmax', causal=True)
        np.testing.assert_array_equal(q.Q, Q)
        np.testing.assert_array_equal(q.K, K)
        self.assertEqual(repr(q), "HeadSpec(kind='qk', name='qk', beta=1.0, Q: 2x4, "
                                  "normalization='hardmax', causal=True)")
        h.W = None
        self.assertIsNone(h.W)

    def test_given_attention_round_trip(self):
        rng = np.random.default_rng(3)
        a = rng.random(size=(5, 3, 3))
        a /= a.sum(axis=2, keepdims=True)  # [example, query, key]: rows (over keys) sum to one
        h = ap.given_head(a, a[:2])
        np.testing.assert_array_equal(h.given_train, a)
        np.testing.assert_array_equal(h.given_test, a[:2])
        x = rng.normal(size=(5, 3, 4))
        for mu in range(5):
            np.testing.assert_allclose(ap.attention_matrix(h, x, mu), a[mu], rtol=0, atol=0)
        np.testing.assert_array_equal(ap.attention_matrix(h, x[:2], 1, 'test'), a[1])

    def test_architecture_lists(self):
        heads = [[ap.uniform_head('u'), ap.blank_head('b')], [ap.uniform_head('v')]]
        arch = ap.Architecture(heads, readout='mean', N=30, variance=2.0)
        self.assertEqual(arch.widths, [30, 30, 30])
        self.assertEqual(arch.variances, [2.0] * 4)
        self.assertEqual((arch.L, arch.Htot, arch.heads_per_layer, arch.n_max), (2, 2, [2, 1], 30))
        self.assertEqual(arch.head_names, [['u', 'b'], ['v']])
        self.assertEqual(arch.path_labels, ['u>v', 'b>v'])
        layers = arch.layers  # copies: changing them does not change arch
        layers[0][0].name = 'changed'
        self.assertEqual(arch.layers[0][0].name, 'u')
        arch.layers = layers
        self.assertEqual(arch.layers[0][0].name, 'changed')
        self.assertEqual(repr(arch), "Architecture(H=(2, 1), readout='mean', widths=[30.0, 30.0, "
                                     "30.0], variances=[2.0, 2.0, 2.0, 2.0])")

    def test_order_parameters(self):
        U = [np.array([[2.0, 0.5], [0.5, 1.0]]), np.array([[3.0]])]
        op = ap.OrderParameters(U, U_a=0.7)
        for a, b in zip(op.U, U):
            np.testing.assert_array_equal(a, b)
            self.assertFalse(a.flags.writeable)
        self.assertEqual(op.U_a, 0.7)
        self.assertEqual(repr(op), 'OrderParameters(U: [2x2, 1x1], U_a=0.7)')
        opts = ap.SolveOptions(initial_U=U)
        np.testing.assert_array_equal(opts.initial_U[0], U[0])
        self.assertTrue(opts.newton_from_initial)
        self.assertEqual(opts.hessian_reuse, 0.25)
        opts = ap.SolveOptions(newton_from_initial=False, hessian_reuse=0.0)
        self.assertEqual((opts.newton_from_initial, opts.hessian_reuse), (False, 0.0))
        self.assertFalse(ap.SolveOptions(hessian_reuse=1.0).is_valid())

    def test_path_inputs_views(self):
        rng = np.random.default_rng(4)
        x = rng.normal(size=(6, 3, 4))
        arch = ap.Architecture([[ap.w_head(rng.normal(size=(4, 4))), ap.uniform_head()],
                                [ap.uniform_head(), ap.blank_head()]], N=10)
        xi = ap.compute_path_inputs(arch, x)
        self.assertEqual((xi.P, xi.Htot, xi.N0), (6, 4, 4))
        self.assertEqual(xi.xi.shape, (6, 16))
        self.assertTrue(np.shares_memory(xi.xi, xi.xi))
        self.assertFalse(xi.xi.flags.writeable)
        for p in range(4):
            np.testing.assert_array_equal(xi.path(p), xi.xi[:, 4 * p:4 * (p + 1)])
            self.assertTrue(np.shares_memory(xi.path(p), xi.xi))
        again = ap.PathInputs(xi.xi, 4)
        np.testing.assert_array_equal(again.xi, xi.xi)
        kernel = ap.PathKernel(xi)
        self.assertTrue(np.shares_memory(kernel.inputs.xi, kernel.inputs.xi))
        np.testing.assert_array_equal(kernel.inputs.xi, xi.xi)

    def test_results_are_views_and_arrays_in_any_layout(self):
        rng = np.random.default_rng(5)
        x = rng.normal(size=(8, 3, 4))
        y = np.where(np.arange(8) < 4, 1.0, -1.0)
        arch = ap.Architecture([[ap.w_head(rng.normal(size=(4, 4))), ap.uniform_head()]], N=10)
        kernel = ap.PathKernel(ap.compute_path_inputs(arch, x))
        U = np.array([[1.0, 0.3], [0.3, 2.0]])
        K = kernel.total(U)
        np.testing.assert_array_equal(K, kernel.total(np.asfortranarray(U)))
        np.testing.assert_array_equal(K, kernel.total(U.tolist()))
        self.assertEqual(K.dtype, np.float64)
        self.assertTrue(K.flags.writeable)  # a fresh result, moved out without a copy
        test = ap.compute_path_inputs(arch, x[:3], 'test')
        st = ap.predict(kernel, y.reshape(-1, 1), 0.1, U, test, y[:3])
        st2 = ap.predict(kernel, y, 0.1, U, test, y[:3].reshape(-1, 1))
        np.testing.assert_array_equal(st.mean, st2.mean)
        self.assertEqual(st.mean.shape, (3, 1))
        self.assertEqual(st.variance.shape, (3,))
        self.assertTrue(np.shares_memory(st.mean, st.mean))
        self.assertFalse(st.mean.flags.writeable)


if __name__ == '__main__':
    unittest.main()
