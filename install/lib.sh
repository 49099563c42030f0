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
die() { printf '[kelp] error: %s\n' "$*" >&2; exit 1; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root for: $*"; fi; }

# need_apt PKG…: install the Debian packages that are missing (nothing when all are there).
need_apt() {
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
  local dir="$KELP_TOOLS/$1"; shift
  local want="$*" stamp="$KELP_TOOLS/$(basename "$dir").npm-stamp"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -d "$dir/node_modules" ]; then return 0; fi
  log "npm: installing $want into ${dir#$KELP_ROOT/}"
  mkdir -p "$dir"
  [ -f "$dir/package.json" ] || echo '{"name":"kelp-tools","version":"0.0.0","private":true}' > "$dir/package.json"
  npm install --no-audit --no-fund --loglevel=error --prefix "$dir" "$@" >/dev/null
  echo "$want" > "$stamp"
}

# The project's Python environment (JupyterLab, test tools), from install/requirements.txt.
need_venv() {
  local req="$KELP_ROOT/install/requirements.txt" stamp="$KELP_VENV/.kelp-req-stamp"
  [ -x "$KELP_VENV/bin/python" ] || { log "python: creating .venv"; python3 -m venv "$KELP_VENV"; }
  if [ ! -f "$stamp" ] || ! cmp -s "$req" "$stamp"; then
    log "pip: installing install/requirements.txt into .venv"
    "$KELP_VENV/bin/pip" install -q -r "$req"
    cp "$req" "$stamp"
  fi
}
