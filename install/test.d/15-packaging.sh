# Packaging (issue #15 items 4 and 5), in temporary prefixes:
# 1. the setup plan: `install/setup --plan` (what ./install/run installs) names none of the
#    test-only packages, `--plan --test` names every one of them; the chain tools' npm spec is
#    written in one file only;
# 2. the JupyterLab extension as users get it: a wheel built once here with Node (`python -m build`),
#    installed into a fresh venv whose PATH has no node, shows as enabled;
# 3. the kernel as users get it: `cargo install --path kernel` into a temporary root, then
#    `kelp install --sys-prefix` into that venv, runs examples/quickstart.ipynb with nbclient (the
#    venv's jupyter, an empty KELP_HOME and Jupyter data dir). `--debug` shares the warm target dir
#    (a release install is ~10 min on 2 cores and builds the same code); `kelp devnet setup` fetches
#    anvil and the contracts into that KELP_HOME, and without npm it is one error line;
# 4. a fresh clone: `./install/run --execute examples/quickstart.ipynb` leaves `git status` clean.
#    The clone builds in its own target dir (~/.cache/kelp/target-fresh-clone, seeded by hard links
#    from the shared one) so it never replaces the binary other suites run; its workspace crates
#    are rebuilt each time (a new path), ~3.5 min for the whole ./install/run here.
pk_tmp=$(mktemp -d "${TMPDIR:-/tmp}/kelp-packaging.XXXXXX")
trap 'rm -rf "$pk_tmp"' EXIT
fail() { die "packaging: $*"; }

# --- 1. setup plans -------------------------------------------------------------------------
run_plan=$("$KELP_ROOT/install/setup" --plan)
test_plan=$("$KELP_ROOT/install/setup" --plan --test)
# What only the tests use: js-ipfs, Helia, ocean.py, ocean.js, the browser, ethers, the Python
# test tools, the wheel builder; cast is not installed at all.
test_only=('"ipfs": "0.66.1"' helia ocean-lib @oceanprotocol/lib chromium playwright-core ethers@
  pytest== pytest-jupyter jupyter_kernel_test build==)
for p in "${test_only[@]}" cast-linux; do
  if grep -qF -- "$p" <<<"$run_plan"; then fail "./install/run's setup plan installs test-only '$p':"$'\n'"$run_plan"; fi
done
for p in "${test_only[@]}"; do
  grep -qF -- "$p" <<<"$test_plan" || fail "the test setup plan lacks '$p' (install/setup --plan --test)"
done
for p in jupyterlab== nbclient== @foundry-rs/anvil-linux-amd64@ @oceanprotocol/contracts@ 'npm ci' ./labextension bubblewrap; do
  grep -qF -- "$p" <<<"$run_plan" || fail "./install/run's setup plan lacks '$p' (running kelp needs it)"
done
grep -qF 'cast-linux' <<<"$test_plan" && fail "cast is installed by the test plan, nothing uses it"
spec_files=$(cd "$KELP_ROOT" && git grep -l '@foundry-rs/anvil-linux-amd64@[0-9]' -- install magics kernel labextension | sort)
[ "$spec_files" = "magics/ocean/src/devnet/chain-npm.txt" ] \
  || fail "the chain tools' npm spec is written in more than chain-npm.txt: $spec_files"
log "packaging: setup plans ok (run plan: $(wc -l <<<"$run_plan") steps, none test-only)"

# --- 2. the extension's wheel, installed where there is no node ------------------------------
"$KELP_VENV/bin/python" -m build --wheel --no-isolation --outdir "$pk_tmp/dist" "$KELP_ROOT/labextension" \
  >"$pk_tmp/build.log" 2>&1 || { tail -30 "$pk_tmp/build.log" >&2; fail "python -m build of labextension failed"; }
wheel=$(ls "$pk_tmp"/dist/kelp_labextension-*.whl) || fail "python -m build made no kelp_labextension wheel"
# (outputs are captured before grep: `grep -q` leaving early would fail the pipe under pipefail)
listing=$("$KELP_VENV/bin/python" -m zipfile -l "$wheel")
grep -q 'share/jupyter/labextensions/kelp-labextension/static/.*\.js' <<<"$listing" \
  || fail "the wheel carries no prebuilt frontend (share/jupyter/labextensions/kelp-labextension/static)"
python3 -m venv "$pk_tmp/venv"
mkdir -p "$pk_tmp/empty-bin"
nonode="$pk_tmp/venv/bin:$pk_tmp/empty-bin"
PATH="$nonode" command -v node >/dev/null && fail "node is still on the no-node PATH"
pins=$(grep -E '^(jupyterlab|jupyter_server|jupyter_client|nbclient|nbformat)==' "$KELP_ROOT/install/requirements-run.txt")
# shellcheck disable=SC2086 # one pin a word
PATH="$nonode" "$pk_tmp/venv/bin/pip" install -q "$wheel" $pins || fail "pip install of the wheel failed without node"
labexts=$(PATH="$nonode" "$pk_tmp/venv/bin/jupyter" labextension list 2>&1)
grep -q 'kelp-labextension.*enabled.*OK' <<<"$labexts" \
  || fail "kelp-labextension is not enabled in a venv that installed the wheel: $labexts"
