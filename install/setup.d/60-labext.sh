# kelp JupyterLab extension (labextension/): builds the frontend with the build dependencies locked
# in package-lock.json (`npm ci`, which never rewrites the lock file) and installs the package
# (frontend + signing relay server extension) into .venv. Rebuilds only when a source file changed
# (stamp = hash of the sources). Its browser tests' tools are 65-browser.sh's (test part).
if plan; then
  echo "npm labextension/node_modules: npm ci (labextension/package-lock.json)"
  echo "pip .venv: ./labextension (kelp_labextension, built here)"
  return 0
fi

labext_dir="$KELP_ROOT/labextension"
labext_hash() {
  ( cd "$labext_dir" && find src style schema kelp_labextension jupyter-config package.json package-lock.json \
      pyproject.toml install.json tsconfig.json -type f \
      ! -path 'kelp_labextension/labextension/*' ! -path '*/tests/*' ! -path '*/__pycache__/*' \
      ! -name _version.py -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1 )
}
labext_stamp="$KELP_VENV/.kelp-labext-stamp"
want=$(labext_hash)
if [ "$(cat "$labext_stamp" 2>/dev/null)" != "$want" ] || ! "$KELP_VENV/bin/python" -c 'import kelp_labextension' 2>/dev/null; then
  lock=$(sha256sum "$labext_dir/package-lock.json" | cut -d' ' -f1)
  if [ "$(cat "$labext_dir/node_modules/.kelp-lock" 2>/dev/null)" != "$lock" ]; then
    log "npm: installing labextension build dependencies (from package-lock.json)"
    ( cd "$labext_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null )
    echo "$lock" > "$labext_dir/node_modules/.kelp-lock"
  fi
  log "labextension: building the frontend and installing kelp_labextension into .venv"
  build_log="$KELP_TOOLS/labext-build.log"
  ( cd "$labext_dir" && PATH="$KELP_VENV/bin:$PATH" npm run --silent build:prod ) >"$build_log" 2>&1 \
    || { tail -40 "$build_log" >&2; die "labextension build failed (full log: $build_log)"; }
  "$KELP_VENV/bin/pip" install -q --no-build-isolation --no-deps --force-reinstall "$labext_dir"
  "$KELP_VENV/bin/jupyter" labextension list 2>&1 | grep -q 'kelp-labextension.*enabled.*OK' \
    || die "kelp-labextension is not enabled in .venv after install (see: .venv/bin/jupyter labextension list)"
  echo "$want" > "$labext_stamp"
fi
