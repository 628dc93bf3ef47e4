#!/usr/bin/env bash
# Cgroup churn beside `cgsnap stat`: are short-lived cgroups all listed?
#
#   scripts/churn.sh OUTPUT [COUNT] [PER_MINUTE]     (defaults: 1000, 1000)
#
# Creates COUNT cgroups under a parent of its own, PER_MINUTE of them a
# minute, each living 100-500 ms with a contention workload (a spinner and a
# sleeper waking every 500 us, on a machine kept busy by stress-ng), while
# `cgsnap stat --all --json` measures (every cgroup, also those without waits); then prints how many of them
# the measurement listed (marked removed) and how many waits it counted.
# Needs root. Removes what it made, also when interrupted.
set -euo pipefail
out=$(realpath "${1:?usage: churn.sh OUTPUT [COUNT] [PER_MINUTE]}")
count=${2:-1000}
rate=${3:-1000}
v2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$v2" ] || { echo "churn: no cgroup2 mount" >&2; exit 1; }
parent=cgsnap-churn-$$
stat_json=$(mktemp)
stress_pid=

cleanup() {
	[ -z "$stress_pid" ] || kill "$stress_pid" 2>/dev/null || true
	for d in "$v2/$parent"/*/ "$v2/$parent"; do
		[ -d "$d" ] || continue
		while read -r p; do kill -9 "$p" 2>/dev/null || true; done <"$d/cgroup.procs"
		rmdir "$d" 2>/dev/null || true
	done
	rm -f "$stat_json"
}
trap cleanup EXIT

mkdir "$v2/$parent"
stress-ng --cpu 2 --quiet --timeout 0 & stress_pid=$!
period_ms=$((60000 / rate))
duration_s=$(((count * period_ms + 999) / 1000 + 30))
"$out/cgsnap" stat --all --json --duration "${duration_s}s" >"$stat_json" &
stat_pid=$!
sleep 2
# the pace-keeper itself must keep up on the saturated machine it makes
renice -n -10 $$ >/dev/null
start=$(date +%s%N)
start_us=${EPOCHREALTIME/./}
# one cgroup's life: created, a workload for LIFE ms, killed, removed
life_of() {
	local d=$1 life=$2 pid
	mkdir "$d"
	(
		echo $BASHPID >"$d/cgroup.procs"
		exec "$out/cgsnap-workload" --spinners 1 --sleepers 1 --sleep-us 500 \
			--duration-ms "$life" >/dev/null
	) &
	pid=$!
	sleep "$(printf '0.%03d' "$life")"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	until rmdir "$d" 2>/dev/null; do sleep 0.01; done
}
for i in $(seq 1 "$count"); do
	life_of "$v2/$parent/job-$i" $((100 + RANDOM % 401)) &
	# keep the pace: one starts every period_ms, several live at once
	next=$((start_us + i * period_ms * 1000))
	now=${EPOCHREALTIME/./}
	if [ "$now" -lt "$next" ]; then
		printf -v nap '%d.%06d' $(((next - now) / 1000000)) $(((next - now) % 1000000))
		sleep "$nap"
	fi
done
wait_lives() { while [ -n "$(ls -d "$v2/$parent"/job-* 2>/dev/null)" ]; do sleep 0.1; done; }
wait_lives
elapsed=$((($(date +%s%N) - start) / 1000000))
wait "$stat_pid"
python3 - "$stat_json" "$count" "$elapsed" "$parent" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
count, elapsed, parent = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
jobs = [c for c in d["cgroups"] if c["path"].startswith(f"/{parent}/job-")]
removed = [c for c in jobs if c["removed"]]
waits = [c["runq"]["count"] for c in jobs]
print(f"churn: {count} cgroups in {elapsed / 1000:.1f} s ({count * 60000 / elapsed:.0f} a minute); "
      f"stat listed {len(jobs)} ({len(removed)} marked removed), "
      f"{sum(1 for w in waits if w > 0)} with waits, median {sorted(waits)[len(waits) // 2] if waits else 0} waits; "
      f"dropped: {d['dropped']}")
sys.exit(0 if len(removed) == count else 1)
EOF
