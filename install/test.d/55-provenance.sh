# Reproducible notebooks (issue #14): the record types and schema (kelp-magic), each family's
# records (%ipfs, %c2d, %publish/%ocean get), the provenance library (graph, bundle on a real
# store), and examples/paper.ipynb executed → bundled → verified with the kelp binary.
# Result snapshots (insta): a rendering that differs from its committed .snap fails, and nothing
# is written (no .snap.new in the tree); accept a change with `cargo insta review` or INSTA_UPDATE=always.
export INSTA_UPDATE=no
unset INSTA_FORCE_PASS
cargo test --locked -p kelp-magic --lib record
cargo test --locked -p kelp-ipfs --test it -- record::
cargo test --locked -p kelp-c2d --test it -- record::
cargo test --locked -p kelp-ocean --lib magics::record
cargo test --locked -p kelp-provenance
"$KELP_VENV/bin/python" -m pytest -q -p no:cacheprovider magics/provenance/tests/python
