// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>

#include "clock.h"
#include "loader.h"
#include "cgsnap.h"
#include "cgsnap.skel.h"

#define BTF_PATH "/sys/kernel/btf/vmlinux"

static bool verbose_print;

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && !verbose_print)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static void loader_set_print(bool verbose)
{
	verbose_print = verbose;
	libbpf_set_print(print_fn);
}

static bool has_cap(const struct __user_cap_data_struct data[2], int cap)
{
	return data[cap / 32].effective & (1U << (cap % 32));
}

int loader_check_caps(char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	if (has_cap(data, CAP_SYS_ADMIN))
		return 0;
	if (!has_cap(data, CAP_BPF)) {
		snprintf(err, errlen, "missing capability CAP_BPF (run as root, or grant "
				      "CAP_BPF and CAP_PERFMON)");
		return -EPERM;
	}
	if (!has_cap(data, CAP_PERFMON)) {
		snprintf(err, errlen, "missing capability CAP_PERFMON (needed to attach "
				      "tracing programs)");
		return -EPERM;
	}
	return 0;
}

/* what both ways of opening check first: libbpf's messages, privileges, BTF */
static int preflight(const struct loader_opts *opts, char *err, size_t errlen)
{
	int ret;

	loader_set_print(opts->verbose);
	ret = loader_check_caps(err, errlen);
	if (ret)
		return ret;
	if (access(BTF_PATH, R_OK)) {
		ret = -errno;
		snprintf(err, errlen, "kernel BTF %s is not readable (%s): cgsnap needs a kernel "
				      "built with CONFIG_DEBUG_INFO_BTF=y", BTF_PATH, strerror(errno));
	}
	return ret;
}

static void configure(struct cgsnap_bpf *skel, const struct loader_opts *opts,
		      unsigned int nr_slots);

struct cgsnap_bpf *loader_open(const struct loader_opts *opts, char *err, size_t errlen)
{
	struct cgsnap_bpf *skel;
	int ret;

	ret = preflight(opts, err, errlen);
	if (ret)
		goto fail;
	skel = cgsnap_bpf__open();
	if (!skel) {
		ret = -errno;
		snprintf(err, errlen, "failed to open BPF object: %s", strerror(errno));
		goto fail;
	}
	configure(skel, opts, opts->nr_slots);
	ret = cgsnap_bpf__load(skel);
	if (ret) {
		snprintf(err, errlen, "failed to load BPF programs: %s (run with -v for the "
				      "verifier log)", strerror(-ret));
		goto fail_destroy;
	}
	ret = cgsnap_bpf__attach(skel);
	if (ret) {
		snprintf(err, errlen, "failed to attach BPF programs: %s", strerror(-ret));
		goto fail_destroy;
	}
	return skel;

fail_destroy:
	cgsnap_bpf__destroy(skel);
fail:
	errno = -ret;
	return NULL;
}

/* whether the kernel's BTF has struct sched_info with the fields the switch
 * program reads (CONFIG_SCHED_INFO) */
/* whether struct @name of @btf has member @member */
static bool has_member(const struct btf *btf, const char *name, const char *member)
{
	int id = btf__find_by_name_kind(btf, name, BTF_KIND_STRUCT);
	const struct btf_type *t = id > 0 ? btf__type_by_id(btf, id) : NULL;
	const struct btf_member *m = t ? btf_members(t) : NULL;

	for (unsigned int i = 0; t && i < btf_vlen(t); i++, m++)
		if (!strcmp(btf__name_by_offset(btf, m->name_off), member))
			return true;
	return false;
}

/* whether vmlinux's BTF has struct sched_info with pcount and run_delay,
 * and in @rq_clock the way from a task to its run queue's clock */
