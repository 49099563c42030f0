# part: test
# The Python test tools in .venv (install/requirements-test.txt): jupyter_kernel_test, pytest,
# pytest-jupyter, build.
need_venv requirements-test.txt
