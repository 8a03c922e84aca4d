#!/usr/bin/env bash
# Installs a pinned LiveKit server into .tools/bin/livekit-server for the local stack (`npm run demo`, the
# real-call tests and `npm run bench -- livekit`).
#
# Built from source with the Go toolchain: `go install github.com/livekit/livekit-server/cmd/server@v1.13.5`
# (that tag's go.mod has no `replace` directives, which `go install` refuses; it needs Go 1.26). The module and
# build caches make a second run on the same machine a matter of seconds.
#
# Skips the build when .tools/bin/livekit-server already reports the pinned version, or when a
# `livekit-server` on PATH does (users on other machines install LiveKit's release binary). Without Go it
# says what is missing and exits 0: the demo then falls back to the simulated call, and the real-call
# tests fail with the same message.
set -euo pipefail
cd "$(dirname "$0")/.."

LIVEKIT_SERVER_MODULE="github.com/livekit/livekit-server/cmd/server"
LIVEKIT_SERVER_VERSION="1.13.5"
BIN_DIR="$PWD/.tools/bin"
TARGET="$BIN_DIR/livekit-server"

version_of() {
  "$1" --version 2>/dev/null | awk '{print $NF}'
}

if [ -x "$TARGET" ] && [ "$(version_of "$TARGET")" = "$LIVEKIT_SERVER_VERSION" ]; then
  echo "install-livekit: livekit-server $LIVEKIT_SERVER_VERSION already in $TARGET"
  exit 0
fi

on_path="$(command -v livekit-server || true)"
if [ -n "$on_path" ] && [ "$on_path" != "$TARGET" ]; then
  found="$(version_of "$on_path")"
  if [ "$found" = "$LIVEKIT_SERVER_VERSION" ]; then
    mkdir -p "$BIN_DIR"
    ln -sf "$on_path" "$TARGET"
    echo "install-livekit: using livekit-server $found from $on_path"
    exit 0
  fi
  echo "install-livekit: $on_path is version ${found:-unknown}, not $LIVEKIT_SERVER_VERSION; building the pinned one"
fi

if ! command -v go >/dev/null 2>&1; then
  echo "install-livekit: Go is not installed, so the LiveKit server cannot be built." >&2
  echo "install-livekit: install Go 1.26+ (https://go.dev/dl) or put livekit-server $LIVEKIT_SERVER_VERSION on PATH, then rerun scripts/bootstrap.sh." >&2
  echo "install-livekit: until then \`npm run demo\` runs the simulated call and the real-call tests fail." >&2
  exit 0
fi

echo "install-livekit: building livekit-server v$LIVEKIT_SERVER_VERSION with $(go version | awk '{print $3}') (first time: a few minutes)"
build_dir="$(mktemp -d)"
trap 'rm -rf "$build_dir"' EXIT
GOBIN="$build_dir" GOFLAGS="-trimpath" go install "$LIVEKIT_SERVER_MODULE@v$LIVEKIT_SERVER_VERSION"
mkdir -p "$BIN_DIR"
# `go install` names the binary after its package directory (`server`).
mv "$build_dir/server" "$TARGET"
echo "install-livekit: installed livekit-server $(version_of "$TARGET") into $TARGET"
