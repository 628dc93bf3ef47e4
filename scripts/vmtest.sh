#!/usr/bin/env bash
# Run the kernel tests and an end-to-end `cgsnap run` check on other kernels,
# each in a qemu virtual machine with a pure cgroup v2 hierarchy.
#
#   scripts/vmtest.sh OUTPUT [KERNEL...]     KERNEL: 6.1, 6.12 (default: both)
#
# The kernels are Debian 12's own packages (6.1 LTS from linux-image-amd64,
# 6.12 from linux-image-6.12-amd64), fetched with `apt-get download` into
# OUTPUT/vm and unpacked there with dpkg-deb: the host's /boot and
# /lib/modules are left alone. The guest boots from a small busybox initramfs
# that loads the 9p and overlay modules, mounts this host's root filesystem
# read-only over 9p under a tmpfs overlay (so this checkout and its build are
# visible and writable, and nothing is written back), and runs
# scripts/vmtest-guest.sh there. qemu uses software emulation (TCG): this
# machine's /dev/kvm cannot run stock kernels.
#
# VMTEST_CMD="..." runs that shell command in the guest instead of the tests.
#
# Exit status: 0 when every kernel's guest reported success; otherwise 1,
# with the guest's console log printed. A guest that does not boot or does
# not finish within VMTEST_TIMEOUT seconds (default 900) is a failure.
set -euo pipefail

out=$(realpath "${1:?usage: vmtest.sh OUTPUT [KERNEL...]}")
shift
kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || kernels=(6.1 6.12)
repo=$(realpath "$(dirname "$0")/..")
vmdir=$out/vm
timeout_s=${VMTEST_TIMEOUT:-900}
mem=${VMTEST_MEM:-2048}
smp=${VMTEST_SMP:-2}
# one host thread for all vCPUs: with one thread per vCPU (multi), the
# kernel's live patching of static keys (every BPF attach and detach flips
# the tracepoints') raced with the other vCPU and oopsed on its int3
# (6.12, __alloc_pages, once in several runs)
tcg_threads=${VMTEST_TCG_THREAD:-single}

die() { echo "vmtest: $*" >&2; exit 1; }

for t in qemu-system-x86_64 busybox dpkg-deb depmod modprobe cpio apt-get; do
	command -v "$t" >/dev/null || die "$t not found (run: sudo make setup)"
done
busybox=$(command -v busybox)
file -L "$busybox" 2>/dev/null | grep -q 'statically linked' ||
	die "$busybox is not statically linked (install busybox-static)"

# KERNEL -> Debian meta package whose dependency is the current image
meta_of() {
	case $1 in
	6.1) echo linux-image-amd64 ;;
	6.12) echo linux-image-6.12-amd64 ;;
	*) die "unknown kernel '$1' (known: 6.1, 6.12)" ;;
	esac
}

# Fetch and unpack one kernel package; print the unpacked directory.
fetch_kernel() {
	local meta pkg deb dir
	meta=$(meta_of "$1")
	pkg=$(apt-cache depends "$meta" 2>/dev/null |
	      awk '/Depends: linux-image-/ { print $2; exit }')
	[ -n "$pkg" ] || die "no package behind $meta (apt-get update?)"
	mkdir -p "$vmdir/debs"
	deb=$(ls "$vmdir/debs/${pkg}_"*.deb 2>/dev/null | head -n1 || true)
	if [ -z "$deb" ]; then
		(cd "$vmdir/debs" && apt-get download -q "$pkg" 2>&1 |
			grep -v 'unsandboxed as root' >&2 || true)
		deb=$(ls "$vmdir/debs/${pkg}_"*.deb 2>/dev/null | head -n1 || true)
		[ -n "$deb" ] || die "could not download $pkg"
	fi
	dir=$vmdir/$pkg
	if [ ! -d "$dir/boot" ]; then
		rm -rf "$dir.tmp"
		dpkg-deb -x "$deb" "$dir.tmp"
		mv "$dir.tmp" "$dir"
	fi
	echo "$dir"
}

# The initramfs: static busybox, the modules 9p and overlay need (in load
# order, decompressed), and an init that mounts the shared root and hands over.
make_initrd() {
	local dir=$1 kver=$2 initrd=$3 stage n=0 line mod base
	stage=$(mktemp -d)
	mkdir -p "$stage"/{bin,dev,proc,sys,lower,rw,newroot,modules}
	cp "$busybox" "$stage/bin/busybox"
	depmod -b "$dir" "$kver"
	declare -A seen=()
	while read -r line; do
		case $line in insmod\ *) ;; *) continue ;; esac
		mod=${line#insmod }
		mod=${mod%% *}
		[ -z "${seen[$mod]:-}" ] || continue
		seen[$mod]=1
		base=$(basename "$mod")
		base=${base%.xz}
		base=${base%.zst}
		n=$((n + 1))
		case $mod in
		*.xz) xz -dc "$mod" >"$stage/modules/$(printf %02d $n)-$base" ;;
		*.zst) zstd -qdc "$mod" >"$stage/modules/$(printf %02d $n)-$base" ;;
		*) cp "$mod" "$stage/modules/$(printf %02d $n)-$base" ;;
		esac
	done < <(modprobe -d "$dir" -S "$kver" --show-depends -a \
		 virtio_pci 9pnet_virtio 9p overlay)
	cat >"$stage/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in /modules/*.ko; do
	insmod "$m" || echo "vmtest-init: insmod $m failed"
