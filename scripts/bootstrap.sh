#!/usr/bin/env bash
# Installs everything riva-call-agent needs on a fresh Debian 12 machine with Node 20:
# Debian packages (speech engines, test audio, PostgreSQL 15, sox), the npm dependencies and a pinned
# LiveKit server built from source (scripts/install-livekit.sh).
# Safe to run again; it skips what is already there. Needs root (or sudo) for apt.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  pocketsphinx pocketsphinx-en-us flite sox libsox-fmt-all espeak-ng
  pocketsphinx-testdata asterisk-core-sounds-en-wav asterisk-core-sounds-en
  postgresql-15 openssl ca-certificates unzip iproute2 python3-venv
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# onnxruntime-node (Silero VAD) must not try to fetch CUDA; npm 11 blocks install scripts, none are needed.
export ONNXRUNTIME_NODE_INSTALL_CUDA=skip
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bootstrap: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# The LiveKit server for real calls (built with Go; skipped when the pinned version is there).
bash scripts/install-livekit.sh
bash scripts/install-riva-client.sh

if [ -x scripts/install-helm.sh ]; then
  scripts/install-helm.sh
fi
echo "bootstrap: ready"
