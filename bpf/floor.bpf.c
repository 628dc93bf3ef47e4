// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Benchmark floor: empty programs on the tracepoints cgsnap uses, to measure
 * what attaching anything there costs (make bench). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tp_btf/sched_switch")
int BPF_PROG(floor_switch)
{
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(floor_wakeup)
{
	return 0;
}