done
fail() { echo "vmtest-init: $*"; echo "cgsnap-vmtest: exit 125"; echo o >/proc/sysrq-trigger; sleep 60; }
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /lower ||
	fail "cannot mount the host's root over 9p"
mount -t tmpfs -o mode=0755 rw /rw
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot ||
	fail "cannot mount the overlay"
for f in $(cat /proc/cmdline); do
	case $f in cgsnap.repo=*) repo=${f#cgsnap.repo=} ;; esac
done
mount --move /dev /newroot/dev
umount /proc /sys
exec switch_root /newroot /bin/sh "$repo/scripts/vmtest-guest.sh"
EOF
	chmod +x "$stage/init"
	(cd "$stage" && find . | cpio -o -H newc --quiet) | gzip -1 >"$initrd"
	rm -rf "$stage"
}

run_kernel() {
	local k=$1 dir kver initrd log rc status start
	dir=$(fetch_kernel "$k")
	kver=$(ls "$dir/lib/modules")
	initrd=$vmdir/initrd-$kver.gz
	log=$vmdir/console-$kver.log
	make_initrd "$dir" "$kver" "$initrd"
	echo "vmtest: booting $kver (qemu TCG thread=$tcg_threads, $smp CPUs, $mem MiB, pure cgroup v2)"
	start=$(date +%s)
	rc=0
	timeout --foreground -k 10 "$timeout_s" qemu-system-x86_64 \
		-accel tcg,thread="$tcg_threads" -cpu max -smp "$smp" -m "$mem" \
		-kernel "$dir/boot/vmlinuz-$kver" -initrd "$initrd" \
		-append "console=ttyS0 quiet loglevel=3 panic=-1 cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1 cgsnap.repo=$repo" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-nographic -no-reboot -nodefaults -serial stdio \
		</dev/null 2>&1 | tee "$log" | sed -u "s/^/[$k] /" || rc=$?
	status=$(sed -n 's/.*cgsnap-vmtest: exit \([0-9]*\).*/\1/p' "$log" | tail -n1)
	echo "vmtest: $kver finished in $(($(date +%s) - start)) s"
	if [ -z "$status" ]; then
		echo "vmtest: $kver: the guest did not report (qemu/timeout status $rc); console log: $log" >&2
		return 1
	fi
	if [ "$status" != 0 ]; then
		echo "vmtest: $kver: the guest's tests failed (exit $status); console log: $log" >&2
		return 1
	fi
	echo "vmtest: $kver: passed"
}

rm -f "$vmdir/guest-cmd"
[ -z "${VMTEST_CMD:-}" ] || { mkdir -p "$vmdir"; printf '%s\n' "$VMTEST_CMD" >"$vmdir/guest-cmd"; }
# the kernels are fetched one after the other (apt's lock), then, with a
# host CPU per guest (each guest runs on one TCG thread), the guests run side
# by side: CI waits for the slower one instead of the sum. VMTEST_PARALLEL=0
# runs them one after the other.
parallel=${VMTEST_PARALLEL:-}
if [ -z "$parallel" ]; then
	parallel=0
	[ "$(nproc)" -ge "${#kernels[@]}" ] && parallel=1
fi
for k in "${kernels[@]}"; do
	fetch_kernel "$k" >/dev/null
done
failed=()
failed_logs=()
pids=()
for k in "${kernels[@]}"; do
	if [ "$parallel" = 1 ]; then
		{ run_kernel "$k" || true; } >"$vmdir/run-$k.out" 2>&1 &
		pids+=($!)
		# the guests' lines as they come, each prefixed with its kernel
		tail -n +1 -F --pid=$! "$vmdir/run-$k.out" 2>/dev/null &
	else
		{ run_kernel "$k" || true; } >"$vmdir/run-$k.out" 2>&1
		cat "$vmdir/run-$k.out"
	fi
done
for p in "${pids[@]}"; do
	wait "$p" || true
done
wait
for k in "${kernels[@]}"; do
	grep -q "^vmtest: .*: passed$" "$vmdir/run-$k.out" && continue
	failed+=("$k")
	failed_logs+=("$(sed -n 's/^vmtest: booting \([^ ]*\) .*/\1/p' "$vmdir/run-$k.out" | sed "s|^|$vmdir/console-|; s|$|.log|")")
done
if [ ${#failed[@]} -gt 0 ]; then
	# what failed, last, where a CI log's tail shows it
	for log in "${failed_logs[@]}"; do
		[ -f "$log" ] || continue
		# with the lines an assertion prints after it: its message
		grep -a -E -A 6 'FAIL|Assertion|CRASH|Crash|Timeout|timed out|vmtest-init:|BUG:|Oops|panic' \
			"$log" | tail -n 40 >&2 || true
	done
	echo "vmtest: FAILED on ${failed[*]}" >&2
	exit 1
fi
echo "vmtest: passed on ${kernels[*]}"
