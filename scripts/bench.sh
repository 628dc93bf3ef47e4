#!/usr/bin/env bash
# make bench: print the figures recorded in docs/BENCHMARKS.md. Needs root.
# The machines are noisy: compare figures from one run, side by side.
set -euo pipefail
out=${1:-.output}
bench=$out/cgsnap-bench
runs=${BENCH_RUNS:-15}
# the build the node agent's figures are compared with (bench-versus.sh,
# bench-instr.sh): the commit before this one, unless BENCH_BASE says
base=${BENCH_BASE:-HEAD~1}

if [ "$(id -u)" -ne 0 ]; then
	echo "bench: needs root (loads BPF programs, creates cgroups)" >&2
	exit 1
fi
echo "== $(uname -r), $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ)"
echo
"$bench" progs 5
echo
"$bench" progs 5 fast
echo
"$bench" pingpong "$runs" 200000
echo
"$bench" collector 1000
echo
"$bench" collector 10000
echo
"$bench" podlist 110 "$runs"
echo
"$bench" history "$runs"
echo
echo "GET /metrics, cgsnap run --all over idle cgroups (median of $runs scrapes, gzip asked):"
BENCH_RUNS=$runs ./scripts/bench-metrics.sh "$out" 100 1000 10000
echo
echo "cgsnap run --all, histories full: memory, tick CPU, scrape; $base's build and this one's"
echo "side by side, over idle cgroups and then every cgroup active (a process waking every"
echo "250 ms in each):"
BENCH_RUNS=$runs ./scripts/bench-versus.sh "$out" "$base" 1000 4000 10000
echo
./scripts/bench-instr.sh "$out" "$base" 1000
echo
echo "the agent's CPU, defaults and --fast side by side (every cgroup active):"
for n in 100 1000; do
	for mode in "" --fast; do
		echo "${mode:-defaults}:"
		BENCH_CGSNAP_ARGS=$mode BENCH_ACTIVE=1 BENCH_RUNS=$runs ./scripts/bench-scale.sh "$out" "$n"
	done
done
echo
rounds=${BENCH_DETECT_ROUNDS:-10}
echo "onset -> first overloaded verdict (GET /v1/events), $rounds rounds each:"
"$bench" detect "$out/cgsnap" saturate "$rounds"
"$bench" detect "$out/cgsnap" saturate "$rounds" --fast
# the neighbour's 8 spinners stretch the watched task's waits to ~10-20 ms:
# a budget below that, the same for both modes
"$bench" detect "$out/cgsnap" neighbour "$rounds" --max-runq-delay 5ms
"$bench" detect "$out/cgsnap" neighbour "$rounds" --max-runq-delay 5ms --fast
