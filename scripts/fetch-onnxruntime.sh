#!/usr/bin/env bash
# Installs the onnxruntime wheel (1.32) into the project venv and prints the path of
# its libonnxruntime.so, for the defender's classifier (ort loads it at run time):
#
#   export ORT_DYLIB_PATH="$(scripts/fetch-onnxruntime.sh)"
#
# Without it the defender falls back to patterns and says so.
set -euo pipefail
VENV="${PINGONE_MCP_VENV:-$HOME/.cache/pingone-mcp/venv}"
VERSION="${ONNXRUNTIME_VERSION:-1.32.0}"

if [[ ! -x "$VENV/bin/python" ]]; then
  python3 -m venv "$VENV" >&2
fi
if ! "$VENV/bin/python" -c "import onnxruntime, sys; sys.exit(onnxruntime.__version__ != '$VERSION')" 2>/dev/null; then
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "onnxruntime==$VERSION" >&2
fi
lib="$("$VENV/bin/python" - <<'PY'
import glob, os, onnxruntime
capi = os.path.join(os.path.dirname(onnxruntime.__file__), "capi")
libs = sorted(glob.glob(os.path.join(capi, "libonnxruntime.so*")))
print(libs[-1] if libs else "")
PY
)"
if [[ -z "$lib" ]]; then
  echo "libonnxruntime.so not found in the onnxruntime wheel under $VENV" >&2
  exit 1
fi
echo "$lib"
