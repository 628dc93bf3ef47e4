#!/bin/sh
# Runs inside a scripts/vmtest.sh guest, as its first process, on the host's
# root filesystem (read-only 9p under a tmpfs overlay). Sets up what a pure
# cgroup v2 node has, runs the kernel tests and one end-to-end check of
# `cgsnap run`, prints "cgsnap-vmtest: exit N" and powers the guest off.
repo=$(dirname "$(dirname "$(realpath "$0")")")
out=$repo/.output
status=0

finish() {
	echo "cgsnap-vmtest: exit $1"
	sync
	echo o >/proc/sysrq-trigger
	sleep 60
}

mount -t proc proc /proc
mount -t sysfs sys /sys
# fresh /tmp and /run, unless the checkout is there (the overlay keeps
# the host's copy untouched either way)
case $repo/ in /tmp/*) ;; *) mount -t tmpfs -o mode=1777 tmp /tmp ;; esac
case $repo/ in /run/*) ;; *) mount -t tmpfs -o mode=0755 run /run ;; esac
mkdir -p /dev/shm /dev/pts
mount -t tmpfs -o mode=1777 shm /dev/shm
mount -t devpts devpts /dev/pts
# the layout of every current Kubernetes node and systemd distribution:
# cgroup2 alone at /sys/fs/cgroup, the usual controllers enabled below the root
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup || finish 125
echo "+cpu +cpuset +memory +io +pids" >/sys/fs/cgroup/cgroup.subtree_control ||
	finish 125
ip link set lo up 2>/dev/null || busybox ip link set lo up
# libbpf reads the kernel's configuration from here
[ -e "/boot/config-$(uname -r)" ] ||
	cp "$out/vm/"linux-image-*/boot/"config-$(uname -r)" /boot/ 2>/dev/null
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root CI=true CGSNAP_BIN=$out/cgsnap CGSNAP_TEST_EMULATED=1
cd "$repo" || finish 125

echo "vmtest-guest: kernel $(uname -r), $(nproc) CPUs," \
	"cgroup controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
"$out/cgsnap" --version

# a command of the caller's instead of the tests (VMTEST_CMD on the host)
if [ -s "$out/vm/guest-cmd" ]; then
	sh -c "$(cat "$out/vm/guest-cmd")"
	finish $?
fi

run() {
	echo "vmtest-guest: $*"
	"$@" || status=1
}
# the kernel-facing suites; "run" contributes its end-to-end checks of the
# kernel side: contention, fast mode (waits in progress, wakes, PSI
# triggers) and the event stream
run "$out/cgsnap-tests" --jobs 1 --filter 'cgroup/*'
run "$out/cgsnap-tests" --jobs 1 --filter 'bpf/*'
run "$out/cgsnap-tests" --jobs 1 --filter 'kernel/*'
run "$out/cgsnap-tests" --jobs 1 \
	--filter 'run/contention_turns_overloaded_then_idle_sibling_stays_idle'
run "$out/cgsnap-tests" --jobs 1 --filter 'run/@(fast_mode|events)_*'
finish $status
