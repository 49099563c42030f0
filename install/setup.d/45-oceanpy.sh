# part: test
# ocean.py (PyPI `ocean-lib`, Ocean's official Python library) in its own venv, install/.tools/oceanpy:
# the cross-check of kelp-ocean's published assets (install/test.d/45-oceanpy.sh). Kept apart from
# .venv because ocean-lib pins old web3/eth-* versions. Redone only when the spec list changes.
need_pyvenv oceanpy ocean-lib==3.1.2 pytest==9.2.0
plan || "$KELP_TOOLS/oceanpy/bin/python" -c 'import ocean_lib' || die "ocean-lib installed but does not import"
