#!/usr/bin/env bash
# Installs NVIDIA's Python Riva client (nvidia-riva-client, pinned) into the virtual environment
# .tools/riva-client-venv. The speech-server tests drive the dev server with it (speech-server/test/*riva-python*).
#
# Idempotent: exits 0 at once when the venv already has the pinned version.
# Needs python3 with the venv module (Debian: apt-get install python3-venv).
set -euo pipefail
trap 'echo "install-riva-client: failed at line $LINENO (exit $?)" >&2' ERR
cd "$(dirname "$0")/.."

RIVA_CLIENT_VERSION="2.27.0"
VENV=".tools/riva-client-venv"
PY="$VENV/bin/python"

installed_version() {
  [ -x "$PY" ] && "$PY" -c 'import importlib.metadata as m; print(m.version("nvidia-riva-client"))' 2>/dev/null
}

if [ "$(installed_version || true)" = "$RIVA_CLIENT_VERSION" ]; then
  echo "install-riva-client: nvidia-riva-client $RIVA_CLIENT_VERSION already in $VENV"
  exit 0
fi

if ! command -v python3 >/dev/null 2>&1; then
  echo "install-riva-client: python3 is missing; install it (Debian: apt-get install python3 python3-venv) and run again" >&2
  exit 1
fi
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  echo "install-riva-client: python3 has no working venv module; install it (Debian: apt-get install python3-venv) and run again" >&2
  exit 1
fi

if [ ! -x "$PY" ]; then
  rm -rf "$VENV"
  mkdir -p .tools
  python3 -m venv "$VENV"
fi
echo "install-riva-client: installing nvidia-riva-client==$RIVA_CLIENT_VERSION into $VENV"
"$PY" -m pip install --quiet --disable-pip-version-check --no-input "nvidia-riva-client==$RIVA_CLIENT_VERSION"
echo "install-riva-client: installed nvidia-riva-client $(installed_version) into $VENV"
