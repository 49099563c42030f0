# Shared by every install/ script: paths, caches, logging and idempotent installers.
# Sourced, never run.
KELP_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KELP_TOOLS="$KELP_ROOT/install/.tools"
KELP_VENV="$KELP_ROOT/.venv"
# Build and download caches live outside the clone, so a fresh clone (CI) reuses them.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kelp/target}"
export npm_config_cache="${npm_config_cache:-$HOME/.cache/kelp/npm}"
export PIP_CACHE_DIR="${PIP_CACHE_DIR:-$HOME/.cache/kelp/pip}"
export PIP_DISABLE_PIP_VERSION_CHECK=1
export KELP_BIN="$CARGO_TARGET_DIR/debug/kelp"
mkdir -p "$KELP_TOOLS" "$CARGO_TARGET_DIR"

log() { printf '[kelp] %s\n' "$*" >&2; }
# KELP_SETUP_PLAN=1 (install/setup --plan): every need_* helper prints what it would install, one
# "KIND WHERE: WHAT" line each on stdout, and installs nothing.
plan() { [ "${KELP_SETUP_PLAN:-0}" = 1 ]; }
die() { printf '[kelp] error: %s\n' "$*" >&2; exit 1; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root for: $*"; fi; }

# need_apt PKG…: install the Debian packages that are missing (nothing when all are there).
need_apt() {
  if plan; then echo "apt system: $*"; return 0; fi
  local missing=() p
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt: installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# need_npm DIR SPEC…: npm packages installed under install/.tools/DIR, redone only when the
# spec list changes (a stamp file records it).
need_npm() {
  if plan; then echo "npm install/.tools/$1: ${*:2}"; return 0; fi
  local dir="$KELP_TOOLS/$1"; shift
  local want="$*" stamp="$KELP_TOOLS/$(basename "$dir").npm-stamp"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -d "$dir/node_modules" ]; then return 0; fi
  log "npm: installing $want into ${dir#$KELP_ROOT/}"
  mkdir -p "$dir"
  [ -f "$dir/package.json" ] || echo '{"name":"kelp-tools","version":"0.0.0","private":true}' > "$dir/package.json"
  npm install --no-audit --no-fund --loglevel=error --prefix "$dir" "$@" >/dev/null
  echo "$want" > "$stamp"
}

# need_venv REQ…: the project's Python environment (.venv) with the pinned requirement files
# (install/requirements-run.txt, install/requirements-test.txt), each redone only when it changed.
need_venv() {
  local req name stamp
  if plan; then
    for req in "$@"; do echo "pip .venv: $(grep -v '^#' "$KELP_ROOT/install/$req" | grep . | tr '\n' ' ')"; done
    return 0
  fi
  [ -x "$KELP_VENV/bin/python" ] || { log "python: creating .venv"; python3 -m venv "$KELP_VENV"; }
  for req in "$@"; do
    name=${req%.txt}; stamp="$KELP_VENV/.kelp-$name-stamp"
    if [ ! -f "$stamp" ] || ! cmp -s "$KELP_ROOT/install/$req" "$stamp"; then
      log "pip: installing install/$req into .venv"
      "$KELP_VENV/bin/pip" install -q -r "$KELP_ROOT/install/$req"
      cp "$KELP_ROOT/install/$req" "$stamp"
    fi
  done
}

# need_pyvenv NAME SPEC…: a separate venv install/.tools/NAME with the given pip specs (for tools
# whose pins clash with .venv's), redone only when the spec list changes.
need_pyvenv() {
  local dir="$KELP_TOOLS/$1"; shift
  local want="$*" stamp="$dir.pip-stamp"
  if plan; then echo "pip install/.tools/$(basename "$dir"): $want"; return 0; fi
  if [ -x "$dir/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then return 0; fi
  [ -x "$dir/bin/python" ] || { log "python: creating ${dir#$KELP_ROOT/}"; python3 -m venv "$dir"; }
  log "pip: installing $want into ${dir#$KELP_ROOT/}"
  "$dir/bin/pip" install -q "$@"
  echo "$want" > "$stamp"
}

# need_npm_package NAME PACKAGE_JSON CHECK MESSAGE: install a package.json (with its "overrides",
# which need_npm cannot express) under install/.tools/NAME, redone only when it changes; CHECK is
# a path under the folder that must exist afterwards.
need_npm_package() {
  local dir="$KELP_TOOLS/$1" pkg="$2" check="$3" stamp="$KELP_TOOLS/$1.npm-stamp"
  if plan; then echo "npm install/.tools/$1: $(printf '%s' "$pkg" | tr -s ' \n' ' ')"; return 0; fi
  if [ ! -e "$dir/$check" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$pkg" ]; then
    log "npm: $4"
    mkdir -p "$dir"
    printf '%s\n' "$pkg" > "$dir/package.json"
    npm install --no-audit --no-fund --loglevel=error --prefix "$dir" >/dev/null
    [ -e "$dir/$check" ] || die "npm install into install/.tools/$1 finished but $check is missing"
    printf '%s' "$pkg" > "$stamp"
  fi
}

# The npm packages of the devnet's chain tools (anvil, @oceanprotocol/contracts), named once in
# the file `kelp devnet setup` compiles in; one spec a line.
chain_npm_specs() { grep -v '^#' "$KELP_ROOT/magics/ocean/src/devnet/chain-npm.txt" | grep .; }
