"""A sweep killed with SIGKILL and started again with the same command finishes
only the missing points and ends with exactly the files of an uninterrupted run."""
import json, os, signal, subprocess, sys, tempfile, time

binary, config = sys.argv[1], sys.argv[2]
root = tempfile.mkdtemp()
a, b = os.path.join(root, 'a'), os.path.join(root, 'b')
cmd = lambda out: [binary, 'sweep', '--config', config, '--output', out, '--quiet', '--threads', '1']

r = subprocess.run(cmd(a), capture_output=True, text=True)
assert r.returncode == 0, r.stderr
total = len(os.listdir(os.path.join(a, 'points')))
assert total == 6, total

env = dict(os.environ, ATTNPATHS_TEST_POINT_DELAY_MS='400')
p = subprocess.Popen(cmd(b), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
points = os.path.join(b, 'points')
deadline = time.time() + 60
while time.time() < deadline:
    if os.path.isdir(points) and len([f for f in os.listdir(points) if f.endswith('.json')]) >= 2:
        break
    time.sleep(0.02)
os.kill(p.pid, signal.SIGKILL)
p.wait()
done = [f for f in os.listdir(points) if f.endswith('.json')]
leftovers = [f for f in os.listdir(points) if not f.endswith('.json')]
assert 2 <= len(done) < total, f'killed after {len(done)} of {total} points'
assert not os.path.exists(os.path.join(b, 'sweep.csv')), 'the killed run wrote its table'

r = subprocess.run(cmd(b), capture_output=True, text=True)
assert r.returncode == 0, r.stderr
r2 = subprocess.run([binary, 'sweep', '--config', config, '--output', b, '--threads', '1'],
                    capture_output=True, text=True)
assert f'({0} points solved, {total} loaded)' in r2.stdout, r2.stdout
# Identical results; only the provenance (command line, output folder, time) differs.
with open(os.path.join(a, 'sweep.csv')) as fa, open(os.path.join(b, 'sweep.csv')) as fb:
    la, lb = fa.read().splitlines(), fb.read().splitlines()
    assert la[0].startswith('# provenance: ') and lb[0].startswith('# provenance: ')
    assert la[1:] == lb[1:], 'sweep.csv differs between the resumed and the uninterrupted run'
with open(os.path.join(a, 'sweep.json')) as fa, open(os.path.join(b, 'sweep.json')) as fb:
    ja, jb = json.load(fa), json.load(fb)
    assert ja['points'] == jb['points'], 'sweep.json differs between the resumed and the uninterrupted run'
print(f'ok: killed after {len(done)}/{total} points ({len(leftovers)} temp files left), resumed, '
      'identical sweep.csv and sweep.json')
