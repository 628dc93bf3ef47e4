#!/usr/bin/env bash
# Instruction counts (callgrind) of the collector's ticks and a snapshot add,
# an earlier commit's build beside this one: a count does not move with the
# VM's speed phases as CPU time does. Only user space is counted: the
# kernel's part of a file read or a map read is not.
#
#   scripts/bench-instr.sh OUTPUT REV [N]     (default N: 1000)
#
# The ticks are cgsnap-bench collector N's: N watched cgroups whose
# run-queue slots it fills itself, 40 runq ticks (20 with 1% of the slots
# moved, 20 with all), and 20 system ticks with all of them (cgroupfs read);
# the adds are cgsnap-bench history's: runq snapshots into a full 30 s
# window, 200,000 of an idle cgroup's and 200,000 of a busy one's (every
# statistic moving). Needs root and valgrind.
set -euo pipefail
out=$(realpath "${1:?usage: bench-instr.sh OUTPUT REV [N]}")
rev=${2:?usage: bench-instr.sh OUTPUT REV [N]}
n=${3:-1000}
here=$(git rev-parse --short HEAD)
base=$(git rev-parse --short "$rev")
command -v valgrind >/dev/null || { echo "bench-instr: valgrind is missing (make setup)" >&2; exit 1; }
tree=$(./scripts/build-rev.sh "$out" "$base")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# instructions inside function $2 during cgsnap-bench $3..., divided by $1
count() {
	local per=$1 fn=$2
	shift 2
	valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" --toggle-collect="$fn" \
		"$bench" "$@" >/dev/null 2>"$tmp/cg.err" || { cat "$tmp/cg.err" >&2; exit 1; }
	awk -v per="$per" '/Collected :/ { printf "%.0f", $NF / per }' "$tmp/cg.err"
}

printf 'instructions (callgrind, user space), %s beside %s:\n' "$base" "$here"
printf '  %-62s %12s %12s\n' "" "$base" "$here"
declare -A col
for build in "$base:$tree/.output" "$here:$out"; do
	bench=${build#*:}/cgsnap-bench
	k=${build%%:*}
	col[$k.runq]=$(count 40 collector__tick_runq collector "$n")
	col[$k.sys]=$(count 20 collector__tick_system collector "$n")
	col[$k.add]=$(count 400000 cgsnap_snapshotter__add history 1)
done
printf '  %-62s %12s %12s\n' "runq tick, $n cgroups (mean of 40: 20 with 1% moved, 20 all)" \
	"${col[$base.runq]}" "${col[$here.runq]}"
printf '  %-62s %12s %12s\n' "system tick, $n cgroups, all active (mean of 20)" \
	"${col[$base.sys]}" "${col[$here.sys]}"
printf '  %-62s %12s %12s\n' "cgsnap_snapshotter__add, runq, half idle, half busy (per add)" \
	"${col[$base.add]}" "${col[$here.add]}"
