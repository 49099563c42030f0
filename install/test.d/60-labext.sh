# kelp JupyterLab extension: the relay's Python tests (pytest + pytest-jupyter, in-process Jupyter
# server and a real python3 kernel).
( cd "$KELP_ROOT/labextension" && "$KELP_VENV/bin/python" -m pytest -q -p no:cacheprovider kelp_labextension/tests )
