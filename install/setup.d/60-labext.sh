# kelp JupyterLab extension (labextension/): Python test deps come from install/requirements.txt
# (need_venv). The relay tests import the package from its source folder.
need_venv
