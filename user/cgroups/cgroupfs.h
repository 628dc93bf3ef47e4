/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Reading cgroupfs. Library code: no logging; commands return 0 or -errno.
 * Every function takes the filesystem location it reads as a parameter so
 * tests can point it at fixture trees. cgroupfs.c: the mounts, paths and
 * files; resources.c: what a cgroup uses and may use (CPU, memory, PSI).
 */
#ifndef __CGSNAP_CGROUPFS_H
#define __CGSNAP_CGROUPFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROC_MOUNTINFO "/proc/self/mountinfo"

/*
 * Find the cgroup v2 mount point in @mountinfo (a /proc/PID/mountinfo file):
 * /sys/fs/cgroup on pure v2 hosts, /sys/fs/cgroup/unified on hybrid ones.
 * Returns 0, -ENOENT if there is none, -ENAMETOOLONG, or -errno from reading.
 */
int cgroup_find_v2_mount(const char *mountinfo, char *buf, size_t len);

/* Find the mount point of the v1 hierarchy carrying @controller (e.g.
 * "memory", "cpu", "cpuacct", "cpuset"). Returns as cgroup_find_v2_mount(). */
int cgroup_find_v1_mount(const char *mountinfo, const char *controller, char *buf, size_t len);

/* Whether @path names a cgroup without leaving the hierarchy: no "." or ".."
 * component ("a/../b", "../../etc" are refused). */
bool cgroup_path_valid(const char *path);

/* The cgroup v2 id of @path (relative to the v2 mount @root, "" or "/" for
 * the root): the inode number of its directory. Returns 0, -ENOENT,
 * -ENOTDIR or -errno. */
int cgroup_path_to_id(const char *root, const char *path, uint64_t *id);

/* The cgroup v2 path (relative to its mount) of process @pid, read from
 * @proc (normally "/proc"). Returns 0, -ESRCH if there is no such process,
 * -ENOENT if it has no v2 cgroup line, -errno. */
int cgroup_of_pid(const char *proc, int pid, char *buf, size_t len);

/* Where each kind of cgroup file lives on this host. An empty string means
 * "not mounted". */
struct cgroup_layout {
	char v2[256];		/* cgroup v2 mount */
	char cpu[256];		/* v1 mounts of the controllers cgsnap reads */
	char cpuacct[256];
	char cpuset[256];
	char memory[256];
	char proc[128];		/* normally /proc */
	char sys_cpu[128];	/* normally /sys/devices/system/cpu */
};

/* The mount of the hierarchy the memory controller is bound to: v1's memory
 * one where it is mounted, else v2's */
static inline const char *cgroup_memory_root(const struct cgroup_layout *l)
{
	return l->memory[0] ? l->memory : l->v2;
}

/* Fill @l from @mountinfo with the host's paths. Returns 0, or -ENOENT if
 * there is no cgroup v2 mount (cgsnap keys everything by v2 ids). */
int cgroup_layout_detect(struct cgroup_layout *l, const char *mountinfo);

/* @file under cgroup @cg of hierarchy @root opened for reading (O_CLOEXEC),
 * also where the path is longer than PATH_MAX: an fd, or -errno */
int cgroup_open(const char *root, const char *cg, const char *file);

/* Read the first line of @file under cgroup @cg of hierarchy @root into
 * @buf (newline removed). Returns 0, -ENOENT, -EOPNOTSUPP (e.g. PSI off),
 * -errno. */
int cgroup_read_line(const char *root, const char *cg, const char *file, char *buf, size_t len);

/* That first line as one unsigned number: 0, -EINVAL if it is not one, -errno */
int cgroup_read_u64(const char *root, const char *cg, const char *file, uint64_t *val);
/* The same of a file open at @fd, now (pread at offset 0: the kernel formats
 * it again), or -errno (-ENODEV: the cgroup is gone) */
int cgroup_read_u64_at(int fd, uint64_t *val);

/* The values of the @n (at most 31) @keys of a flat-keyed file ("key value"
 * lines) in one pass, into @vals: returns the bitmask of the keys found
 * (bit i: keys[i]), or a negative errno. */
int cgroup_read_keys(const char *root, const char *cg, const char *file, const char *const *keys,
		     uint64_t *vals, unsigned int n);

/* Read the value of "@key VALUE" in a keyed file (cpu.stat, memory.stat).
 * Returns 0, -ENOENT if the file or key is missing, -EINVAL if unparsable. */
int cgroup_read_key(const char *root, const char *cg, const char *file, const char *key,
		    uint64_t *val);

