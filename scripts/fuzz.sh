#!/usr/bin/env bash
# make fuzz: run each libFuzzer target for a while on a copy of its seed
# corpus (tests/fuzz/corpus/TARGET, left as it is), and print one line per
# target: executions, coverage, corpus size. A crash fails with its log.
set -uo pipefail
out=$1
secs=$2
shift 2
status=0
for t in "$@"; do
	work=$out/corpus/$t
	rm -rf "$work"
	mkdir -p "$work"
	log=$out/$t.log
	"$out/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$out/$t-" "$work" "tests/fuzz/corpus/$t" \
		> "$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
	ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1)
	printf 'fuzz %-7s %10s runs in %ss, %s, %s, corpus %s inputs\n' "$t" "${runs:-?}" "$secs" \
		"${cov:-cov: ?}" "${ft:-ft: ?}" "$(ls "$work" | wc -l)"
	if [ $rc -ne 0 ]; then
		echo "fuzz $t: FAILED (exit $rc); the input is in $out/$t-*:" >&2
		tail -n 40 "$log" >&2
		status=1
	fi
done
exit $status
