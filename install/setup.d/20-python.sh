# JupyterLab and the Python test tools in .venv.
need_venv
