#!/usr/bin/env bash
# The kv crash loop: N times, start a child process that writes typed values to a kv.Store
# (default options: WALSyncPerBatch) from several goroutines, SIGKILL it at a random
# instant, reopen the store (which replays its log) and check every acknowledged write
# with Get and a scan. Built without -race so that long runs are fast; the test suite runs
# the same loop (TestKVCrashLoop) for 20 cycles under -race.
#
# Usage: scripts/kvcrashloop.sh N   (default 500)
# Exits non-zero on any lost or wrong acknowledged write, naming the cycle and key.
set -euo pipefail
cd "$(dirname "$0")/.."

n=${1:-500}
case "$n" in '' | *[!0-9]*) echo "usage: $0 N" >&2; exit 2 ;; esac
export ISLEDB_KV_CRASHLOOP_CYCLES="$n"

bin=$(mktemp -d "${TMPDIR:-/tmp}/isledb-kvcrashloop.XXXXXX")
trap 'rm -rf "$bin"' EXIT INT TERM
go test -c -o "$bin/kv.test" ./kv
echo "== $(date -u '+%Y-%m-%dT%H:%M:%SZ') kv crash loop, $n cycles; load:$(uptime | sed 's/.*load average://')"
"$bin/kv.test" -test.run '^TestKVCrashLoop$' -test.count=1 -test.v -test.timeout 0
echo "== $(date -u '+%Y-%m-%dT%H:%M:%SZ') done; load:$(uptime | sed 's/.*load average://')"
