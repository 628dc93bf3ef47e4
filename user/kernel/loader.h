/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Opening, loading and attaching the BPF programs. */
#ifndef __CGSNAP_LOADER_H
#define __CGSNAP_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "maps.h"

struct cgsnap_bpf;

struct loader_opts {
	bool verbose;			/* pass libbpf's debug messages on */
	const char *pin_dir;		/* pin maps and links here, reuse them if there */
	unsigned int nr_slots;		/* cgroups the run-queue maps hold; 0: CGSNAP_MIN_SLOTS */
	unsigned int max_level;		/* deeper cgroups count in their ancestor at this
					 * level; 0: CGSNAP_MAX_LEVEL_DEFAULT */
	bool fast;			/* waits in progress kept, long waits told at once */
	uint64_t wake_ns;		/* fast: a wait longer than this wakes the agent */
};

/*
 * Check privileges and BTF, then open, load and attach every program.
 * Returns the skeleton, or NULL with errno set and a one-line reason in @err
 * (which names the missing capability, the missing BTF file, or the program
 * that failed).
 */
struct cgsnap_bpf *loader_open(const struct loader_opts *opts, char *err, size_t errlen);

/*
 * As loader_open(), with the maps pinned in @opts->pin_dir/maps/ and the
 * links in @opts->pin_dir/links/ (bpffs is mounted at /sys/fs/bpf if it is
 * not). If a previous run left them there, its maps are reused and, when all
 * its links are pinned, its programs stay attached and no new ones are:
 * counting goes on without a gap or a double. *@reused says which happened.
 */
struct cgsnap_bpf *loader_open_pinned(const struct loader_opts *opts, bool *reused, char *err,
				      size_t errlen);

/* Drop every capability (effective, permitted, inheritable) and set
 * no_new_privs: what is loaded and attached keeps working. */
int loader_drop_caps(void);
void loader_close(struct cgsnap_bpf *skel);

/* Returns 0 if the running process may load tracing BPF programs, else
 * -EPERM with the missing capability named in @err. */
int loader_check_caps(char *err, size_t errlen);


/* Size the slot maps of an opened (not loaded) skeleton for @nr_slots. */
void loader_size_maps(struct cgsnap_bpf *skel, unsigned int nr_slots);
/* wait source: the kernel's sched_info where its BTF has it (the wakeup programs
 * then stay unloaded), else stamps of our own; CGSNAP_OWN_STAMPS=1 forces those */
void loader_select_wait_source(struct cgsnap_bpf *skel);

/* Slots for a host with @nr_cgroups cgroups: those, a quarter more and
 * 512, in steps of CGSNAP_MIN_SLOTS (slots of removed cgroups come back). */
unsigned int loader_slots_for(unsigned int nr_cgroups);

/* The fds and size of the maps the kernel reader reads. */
void loader_map_fds(const struct cgsnap_bpf *skel, struct kmaps_fds *fds);

/* run time and count of one program (kernel.bpf_stats_enabled) */
struct loader_prog_stat {
	char name[32];
	uint64_t run_time_ns;
	uint64_t run_cnt;
};

/* Fill up to @max entries of @out with the stats of the programs this run
 * loaded (none when they belong to a previous run). Returns how many. */
unsigned int loader_prog_stats(const struct cgsnap_bpf *skel, struct loader_prog_stat *out,
			       unsigned int max);

#endif /* __CGSNAP_LOADER_H */