static bool kernel_has_sched_info(bool *rq_clock)
{
	struct btf *btf = btf__load_vmlinux_btf();
	const struct btf_member *m;
	const struct btf_type *t;
	int id, found = 0;
	unsigned int i;

	*rq_clock = false;
	if (!btf)
		return false;
	id = btf__find_by_name_kind(btf, "sched_info", BTF_KIND_STRUCT);
	t = id > 0 ? btf__type_by_id(btf, id) : NULL;
	for (i = 0, m = t ? btf_members(t) : NULL; t && i < btf_vlen(t); i++, m++) {
		const char *name = btf__name_by_offset(btf, m->name_off);

		found += !strcmp(name, "pcount") || !strcmp(name, "run_delay") ||
			 !strcmp(name, "last_queued");
	}
	*rq_clock = has_member(btf, "sched_entity", "cfs_rq") && has_member(btf, "cfs_rq", "rq") &&
		    has_member(btf, "rq", "clock");
	btf__free(btf);
	return found == 3;
}

void loader_select_wait_source(struct cgsnap_bpf *skel)
{
	bool rq_clock, sched_info = kernel_has_sched_info(&rq_clock) && !getenv("CGSNAP_OWN_STAMPS");
	bool wakeups = !sched_info || skel->rodata->targ_fast;

	skel->rodata->targ_sched_info = sched_info;
	/* tasks started from now on have all their waits counted */
	skel->rodata->targ_since_ns = clock_mono_ns();
	/* fast mode: waits in progress on the run queue's clock, where it can
	 * be read (CGSNAP_KTIME_STAMPS=1 compares with the monotonic clock) */
	skel->rodata->targ_rq_clock = sched_info && rq_clock && skel->rodata->targ_fast &&
				      !getenv("CGSNAP_KTIME_STAMPS");
	/* with the kernel's sched_info the switch alone sees every finished wait;
	 * fast mode stamps wakeups for the waits in progress */
	bpf_program__set_autoload(skel->progs.sched_wakeup, wakeups);
	bpf_program__set_autoload(skel->progs.sched_wakeup_new, wakeups);
}

/* the knobs of an opened skeleton, from @opts, with @nr_slots slots (0: the least) */
static void configure(struct cgsnap_bpf *skel, const struct loader_opts *opts,
		      unsigned int nr_slots)
{
	loader_size_maps(skel, nr_slots ? nr_slots : CGSNAP_MIN_SLOTS);
	skel->rodata->targ_max_level = opts->max_level ? opts->max_level : CGSNAP_MAX_LEVEL_DEFAULT;
	skel->rodata->targ_fast = opts->fast;
	skel->rodata->targ_wake_ns = opts->fast ? opts->wake_ns : 0;
	loader_select_wait_source(skel);
}

void loader_size_maps(struct cgsnap_bpf *skel, unsigned int nr_slots)
{
	struct bpf_map *maps[] = { skel->maps.cg_runq_hist, skel->maps.cg_slot,
				   skel->maps.cg_owner, skel->maps.cg_free };
	size_t i;

	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		bpf_map__set_max_entries(maps[i], nr_slots);
	skel->rodata->targ_nr_slots = nr_slots;
	/* one cg_runq value per slot and possible CPU */
	skel->rodata->targ_nr_cpus = libbpf_num_possible_cpus();
	bpf_map__set_max_entries(skel->maps.cg_runq, nr_slots * skel->rodata->targ_nr_cpus);
}

unsigned int loader_slots_for(unsigned int nr_cgroups)
{
	uint64_t n = (uint64_t)nr_cgroups + nr_cgroups / 4 + 512;

	n = (n + CGSNAP_MIN_SLOTS - 1) / CGSNAP_MIN_SLOTS * CGSNAP_MIN_SLOTS;
	return n > CGSNAP_MAX_SLOTS ? CGSNAP_MAX_SLOTS : (unsigned int)n;
}

void loader_close(struct cgsnap_bpf *skel)
{
	cgsnap_bpf__destroy(skel);
}

#define BPF_FS "/sys/fs/bpf"
#define PIN_DIR_MAX 1024

