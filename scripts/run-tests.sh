#!/usr/bin/env bash
# Run the Criterion test binary. Tests run one at a time: the kernel tests
# measure scheduling and must not compete with each other for the CPUs.
# Afterwards, remove any cgroup a crashed test could not remove itself.
# With CGSNAP_SAN=1 (the ASan+UBSan build), every sanitizer report of the
# test binary and of every cgsnap it starts is written to a file of its own,
# and any such report fails the run: a test worker's or a child's leak
# report would otherwise scroll past in a passing run.
set -uo pipefail
bin=$1
shift

reports=
cleanup() {
	local d pid
	# cgsnap-test-<pid>-<name>: only those of test processes that are gone
	# (another run's, alive on the same machine, are not ours to remove)
	for d in /sys/fs/cgroup/cgsnap-test-* /sys/fs/cgroup/unified/cgsnap-test-* \
		 /sys/fs/cgroup/*/cgsnap-test-*; do
		[ -d "$d" ] || continue
		pid=${d##*/cgsnap-test-}
		pid=${pid%%-*}
		[ -n "$pid" ] && [ -d "/proc/$pid" ] && continue
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	[ -n "$reports" ] && rm -rf "$reports"
}
trap cleanup EXIT

if [ "${CGSNAP_SAN:-}" = 1 ]; then
	reports=$(mktemp -d /tmp/cgsnap-san-XXXXXX)
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1:log_path=$reports/report"
	export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:log_path=$reports/report"
fi
"$bin" --jobs 1 "$@"
status=$?
if [ -n "$reports" ] && [ -n "$(ls -A "$reports")" ]; then
	for f in "$reports"/*; do
		echo "run-tests: sanitizer report $(basename "$f"):"
		cat "$f"
	done
	echo "run-tests: $(ls "$reports" | wc -l) sanitizer report(s): failing the run" >&2
	[ "$status" -eq 0 ] && status=1
fi
exit "$status"
