"""`attnpaths demo --json` on a reduced setting: one row per width plus the GP
row, the documented keys, converged rows, and U_1 of the GP row equal to the
identity (theory.md §2: U_GP = sigma_1^2 ... sigma_a^2 I with unit variances)."""
import json, subprocess, sys
import numpy as np

r = subprocess.run([sys.argv[1], 'demo', '--json', '--quiet', '--widths', '10', '1000',
                    '--train', '40', '--test', '200'], capture_output=True, text=True)
assert r.returncode == 0, (r.returncode, r.stderr)
rows = json.loads(r.stdout)
assert [row['N'] for row in rows] == [10, 1000, None], rows
for row in rows:
    for key in ['N', 'action', 'iterations', 'gradient_norm', 'test_accuracy',
                'generalization_error', 'U', 'U_a', 'converged', 'seconds']:
        assert key in row, key
    assert row['converged']
    assert 0.5 <= row['test_accuracy'] <= 1.0
    assert len(row['U']) == 2 and np.array(row['U'][0]).shape == (4, 4)
assert np.allclose(np.array(rows[-1]['U'][0]), np.eye(4)) and rows[-1]['U_a'] == 1.0
assert rows[0]['gradient_norm'] <= 1e-9 and rows[0]['action'] is not None
print('ok', [(row['N'], row['test_accuracy']) for row in rows])
