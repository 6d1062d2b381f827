"""Invalid input raises attnpaths.Error (a ValueError) whose message names the
field, with the same text the command line prints after 'error: '."""
import os
import subprocess
import tempfile
import unittest

import numpy as np

import attnpaths as ap

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.environ.get('ATTNPATHS_BIN', 'attnpaths')
SOURCE = os.environ.get('ATTNPATHS_SOURCE_DIR', os.path.dirname(os.path.dirname(HERE)))
CLI_CONFIGS = os.path.join(SOURCE, 'tests', 'cli', 'configs')


def small_problem(P=6, n_tok=3, N0=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(P, n_tok, N0))
    y = np.where(np.arange(P) % 2 == 0, 1.0, -1.0)
    arch = ap.Architecture([[ap.w_head(rng.normal(size=(N0, N0)), name='w'), ap.uniform_head()]],
                           N=10)
    return x, y, arch


class ErrorTranslation(unittest.TestCase):
    def assertError(self, fragment, fn, *args, **kwargs):
        with self.assertRaises(ap.Error) as cm:
            fn(*args, **kwargs)
        self.assertIn(fragment, str(cm.exception))
        return str(cm.exception)

    def test_error_is_a_value_error(self):
        self.assertTrue(issubclass(ap.Error, ValueError))
        self.assertIn('names the field', ap.Error.__doc__)
        with self.assertRaises(ValueError):
            ap.Architecture([[ap.uniform_head()]], readout='middle')

    def test_study_errors_match_the_cli(self):
        # The same files the CLI error tests use: identical messages.
        for name in ('unknown_key', 'negative_temperature', 'zero_width', 'unknown_head',
                     'bad_syntax', 'missing_npy', 'negative_variance'):
            path = os.path.join(CLI_CONFIGS, name + '.toml')
            r = subprocess.run([BIN, 'solve', '--config', path, '--quiet'], capture_output=True,
                               text=True, cwd=tempfile.gettempdir())
            self.assertEqual(r.returncode, 2, name)
            self.assertTrue(r.stderr.startswith('error: '), r.stderr)
            with self.assertRaises(ap.Error, msg=name) as cm:
                ap.load_study(path)
            self.assertEqual(str(cm.exception), r.stderr[len('error: '):].rstrip('\n'), name)
        with self.assertRaises(ap.Error) as cm:
            ap.load_study(os.path.join(CLI_CONFIGS, 'unknown_key.toml'))
        self.assertIn('did you mean "temperature"', str(cm.exception))

    def test_parse_study_names_the_text(self):
        msg = self.assertError('architecture.widths[0]: found 0', ap.parse_study,
                               '[data]\ngenerator = "hmm"\n[architecture]\nwidths = [0, 1]\n'
                               '[[architecture.layers]]\nheads = [ { kind = "hmm_uniform" } ]\n',
                               name='inline.toml')
        self.assertIn('inline.toml', msg)

    def test_inputs(self):
        self.assertError('x: found a 2-D array of shape (3, 4), expected a 3-D array',
                         ap.Inputs, np.zeros((3, 4)))
        self.assertError('x: found None', ap.Inputs, None)
        self.assertError('x: found an array of dtype complex128', ap.Inputs,
                         np.zeros((2, 3, 4), complex))
        self.assertError("x: found an object of type str", ap.Inputs, 'abc')
        x = np.zeros((2, 3, 4))
        x[1, 2, 3] = np.nan
        self.assertError('x[1,2,3]: found nan, expected a finite number', ap.Inputs, x)
        _, _, arch = small_problem()
        self.assertError('x_train: found a 1-D array', ap.prune_by_resolving, arch, np.zeros(3),
                         np.zeros(3), np.zeros((1, 3, 4)), np.zeros(1), 0.1,
                         ap.gp_limit(arch))

    def test_architecture(self):
        x, y, arch = small_problem()
        arch.widths = [10, 10, 10]
        self.assertError('architecture.widths count: found 3, expected 2', arch.validate, 4, 3)
        arch = ap.Architecture([[ap.w_head(np.eye(5))]], N=10)
        self.assertError('.W shape: found 5 x 5, expected 4 x 4', ap.compute_path_inputs, arch, x)
        arch = ap.Architecture([[ap.uniform_head()]], N=10, variances=[1, -1, 1])
        self.assertError('architecture.variances[1]: found -1', arch.validate, 4, 3)
        self.assertError('Architecture.readout: found "middle", expected one of mean, first, last',
                         ap.Architecture, [[ap.uniform_head()]], readout='middle')
        self.assertError('HeadSpec.kind: found "softmaxx"', ap.HeadSpec, kind='softmaxx')
        self.assertError('HeadSpec.normalization: found "sparsemax", expected one of softmax, '
                         'hardmax', ap.blank_head, normalization='sparsemax')
        self.assertError('HeadSpec.W: found a 1-D array', ap.w_head, np.ones(4))
        bad = np.full((2, 3, 3), 1 / 3)
        bad[0, 1, :] = 0.4  # query 1's weights over keys sum to 1.2
        arch = ap.Architecture([[ap.given_head(bad)]], N=10)
        self.assertError('weights sum: found 1.2', ap.compute_path_inputs, arch, x[:2])

    def test_labels_and_temperature(self):
        x, y, arch = small_problem()
        kernel = ap.PathKernel(ap.compute_path_inputs(arch, x))
        self.assertError('y rows: found 5, expected 6', ap.Action, arch, kernel, y[:5], 0.1)
        y_nan = y.copy()
        y_nan[3] = np.inf
        self.assertError('y[3,0]: found inf', ap.Action, arch, kernel, y_nan, 0.1)
        self.assertError('temperature', ap.Action, arch, kernel, y, -1.0)
        self.assertError('y: found an object of type dict', ap.Action, arch, kernel, {}, 0.1)
        test = ap.compute_path_inputs(arch, x, 'test')
        U = ap.gp_limit(arch).U[0]
        self.assertError('y_test', ap.predict, kernel, y, 0.1, U, test, y[:2])
        self.assertError('U shape: found 3 x 3', kernel.total, np.eye(3))
        self.assertError('U1: found a 3-D array', ap.predict, kernel, y, 0.1, np.zeros((2, 2, 2)),
                         test)

    def test_options(self):
        self.assertError('solver.gradient_tolerance: found -1',
                         ap.SolveOptions(gradient_tolerance=-1).validate)
        self.assertFalse(ap.SolveOptions(max_iterations=-3).is_valid())
        msg = self.assertError('SolveOptions.gradient_tolerence: found an unknown keyword',
                               ap.SolveOptions, gradient_tolerence=1e-6)
        self.assertIn('did you mean "gradient_tolerance"', msg)
        self.assertError('SolveOptions.method: found "newton", expected one of lbfgs, bfgs',
                         ap.SolveOptions, method='newton')
        self.assertError('SolveOptions.progress: found an object of type int',
                         ap.SolveOptions, progress=3)
        self.assertError('target_accept: found 1.5', ap.SampleOptions(target_accept=1.5).validate)
        self.assertError('SampleOptions.sampled_weights: found "some"', ap.SampleOptions,
                         sampled_weights='some')
        self.assertError('KernelOptions.strategy: found "fastest"', ap.KernelOptions,
                         strategy='fastest')
        self.assertError('PruningOptions.orders[1]: found "upwards"', ap.PruningOptions,
                         orders=['increasing', 'upwards'])
        self.assertError('hmm.N_f: found 3', ap.generate_hmm_task, N_f=3)
        self.assertError('HmmTaskOptions.PP: found an unknown keyword', ap.generate_hmm_task, PP=3)

    def test_run_time_errors(self):
        x, y, arch = small_problem()
        kernel = ap.PathKernel(ap.compute_path_inputs(arch, x))
        action = ap.Action(arch, kernel, y, 0.1)
        self.assertError('solver.max_iterations', ap.solve, action, ap.SolveOptions(max_iterations=-1))
        self.assertError('U_1 shape: found 3 x 3, expected 2 x 2', action.evaluate, [np.eye(3)])
        arch.widths = [10.5, 10]
        train = ap.compute_path_inputs(arch, x)
        self.assertError('an integer width', ap.sample, arch, train, y, 0.1, train,
                         ap.SampleOptions(num_warmup=10, num_samples=10))
        self.assertError('kernel memory', ap.PathKernel, train,
                         ap.KernelOptions(memory_limit_bytes=10))
        self.assertError('example: found 6', ap.attention_matrix, arch.layers[0][0], x, 6)
        self.assertError('split: found "valid", expected one of train, test',
                         ap.compute_path_inputs, arch, x, 'valid')
        self.assertError('pruned heads of layer 1', ap.remove_heads,
                         ap.Architecture([[ap.uniform_head()]], N=3), [(1, 0)])
        self.assertError('pruned[0]: found an object of type str', ap.silence_heads, arch,
                         np.eye(2), ['x'])

    def test_type_errors_stay_type_errors(self):
        with self.assertRaises(TypeError):
            ap.solve(42)  # neither an Action nor a Study nor a study file's path
        x, y, arch = small_problem()
        with self.assertRaises(TypeError):
            ap.Action(arch, 'not a kernel', y, 0.1)


if __name__ == '__main__':
    unittest.main()
