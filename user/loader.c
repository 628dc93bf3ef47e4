// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>

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

void loader_set_print(bool verbose)
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

struct cgsnap_bpf *loader_open(const struct loader_opts *opts, char *err, size_t errlen)
{
	struct cgsnap_bpf *skel;
	int ret;

	loader_set_print(opts->verbose);
	ret = loader_check_caps(err, errlen);
	if (ret)
		goto fail;
	if (access(BTF_PATH, R_OK)) {
		ret = -errno;
		snprintf(err, errlen, "kernel BTF %s is not readable (%s): cgsnap needs a kernel "
				      "built with CONFIG_DEBUG_INFO_BTF=y", BTF_PATH, strerror(errno));
		goto fail;
	}
	skel = cgsnap_bpf__open();
	if (!skel) {
		ret = -errno;
		snprintf(err, errlen, "failed to open BPF object: %s", strerror(errno));
		goto fail;
	}
	loader_size_maps(skel, opts->nr_slots ? opts->nr_slots : CGSNAP_MIN_SLOTS);
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
	unsigned int n = CGSNAP_MIN_SLOTS;

	while (n < 2 * nr_cgroups && n < CGSNAP_MAX_SLOTS)
		n *= 2;
	return n;
}

void loader_close(struct cgsnap_bpf *skel)
{
	cgsnap_bpf__destroy(skel);
}
