# C2D (kelp-c2d): the bubblewrap sandbox, Debian's python3 for algorithms (the sandbox exposes
# /usr only, never a home-directory Python), numpy for the example training algorithm, and
# util-linux (prlimit, taskset), procps (kill) and tar which the engine runs.
need_apt bubblewrap python3 python3-numpy util-linux procps tar
command -v bwrap >/dev/null || die "bubblewrap was not installed"
