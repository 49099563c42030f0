# Kernel start-up: kelp beside evcxr_jupyter 0.22 (installed here, once, with cargo into
# install/.tools/evcxr; its build is cached under ~/.cache/kelp/target-evcxr-jupyter).
EVCXR_ROOT="$KELP_TOOLS/evcxr"
if [ ! -x "$EVCXR_ROOT/bin/evcxr_jupyter" ]; then
  log "cargo: installing evcxr_jupyter 0.22.0 for comparison (a long build, once)"
  CARGO_TARGET_DIR="$HOME/.cache/kelp/target-evcxr-jupyter" cargo install --locked --quiet evcxr_jupyter --version 0.22.0 --root "$EVCXR_ROOT"
fi
specs=$(mktemp -d)
mkdir -p "$specs/evcxr"
printf '{"argv": ["%s", "--control_file", "{connection_file}"], "display_name": "Rust (evcxr)", "language": "rust", "interrupt_mode": "message"}\n' \
  "$EVCXR_ROOT/bin/evcxr_jupyter" > "$specs/evcxr/kernel.json"
"$KELP_VENV/bin/python" kernel/bench/startup.py --kelp-spec "$KELP_VENV/share/jupyter/kernels/kelp" --evcxr-spec "$specs/evcxr" --runs "${KELP_BENCH_RUNS:-3}"
# `:dep plotters` (svg backend only): a first kelp kernel, a second one with the compile cache,
# and evcxr_jupyter 0.22, in this same run.
"$KELP_VENV/bin/python" kernel/bench/dep_cache.py --kelp-spec "$KELP_VENV/share/jupyter/kernels/kelp" --evcxr-spec "$specs/evcxr"
rm -rf "$specs"