/* The path of v2 cgroup @cg in the v1 hierarchy mounted at @v1root: the
 * same path if it exists there, else the v1 cgroup of a task of @cg.
 * Returns 0, -ENOENT if neither is found. */
int cgroup_v1_path(const struct cgroup_layout *l, const char *v1root, const char *controller,
		   const char *cg, char *buf, size_t len);

/*
 * The v1 cpu and cpuset cgroups of v2 cgroup @cg, for a caller that reads
 * its CPU capacity often (a busy cgroup's, every idle interval) and keeps
 * them: each is @cg's own path where that v1 hierarchy has it, else found
 * through one read of a task's /proc/PID/cgroup (cgroup_v1_path() reads it
 * once per controller). NULL where the controller is not mounted in v1 or
 * none is found. Returns 0 or -ENOMEM; cgroup_cpu_twins_free() releases.
 */
struct cgroup_cpu_twins {
	char *cpu;
	char *cpuset;
};
int cgroup_cpu_twins_find(const struct cgroup_layout *l, const char *cg,
			  struct cgroup_cpu_twins *t);
void cgroup_cpu_twins_free(struct cgroup_cpu_twins *t);

/* CPU time used by @cg and its descendants, in ns (v2 cpu.stat usage_usec,
 * else v1 cpuacct.usage). */
int cgroup_cpu_usage(const struct cgroup_layout *l, const char *cg, uint64_t *ns);

/* CPUs @cg may use (docs/SPEC.md section 3): its CFS quota / period if limited (the
 * smallest along its ancestors), else the size of its effective cpuset,
 * else the online CPUs. */
int cgroup_cpu_capacity(const struct cgroup_layout *l, const char *cg, double *cpus);
/* Its steps, for a caller that keeps its ancestors' (the walk above takes
 * the same): the smallest CPU quota of @cg's own (v2 cpu.max, else v1 cfs
 * quota) and @above, its parent's (0: none), into @cpus (0: none) or
 * -errno; and @cg's capacity with the smallest @quota up its tree: that
 * quota, else its effective cpuset, else the online CPUs. @twins: its v1
 * cgroups as the caller kept them (cgroup_cpu_twins_find()), or NULL; one
 * that is gone is found again. */
int cgroup_cpu_quota_under(const struct cgroup_layout *l, const char *cg,
			   const struct cgroup_cpu_twins *twins, double above, double *cpus);
int cgroup_cpu_capacity_under(const struct cgroup_layout *l, const char *cg,
			      const struct cgroup_cpu_twins *twins, double quota, double *cpus);

struct cgroup_memory {
	int64_t usage_bytes;		/* memory.current / memory.usage_in_bytes */
	int64_t working_set_bytes;	/* usage - inactive file, as the kubelet computes it */
	int64_t limit_bytes;		/* effective limit; -1 if unlimited */
};

/* Memory of @cg and its descendants, from v2 when its memory controller is
 * on, else from the v1 memory cgroup of the same tasks. */
int cgroup_memory(const struct cgroup_layout *l, const char *cg, struct cgroup_memory *m);
/* The same, with @above the effective limit of @cg's parent (-1: none) as
 * the caller kept it (v2), instead of memory.max read up the tree; NULL:
 * read. v1 takes the effective limit from memory.stat either way. @usage:
 * its usage as the caller read it (the memory iterator), or NULL: read. */
int cgroup_memory_under(const struct cgroup_layout *l, const char *cg, const int64_t *above,
			const int64_t *usage, struct cgroup_memory *m);
/* The smaller of @cg's own memory.max (v2) and @above, its parent's
 * effective limit: bytes, or -1 for none ("max", no memory controller) */
int64_t cgroup_memory_max_under(const struct cgroup_layout *l, const char *cg, int64_t above);
/* Its usage alone (memory.current or memory.usage_in_bytes): one small read */
int cgroup_memory_usage(const struct cgroup_layout *l, const char *cg, int64_t *bytes);
/* The file of that usage opened (O_CLOEXEC) to be read again and again with
 * cgroup_read_u64_at(), or -errno; in v1 only for the memory cgroup of the
 * same path (-ENOENT if there is none: cgroup_memory_usage() finds it) */
int cgroup_memory_usage_open(const struct cgroup_layout *l, const char *cg);

/* The "some" total (microseconds) of @resource ("cpu", "memory") pressure.
 * Returns 0, -ENOENT or -EOPNOTSUPP when the kernel has no PSI for it. */
int cgroup_psi_some_us(const struct cgroup_layout *l, const char *cg, const char *resource,
		       uint64_t *us);

#endif /* __CGSNAP_CGROUPFS_H */
