# Shared by the scripts: where builds go and how to set up a machine.

# Builds live outside the checkout so a fresh clone (and CI) reuses them.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pingone-mcp/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

# This workspace's artifacts keep the path of the checkout that built them (where the
# binary finds models/ and actions/, where the tests find their files), and cargo does
# not rebuild them for a checkout elsewhere that shares the target dir: they would
# read the other checkout's files, or fail when it is gone. Cargo also takes them for
# fresh when the other checkout built after a file here was edited (it compares the
# edit's time with the build's, by a path relative to the workspace), so an edit to
# the guest was once left out of a build. So when another checkout built last, the
# workspace's own packages are cleaned, for the host and in the guest's target dir;
# their dependencies (most of the build) are kept.
claim_target_dir() {
  local mark="$CARGO_TARGET_DIR/pingone-mcp-checkout" here
  here="$(pwd -P)"
  [[ "$(cat "$mark" 2>/dev/null)" == "$here" ]] && return
  if [[ -d "$CARGO_TARGET_DIR/debug" || -d "$CARGO_TARGET_DIR/release" ]]; then
    echo "== $CARGO_TARGET_DIR was last built from $(cat "$mark" 2>/dev/null || echo 'an unrecorded checkout'): rebuilding this workspace's packages for $here"
    cargo clean --quiet -p pingone-mcp -p guest-sdk
  fi
  if [[ -d "$CARGO_TARGET_DIR/wasm-guest" ]]; then
    cargo clean --quiet -p pingone-js-sandbox -p guest-sdk --target wasm32-wasip1 --profile guest --target-dir "$CARGO_TARGET_DIR/wasm-guest"
  fi
  mkdir -p "$CARGO_TARGET_DIR"
  printf '%s\n' "$here" > "$mark"
}

ensure_toolchain() {
  command -v cargo >/dev/null || { echo "cargo not found: install Rust from https://rustup.rs" >&2; exit 1; }
  # The JavaScript sandbox is a WebAssembly guest.
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip1; then
    rustup target add wasm32-wasip1
  fi
}

# Python with the official MCP client, for the tests that drive the server with it.
export PINGONE_MCP_VENV="${PINGONE_MCP_VENV:-$HOME/.cache/pingone-mcp/venv}"
ensure_python_client() {
  if ! "$PINGONE_MCP_VENV/bin/python" -c 'import mcp' 2>/dev/null; then
    python3 -m venv "$PINGONE_MCP_VENV"
    "$PINGONE_MCP_VENV/bin/pip" install --quiet --disable-pip-version-check 'mcp==2.3.0'
  fi
  export PINGONE_MCP_PYTHON="$PINGONE_MCP_VENV/bin/python"
}

# The MCP Inspector CLI and the MCP conformance suite (both need Node >= 22, installed
# beside them from the npm registry).
export PINGONE_MCP_INSPECTOR_DIR="${PINGONE_MCP_INSPECTOR_DIR:-$HOME/.cache/pingone-mcp/inspector}"
ensure_inspector() {
  local bin="$PINGONE_MCP_INSPECTOR_DIR/node_modules/.bin"
  if [[ ! -x "$bin/mcp-inspector" || ! -x "$bin/conformance" ]]; then
    npm install --silent --no-audit --no-fund --prefix "$PINGONE_MCP_INSPECTOR_DIR" \
      node@22 @modelcontextprotocol/inspector @modelcontextprotocol/conformance@0.1.16
  fi
}
