#!/usr/bin/env bash
# The cost curve of `cgsnap run --all PARENT` over N idle cgroups of its own,
# once the histories are full (snapshot_history, 30 s, plus 5): resident
# memory before any scrape (RSS0) and after the four scrapes that read its
# counters (RSS; 50 MB of text each at 10,000 busy cgroups), CPU per runq and
# per system tick (from its own counters over 10 s, BENCH_MEASURE seconds if
# set), the whole agent's CPU over those seconds (/proc/PID/stat: every
# thread, the HTTP server's too), and a scrape (median of RUNS with gzip, size plain and
# compressed).
#
#   scripts/bench-scale.sh OUTPUT [N...]      (default N: 100 1000 10000)
#
# On a hybrid host each cgroup gets its v1 memory twin too, as systemd gives
# its units, so that memory is read as it would be. BENCH_CGSNAP_ARGS adds
# options to cgsnap run (e.g. "--idle-read-interval 0"). BENCH_ACTIVE=1 puts a
# process in every cgroup that wakes every BENCH_ACTIVE_US microseconds
# (cgsnap-workload --each-cgroup; 250000, twice per run-queue interval): every
# cgroup active in every interval. On a hybrid host each process is in its
# cgroup's v1 memory twin too. BENCH_TOUCH_KB=K makes each wake map and touch
# K KiB or unmap them, in turn: memory usage that moves as a working program's
# (64 KiB at 10,000 cgroups is 2.5 GB/s of page faults: on 2 CPUs the workload
# alone saturates the machine, and the agent's figures mean nothing).
#
# Needs root. Removes its cgroups, also when interrupted.
set -euo pipefail
out=$(realpath "${1:?usage: bench-scale.sh OUTPUT [N...]}")
shift
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 1000 10000)
runs=${BENCH_RUNS:-15}
settle=${BENCH_SETTLE:-35}
measure=${BENCH_MEASURE:-10}
v2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
v1mem=$(awk '$9 == "cgroup" && $NF ~ /(^|,)memory(,|$)/ { print $5; exit }' /proc/self/mountinfo)
parent=cgsnap-bench-scale-$$
port=$((20000 + ($$ + 7) % 20000))
url=http://127.0.0.1:$port
pid=
wl=

stop_workload() {
	[ -z "$wl" ] || { kill -- "-$wl" 2>/dev/null; wait "$wl" 2>/dev/null || true; }
	wl=
	# the cgroups are empty before the next size or the cleanup
	while cat "$v2/$parent"/cg-*/cgroup.procs 2>/dev/null | grep -q .; do
		sleep 0.2
	done
}

# a cgroup whose last task just exited may refuse rmdir for a moment
rm_tree() {
	for _ in $(seq 100); do
		[ -d "$1" ] || return 0
		find "$1" -depth -type d -exec rmdir {} + 2>/dev/null || sleep 0.1
	done
	echo "bench-scale: could not remove $1" >&2
}

cleanup() {
	[ -z "$pid" ] || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }
	stop_workload
	rm_tree "$v2/$parent"
	[ -z "$v1mem" ] || rm_tree "$v1mem/$parent"
}
trap cleanup EXIT
trap "exit 130" INT TERM
trap "exit 129" HUP
# a sleep that a signal ends at once (bash runs a trap only once a
# foreground child is done): the cleanup does not wait out a long settle
nap() { sleep "$1" & wait $!; }

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# the value of series $1 (a full name with labels, regex-quoted) on a scrape
metric() { curl -s "$url/metrics" | awk -v m="$1" '$1 == m && !done { print $2; done = 1 }'; }
# CPU ticks (utime + stime) of process $1 so far; the name may hold spaces
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
hz=$(getconf CLK_TCK)

