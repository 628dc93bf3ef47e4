#!/usr/bin/env bash
# The README's first command: cgsnap run in the foreground, watching every
# cgroup, logging one line per cgroup whose verdict changes. Ctrl-C stops it.
set -euo pipefail
bin=$1
shift
if [ "$(id -u)" -ne 0 ]; then
	echo "run: cgsnap run needs root (or CAP_BPF + CAP_PERFMON)" >&2
	exit 1
fi
cat >&2 <<MSG
Starting cgsnap run (Ctrl-C to stop). In another terminal, try:
  stress-ng --cpu 8 --timeout 30s      # a cgroup turns OVERLOADED, then idle again
  $bin status                # the verdict of every cgroup
  curl -s localhost:9465/metrics | head
MSG
exec "$bin" run "$@"
