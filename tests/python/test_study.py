"""One call on a study: solve(study), predict_fn(study, solution), sweep(study),
compare(study), gp(study), heads(study), pruning(study) and alignment(study).

They call the library functions the command line calls (study/), so their files
and numbers must equal the attnpaths binary's (ATTNPATHS_BIN) for the same TOML
file to the last digit: every NPY array and HDF5 dataset bit for bit, every JSON
entry but the provenance (which names the call), timings (seconds, cpu_seconds)
and the files' fingerprints (which cover the provenance). The predictor is also checked against an independent
route: the module's low-level calls (compute_path_inputs, PathKernel, predict).
"""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import numpy as np

import attnpaths as ap

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG = os.path.join(HERE, 'small_hmm.toml')
SWEEP = os.path.join(HERE, 'small_sweep.toml')
BIN = os.environ.get('ATTNPATHS_BIN', 'attnpaths')
VOLATILE = ('provenance', 'seconds', 'cpu_seconds', 'files')


def run_cli(*args):
    r = subprocess.run([BIN, *args, '--quiet'], capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError(f'{args}: exit {r.returncode}: {r.stderr}')
    return r.stdout


def strip(j):
    if isinstance(j, dict):
        return {k: strip(v) for k, v in j.items() if k not in VOLATILE}
    if isinstance(j, list):
        return [strip(v) for v in j]
    return j


def load_json(path):
    with open(path) as f:
        return json.load(f)


def csv_rows(path):
    with open(path) as f:
        return [line for line in f if not line.startswith('#')]


class SameFolders(unittest.TestCase):
    def assertSameFolders(self, a, b):
        names_a = sorted(os.listdir(a))
        self.assertEqual(names_a, sorted(os.listdir(b)))
        for name in names_a:
            pa, pb = os.path.join(a, name), os.path.join(b, name)
            if os.path.isdir(pa):
                self.assertSameFolders(pa, pb)
            elif name.endswith('.npy'):
                x, y = np.load(pa), np.load(pb)
                self.assertEqual(x.shape, y.shape, name)
                self.assertTrue(np.array_equal(x, y, equal_nan=True), name)
            elif name.endswith('.json'):
                self.assertEqual(strip(load_json(pa)), strip(load_json(pb)), name)
            elif name.endswith('.csv'):
                self.assertEqual(csv_rows(pa), csv_rows(pb), name)
            elif name.endswith('.h5'):
                import h5py
                with h5py.File(pa) as x, h5py.File(pb) as y:
                    self.assertEqual(sorted(x), sorted(y), name)
                    for key in x:
                        self.assertTrue(np.array_equal(x[key][()], y[key][()]), f'{name}:{key}')


class Solve(SameFolders):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.cli_dir = os.path.join(cls.tmp.name, 'cli')
        cls.py_dir = os.path.join(cls.tmp.name, 'py')
        run_cli('solve', '--config', CONFIG, '--output', cls.cli_dir)
        cls.sol = ap.solve(CONFIG, output=cls.py_dir)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_files_equal_the_command_lines(self):
        self.assertTrue(self.sol.converged, self.sol.summary.full_report())
        self.assertEqual(self.sol.output, self.py_dir)
        self.assertSameFolders(self.cli_dir, self.py_dir)
        # The provenance says which call wrote the folder.
        summary = load_json(os.path.join(self.py_dir, 'summary.json'))
        self.assertEqual(summary['provenance']['command_line'], ['python', 'attnpaths.solve'])

    def test_results_equal_the_files(self):
        for l, U in enumerate(self.sol.solution.U, start=1):
            self.assertTrue(np.array_equal(U, np.load(os.path.join(self.cli_dir, f'U_{l}.npy'))))
        self.assertTrue(np.array_equal(self.sol.test.mean,
                                       np.load(os.path.join(self.cli_dir, 'test_mean.npy'))))
        summary = load_json(os.path.join(self.cli_dir, 'summary.json'))
        self.assertEqual(self.sol.test.accuracy, summary['test_accuracy'])
        self.assertEqual(self.sol.solution.action, summary['action'])

    def test_predictor_equals_the_low_level_route(self):
        # Independent route: path inputs, kernel and predict called one by one.
        s = ap.load_study(CONFIG)
        kernel = ap.PathKernel(ap.compute_path_inputs(s.architecture, s.train.x, 'train'),
                               s.kernel)
        test = ap.compute_path_inputs(s.architecture, s.test.x, 'test')
        ref = ap.predict(kernel, s.train.y, s.temperature, self.sol.solution, test, s.test.y)
        for st in (self.sol.test, self.sol.predict(), self.sol.predict(s.test.x, s.test.y),
                   ap.predict_fn(s, self.py_dir)(s.test.x.array, s.test.y)):
            self.assertTrue(np.array_equal(st.mean, ref.mean))
            self.assertTrue(np.array_equal(st.variance, ref.variance))
            self.assertTrue(np.array_equal(st.covariance, ref.covariance))
            self.assertEqual(st.accuracy, ref.accuracy)
            self.assertEqual(st.generalization_error, ref.generalization_error)

    def test_predict_fn_equals_attnpaths_predict(self):
        # New inputs: the first 17 test examples, as `attnpaths predict --test-x`.
        s = ap.load_study(CONFIG)
        x, y = s.test.x.array[:17], s.test.y[:17]
        xf, yf = os.path.join(self.tmp.name, 'x.npy'), os.path.join(self.tmp.name, 'y.npy')
        np.save(xf, x)
        np.save(yf, y)
        out = os.path.join(self.tmp.name, 'predict')
        run_cli('predict', '--config', CONFIG, '--solution', self.cli_dir, '--test-x', xf,
                '--test-y', yf, '--output', out)
        fn = ap.predict_fn(CONFIG, self.cli_dir)
        self.assertEqual(fn.temperature, s.temperature)
        st = fn(x, y)
        self.assertTrue(np.array_equal(st.mean, np.load(os.path.join(out, 'predict_mean.npy'))))
        self.assertTrue(np.array_equal(st.variance,
                                       np.load(os.path.join(out, 'predict_variance.npy'))))
        self.assertTrue(np.array_equal(st.covariance,
                                       np.load(os.path.join(out, 'predict_covariance.npy'))))
        self.assertEqual(st.accuracy, load_json(os.path.join(out, 'predict.json'))['test_accuracy'])
        # The same predictor from the solution object and from solving again.
        self.assertIs(ap.predict_fn(CONFIG, self.sol), self.sol.predictor)
        again = ap.predict_fn(CONFIG)(x)
        self.assertTrue(np.array_equal(again.mean, st.mean))
        self.assertTrue(np.isnan(again.accuracy))  # no labels given

    def test_a_file_without_records_warns(self):
        d = os.path.join(self.tmp.name, 'bare')
        shutil.copytree(self.cli_dir, d)
        summary = load_json(os.path.join(d, 'summary.json'))
        del summary['solved_for'], summary['files']
        with open(os.path.join(d, 'summary.json'), 'w') as f:
            json.dump(summary, f)
        with self.assertWarnsRegex(UserWarning, 'lacks solved_for or files'):
            fn = ap.predict_fn(CONFIG, d)
        self.assertTrue(np.array_equal(fn().mean, self.sol.test.mean))

    def test_a_sweep_point_is_a_solution(self):
        with tempfile.TemporaryDirectory() as d:
            r, _ = ap.sweep(CONFIG, widths=[10], output=d)
            point = os.path.join(d, 'points', 'N10_T0.01.json')
            fn = ap.predict_fn(CONFIG, point)
            np.testing.assert_array_equal(fn.U1, np.array(r.points[0]['U'][0]))
            self.assertTrue(np.array_equal(fn().mean, self.sol.test.mean))
            # attnpaths predict reads the point file too (its output folder must be named).
            out = os.path.join(d, 'predicted')
            run_cli('predict', '--config', CONFIG, '--solution', point, '--output', out)
            self.assertTrue(np.array_equal(np.load(os.path.join(out, 'predict_mean.npy')),
                                           fn().mean))
            r = subprocess.run([BIN, 'predict', '--config', CONFIG, '--solution', point],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 2)
            self.assertEqual(r.stderr, 'error: --output: found nothing, expected an output '
                             'directory when --solution is a JSON file\n')


class Sweep(SameFolders):
    def test_folder_equals_the_command_lines(self):
        with tempfile.TemporaryDirectory() as d:
            cli, py = os.path.join(d, 'cli'), os.path.join(d, 'py')
            stdout = run_cli('sweep', '--config', SWEEP, '--output', cli, '--widths', '30', '10',
                             '--temperatures', '0.1', '0.01')
            seen = []
            r, summary = ap.sweep(SWEEP, widths=[30, 10], temperatures=[0.1, 0.01], output=py,
                                  progress=seen.append)
            self.assertSameFolders(cli, py)
            self.assertEqual((summary.points, summary.solved, summary.loaded), (4, 4, 0))
            self.assertTrue(summary.all_converged, summary.full_report())
            # What the command printed is the CSV without its provenance line.
            self.assertEqual(stdout.splitlines()[:5], r.csv.splitlines()[1:])
            self.assertEqual(strip(r.json), strip(load_json(os.path.join(cli, 'sweep.json'))))
            self.assertEqual([(p['N'], p['temperature']) for p in r.points],
                             [(30, 0.1), (10, 0.1), (30, 0.01), (10, 0.01)])
            # The table as arrays: the CSV's columns (read back from its text) and the points.
            a = r.arrays()
            table = np.genfromtxt(os.path.join(cli, 'sweep.csv'), delimiter=',', names=True,
                                  skip_header=1, dtype=float)  # after the provenance line
            for key, column in (('N', 'N'), ('temperature', 'T'), ('action', 'action'),
                                ('test_accuracy', 'test_accuracy'), ('U_a', 'U_a')):
                self.assertTrue(np.array_equal(a[key], table[column]), key)
            self.assertTrue(np.array_equal(a['converged'], [True] * 4))
            self.assertEqual(a['U1'].shape, (4, 4, 4))
            for i, p in enumerate(r.points):
                self.assertTrue(np.array_equal(a['U1'][i], np.array(p['U'][0])))
            self.assertTrue(seen[0].computing_path_inputs)
            self.assertEqual([p.done for p in seen[1:]], [1, 2, 3, 4])

            # Resuming from the command's folder loads every point.
            r2, s2 = ap.sweep(ap.load_study(SWEEP), widths=[30, 10], temperatures=[0.1, 0.01],
                              output=cli)
            self.assertEqual((s2.solved, s2.loaded), (0, 4))
            self.assertEqual(strip(r2.json), strip(r.json))

    def test_other_data_is_refused(self):
        with tempfile.TemporaryDirectory() as d:
            ap.sweep(SWEEP, widths=[10], temperatures=[0.1], output=d)
            with self.assertRaisesRegex(ap.Error, 'a different sweep'):
                ap.sweep(SWEEP, widths=[20], temperatures=[0.1], output=d)


class Compare(SameFolders):
    def test_rows_equal_attnpaths_compare(self):
        # The same sampler settings and seed as the command (its threads do not change draws).
        config = os.path.join(HERE, '..', 'sampler', 'configs', 'hmm_small.toml')
        flags = ['--chains', '2', '--warmup', '60', '--samples', '60', '--seed', '5']
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        cli_dir = os.path.join(tmp.name, 'cli')
        run_cli('compare', '--config', config, '--output', cli_dir, *flags)
        cli = load_json(os.path.join(cli_dir, 'compare.json'))
        cli_csv = csv_rows(os.path.join(cli_dir, 'compare.csv'))
        study = ap.load_study(config)
        theory = ap.solve(study)
        options = study.sample_options()
        options.num_chains, options.num_warmup, options.num_samples, options.seed = 2, 60, 60, 5
        arch = study.architecture
        result, summary = ap.sample(arch, ap.compute_path_inputs(arch, study.train.x, 'train'),
                                    study.train.y, theory.temperature,
                                    ap.compute_path_inputs(arch, study.test.x, 'test'), options,
                                    study.test.y)
        c = ap.compare(theory, result, summary)
        def as_json(rows):
            return [{'quantity': r.quantity, 'theory': r.theory, 'sampled': r.sampled,
                     'se': r.se, 'z': r.z} for r in rows]
        self.assertGreater(len(c.rows), 10)
        self.assertEqual(as_json(c.rows), cli['rows'])
        self.assertEqual(as_json(c.test_points), cli['test_points'])
        self.assertEqual(c.mean_abs_z, cli['test_mean_abs_z'])
        self.assertEqual(c.csv().splitlines(True), cli_csv)
        with self.assertRaisesRegex(ap.Error, '^result: found a sample of another test set'):
            ap.compare(ap.solve(CONFIG), result, summary)

        # In one call, writing the command's folder: every file equal (draws.h5 included).
        py_dir = os.path.join(tmp.name, 'py')
        c2, theory2, result2, summary2 = ap.compare(study, sample_options=options, output=py_dir)
        self.assertSameFolders(cli_dir, py_dir)
        self.assertEqual(as_json(c2.rows), cli['rows'])
        self.assertTrue(summary2.completed)
        self.assertTrue(np.array_equal(theory2.test.mean, theory.test.mean))
        self.assertTrue(np.array_equal(result2.predictor.mean, result.predictor.mean))
        self.assertEqual(load_json(os.path.join(py_dir, 'compare.json'))['provenance']
                         ['command_line'], ['python', 'attnpaths.compare'])

    def test_sample_folder_equals_attnpaths_sample(self):
        config = os.path.join(HERE, '..', 'sampler', 'configs', 'hmm_small.toml')
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        cli_dir, py_dir = os.path.join(tmp.name, 'cli'), os.path.join(tmp.name, 'py')
        run_cli('sample', '--config', config, '--output', cli_dir, '--chains', '2', '--warmup',
                '40', '--samples', '40', '--seed', '8')
        study = ap.load_study(config)
        options = study.sample_options()
        options.num_chains, options.num_warmup, options.num_samples, options.seed = 2, 40, 40, 8
        result, summary = ap.sample(study, options=options, output=py_dir)
        self.assertTrue(summary.completed)
        self.assertSameFolders(cli_dir, py_dir)
        self.assertTrue(np.array_equal(
            result.predictor.mean, np.load(os.path.join(cli_dir, 'sampled_test_mean.npy'))))


class Streamed(SameFolders):
    """A generated set in the feature form (P = 300 > M = Htot N0 = 4 · 29 = 116) is streamed from
    Python as from the command line: solve(path), and load_study(path,
    stream=True) then solve(study), write the files `attnpaths solve` writes."""

    def test_streamed_solve_equals_the_command_line(self):
        with open(CONFIG) as f:
            text = f.read().replace('P = 40', 'P = 300').replace('P_test = 200', 'P_test = 50')
        text += '[solver]\nstorage = "features"\nblock_examples = 32\n'
        with tempfile.TemporaryDirectory() as d:
            config = os.path.join(d, 'big.toml')
            with open(config, 'w') as f:
                f.write(text)
            run_cli('solve', '--config', config, '--output', os.path.join(d, 'cli'))
            sol = ap.solve(config, output=os.path.join(d, 'py'))
            self.assertSameFolders(os.path.join(d, 'cli'), os.path.join(d, 'py'))
            summary = load_json(os.path.join(d, 'py', 'summary.json'))
            self.assertTrue(summary['streamed'])
            study = ap.load_study(config, stream=True)
            sol2 = ap.solve(study, output=os.path.join(d, 'py2'))
            self.assertSameFolders(os.path.join(d, 'cli'), os.path.join(d, 'py2'))
            self.assertTrue(np.array_equal(sol.test.mean, sol2.test.mean))
            # Held in memory (the default), the same numbers to rounding.
            held = ap.solve(ap.load_study(config))
            self.assertLess(np.max(np.abs(held.test.mean - sol.test.mean))
                            / np.max(np.abs(held.test.mean)), 1e-10)


class Analyses(SameFolders):
    """gp, heads, pruning and alignment: the folders of attnpaths gp, heads, prune and align."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.solved = os.path.join(cls.tmp.name, 'solved')
        run_cli('solve', '--config', CONFIG, '--output', cls.solved)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def dirs(self, name):
        return os.path.join(self.tmp.name, 'cli-' + name), os.path.join(self.tmp.name, 'py-' + name)

    def test_gp_folder_equals_attnpaths_gp(self):
        cli, py = self.dirs('gp')
        run_cli('gp', '--config', CONFIG, '--output', cli)
        g = ap.gp(CONFIG, output=py)
        self.assertSameFolders(cli, py)
        self.assertTrue(np.array_equal(g.test.mean, np.load(os.path.join(cli, 'test_mean.npy'))))
        # Independent route: U_GP and the low-level predictor.
        s = ap.load_study(CONFIG)
        kernel = ap.PathKernel(ap.compute_path_inputs(s.architecture, s.train.x, 'train'),
                               s.kernel)
        test = ap.compute_path_inputs(s.architecture, s.test.x, 'test')
        gp = ap.gp_order_parameters(s.architecture)
        ref = ap.predict(kernel, s.train.y, s.temperature, gp.U[0], test, s.test.y)
        self.assertTrue(np.array_equal(g.test.mean, ref.mean))
        self.assertEqual(g.test.accuracy, ref.accuracy)
        # heads reads a gp folder like a solve's (the GP limit has no N).
        h = ap.heads(CONFIG, solution=py)
        self.assertIsNone(h['N'])

    def test_heads_folder_equals_attnpaths_heads(self):
        cli, py = self.dirs('heads')
        run_cli('heads', '--config', CONFIG, '--solution', self.solved, '--output', cli)
        j = ap.heads(CONFIG, solution=self.solved, output=py)
        self.assertSameFolders(cli, py)
        self.assertEqual(strip(j), strip(load_json(os.path.join(cli, 'heads.json'))))
        self.assertEqual(j['provenance']['command_line'], ['python', 'attnpaths.heads'])
        # The scores are those of the low-level call on U_1.
        s = ap.load_study(CONFIG)
        r = ap.score_heads(s.architecture, np.load(os.path.join(self.solved, 'U_1.npy')))
        self.assertEqual(j['scores'], [list(layer) for layer in r.score])
        # Solved here (None) or from a StudySolution: the same scores, source "solved".
        for solution in (None, ap.solve(CONFIG)):
            other = ap.heads(CONFIG, solution=solution)
            self.assertEqual(other['solution'], 'solved')
            self.assertEqual(other['scores'], j['scores'])
            self.assertNotIn('files', other)

    def test_prune_folder_equals_attnpaths_prune(self):
        cli, py = self.dirs('prune')
        run_cli('prune', '--config', CONFIG, '--solution', self.solved, '--output', cli,
                '--random-repeats', '2')
        study = ap.load_study(CONFIG)
        options = study.pruning_options()
        options.random_repeats = 2
        seen = []
        j = ap.pruning(study, solution=self.solved, options=options, output=py,
                     progress=seen.append)
        # Each mode's brief report holds its run time: compared without it.
        def untimed(doc):
            doc = strip(doc)
            for mode in doc['modes'].values():
                del mode['summary']
            return doc
        self.assertEqual(sorted(os.listdir(cli)), sorted(os.listdir(py)))
        self.assertEqual(csv_rows(os.path.join(cli, 'pruning.csv')),
                         csv_rows(os.path.join(py, 'pruning.csv')))
        self.assertEqual(untimed(load_json(os.path.join(cli, 'pruning.json'))),
                         untimed(load_json(os.path.join(py, 'pruning.json'))))
        self.assertEqual(untimed(j), untimed(load_json(os.path.join(cli, 'pruning.json'))))
        self.assertEqual(sorted(j['modes']), ['resolve', 'silence'])
        self.assertEqual({p.mode for p in seen}, {'silence', 'resolve'})
        one = ap.pruning(study, solution=self.solved, options=options, mode='silence')
        self.assertEqual(list(one['modes']), ['silence'])
        self.assertEqual(one['modes']['silence']['curves'], j['modes']['silence']['curves'])
        with self.assertRaisesRegex(ap.Error, r'^mode: found "all", expected "silence"'):
            ap.pruning(study, solution=self.solved, mode='all')

    def test_align_folder_equals_attnpaths_align(self):
        cli, py = self.dirs('align')
        run_cli('align', '--config', CONFIG, '--solution', self.solved, '--output', cli,
                '--components', '5')
        j = ap.alignment(CONFIG, solution=self.solved, components=5, output=py)
        self.assertSameFolders(cli, py)
        self.assertEqual(j['components'], 5)
        with self.assertRaisesRegex(ap.Error, r'components'):
            ap.alignment(CONFIG, solution=self.solved, components=0)
        with self.assertRaisesRegex(ap.Error, r'^width: found 10, expected None with a solution'):
            ap.alignment(CONFIG, solution=self.solved, width=10)


class Errors(unittest.TestCase):
    def test_errors_name_the_argument(self):
        with open(CONFIG) as f:
            text = f.read()
        cases = [
            (lambda: ap.sweep(42), r'^study: found an? .*expected an attnpaths.Study'),
            (lambda: ap.predict_fn(None), r'^study: found'),
            (lambda: ap.solve(os.path.join(HERE, 'missing.toml')), r'missing\.toml'),
            (lambda: ap.solve(SWEEP), r'^temperature: found 2 temperatures'),
            (lambda: ap.solve(CONFIG, output=3), r'^output'),
            (lambda: ap.solve(CONFIG, progress=3), r'^progress'),
            (lambda: ap.predict_fn(CONFIG, 3.5), r'^solution: found'),
            (lambda: ap.predict_fn(CONFIG, os.path.join(HERE, 'nowhere')),
             r'^solution: found "[^"]*nowhere" \(no such file'),
            (lambda: ap.sweep(CONFIG, widths=[10, 10], output='unused'),
             r'^widths\[1\]: found 10, expected no duplicate'),
            (lambda: ap.sweep(CONFIG, temperatures=[-1.0], output='unused'),
             r'^temperatures\[0\]: found -1'),
            (lambda: ap.sweep(ap.parse_study(text, HERE), output='unused'),
             r'^study: found "<string>" \(not a file'),
        ]
        for call, pattern in cases:
            with self.assertRaisesRegex(ap.Error, pattern):
                call()
        self.assertFalse(os.path.exists('unused'))
        with self.assertRaises(TypeError):  # neither an Action, a Study nor a path
            ap.solve(42)

    def test_predictor_names_x_and_y(self):
        fn = ap.solve(CONFIG).predictor
        x = ap.load_study(CONFIG).test.x.array
        with self.assertRaisesRegex(ap.Error, r'^x shape: found \(3, 8, 5\)'):
            fn(np.zeros((3, 8, 5)))
        with self.assertRaisesRegex(ap.Error, r'^y rows: found 2, expected 3'):
            fn(x[:3], np.ones(2))
        with self.assertRaisesRegex(ap.Error, r'^y'):
            fn(x[:3], np.array([1.0, 0.5, -1.0]))  # not +1/-1
        with self.assertRaisesRegex(ap.Error, r'^y: found labels without x'):
            fn(None, np.ones(3))
        with self.assertRaisesRegex(ap.Error, r'^x'):
            fn(np.full((3, 8, x.shape[2]), np.nan))


if __name__ == '__main__':
    unittest.main()
