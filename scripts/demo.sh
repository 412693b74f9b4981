#!/usr/bin/env bash
# Sets up a fresh machine, builds pingone-mcp and shows it working: the catalog, and
# a call against your PingOne environment when PINGONE_* credentials are set.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
ensure_toolchain
cargo build --quiet
bin="$CARGO_TARGET_DIR/debug/pingone-mcp"

echo "== $("$bin" actions list | tail -1) in the catalog; a few of them:"
"$bin" actions list | grep -E '^(list_users|update_user_enabled_status|delete_population|generate_application_secret) '
echo
echo "== one action in full:"
"$bin" actions show update_user_enabled_status
echo
if [[ -n "${PINGONE_ENVIRONMENT_ID:-}" ]]; then
  echo "== list_populations against environment $PINGONE_ENVIRONMENT_ID:"
  "$bin" call list_populations --args '{"limit": 5}'
else
  echo "To call your own PingOne environment, set PINGONE_ENVIRONMENT_ID, PINGONE_CLIENT_ID,"
  echo "PINGONE_CLIENT_SECRET (a worker app's) and PINGONE_REGION, then e.g.:"
  echo "  $bin call list_populations --args '{\"limit\": 5}'"
fi