serverexts=$(PATH="$nonode" "$pk_tmp/venv/bin/jupyter" server extension list 2>&1)
grep -q 'kelp_labextension.*enabled' <<<"$serverexts" \
  || fail "the relay server extension (kelp_labextension) is not enabled from the wheel: $serverexts"
log "packaging: wheel $(basename "$wheel") installs and is enabled with no node on PATH"

# --- 3. cargo install + kelp install, then a notebook ---------------------------------------
cargo install --quiet --debug --locked --path "$KELP_ROOT/kernel" --root "$pk_tmp/cargo" 2>"$pk_tmp/cargo.log" \
  || { tail -20 "$pk_tmp/cargo.log" >&2; fail "cargo install --path kernel failed"; }
kelp="$pk_tmp/cargo/bin/kelp"
VIRTUAL_ENV="$pk_tmp/venv" "$kelp" install --sys-prefix >/dev/null || fail "kelp install --sys-prefix failed"
grep -qF "\"$kelp\"" "$pk_tmp/venv/share/jupyter/kernels/kelp/kernel.json" \
  || fail "kelp install wrote no kernelspec running $kelp into the venv"
mkdir -p "$pk_tmp/nb" "$pk_tmp/home" "$pk_tmp/jupyter-data"
cp "$KELP_ROOT/examples/quickstart.ipynb" "$pk_tmp/nb/"
( cd "$pk_tmp/nb" && env -u JUPYTER_PATH KELP_HOME="$pk_tmp/home" JUPYTER_DATA_DIR="$pk_tmp/jupyter-data" \
    "$pk_tmp/venv/bin/python" - quickstart.ipynb <<'EOF'
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, kernel_name="kelp", timeout=600, resources={"metadata": {"path": "."}}).execute()
outs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
errors = [o for o in outs if o.output_type == "error"]
assert not errors, f"errors: {errors}"
plain = [o.get("data", {}).get("text/plain", "") for o in outs]
assert "5.5" in plain, f"the mean cell did not give 5.5: {plain}"
assert any("<table>" in o.get("data", {}).get("text/html", "") for o in outs), "no HTML table from kelp::display_html"
assert any("ipfs" in p for p in plain), "%lsmagic did not list %ipfs"
print("quickstart ok:", len(outs), "outputs")
EOF
) || fail "examples/quickstart.ipynb failed on the cargo-installed kernel from the wheel's venv"
[ -f "$pk_tmp/nb/data/measurements.csv" ] || fail "the notebook's %%file did not write next to it"
# The devnet's tools without the repository: no npm is one line; with npm they land in KELP_HOME.
err=$(KELP_HOME="$pk_tmp/home" PATH="$pk_tmp/empty-bin" "$kelp" devnet setup 2>&1) && fail "kelp devnet setup without npm succeeded"
[ "$(wc -l <<<"$err")" = 1 ] && grep -q 'npm not found.*kelp devnet setup.*KELP_ANVIL' <<<"$err" \
  || fail "kelp devnet setup without npm is not one line naming npm: $err"
KELP_HOME="$pk_tmp/home" "$kelp" devnet setup --json >"$pk_tmp/setup.json" || fail "kelp devnet setup failed"
anvil_version=$("$pk_tmp/home/tools/chain/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil" --version)
grep -q anvil <<<"$anvil_version" || fail "kelp devnet setup put no working anvil under KELP_HOME/tools/chain"
grep -q '"installed": true' "$pk_tmp/setup.json" || fail "kelp devnet setup --json: $(cat "$pk_tmp/setup.json")"
again=$(KELP_HOME="$pk_tmp/home" "$kelp" devnet setup)
grep -q 'already installed' <<<"$again" || fail "a second kelp devnet setup fetched again"
log "packaging: cargo install + kelp install ran examples/quickstart.ipynb; kelp devnet setup fills KELP_HOME"

# --- 4. a fresh clone: ./install/run leaves the work tree clean ---------------------------------
fresh_target="$HOME/.cache/kelp/target-fresh-clone"
if [ ! -d "$fresh_target/debug" ]; then
  mkdir -p "$fresh_target"; cp -al "$CARGO_TARGET_DIR/." "$fresh_target/"
fi
# cargo's lock files must be the clone target's own, not links to the shared target's.
find "$fresh_target" -maxdepth 2 -name .cargo-lock -links +1 -exec sh -c 'rm "$1" && : > "$1"' _ {} \;
git clone -q "$KELP_ROOT" "$pk_tmp/clone"
( cd "$pk_tmp/clone" && CARGO_TARGET_DIR="$fresh_target" KELP_RUN_DIR="$pk_tmp/run" KELP_HOME="$pk_tmp/home-clone" \
    ./install/run --execute examples/quickstart.ipynb ) >"$pk_tmp/run.log" 2>&1 \
  || { tail -30 "$pk_tmp/run.log" >&2; fail "./install/run --execute examples/quickstart.ipynb failed in a fresh clone"; }
[ -f "$pk_tmp/run/examples/quickstart.out.ipynb" ] || fail "./install/run --execute wrote no executed copy under KELP_RUN_DIR"
dirty=$(git -C "$pk_tmp/clone" status --porcelain --ignored=no)
[ -z "$dirty" ] || fail "./install/run left the fresh clone's work tree dirty:"$'\n'"$dirty"
log "packaging: a fresh clone's ./install/run --execute leaves git status clean"
