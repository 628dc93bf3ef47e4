#!/usr/bin/env bash
# make bench: print the figures recorded in docs/BENCHMARKS.md. Needs root.
# The machines are noisy: compare figures from one run, side by side.
set -euo pipefail
out=${1:-.output}
bench=$out/cgsnap-bench
runs=${BENCH_RUNS:-15}

if [ "$(id -u)" -ne 0 ]; then
	echo "bench: needs root (loads BPF programs, creates cgroups)" >&2
	exit 1
fi
echo "== $(uname -r), $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ)"
echo
"$bench" progs 5
echo
"$bench" pingpong "$runs" 200000
echo
"$bench" collector 1000
echo
"$bench" collector 10000
echo
"$bench" podlist 110 "$runs"
echo
echo "GET /metrics, cgsnap run --all over idle cgroups (median of $runs scrapes, gzip asked):"
BENCH_RUNS=$runs ./scripts/bench-metrics.sh "$out" 100 1000 10000
echo
echo "cgsnap run --all over idle cgroups, histories full: memory, tick CPU, scrape:"
BENCH_RUNS=$runs ./scripts/bench-scale.sh "$out" 100 1000 10000
echo
echo "the same with every cgroup active (a process waking every 250 ms in each):"
BENCH_ACTIVE=1 BENCH_RUNS=$runs ./scripts/bench-scale.sh "$out" 1000 10000
