# kelp-relay (magics/relay): the kernel-side client of the JupyterLab signing relay. Its tests start
# a REAL Jupyter server from .venv with kelp_labextension (installed by setup.d/60-labext.sh) and
# play the browser through the browser face; they share that server, so they run one at a time.
# They fail (never skip) when .venv or the extension is missing.
"$KELP_VENV/bin/python" -c 'import kelp_labextension' \
  || die "relay tests: kelp_labextension is not installed in .venv (install/setup.d/60-labext.sh installs it)"
KELP_VENV="$KELP_VENV" cargo test --locked -p kelp-relay -- --test-threads 1