mkdir "$v2/$parent"
[ -z "$v1mem" ] || mkdir "$v1mem/$parent"
have=0
active_us=${BENCH_ACTIVE_US:-250000}
printf '%-8s %9s %9s %9s %12s %12s %10s %11s %10s %9s\n' cgroups "RSS0 MiB" "RSS MiB" "KiB/cg" \
	"runq ms/tick" \
	"system ms/tk" "agent %CPU" "scrape ms" "plain KB" "gzip KB"
for n in "${sizes[@]}"; do
	while [ "$have" -lt "$n" ]; do
		mkdir "$v2/$parent/cg-$have"
		[ -z "$v1mem" ] || mkdir "$v1mem/$parent/cg-$have"
		have=$((have + 1))
	done
	if [ "${BENCH_ACTIVE:-0}" = 1 ]; then
		# in the v1 memory twin too, as systemd places a unit's tasks
		setsid "$out/cgsnap-workload" --each-cgroup "$v2/$parent" --count "$n" \
			--sleep-us "$active_us" ${v1mem:+--also-in "$v1mem/$parent"} \
			--touch-kb "${BENCH_TOUCH_KB:-0}" >"$out/bench-scale-workload.out" 2>&1 &
		wl=$!
		for _ in $(seq 600); do
			grep -qs ready "$out/bench-scale-workload.out" && break
			sleep 0.1
		done
		grep -q ready "$out/bench-scale-workload.out" || {
			echo "bench-scale: the workload did not start:" >&2
			head -3 "$out/bench-scale-workload.out" >&2
			exit 1
		}
	fi
	# shellcheck disable=SC2086 # BENCH_CGSNAP_ARGS: words
	"$out/cgsnap" run --all "$parent" --listen "127.0.0.1:$port" --quiet \
		${BENCH_CGSNAP_ARGS:-} 2>/dev/null &
	pid=$!
	for _ in $(seq 300); do
		curl -s -f -o /dev/null "$url/healthz" && break
		sleep 0.1
	done
	nap "$settle"
	rss0=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
	declare -A a b
	for k in runq system; do
		a[$k]=$(metric "cgsnap_collector_tick_cpu_seconds_total{tick=\"$k\"}")
		a[n$k]=$(metric "cgsnap_collector_ticks_total{tick=\"$k\"}")
	done
	a[cpu]=$(cpu_ticks "$pid")
	nap "$measure"
	b[cpu]=$(cpu_ticks "$pid")
	for k in runq system; do
		b[$k]=$(metric "cgsnap_collector_tick_cpu_seconds_total{tick=\"$k\"}")
		b[n$k]=$(metric "cgsnap_collector_ticks_total{tick=\"$k\"}")
	done
	rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
	t=$(for _ in $(seq "$runs"); do
		curl -s -o /dev/null -H 'Accept-Encoding: gzip' -w '%{time_total}\n' "$url/metrics"
	done | median)
	plain=$(curl -s -o /dev/null -w '%{size_download}' "$url/metrics")
	gz=$(curl -s -o /dev/null -H 'Accept-Encoding: gzip' -w '%{size_download}' "$url/metrics")
	awk -v n="$n" -v rss0="$rss0" -v rss="$rss" -v ra="${a[runq]}" -v rb="${b[runq]}" -v rna="${a[nrunq]}" \
	    -v rnb="${b[nrunq]}" -v sa="${a[system]}" -v sb="${b[system]}" -v sna="${a[nsystem]}" \
	    -v snb="${b[nsystem]}" -v t="$t" -v plain="$plain" -v gz="$gz" \
	    -v cpu="$(( b[cpu] - a[cpu] ))" -v hz="$hz" -v secs="$measure" 'BEGIN {
		printf "%-8d %9.1f %9.1f %9.2f %12.2f %12.2f %10.2f %11.1f %10.0f %9.1f\n", n,
		       rss0 / 1024, rss / 1024,
		       rss / n, (rb - ra) / (rnb - rna) * 1000, (sb - sa) / (snb - sna) * 1000,
		       cpu / hz / secs * 100, t * 1000, plain / 1024, gz / 1024 }'
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	pid=
	stop_workload
done
