#!/usr/bin/env bash
# The README's first command: the main job. Until the daemon exists it
# replays the example trace through the snapshotter.
set -euo pipefail
bin=$1
shift
echo "cgsnap replay docs/example-trace.jsonl (--snapshot-history 5m --cpu-overload-threshold 0.5):"
exec "$bin" replay --pretty --snapshot-history 5m --cpu-overload-threshold 0.5 \
	docs/example-trace.jsonl "$@"
