# Shared by the scripts: where builds go and how to set up a machine.

# Builds live outside the checkout so a fresh clone (and CI) reuses them.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pingone-mcp/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

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
