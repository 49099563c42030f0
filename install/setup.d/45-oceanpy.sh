# ocean.py (PyPI `ocean-lib`, Ocean's official Python library) in its own venv, install/.tools/oceanpy:
# the cross-check of kelp-ocean's published assets (install/test.d/45-oceanpy.sh). Kept apart from
# .venv because ocean-lib pins old web3/eth-* versions. Redone only when the spec list changes.
oceanpy_dir="$KELP_TOOLS/oceanpy"
oceanpy_want="ocean-lib==3.1.2 pytest==9.2.0"
oceanpy_stamp="$KELP_TOOLS/oceanpy.pip-stamp"
if [ ! -x "$oceanpy_dir/bin/python" ] || [ ! -f "$oceanpy_stamp" ] || [ "$(cat "$oceanpy_stamp")" != "$oceanpy_want" ]; then
  [ -x "$oceanpy_dir/bin/python" ] || { log "python: creating install/.tools/oceanpy"; python3 -m venv "$oceanpy_dir"; }
  log "pip: installing $oceanpy_want into install/.tools/oceanpy"
  # shellcheck disable=SC2086 # the spec list is split on purpose
  "$oceanpy_dir/bin/pip" install -q $oceanpy_want
  "$oceanpy_dir/bin/python" -c 'import ocean_lib' || die "ocean-lib installed but does not import"
  echo "$oceanpy_want" > "$oceanpy_stamp"
fi
