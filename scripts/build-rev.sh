#!/usr/bin/env bash
# Build an earlier commit's cgsnap, cgsnap-workload and cgsnap-bench in a
# worktree of its own, OUTPUT/versus/REV (short hash), unless they are
# there already; print the worktree's path. For the side-by-side benchmarks
# (bench-versus.sh, bench-instr.sh).
#
#   scripts/build-rev.sh OUTPUT REV
set -euo pipefail
out=$(realpath "${1:?usage: build-rev.sh OUTPUT REV}")
base=$(git rev-parse --short "${2:?usage: build-rev.sh OUTPUT REV}")
tree=$out/versus/$base
bins=(.output/cgsnap .output/cgsnap-workload .output/cgsnap-bench)

for b in "${bins[@]}"; do
	[ -x "$tree/$b" ] && continue
	# a directory left without its worktree (an interrupted run) is made anew
	if [ ! -e "$tree/.git" ]; then
		rm -rf "$tree"
		git worktree prune
		git worktree add --detach "$tree" "$base" >/dev/null
	fi
	make -C "$tree" -j"$(nproc)" "${bins[@]}" >/dev/null
	break
done
echo "$tree"
