# C2D: submit → result time of trivial local jobs (real bubblewrap sandbox); prints figures.
cargo run --locked -q -p kelp-c2d --example c2d_bench -- 20
