#!/usr/bin/env bash
# The crash loop: N times, start a child process that writes to a database on a file
# bucket with a writer (WAL on, strict sync) and a background compactor (GC and blob GC
# on), SIGKILL it at a random instant, reopen a writer on its WAL directory (which replays
# what the manifest lacks) and check every acknowledged write. Built without -race so that
# long runs are fast; the test suite runs the same loop for 20 cycles under -race.
#
# Usage: scripts/crashloop.sh N [SEED]
#   N     number of kill cycles (default 2000)
#   SEED  replays the workload and the kill delays of an earlier run (thread timing is not
#         replayed); without it, a seed is drawn from the clock and printed.
#
# Prints one "crashloop: seed=... cycles=... acked_writes=... losses=..." line every 100
# cycles and at the end; exits non-zero on any lost or wrong acknowledged write, with the
# seed, cycle, key, expected and read values.
set -euo pipefail
cd "$(dirname "$0")/.."

n=${1:-2000}
case "$n" in '' | *[!0-9]*) echo "usage: $0 N [SEED]" >&2; exit 2 ;; esac
export ISLEDB_CRASHLOOP_CYCLES="$n"
if [ $# -ge 2 ]; then export ISLEDB_CRASHLOOP_SEED="$2"; fi

bin=$(mktemp -d "${TMPDIR:-/tmp}/isledb-crashloop.XXXXXX")
trap 'rm -rf "$bin"' EXIT INT TERM
go test -c -o "$bin/isledb.test" .
echo "== $(date -u '+%Y-%m-%dT%H:%M:%SZ') crash loop, $n cycles; load:$(uptime | sed 's/.*load average://')"
"$bin/isledb.test" -test.run '^TestCrashLoop$' -test.count=1 -test.v -test.timeout 0
echo "== $(date -u '+%Y-%m-%dT%H:%M:%SZ') done; load:$(uptime | sed 's/.*load average://')"
