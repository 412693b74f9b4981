#!/usr/bin/env bash
# Sets up a fresh machine, builds pingone-mcp and starts the MCP server on the
# built-in PingOne simulator (no tenant needed), printing how to connect a client.
#   PORT=8080 scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
ensure_toolchain
claim_target_dir
# The runtime of the defender's classifier and the search encoder (the onnxruntime
# wheel's libonnxruntime.so); without it both fall back, with a warning.
export ORT_DYLIB_PATH="$(scripts/fetch-onnxruntime.sh)"
echo "== building (the first build compiles wasmtime and the JavaScript guest: ~20 min on 2 cores)"
cargo build --quiet
bin="$CARGO_TARGET_DIR/debug/pingone-mcp"
port="${PORT:-8080}"
token="${PINGONE_MCP_HTTP_TOKEN:-demo-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')}"

echo "== a script against the simulator (the same call an agent's execute makes):"
"$bin" run - --simulator <<'JS'
const users = await pingone.list_users({ filter: 'enabled eq false', all: true });
const groups = await pingone.list_groups({ all: true });
return { disabledUsers: users.length, firstDisabled: users.slice(0, 3).map(u => u.username), groups: groups.length };
JS

cat <<EOF2

== starting the MCP server on a seeded simulator (2,000 users), read-only by default
Connect an MCP client:
  * MCP Inspector:  npx @modelcontextprotocol/inspector  -> Streamable HTTP, URL http://127.0.0.1:$port/mcp,
                    header  Authorization: Bearer $token
  * Claude Desktop / Cursor / VS Code (stdio, starts its own simulator):
      { "mcpServers": { "pingone": { "command": "$bin", "args": ["serve", "--simulator"] } } }
Add --allow-writes to let the agent change things. Ctrl-C stops the server.

EOF2
export PINGONE_MCP_HTTP_TOKEN="$token"
exec "$bin" serve --simulator --simulator-users 2000 --http "127.0.0.1:$port"
