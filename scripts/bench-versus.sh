#!/usr/bin/env bash
# The node agent's cost, this build beside an earlier commit's, in one run:
# REV is built in a worktree of its own (OUTPUT/versus/REV), then for each
# number of cgroups, idle and then every cgroup active, bench-scale.sh runs
# the earlier build and this one, one right after the other.
#
#   scripts/bench-versus.sh OUTPUT REV [N...]    (default N: 1000 4000 10000)
#
# Needs root (bench-scale.sh). BENCH_* settings pass through.
set -euo pipefail
out=$(realpath "${1:?usage: bench-versus.sh OUTPUT REV [N...]}")
rev=${2:?usage: bench-versus.sh OUTPUT REV [N...]}
shift 2
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 4000 10000)
here=$(git rev-parse --short HEAD)
base=$(git rev-parse --short "$rev")
tree=$(./scripts/build-rev.sh "$out" "$base")
for active in 0 1; do
	echo "== $([ "$active" = 1 ] && echo "every cgroup active" || echo idle)"
	for n in "${sizes[@]}"; do
		for build in "$base:$tree/.output" "$here:$out"; do
			echo "-- ${build%%:*}"
			BENCH_ACTIVE=$active ./scripts/bench-scale.sh "${build#*:}" "$n"
		done
	done
done
