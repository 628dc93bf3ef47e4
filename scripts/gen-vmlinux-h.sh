#!/usr/bin/env bash
# Regenerate vmlinux/vmlinux.h from the running kernel's BTF. The result is
# committed, so that building does not depend on the build host's BTF.
set -euo pipefail
out=${1:-vmlinux/vmlinux.h}
btf=${BTF:-/sys/kernel/btf/vmlinux}
if [ ! -r "$btf" ]; then
	echo "gen-vmlinux-h: $btf not readable: the kernel needs CONFIG_DEBUG_INFO_BTF=y" >&2
	exit 1
fi
bpftool btf dump file "$btf" format c > "$out.tmp"
mv "$out.tmp" "$out"
