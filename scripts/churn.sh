#!/usr/bin/env bash
# Cgroup churn beside `cgsnap stat`: are short-lived cgroups all listed?
#
#   scripts/churn.sh OUTPUT [COUNT] [PER_MINUTE]     (defaults: 1000, 1000)
#
# Creates COUNT cgroups under a parent of its own, PER_MINUTE of them a
# minute, each living 100-500 ms with a contention workload (a spinner and a
# sleeper waking every 500 us, on a machine kept busy by stress-ng), while
# `cgsnap stat --all PARENT --json` measures; then prints how many of them
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
duration_s=$(((count * period_ms + 999) / 1000 + 5))
"$out/cgsnap" stat --all "$parent" --json --duration "${duration_s}s" >"$stat_json" &
stat_pid=$!
sleep 2
start=$(date +%s%N)
for i in $(seq 1 "$count"); do
	d=$v2/$parent/job-$i
	mkdir "$d"
	life=$((100 + RANDOM % 401))
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
	# keep the pace: the next one starts period_ms after this one did
	next=$((start + i * period_ms * 1000000))
	now=$(date +%s%N)
	[ "$now" -ge "$next" ] || sleep "$(awk -v n=$((next - now)) 'BEGIN { printf "%.3f", n / 1e9 }')"
done
elapsed=$((($(date +%s%N) - start) / 1000000))
wait "$stat_pid"
python3 - "$stat_json" "$count" "$elapsed" "$parent" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
count, elapsed, parent = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
jobs = [c for c in d["cgroups"] if "/job-" in c["path"]]
removed = [c for c in jobs if c["removed"]]
waits = [c["runq"]["count"] for c in jobs]
print(f"churn: {count} cgroups in {elapsed / 1000:.1f} s ({count * 60000 / elapsed:.0f} a minute); "
      f"stat listed {len(jobs)} ({len(removed)} marked removed), "
      f"{sum(1 for w in waits if w > 0)} with waits, median {sorted(waits)[len(waits) // 2] if waits else 0} waits; "
      f"dropped: {d['dropped']}")
sys.exit(0 if len(removed) == count else 1)
EOF
