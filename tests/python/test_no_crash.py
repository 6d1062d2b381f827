"""No input to the module crashes the interpreter (issue 11 section 5).

Explicit cases: every index accessor raises attnpaths.Error for an index out of
range, sizes beyond the generator limit are refused before allocating, labels
follow the task's convention, overflow names the head. Then a fuzz pass: every
function and method of the module is called with random arguments drawn from
valid objects and bad values, each call in a forked child; a child killed by a
signal (SIGSEGV, SIGABRT, ...) is a failure, any Python exception is fine.
"""
import inspect
import os
import random
import signal
import unittest

import numpy as np

import attnpaths as ap


def small_problem(P=8, n_tok=3, N0=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(P, n_tok, N0))
    y = np.where(np.arange(P) % 2 == 0, 1.0, -1.0)
    arch = ap.Architecture([[ap.w_head(rng.normal(size=(N0, N0)), name='w'), ap.uniform_head()]],
                           N=10)
    return x, y, arch


class IndexAccessors(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.x, cls.y, cls.arch = small_problem()
        cls.xi = ap.compute_path_inputs(cls.arch, cls.x)
        cls.kernel = ap.PathKernel(cls.xi)

    def assertError(self, fragment, fn, *args, **kwargs):
        with self.assertRaises(ap.Error) as cm:
            fn(*args, **kwargs)
        self.assertIn(fragment, str(cm.exception))

    def test_path_kernel_pair(self):
        self.assertError('path p: found 100000, expected a path index in [0, 2)',
                         self.kernel.pair, 100000, 1)
        self.assertError('path q: found 5', self.kernel.pair, 0, 5)
        self.assertError('path p: found -1', self.kernel.pair, -1, 0)
        factored = ap.PathKernel(self.xi, ap.KernelOptions(strategy='factored'))
        self.assertError('path q: found 2', factored.pair, 1, 2)
        # In range: C_pq = xi_p xi_q^T, both strategies.
        xi = self.xi.xi
        np.testing.assert_allclose(self.kernel.pair(0, 1), xi[:, :4] @ xi[:, 4:].T, rtol=1e-13)
        np.testing.assert_allclose(factored.pair(1, 0), xi[:, 4:] @ xi[:, :4].T, rtol=1e-13)

    def test_paths(self):
        paths = ap.Paths([2, 3])
        self.assertEqual([paths.m(1), paths.m(2), paths.m(3)], [6, 3, 1])
        for l in (0, -1, 4, 10**6):
            self.assertError(f'layer l of m_l: found {l}', paths.m, l)
        self.assertError('path index: found 6', paths.heads, 6)
        self.assertError('path index: found -1', paths.label, -1, [['a', 'b'], ['c', 'd', 'e']])
        self.assertError('head of layer 2: found 3', paths.pack, [0, 3])
        self.assertError('heads in layer 2: found 1048576', ap.Paths, [2**20, 2**20, 2**20])

    def test_inputs_and_path_inputs(self):
        x = ap.Inputs(self.x)
        self.assertError('example: found 8', x.example, 8)
        self.assertError('example: found -1', x.example, -1)
        self.assertError('example index: found 8', x.select, [0, 8])
        self.assertError('path: found 2', self.xi.path, 2)
        self.assertError('example: found 8', ap.attention_matrix, self.arch.layers[0][0], self.x, 8)
        self.assertError('example: found -2', ap.path_token_weights, self.arch, self.x, -2)

    def test_sizes(self):
        limit = 'expected at most 2^28 = 268435456 values (2 GiB) from a built-in generator'
        self.assertError(limit, ap.generate_hmm_task, P=10**12)
        self.assertError(limit, ap.Inputs, 10**6, 10**3, 10**3)
        self.assertError('sizes >= 0', ap.Inputs, -1, 3, 4)
        self.assertError(limit, ap.hmm_head, 'same_token', 10**6, 10)
        self.assertError('hmm.P: found 0', ap.generate_hmm_task, P=0)

    def test_labels(self):
        test = ap.compute_path_inputs(self.arch, self.x[:4], 'test')
        U = ap.gp_limit(self.arch)
        self.assertError('y: found labels in {0, 1}, expected class labels +1 and -1 (convert with '
                         'y = 2*y - 1)', ap.predict, self.kernel, (self.y + 1) / 2, 0.1, U, test)
        self.assertError('y_test: found labels in {0, 1}', ap.predict, self.kernel, self.y, 0.1, U,
                         test, (self.y[:4] + 1) / 2)
        self.assertError('task: found "regresion"', ap.predict, self.kernel, self.y, 0.1, U, test,
                         task='regresion')
        st = ap.predict(self.kernel, 0.3 * self.y + 0.1, 0.1, U, test, self.y[:4] * 2,
                        task='regression')
        self.assertTrue(np.isnan(st.accuracy))
        self.assertTrue(np.isfinite(st.generalization_error))
        self.assertError('y_test: found labels in {0, 1}', ap.accuracy, np.ones(3), [0, 1, 1])

    def test_overflow_names_the_head(self):
        rng = np.random.default_rng(1)
        arch = ap.Architecture([[ap.w_head(rng.normal(size=(4, 4)), beta=1e308, name='hot')]],
                               N=10)
        self.assertError('layer 1 head 1 (hot, kind w, beta = 1e+308): found attention that is not '
                         'finite', ap.compute_path_inputs, arch, self.x)
        big = ap.Architecture([[ap.uniform_head()]], N=10)
        self.assertError('x example 0: found path inputs whose squared norm', ap.compute_path_inputs,
                         big, self.x * 1e200)

    def test_given_attention_layout(self):
        # [example, query, key] with rows summing to one, as the TOML files: a head that
        # attends to the first key only has a[:, :, 0] = 1.
        a = np.zeros((8, 3, 3))
        a[:, :, 0] = 1
        head = ap.given_head(a)
        np.testing.assert_array_equal(head.given_train, a)
        np.testing.assert_array_equal(ap.attention_matrix(head, self.x, 2), a[2])
        arch = ap.Architecture([[head]], readout='last', N=10)
        w = ap.path_token_weights(arch, self.x, 0)
        np.testing.assert_array_equal(w[:, 0], [1, 0, 0])  # the last query reads token 0
        transposed = np.transpose(a, (0, 2, 1))
        self.assertError('weights sum: found 3', ap.compute_path_inputs,
                         ap.Architecture([[ap.given_head(transposed)]], N=10), self.x)


# ------------------------------------------------------------------ fuzz
def candidates():
    x, y, arch = small_problem()
    xi = ap.compute_path_inputs(arch, x)
    kernel = ap.PathKernel(xi)
    action = ap.Action(arch, kernel, y, 0.1)
    U = ap.gp_limit(arch)
    valid = [x, y, arch, xi, kernel, action, U, ap.Inputs(x), ap.Paths([2, 1]), arch.layers[0][0],
             ap.uniform_head(), ap.KernelOptions(), 0.1, 1, 2, 'train', 'softmax', 'last', True,
             [0, 1], [[0]], np.eye(2), np.eye(4), U.U[0]]
    bad = [-1, 0, 10**12, 2**63 - 1, -(2**63), 1e308, -1e308, float('nan'), float('inf'), None,
           '', 'nonsense', [], [[]], [-1, 10**9], np.zeros(0), np.zeros((0, 3, 4)),
           np.zeros((2, 2, 2)), np.full((3, 3), np.nan), np.ones((10**3, 1)), b'bytes',
           object(), np.array([1 + 2j]), np.array(['a', 'b']), np.zeros((2, 0)), {'a': 1}]
    return valid + bad


def callables():
    out = []
    for name, obj in sorted(vars(ap).items()):
        if name.startswith('_') or name in ('sample', 'solve', 'prune_by_resolving',
                                            'prune_by_silencing', 'load_study', 'log_progress',
                                            'head_count_study', 'attention_growth_study'):
            continue  # long-running or file-reading; exercised by their own tests
        if inspect.isclass(obj):
            if issubclass(obj, BaseException):
                continue
            out.append((name, obj))
        elif callable(obj):
            out.append((name, obj))
    return out


def methods(instances):
    out = []
    for inst in instances:
        for name in dir(inst):
            if name.startswith('_') and name not in ('__array__', '__len__', '__repr__'):
                continue
            try:
                attr = getattr(inst, name)
            except Exception:
                continue
            if callable(attr) and not inspect.isclass(attr):
                out.append((f'{type(inst).__name__}.{name}', attr))
    return out


def survives(fn, args, kwargs):
    """Runs fn in a forked child; returns None, or the signal that killed it."""
    pid = os.fork()
    if pid == 0:
        signal.alarm(20)
        try:
            fn(*args, **kwargs)
        except BaseException:
            pass
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return os.WTERMSIG(status)
    return None


class Fuzz(unittest.TestCase):
    def test_random_arguments_never_crash(self):
        rng = random.Random(11)
        pool = candidates()
        x, y, arch = small_problem()
        instances = [ap.Inputs(x), ap.Paths([2, 1]), ap.PathKernel(ap.compute_path_inputs(arch, x)),
                     ap.compute_path_inputs(arch, x), arch, arch.layers[0][0], ap.gp_limit(arch),
                     ap.KernelOptions(), ap.SolveOptions(), ap.HmmTaskOptions()]
        targets = callables() + methods(instances)
        crashes = []
        calls = 0
        for name, fn in targets:
            for _ in range(25):
                k = rng.randint(0, 4)
                args = [rng.choice(pool) for _ in range(k)]
                calls += 1
                sig = survives(fn, args, {})
                if sig is not None:
                    crashes.append(f'{name}{tuple(type(a).__name__ for a in args)}: signal {sig}'
                                   f' ({"timeout" if sig == signal.SIGALRM else "crash"})')
        print(f'\n{calls} random calls of {len(targets)} functions and methods')
        self.assertEqual(crashes, [])


if __name__ == '__main__':
    unittest.main()