/* make sure @dir lies on a bpffs; mount one at /sys/fs/bpf if that is where */
static int ensure_bpffs(const char *dir, char *err, size_t errlen)
{
	struct statfs st;

	if (strncmp(dir, BPF_FS "/", strlen(BPF_FS) + 1) && strcmp(dir, BPF_FS))
		goto check;	/* elsewhere: the caller's bpffs */
	if (!statfs(BPF_FS, &st) && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", BPF_FS, "bpf", 0, "mode=0700")) {
		snprintf(err, errlen, "bpffs is not mounted at %s and mounting it failed: %s",
			 BPF_FS, strerror(errno));
		return -errno;
	}
check:
	if (mkdir(dir, 0700) && errno != EEXIST) {
		snprintf(err, errlen, "cannot create pin directory %s: %s", dir, strerror(errno));
		return -errno;
	}
	if (statfs(dir, &st) || st.f_type != BPF_FS_MAGIC) {
		snprintf(err, errlen, "pin directory %s is not on a bpf filesystem", dir);
		return -ENOTSUP;
	}
	return 0;
}

static int make_dir(const char *base, const char *sub, char *out, size_t len)
{
	snprintf(out, len, "%.*s/%s", PIN_DIR_MAX - 1, base, sub);
	return mkdir(out, 0700) && errno != EEXIST ? -errno : 0;
}

/* slots of the pinned cg_owner, to size the maps as they were; 0 if none */
static unsigned int pinned_slots(const char *maps_dir)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	unsigned int n = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/cg_owner", maps_dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		n = info.max_entries;
	close(fd);
	return n;
}

/* whether every program's link is pinned in @links_dir */
static bool all_links_pinned(struct cgsnap_bpf *skel, const char *links_dir)
{
	struct bpf_program *prog;
	char path[PATH_MAX];

	bpf_object__for_each_program(prog, skel->obj) {
		snprintf(path, sizeof(path), "%s/%s", links_dir, bpf_program__name(prog));
		if (bpf_program__autoload(prog) == !!access(path, F_OK))
			return false;	/* missing, or one this run would not attach */
	}
	return true;
}

static void unpin_links(struct cgsnap_bpf *skel, const char *links_dir)
{
	struct bpf_program *prog;
	char path[PATH_MAX];

	bpf_object__for_each_program(prog, skel->obj) {
		snprintf(path, sizeof(path), "%s/%s", links_dir, bpf_program__name(prog));
		unlink(path);
	}
}

