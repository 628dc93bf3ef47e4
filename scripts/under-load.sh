#!/usr/bin/env bash
# Run a command N times while the machine is busy with foreign work:
# stress-ng --cpu 2 and a fork storm, in a cgroup of their own. Stops at the
# first failure. Needs root (creates the cgroup) and stress-ng.
#   scripts/under-load.sh 20 .output/cgsnap-tests --filter 'kernel/*'
# prints one line per run and "N passed, 0 failed" at the end.
set -uo pipefail
runs=$1
shift
v2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
load=$v2/cgsnap-load-$$
mkdir "$load" || exit 1
pids=()
cleanup() {
	kill "${pids[@]}" 2>/dev/null
	wait 2>/dev/null
	for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir "$load" 2>/dev/null && break; sleep 0.2; done
}
trap cleanup EXIT
(echo $BASHPID > "$load/cgroup.procs" && exec stress-ng --cpu 2 --timeout 3600s -q) &
pids+=($!)
(echo $BASHPID > "$load/cgroup.procs" && while :; do /bin/true; done) &
pids+=($!)
sleep 1
passed=0
for i in $(seq 1 "$runs"); do
	if ! out=$(CGSNAP_BIN=${CGSNAP_BIN:-.output/cgsnap} ./scripts/run-tests.sh "$@" 2>&1); then
		echo "$out" | tail -n 30
		echo "run $i: FAILED"
		echo "$passed passed, 1 failed"
		exit 1
	fi
	echo "run $i: $(echo "$out" | grep -o 'Tested: [0-9]* | Passing: [0-9]*' | tail -n 1)"
	passed=$((passed + 1))
done
echo "$passed passed, 0 failed"
