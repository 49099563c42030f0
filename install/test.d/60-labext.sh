# kelp JupyterLab extension: the relay's Python tests (pytest + pytest-jupyter: in-process Jupyter
# server, a real python3 kernel), then the browser tests (node:test + playwright-core driving Debian
# chromium against a real JupyterLab): relay.test.mjs plays the kernel on the relay's kernel face
# against a real anvil; notebook.test.mjs types `%wallet send … --signer browser` and `%publish …
# --signer browser` into a notebook on the real kelp kernel, against a real kelp devnet; panel.test.mjs
# drives the kelp side panel and the file-browser commands (Add to IPFS = %ipfs add's CID, Publish to
# Ocean… through the wallet's dialogs, Compute on…) against a real devnet and the real kelp binary.
# Screenshots and logs: labextension/ui-tests/test-output/. A failing or missing part fails the suite.
[ -x /usr/bin/chromium ] || die "labext tests: /usr/bin/chromium missing (install/setup.d/65-browser.sh installs it: ./install/setup --test)"
[ -x "$KELP_TOOLS/chain/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil" ] \
  || die "labext tests: anvil missing under install/.tools/chain (install/setup.d/40-ocean.sh installs it: ./install/setup)"
[ -x "$KELP_BIN" ] || die "labext tests: the kelp binary is missing at $KELP_BIN (run ./install/build)"
grep -qF "\"$KELP_BIN\"" "$KELP_VENV/share/jupyter/kernels/kelp/kernel.json" 2>/dev/null \
  || die "labext tests: the kelp kernelspec in .venv does not run $KELP_BIN (run ./install/build)"
( cd "$KELP_ROOT/labextension" && KELP_BIN="$KELP_BIN" "$KELP_VENV/bin/python" -m pytest -q -p no:cacheprovider kelp_labextension/tests )
KELP_TOOLS="$KELP_TOOLS" KELP_VENV="$KELP_VENV" KELP_BIN="$KELP_BIN" \
  node --test --test-concurrency=1 "$KELP_ROOT/labextension/ui-tests/"
