"""The module's numbers equal the command line's on the same TOML study.

The attnpaths binary of the same build (ATTNPATHS_BIN) runs solve, gp, heads,
align and prune on small_hmm.toml; the module repeats each computation through
its own calls and must reproduce summary.json, the NPY arrays and the JSON
outputs (both run the same C++ code, so the tolerance is rounding only).
"""
import json
import os
import subprocess
import tempfile
import unittest

import numpy as np

import attnpaths as ap

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG = os.path.join(HERE, 'small_hmm.toml')
BIN = os.environ.get('ATTNPATHS_BIN', 'attnpaths')
RTOL = 1e-10


def run_cli(*args):
    r = subprocess.run([BIN, *args, '--quiet', '--json'], capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError(f'{args}: exit {r.returncode}: {r.stderr}')
    return json.loads(r.stdout)


class CliEquivalence(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.out = os.path.join(cls.tmp.name, 'solve')
        cls.cli = run_cli('solve', '--config', CONFIG, '--output', cls.out)

        s = cls.study = ap.load_study(CONFIG)
        cls.T = s.temperature
        cls.train = ap.compute_path_inputs(s.architecture, s.train.x, 'train')
        cls.test = ap.compute_path_inputs(s.architecture, s.test.x, 'test')
        cls.kernel = ap.PathKernel(cls.train, s.kernel)
        cls.action = ap.Action(s.architecture, cls.kernel, s.train.y, cls.T)
        cls.solution, cls.summary = ap.solve(cls.action, s.solve_options())
        cls.stats = ap.predict(cls.kernel, s.train.y, cls.T, cls.solution, cls.test, s.test.y)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def load(self, name):
        return np.load(os.path.join(self.out, name))

    def test_order_parameters_equal_the_npy_files(self):
        self.assertTrue(self.summary.converged, self.summary.full_report())
        self.assertEqual(len(self.solution.U), 2)
        for l, U in enumerate(self.solution.U, start=1):
            np.testing.assert_allclose(U, self.load(f'U_{l}.npy'), rtol=RTOL, atol=1e-14)
        self.assertAlmostEqual(self.solution.U_a, float(self.load('U_a.npy')), delta=1e-12)

    def test_predictions_equal_the_npy_files(self):
        np.testing.assert_allclose(self.stats.mean, self.load('test_mean.npy'), rtol=RTOL, atol=1e-13)
        np.testing.assert_allclose(self.stats.variance, self.load('test_variance.npy'),
                                   rtol=RTOL, atol=1e-13)

    def test_summary_json(self):
        with open(os.path.join(self.out, 'summary.json')) as f:
            j = json.load(f)
        self.assertEqual(j, {k: v for k, v in self.cli.items()})  # the file is what --json printed
        self.assertEqual(j['N'], self.study.architecture.widths[0])
        self.assertEqual(j['widths'], self.study.architecture.widths)
        self.assertEqual(j['temperature'], self.T)
        self.assertEqual(j['kernel_strategy'], self.kernel.strategy)
        # The last iterations run at rounding level (restarts, Newton polish), where
        # a different summation order in BLAS may add or save a step or two.
        self.assertLessEqual(abs(j['iterations'] - self.summary.iterations), 3)
        self.assertEqual(j['converged'], self.summary.converged)
        self.assertEqual(j['termination'], self.summary.termination)
        # Same wording; the gradient norm it quotes is compared below.
        self.assertEqual(j['message'].split('=')[0], self.summary.message.split('=')[0])
        self.assertAlmostEqual(j['action'], self.solution.action, delta=1e-9 * abs(j['action']))
        self.assertAlmostEqual(j['gradient_norm'], self.summary.gradient_norm, delta=1e-12)
        self.assertAlmostEqual(j['hessian_min_eigenvalue'], self.summary.hessian_min_eigenvalue,
                               delta=1e-8)
        self.assertEqual(j['test_accuracy'], self.stats.accuracy)
        self.assertAlmostEqual(j['generalization_error'], self.stats.generalization_error,
                               delta=1e-12)
        for U_json, U in zip(j['U'], self.solution.U):
            np.testing.assert_allclose(np.array(U_json), U, rtol=RTOL, atol=1e-14)

    def test_gp(self):
        cli = run_cli('gp', '--config', CONFIG, '--output', os.path.join(self.tmp.name, 'gp'))
        gp = ap.gp_limit(self.study.architecture)
        st = ap.predict(self.kernel, self.study.train.y, self.T, gp, self.test, self.study.test.y)
        self.assertIsNone(cli['N'])
        self.assertEqual(cli['test_accuracy'], st.accuracy)
        self.assertAlmostEqual(cli['generalization_error'], st.generalization_error, delta=1e-12)
        np.testing.assert_allclose(np.array(cli['U'][0]), gp.U[0], rtol=0, atol=0)
        np.testing.assert_allclose(np.load(os.path.join(self.tmp.name, 'gp', 'test_mean.npy')),
                                   st.mean, rtol=RTOL, atol=1e-13)

    def test_heads(self):
        cli = run_cli('heads', '--config', CONFIG, '--solution', self.out,
                      '--output', os.path.join(self.tmp.name, 'heads'))
        r = ap.score_heads(self.study.architecture, self.solution)
        self.assertEqual(cli['head_names'], r.names)
        np.testing.assert_allclose(np.array(cli['scores']), np.array(r.score), rtol=RTOL)
        ranking = r.ranking()
        self.assertEqual([h['name'] for h in cli['heads']], [h.name for h in ranking])
        self.assertEqual([(h['layer'], h['head']) for h in cli['heads']],
                         [(h.id.layer, h.id.head + 1) for h in ranking])
        self.assertEqual(cli['path_labels'], self.study.architecture.path_labels)
        pairs = ap.path_pair_view(self.study.architecture, self.solution)
        self.assertEqual([(p['row'], p['col']) for p in cli['path_pairs']],
                         [(p.row_label, p.col_label) for p in pairs])
        np.testing.assert_allclose([p['weight_share'] for p in cli['path_pairs']],
                                   [p.weight_share for p in pairs], rtol=RTOL)

    def test_align(self):
        cli = run_cli('align', '--config', CONFIG, '--solution', self.out, '--components', '10',
                      '--output', os.path.join(self.tmp.name, 'align'))
        y = self.study.train.y
        theory = ap.align_kernel(self.kernel.total(self.solution.U[0]), y, 10)
        gp = ap.align_kernel(self.kernel.total(ap.gp_limit(self.study.architecture).U[0]), y,
                             ap.AlignmentOptions(components=10))
        for name, a in (('theory', theory), ('gp', gp)):
            for field in ('eigenvalues', 'overlap', 'cumulative'):
                np.testing.assert_allclose(cli[name][field], getattr(a, field), rtol=1e-9,
                                           atol=1e-12, err_msg=f'{name}.{field}')
            self.assertAlmostEqual(cli[name]['kernel_target_alignment'],
                                   a.kernel_target_alignment, delta=1e-12)

    def test_prune_silencing(self):
        cli = run_cli('prune', '--config', CONFIG, '--solution', self.out, '--mode', 'silence',
                      '--random-repeats', '3', '--seed', '5',
                      '--output', os.path.join(self.tmp.name, 'prune'))
        s = self.study
        seen = []
        result, summary = ap.prune_by_silencing(
            s.architecture, self.kernel, s.train.y, self.T, self.solution, self.test, s.test.y,
            ap.PruningOptions(random_repeats=3, seed=5), progress=seen.append)
        curves = cli['modes']['silence']['curves']
        self.assertEqual(len(curves), len(result.curves))
        self.assertEqual(summary.curves, len(curves))
        self.assertEqual(len(seen), summary.steps + summary.curves)
        for c_cli, c in zip(curves, result.curves):
            self.assertEqual(c_cli['order'], c.order)
            self.assertEqual(c_cli['repeat'], c.repeat)
            names = [s.architecture.head_names[h.layer - 1][h.head] for h in c.sequence]
            self.assertEqual(c_cli['sequence'], names)
            self.assertEqual([st['test_accuracy'] for st in c_cli['steps']], list(c.accuracies))
            np.testing.assert_allclose([st['generalization_error'] for st in c_cli['steps']],
                                       [st.generalization_error for st in c.steps], rtol=RTOL)

    def test_prune_resolving(self):
        cli = run_cli('prune', '--config', CONFIG, '--solution', self.out, '--mode', 'resolve',
                      '--orders', 'increasing', 'decreasing',
                      '--output', os.path.join(self.tmp.name, 'prune-resolve'))
        s = self.study
        options = ap.PruningOptions(orders=['increasing', 'decreasing'])
        options.solve = s.solve_options()
        options.kernel = s.kernel
        result, summary = ap.prune_by_resolving(s.architecture, s.train.x, s.train.y, s.test.x,
                                                s.test.y, self.T, self.solution, options)
        self.assertEqual(result.mode, 'resolve')
        self.assertEqual(summary.not_converged, 0)
        for c_cli, c in zip(cli['modes']['resolve']['curves'], result.curves):
            self.assertEqual([st['test_accuracy'] for st in c_cli['steps']], list(c.accuracies))
            for st_cli, st in zip(c_cli['steps'][1:], c.steps[1:]):
                self.assertEqual(st_cli['iterations'], st.iterations)
                self.assertAlmostEqual(st_cli['action'], st.action, delta=1e-9 * abs(st.action))
        # From the precomputed kernel and test inputs (each reduced network's paths selected
        # from them): the same computation as from raw inputs, so the same numbers.
        from_kernel, _ = ap.prune_by_resolving(s.architecture, self.kernel, s.train.y, self.test,
                                               s.test.y, self.T, self.solution, options)
        for c_raw, c in zip(result.curves, from_kernel.curves):
            self.assertEqual(list(c_raw.accuracies), list(c.accuracies))
            self.assertEqual([st.action for st in c_raw.steps], [st.action for st in c.steps])


if __name__ == '__main__':
    unittest.main()
