#!/usr/bin/env bash
# Run the Criterion test binary. Tests run one at a time: the kernel tests
# measure scheduling and must not compete with each other for the CPUs.
# Afterwards, remove any cgroup a crashed test could not remove itself.
set -uo pipefail
bin=$1
shift

cleanup() {
	local d
	for d in /sys/fs/cgroup/cgsnap-test-* /sys/fs/cgroup/unified/cgsnap-test-* \
		 /sys/fs/cgroup/*/cgsnap-test-*; do
		[ -d "$d" ] || continue
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
}
trap cleanup EXIT

"$bin" --jobs 1 "$@"
