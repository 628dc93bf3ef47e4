#!/usr/bin/env bash
# The cost of a scrape: `cgsnap run --all PARENT` over N idle cgroups of its
# own, and GET /metrics in each histogram mode: median time (of RUNS
# scrapes), size plain and gzip-compressed (as Prometheus asks), lines.
#
#   scripts/bench-metrics.sh OUTPUT [N...]      (default N: 100 1000)
#
# Needs root. Removes its cgroups, also when interrupted.
set -euo pipefail
out=$(realpath "${1:?usage: bench-metrics.sh OUTPUT [N...]}")
shift
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 1000)
runs=${BENCH_RUNS:-15}
v2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
parent=cgsnap-bench-metrics-$$
port=$((20000 + $$ % 20000))
pid=

cleanup() {
	[ -z "$pid" ] || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }
	[ -d "$v2/$parent" ] && find "$v2/$parent" -depth -type d -exec rmdir {} + 2>/dev/null
	true
}
trap cleanup EXIT

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

mkdir "$v2/$parent"
have=0
printf '%-8s %-8s %10s %10s %11s %9s %8s\n' cgroups mode "ms/scrape" "plain KB" "gzip KB" lines \
	"lines/cg"
for n in "${sizes[@]}"; do
	while [ "$have" -lt "$n" ]; do
		mkdir "$v2/$parent/cg-$have"
		have=$((have + 1))
	done
	for mode in coarse full none; do
		"$out/cgsnap" run --all "$parent" --listen "127.0.0.1:$port" --quiet \
			--metrics-histograms "$mode" 2>/dev/null &
		pid=$!
		for _ in $(seq 100); do
			curl -s -f -o /dev/null "http://127.0.0.1:$port/healthz" && break
			sleep 0.1
		done
		sleep 2	# a few ticks: every cgroup has its snapshots
		t=$(for _ in $(seq "$runs"); do
			curl -s -o /dev/null -H 'Accept-Encoding: gzip' -w '%{time_total}\n' \
				"http://127.0.0.1:$port/metrics"
		done | median)
		plain=$(curl -s -o /dev/null -w '%{size_download}' "http://127.0.0.1:$port/metrics")
		gz=$(curl -s -o /dev/null -H 'Accept-Encoding: gzip' -w '%{size_download}' \
			"http://127.0.0.1:$port/metrics")
		lines=$(curl -s "http://127.0.0.1:$port/metrics" | grep -vc '^#')
		per=$(curl -s "http://127.0.0.1:$port/metrics" | grep -v '^#' |
		      grep -c "cgroup=\"/$parent/cg-0\"" || true)
		printf '%-8s %-8s %10.1f %10.0f %11.1f %9d %8d\n' "$n" "$mode" \
			"$(awk -v t="$t" 'BEGIN { print t * 1000 }')" "$((plain / 1024))" \
			"$(awk -v b="$gz" 'BEGIN { print b / 1024 }')" "$lines" "$per"
		kill "$pid"
		wait "$pid" 2>/dev/null || true
		pid=
	done
done