static int pin_links(struct cgsnap_bpf *skel, const char *links_dir, char *err, size_t errlen)
{
	struct bpf_link **links = (struct bpf_link **)&skel->links;
	struct bpf_program *prog;
	char path[PATH_MAX];
	int i = 0, ret;

	/* the skeleton's links are in program order */
	bpf_object__for_each_program(prog, skel->obj) {
		snprintf(path, sizeof(path), "%s/%s", links_dir, bpf_program__name(prog));
		ret = links[i] ? bpf_link__pin(links[i], path) :
		      bpf_program__autoload(prog) ? -ENOENT : 0;
		i++;
		if (ret) {
			snprintf(err, errlen, "cannot pin link %s: %s", path, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static void set_pin_paths(struct cgsnap_bpf *skel, const char *maps_dir)
{
	char path[PATH_MAX];
	struct bpf_map *map;

	bpf_object__for_each_map(map, skel->obj) {
		if (bpf_map__is_internal(map))	/* .rodata, .bss: the programs' own */
			continue;
		snprintf(path, sizeof(path), "%s/%s", maps_dir, bpf_map__name(map));
		bpf_map__set_pin_path(map, path);
	}
}

struct cgsnap_bpf *loader_open_pinned(const struct loader_opts *opts, bool *reused, char *err,
				      size_t errlen)
{
	char maps_dir[PIN_DIR_MAX + 8], links_dir[PIN_DIR_MAX + 8];
	struct bpf_program *prog;
	struct cgsnap_bpf *skel;
	unsigned int slots;
	int ret, lock_fd = -1;
	bool attached;

	if (strlen(opts->pin_dir) >= PIN_DIR_MAX) {
		snprintf(err, errlen, "pin directory name too long (at most %d bytes)", PIN_DIR_MAX - 1);
		errno = ENAMETOOLONG;
		return NULL;
	}
	ret = preflight(opts, err, errlen);
	if (!ret)
		ret = ensure_bpffs(opts->pin_dir, err, errlen);
	if (!ret && (make_dir(opts->pin_dir, "maps", maps_dir, sizeof(maps_dir)) ||
		     make_dir(opts->pin_dir, "links", links_dir, sizeof(links_dir)))) {
		ret = -errno;
		snprintf(err, errlen, "cannot create %s/maps and links: %s", opts->pin_dir,
			 strerror(errno));
	}
	if (ret)
		goto fail;
	/* one cgsnap per pin directory: they would recycle each other's slots */
	lock_fd = open(opts->pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lock_fd < 0 || flock(lock_fd, LOCK_EX | LOCK_NB)) {
		ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
		snprintf(err, errlen, "%s is in use by another cgsnap (or cannot be locked: %s)",
			 opts->pin_dir, strerror(errno));
		goto fail;
	}
	/* the lock is held, on purpose, until the process exits */
	skel = cgsnap_bpf__open();
	if (!skel) {
		ret = -errno;
		snprintf(err, errlen, "failed to open BPF object: %s", strerror(errno));
		goto fail;
	}
	slots = pinned_slots(maps_dir);
	*reused = slots != 0;
	configure(skel, opts, slots ? slots : opts->nr_slots);
	set_pin_paths(skel, maps_dir);
	/* a previous run's programs still attached: keep them, load none */
	attached = *reused && all_links_pinned(skel, links_dir);
	if (attached)
		bpf_object__for_each_program(prog, skel->obj)
			bpf_program__set_autoload(prog, false);
	else
		unpin_links(skel, links_dir);
	ret = cgsnap_bpf__load(skel);
	if (ret) {
		snprintf(err, errlen, "failed to load BPF programs with the maps pinned in %s: %s "
				      "(maps from another cgsnap version? remove %s)",
			 maps_dir, strerror(-ret), opts->pin_dir);
		goto fail_destroy;
	}
	if (!attached) {
		ret = cgsnap_bpf__attach(skel);
		if (ret) {
			snprintf(err, errlen, "failed to attach BPF programs: %s", strerror(-ret));
			goto fail_destroy;
		}
		ret = pin_links(skel, links_dir, err, errlen);
		if (ret)
			goto fail_destroy;
	}
	return skel;

fail_destroy:
	cgsnap_bpf__destroy(skel);
fail:
	if (lock_fd >= 0)
		close(lock_fd);
	errno = -ret;
	return NULL;
}

int loader_drop_caps(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	return syscall(SYS_capset, &hdr, data) ? -errno : 0;
}

void loader_map_fds(const struct cgsnap_bpf *skel, struct kmaps_fds *fds)
{
	fds->runq_fd = bpf_map__fd(skel->maps.cg_runq);
	fds->hist_fd = bpf_map__fd(skel->maps.cg_runq_hist);
	fds->mem_fd = bpf_map__fd(skel->maps.cg_mem);
	fds->drops_fd = bpf_map__fd(skel->maps.cg_drops);
	fds->slot_fd = bpf_map__fd(skel->maps.cg_slot);
	fds->owner_fd = bpf_map__fd(skel->maps.cg_owner);
	fds->free_fd = bpf_map__fd(skel->maps.cg_free);
	fds->events_fd = bpf_map__fd(skel->maps.cg_events);
	fds->wake_fd = skel->rodata->targ_fast ? bpf_map__fd(skel->maps.cg_wake) : -1;
	/* the running-cgroup notes are kept by the sched_info switch only */
	fds->notes_fd = skel->rodata->targ_sched_info ? bpf_map__fd(skel->maps.cur_cpu) : -1;
	fds->nr_slots = bpf_map__max_entries(skel->maps.cg_owner);
	fds->rq_clock = skel->rodata->targ_rq_clock;
}

unsigned int loader_prog_stats(const struct cgsnap_bpf *skel, struct loader_prog_stat *out,
			       unsigned int max)
{
	struct bpf_program *prog;
	unsigned int n = 0;

	bpf_object__for_each_program(prog, skel->obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (n == max)
			break;
		if (bpf_program__fd(prog) < 0 ||
		    bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
			continue;
		snprintf(out[n].name, sizeof(out[n].name), "%s", bpf_program__name(prog));
		out[n].run_time_ns = info.run_time_ns;
		out[n].run_cnt = info.run_cnt;
		n++;
	}
	return n;
}
