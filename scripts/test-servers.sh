#!/usr/bin/env bash
# Starts MinIO, Azurite and fake-gcs-server on free 127.0.0.1 ports with temporary data
# directories, waits until each answers, and writes the environment the tests read to a
# file. Meant to be sourced by scripts/test.sh; usable alone:
#
#   scripts/test-servers.sh start ENVFILE   # prints nothing; servers keep running
#   scripts/test-servers.sh stop  ENVFILE   # stops what start started
#
# Requires the servers to be installed (scripts/install-test-servers.sh).
set -euo pipefail

tools="${ISLEDB_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/isledb-tools}"
cmd="${1:-}"
envfile="${2:-}"
[ -n "$cmd" ] && [ -n "$envfile" ] || { echo "usage: $0 start|stop ENVFILE" >&2; exit 2; }

log() { echo "test-servers: $*" >&2; }

# free_port prints a TCP port on 127.0.0.1 that nothing listens on.
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$(( 20000 + RANDOM % 40000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

# wait_port waits up to $2 seconds for 127.0.0.1:$1 to accept connections.
wait_port() {
  local deadline=$(( $(date +%s) + $2 ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  return 1
}

start() {
  local run; run=$(mktemp -d "${TMPDIR:-/tmp}/isledb-servers.XXXXXX")
  : >"$envfile"
  echo "ISLEDB_SERVERS_DIR=$run" >>"$envfile"

  if [ -x "$tools/bin/minio" ]; then
    local p1 p2; p1=$(free_port); p2=$(free_port)
    mkdir -p "$run/minio"
    MINIO_ROOT_USER=minioadmin MINIO_ROOT_PASSWORD=minioadmin MINIO_BROWSER=off MINIO_UPDATE=off \
      "$tools/bin/minio" server "$run/minio" --quiet --address "127.0.0.1:$p1" \
      --console-address "127.0.0.1:$p2" >"$run/minio.log" 2>&1 &
    echo $! >"$run/minio.pid"
    if wait_port "$p1" 60; then
      {
        echo "ISLEDB_TEST_S3_ENDPOINT=http://127.0.0.1:$p1"
        echo "AWS_ACCESS_KEY_ID=minioadmin"
        echo "AWS_SECRET_ACCESS_KEY=minioadmin"
        echo "AWS_REGION=us-east-1"
      } >>"$envfile"
    else
      log "MinIO did not start:"; cat "$run/minio.log" >&2; return 1
    fi
  else
    log "MinIO is not installed: S3 tests will be skipped"
  fi

  if [ -x "$tools/bin/fake-gcs-server" ]; then
    local p; p=$(free_port)
    "$tools/bin/fake-gcs-server" -scheme http -host 127.0.0.1 -port "$p" -backend memory \
      -public-host "127.0.0.1:$p" -external-url "http://127.0.0.1:$p" -log-level warn \
      >"$run/fakegcs.log" 2>&1 &
    echo $! >"$run/fakegcs.pid"
    if wait_port "$p" 30; then
      {
        echo "ISLEDB_TEST_GCS_ENDPOINT=127.0.0.1:$p"
        echo "STORAGE_EMULATOR_HOST=127.0.0.1:$p"
      } >>"$envfile"
    else
      log "fake-gcs-server did not start:"; cat "$run/fakegcs.log" >&2; return 1
    fi
  else
    log "fake-gcs-server is not installed: GCS tests will be skipped"
  fi

  local az="$tools/azurite/node_modules/.bin/azurite-blob"
  if [ -x "$az" ] && command -v node >/dev/null 2>&1; then
    local p; p=$(free_port)
    mkdir -p "$run/azurite"
    "$az" --blobHost 127.0.0.1 --blobPort "$p" --inMemoryPersistence \
      --disableTelemetry --skipApiVersionCheck --silent >"$run/azurite.log" 2>&1 &
    echo $! >"$run/azurite.pid"
    if wait_port "$p" 60; then
      {
        echo "ISLEDB_TEST_AZURE_ENDPOINT=127.0.0.1:$p"
        echo "AZURE_STORAGE_ACCOUNT=devstoreaccount1"
        # The Azurite emulator's well-known development key, published by Microsoft.
        echo "AZURE_STORAGE_KEY=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
      } >>"$envfile"
    else
      log "Azurite did not start:"; cat "$run/azurite.log" >&2; return 1
    fi
  else
    log "Azurite is not installed: Azure tests will be skipped"
  fi
}

stop() {
  [ -f "$envfile" ] || return 0
  local run; run=$(sed -n 's/^ISLEDB_SERVERS_DIR=//p' "$envfile")
  [ -n "$run" ] && [ -d "$run" ] || return 0
  for f in "$run"/*.pid; do
    [ -f "$f" ] || continue
    kill "$(cat "$f")" 2>/dev/null || true
  done
  sleep 0.5
  for f in "$run"/*.pid; do
    [ -f "$f" ] || continue
    kill -9 "$(cat "$f")" 2>/dev/null || true
  done
  rm -rf "$run"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop ENVFILE" >&2; exit 2 ;;
esac
