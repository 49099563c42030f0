# Reproducible notebooks (issue #14): wall time of `kelp verify` of examples/paper.ipynb from its
# bundle in a fresh KELP_HOME, beside a plain headless re-execution of the same notebook
# (`jupyter execute` on the kelp kernel). The difference is verify's own work: unpacking the
# bundle, checking the inputs, comparing every cell. Prints figures; asserts nothing about speed.
"$KELP_VENV/bin/python" - "$KELP_BIN" "$KELP_ROOT" "${KELP_BENCH_RUNS:-2}" <<'PY'
import os, shutil, statistics, subprocess, sys, tempfile, time

kelp, root, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
jupyter = os.path.join(root, ".venv/bin/jupyter")
base = dict(os.environ, KELP_BIN=kelp)
base.pop("CARGO_TARGET_DIR", None)
# A kernelspec "kelp" for the binary under test (the one kelp verify runs too).
spec = tempfile.mkdtemp(prefix="kelp-verify-bench-jupyter-")
os.makedirs(os.path.join(spec, "kernels/kelp"))
with open(os.path.join(spec, "kernels/kelp/kernel.json"), "w") as f:
    f.write('{"argv": ["%s", "kernel", "--connection-file", "{connection_file}"], "display_name": "kelp", "language": "rust"}' % kelp)
base["JUPYTER_PATH"] = spec
base["KELP_JUPYTER"] = jupyter


def scratch():
    d = tempfile.mkdtemp(prefix="kelp-verify-bench-")
    shutil.copytree(os.path.join(root, "examples/paper"), os.path.join(d, "paper"))
    shutil.copy(os.path.join(root, "examples/paper.ipynb"), os.path.join(d, "paper.ipynb"))
    return d


def run(args, cwd, home):
    t = time.perf_counter()
    p = subprocess.run(args, cwd=cwd, env=dict(base, KELP_HOME=home), capture_output=True, text=True, timeout=1800)
    if p.returncode != 0:
        sys.exit(f"{' '.join(args[:2])} failed: {(p.stderr.strip() or p.stdout.strip()).splitlines()[-1:]}")
    return time.perf_counter() - t


# The executed notebook and its bundle (once).
d = scratch()
run([jupyter, "execute", "--kernel_name=kelp", "--inplace", "paper.ipynb"], d, os.path.join(d, "home"))
run([kelp, "bundle", "paper.ipynb", "-o", "paper.car"], d, os.path.join(d, "home"))
plain, verify = [], []
for i in range(runs):
    p = scratch()
    plain.append(run([jupyter, "execute", "--kernel_name=kelp", "paper.ipynb"], p, os.path.join(p, f"home{i}")))
    v = tempfile.mkdtemp(prefix="kelp-verify-bench-reader-")
    shutil.copy(os.path.join(d, "paper.car"), v)
    verify.append(run([kelp, "verify", "--from", "paper.car"], v, os.path.join(v, "home")))
    shutil.rmtree(p, ignore_errors=True)
    shutil.rmtree(v, ignore_errors=True)
shutil.rmtree(d, ignore_errors=True)
fmt = lambda xs: f"median {statistics.median(xs):6.1f} s  (runs: {', '.join(f'{x:.1f}' for x in xs)})"
print("examples/paper.ipynb, fresh KELP_HOME each run")
print(f"  plain re-execution (jupyter execute) : {fmt(plain)}")
print(f"  kelp verify --from paper.car         : {fmt(verify)}")
print(f"  verify overhead                      : {statistics.median(verify) - statistics.median(plain):+6.1f} s")
PY
