# C2D: submit → result time of trivial local jobs (real bubblewrap sandbox); prints figures.
cargo run --locked -q -p kelp-c2d --example c2d_bench -- 20
# C2D on the devnet (real anvil + Ocean v4 contracts + the local node running the sandbox), through
# the kelp CLI (`kelp c2d …` ≡ `%c2d …`): publish a training algorithm and a compute-only dataset
# trusting it once, then time `c2d start --wait` (lookup, datatokens, two startOrders, compute,
# polling to the end) and `c2d result` (signed download + unpack) per run.
cargo build --locked -q -p kelp-ocean -p kelp-ocean-node --bins
KELP_ANVIL="$KELP_TOOLS/chain/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil" \
KELP_OCEAN_ARTIFACTS="$KELP_TOOLS/chain/node_modules/@oceanprotocol/contracts" \
KELP_OCEAN_NODE="$CARGO_TARGET_DIR/debug/kelp-ocean-node" \
  "$KELP_VENV/bin/python" - "$KELP_BIN" "${KELP_BENCH_RUNS:-3}" <<'PY'
import json, os, socket, statistics, subprocess, sys, tempfile, time

kelp, runs = sys.argv[1], int(sys.argv[2])
work = tempfile.mkdtemp(prefix="kelp-c2d-bench-")
env = dict(os.environ, KELP_HOME=os.path.join(work, "home"))
for var in ("KELP_PRIVATE_KEY", "KELP_NETWORK", "KELP_KEYSTORE"):
    env.pop(var, None)
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    env["KELP_DEVNET_PORT"] = str(s.getsockname()[1])


def kelp_json(*args):
    t = time.perf_counter()
    p = subprocess.run([kelp, *args, "--json"], cwd=work, env=env, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        sys.exit(f"kelp {' '.join(args)} failed: {p.stderr.strip() or p.stdout.strip()}")
    return json.loads(p.stdout), time.perf_counter() - t


with open(os.path.join(work, "data.csv"), "w") as f:
    f.write("x,y\n" + "".join(f"{i},{2 * i + 1}\n" for i in range(1000)))
with open(os.path.join(work, "fit.py"), "w") as f:
    f.write(
        "import json\n"
        "rows = [l.split(',') for l in open(__import__('glob').glob('/data/inputs/did:op:*/0')[0]).read().split()[1:]]\n"
        "n = len(rows); xs = [float(r[0]) for r in rows]; ys = [float(r[1]) for r in rows]\n"
        "mx, my = sum(xs) / n, sum(ys) / n\n"
        "a = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)\n"
        "json.dump({'a': a, 'b': my - a * mx, 'rows': n}, open('/data/outputs/model.json', 'w'))\n"
    )
try:
    up, t_up = kelp_json("devnet", "up")
    algo, t_algo = kelp_json("publish", "fit.py", "--type", "algorithm", "--name", "bench fit",
                             "--entrypoint", "python3 $ALGO", "--image-tag", "3")
    data, t_data = kelp_json("publish", "data.csv", "--name", "bench data", "--compute", "--trust", algo["did"])
    print(f"c2d devnet: devnet up {t_up:.2f} s ({up['start']}), publish algorithm {t_algo:.2f} s, "
          f"publish compute-only dataset {t_data:.2f} s")
    starts, results, totals, node_side = [], [], [], []
    for i in range(runs):
        job, t_start = kelp_json("c2d", "start", "--dataset", data["did"], "--algorithm", algo["did"],
                                 "--account", "1", "--wait")
        if job["status"] != 70:
            sys.exit(f"job ended with status {job['status']}: {job.get('failure')}")
        res, t_res = kelp_json("c2d", "result", job["jobId"], "-o", f"out{i}")
        model = json.load(open(os.path.join(res["folder"], "model.json")))
        assert abs(model["a"] - 2) < 1e-9 and model["rows"] == 1000, model
        starts.append(t_start)
        results.append(t_res)
        totals.append(t_start + t_res)
        node_side.append(job["elapsed"])
        print(f"  run {i + 1}: start→finished {t_start:.2f} s (journaled → finished {job['elapsed']:.2f} s), "
              f"result {t_res:.2f} s, submit→result {t_start + t_res:.2f} s")
    med = statistics.median
    print(f"c2d devnet submit→result over {runs} runs: median {med(totals):.2f} s "
          f"(start+wait {med(starts):.2f} s, of which journaled → finished {med(node_side):.2f} s; result {med(results):.2f} s); "
          f"min {min(totals):.2f} s, max {max(totals):.2f} s; each CLI call includes process start and network lookup")
finally:
    subprocess.run([kelp, "devnet", "down"], cwd=work, env=env, capture_output=True, timeout=120)
PY
