#!/usr/bin/env bash
# Long soak of the deterministic simulator (TestSim in sim_test.go), without -race.
#
# Usage: scripts/sim.sh [N [START [MODE]]]
#   N      number of seeds (default 10000)
#   START  first seed (default 1)
#   MODE   restrict the operation mix: fence, walstale, blobreuse, walcorrupt or gc
#          (default: the full mix)
# A failing seed prints one line ending with the command that replays it; the run stops
# after three failing seeds.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
start=${2:-1}
mode=${3:-}
args=(-count=1 -timeout 0 -run 'TestSim$' -sim.seeds="$n" -sim.start="$start")
if [ -n "$mode" ]; then
	args+=(-sim.only="$mode")
fi
echo "== TestSim: $n seeds from $start${mode:+, mode $mode}"
go test "${args[@]}" .
