#!/usr/bin/env bash
# Install every Debian package cgsnap needs to build, test and run.
# Idempotent: does nothing when all of them are installed already.
set -euo pipefail

PACKAGES=(
	make gcc clang llvm pkg-config
	libbpf-dev bpftool libelf-dev zlib1g-dev
	libjansson-dev libmicrohttpd-dev libcap-dev libcurl4-openssl-dev yamllint
	libcriterion-dev libclang-rt-14-dev
	stress-ng prometheus curl openssl tmux valgrind
	qemu-system-x86 busybox-static kmod cpio file xz-utils zstd
)

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing+=("$p")
	fi
done
# the Crawlee client's tests (clients/crawlee): Node.js 18 or later with npm;
# a Node.js installed otherwise (it brings its own npm) is used as it is
if ! command -v npm >/dev/null 2>&1; then
	missing+=(nodejs npm)
fi
if [ ${#missing[@]} -eq 0 ] && [ -z "${FORCE_APT_UPDATE:-}" ]; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "setup: missing packages: ${missing[*]}; run as root (sudo make setup)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: installing ${missing[*]}"
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
