# The kernel: unit tests, ZeroMQ integration tests against the real binary (one at a time: each
# starts an evcxr context), jupyter_kernel_test, and nbclient runs of examples/*.ipynb.
cargo test --locked -p kelp-kernel --lib
cargo test --locked -p kelp-kernel --test protocol -- --test-threads 1
"$KELP_VENV/bin/python" -m pytest -q -p no:cacheprovider kernel/tests/python
