# JupyterLab, nbclient and the extension's build backend in .venv (install/requirements-run.txt).
need_venv requirements-run.txt
