# kelp JupyterLab extension: the relay's Python tests (pytest + pytest-jupyter: in-process Jupyter
# server, a real python3 kernel), then the browser test (node:test + playwright-core driving Debian
# chromium against a real JupyterLab and a real anvil). Screenshots: labextension/ui-tests/test-output/.
[ -x /usr/bin/chromium ] || die "labext tests: /usr/bin/chromium missing (install/setup.d/60-labext.sh installs it)"
[ -x "$KELP_TOOLS/chain/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil" ] \
  || die "labext tests: anvil missing under install/.tools/chain (run ./install/setup)"
( cd "$KELP_ROOT/labextension" && "$KELP_VENV/bin/python" -m pytest -q -p no:cacheprovider kelp_labextension/tests )
KELP_TOOLS="$KELP_TOOLS" KELP_VENV="$KELP_VENV" node --test "$KELP_ROOT/labextension/ui-tests/"
