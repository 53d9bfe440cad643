#!/usr/bin/env bash
# Installs the object-store servers the test suite runs against into a reusable tools
# directory: MinIO (S3), fake-gcs-server (GCS) and Azurite (Azure Blob). Already-installed
# servers are kept. Everything comes from the Go module proxy and the npm registry.
#
# Usage: scripts/install-test-servers.sh            (prints the tools directory on success)
# Env:   ISLEDB_TOOLS_DIR  where to install (default: $XDG_CACHE_HOME or ~/.cache, /isledb-tools)
set -euo pipefail

MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
FAKEGCS_VERSION=v1.56.1
AZURITE_VERSION=3.37.0

tools="${ISLEDB_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/isledb-tools}"
mkdir -p "$tools/bin" "$tools/logs"

log() { echo "install-test-servers: $*" >&2; }

# Each server records the version it was built from, so a version bump reinstalls it.
installed() { [ -x "$1" ] && [ -f "$1.version" ] && [ "$(cat "$1.version")" = "$2" ]; }

install_minio() {
  local bin="$tools/bin/minio"
  installed "$bin" "$MINIO_VERSION" && return 0
  log "building MinIO $MINIO_VERSION (about 10 minutes on 2 cores the first time)"
  GOBIN="$tools/bin" GOFLAGS=-mod=mod CGO_ENABLED=0 \
    go install -trimpath -ldflags='-s -w' "github.com/minio/minio@$MINIO_VERSION" \
    >"$tools/logs/minio-install.log" 2>&1 || { cat "$tools/logs/minio-install.log" >&2; return 1; }
  echo "$MINIO_VERSION" >"$bin.version"
}

install_fakegcs() {
  local bin="$tools/bin/fake-gcs-server"
  installed "$bin" "$FAKEGCS_VERSION" && return 0
  log "building fake-gcs-server $FAKEGCS_VERSION"
  GOBIN="$tools/bin" GOFLAGS=-mod=mod CGO_ENABLED=0 \
    go install -trimpath -ldflags='-s -w' "github.com/fsouza/fake-gcs-server@$FAKEGCS_VERSION" \
    >"$tools/logs/fakegcs-install.log" 2>&1 || { cat "$tools/logs/fakegcs-install.log" >&2; return 1; }
  echo "$FAKEGCS_VERSION" >"$bin.version"
}

install_azurite() {
  local dir="$tools/azurite"
  local bin="$dir/node_modules/.bin/azurite-blob"
  if [ -x "$bin" ] && [ -f "$dir/version" ] && [ "$(cat "$dir/version")" = "$AZURITE_VERSION" ]; then
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    log "npm not found: Azurite (Azure Blob) tests will be skipped"
    return 0
  fi
  log "installing Azurite $AZURITE_VERSION from npm"
  mkdir -p "$dir"
  (cd "$dir" && [ -f package.json ] || echo '{"name":"isledb-tools","private":true}' >"$dir/package.json")
  (cd "$dir" && npm install --no-audit --no-fund --loglevel=error "azurite@$AZURITE_VERSION") \
    >"$tools/logs/azurite-install.log" 2>&1 || { cat "$tools/logs/azurite-install.log" >&2; return 1; }
  echo "$AZURITE_VERSION" >"$dir/version"
}

# npm runs beside the two Go builds; the Go builds run one after the other to keep memory
# and the two cores for one compiler at a time.
install_azurite & npm_pid=$!
install_fakegcs
install_minio
wait "$npm_pid"
echo "$tools"
