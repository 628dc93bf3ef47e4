/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The snapshot builder: one interval's accumulators and cgroupfs readings
 * turned into the cpu, memory, runq and client snapshots of docs/SPEC.md
 * section 3. Pure arithmetic over plain structs: the caller reads the
 * files and the maps; nothing here does I/O.
 */
#ifndef __CGSNAP_SNAPBUILD_H
#define __CGSNAP_SNAPBUILD_H

#include <stdbool.h>
#include <stdint.h>

#include "accum.h"
#include "cgroupfs.h"
#include "snapshotter.h"

/* what a cgroup's next cpu and memory snapshots need from the previous ones */
struct sys_state {
	int64_t prev_t;			/* the previous system interval's end; 0: none */
	uint64_t prev_cpu_ns;		/* CPU usage then */
	bool have_cpu;
	uint64_t prev_psi_us;		/* memory PSI some total at prev_psi_t */
	int64_t prev_psi_t;		/* when it was last read (not every interval,
					 * collector_opts.idle_read_ns) */
	bool have_psi;
	uint64_t first_cpu_ns, last_cpu_ns;	/* usage at the first and last reading */
	int64_t first_cpu_t, last_cpu_t;
};

/* host memory from /proc/meminfo; 0 when unknown */
struct host_memory {
	int64_t total_bytes;
	int64_t available_bytes;
};

/* The baseline at @now: CPU usage @usage (if @have_usage), PSI @psi_us (if
 * @have_psi). */
void build_start(struct sys_state *st, int64_t now, bool have_usage, uint64_t usage, bool have_psi,
		 uint64_t psi_us);

/*
 * A cpu snapshot from CPU usage @usage (ns) at @now, the interval since
 * st->prev_t and @r->cpu_capacity. Returns false (no snapshot) on the first
 * reading or when usage went back. Updates @r and the CPU part of @st.
 */
bool build_cpu(const struct cgsnap_settings *s, struct sys_state *st, struct sys_reading *r,
	       uint64_t usage, int64_t now, struct cgsnap_snapshot *snap);

/*
 * The stall ratio of the interval ending at @now: the larger of the BPF
 * reclaim some-time @some_ns and, when @have_psi, the delta of the PSI
 * memory some total @psi_us over the time since it was last read; at most 1.
 * Returns whether it is known.
 * Updates the PSI part of @st.
 */
bool build_stall_ratio(struct sys_state *st, uint64_t some_ns, bool have_psi, uint64_t psi_us,
		       int64_t now, double *ratio);

/*
 * A memory snapshot at @now from @mem, @host and the stall ratio (when
 * @stall_known). Returns false when there is no budget to judge against.
 * Fills @r.
 */
bool build_memory(const struct cgsnap_settings *s, const struct cgroup_memory *mem,
		  const struct host_memory *host, bool stall_known, double stall, int64_t now,
		  struct sys_reading *r, struct cgsnap_snapshot *snap);

/* A runq snapshot at @now from the interval's waits @acc; its summary in @sum. */
void build_runq(const struct cgsnap_settings *s, const struct lat_interval *acc, int64_t now,
		struct lat_summary *sum, struct cgsnap_snapshot *snap);

/*
 * Fast mode: @waiting tasks still waiting at the interval's end, for
 * @waiting_ns together, into @sum; a runq snapshot's delay is at least
 * their mean wait so far: a cgroup starved of CPU, whose waits do not end,
 * is overloaded while it is starved, not once its tasks run again.
 */
void build_runq_waiting(uint64_t waiting, uint64_t waiting_ns, struct lat_summary *sum,
			struct cgsnap_snapshot *snap);

/* A client snapshot at @now from the cumulative @error_count. */
void build_client(const struct cgsnap_settings *s, int64_t error_count, int64_t now,
		  struct cgsnap_snapshot *snap);

/* CPU used from the first to the last reading of @st over @capacity CPUs;
 * -1 if unknown. */
double build_cpu_ratio_overall(const struct sys_state *st, double capacity);

#endif /* __CGSNAP_SNAPBUILD_H */
